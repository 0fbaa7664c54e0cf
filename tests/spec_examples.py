"""Reading the specifications' published examples (tests/fixtures/spec_examples/README.md) as the specifications
mean them: the examples print long values "with line breaks within values for display purposes only", and some
show an HTTP response (status line and headers) before the JSON body."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

SPEC_EXAMPLES = Path(__file__).resolve().parent / "fixtures" / "spec_examples"


def unwrap(text: str) -> str:
    """``text`` with the display line breaks inside JSON strings removed (a line break and the indentation after
    it, only where they fall inside a string; the JSON around the strings is left as it is)."""
    out: list[str] = []
    in_string = escaped = False
    i = 0
    while i < len(text):
        char = text[i]
        if in_string and char == "\n":
            i += 1
            while i < len(text) and text[i] in " \t":
                i += 1
            continue
        out.append(char)
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        i += 1
    return "".join(out)


def http_body(text: str) -> str:
    """The body of an example printed as an HTTP request or response (after the first empty line), else
    ``text``."""
    return text.split("\n\n", 1)[1] if re.match(r"HTTP/|[A-Z]+ /", text) else text


def example_json(spec: str, name: str) -> Any:
    """The JSON of ``spec``'s example ``name`` (a body after HTTP headers, display line breaks removed)."""
    return json.loads(unwrap(http_body((SPEC_EXAMPLES / spec / name).read_text())))


def example_text(spec: str, name: str) -> str:
    """A compact value printed over several lines (a JWT): the lines joined."""
    return "".join((SPEC_EXAMPLES / spec / name).read_text().split())


def example_link(spec: str, name: str, origin: str) -> str:
    """A link or request line printed over several lines (``GET /path?...`` or ``scheme://?...``): the lines
    joined, the method and protocol version dropped, and a path put under ``origin``."""
    text = "".join(line.strip() for line in (SPEC_EXAMPLES / spec / name).read_text().splitlines())
    text = re.sub(r"^[A-Z]+ ", "", text).removesuffix(" HTTP/1.1")
    return origin + text if text.startswith("/") else text
