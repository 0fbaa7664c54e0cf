"""Compact JSON text of credentials, as the standard library writes it, but through ``orjson`` (ten times faster).

For the JSON our credentials are made of (strings, integers, booleans, null, lists, objects with string keys)
``orjson.dumps`` writes exactly what ``json.dumps(value, ensure_ascii=False, separators=(",", ":"))`` writes:
UTF-8, key order kept, the same escapes (``\\"``, ``\\\\``, ``\\b \\f \\n \\r \\t``, ``\\u00XX`` for other controls).
Whatever ``orjson`` refuses (an integer beyond 64 bits, a non-string key) is left to the standard library.
Signing a credential serialises it at least twice, so this matters at a thousand credentials a second.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import orjson

__all__ = ["compact", "lone_surrogate_path", "parse"]


def compact(value: Any) -> str:
    """``json.dumps(value, ensure_ascii=False, separators=(",", ":"))``."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def parse(text: str | bytes) -> Any:
    """``json.loads(text)`` for text from outside, where JSON nested deeper than the parser's stack (30,000 brackets
    fit in any body limit here) is the ``ValueError`` every malformed text is: ``json.loads`` raises
    ``RecursionError`` for it, which a caller catching ``ValueError`` would let through as a server error."""
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("JSON nested deeper than the parser's stack") from None


def lone_surrogate_path(document: Any) -> str | None:
    """The path (``a.b[2]``) of the first string or member name in ``document`` holding a lone surrogate (valid
    JSON escaping, not Unicode text: no UTF-8 can carry it, so nothing can write or sign it), else None.
    ``orjson`` writes any JSON value whose strings are all Unicode text in a few microseconds and refuses the
    others: only a document it refuses is walked."""
    try:
        orjson.dumps(document)
        return None
    except TypeError:  # a lone surrogate, or something else orjson does not write (an int beyond 64 bits...)
        pass
    stack: list[tuple[str, Any]] = [("", document)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, str):
            if not _is_text(node):
                return path or "(document)"
        elif isinstance(node, Mapping):
            for name, value in reversed(list(node.items())):
                if isinstance(name, str) and not _is_text(name):
                    return f"{path}.{name!a}" if path else ascii(name)
                stack.append((f"{path}.{name}" if path else str(name), value))
        elif isinstance(node, list | tuple):
            stack.extend((f"{path}[{n}]", item) for n, item in reversed(list(enumerate(node))))
    return None


def _is_text(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
