"""Compact JSON text of credentials, as the standard library writes it, but through ``orjson`` (ten times faster).

For the JSON our credentials are made of (strings, integers, booleans, null, lists, objects with string keys)
``orjson.dumps`` writes exactly what ``json.dumps(value, ensure_ascii=False, separators=(",", ":"))`` writes:
UTF-8, key order kept, the same escapes (``\\"``, ``\\\\``, ``\\b \\f \\n \\r \\t``, ``\\u00XX`` for other controls).
Whatever ``orjson`` refuses (an integer beyond 64 bits, a non-string key) is left to the standard library.
Signing a credential serialises it at least twice, so this matters at a thousand credentials a second.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import orjson

__all__ = ["compact", "first_path", "lone_surrogate_path", "nested_deeper_than", "parse"]


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
    found = first_path(document, lambda v: isinstance(v, str) and not _is_text(v),
                       lambda name: isinstance(name, str) and not _is_text(name))
    if found is None:
        return None
    keys, at_name = found
    if not keys:
        return "(document)"
    text = ""
    for n, key in enumerate(keys):
        last_name = at_name and n == len(keys) - 1
        name = ascii(key) if last_name else str(key)
        text += f"[{key}]" if isinstance(key, int) else (f".{name}" if text else name)
    return text


def nested_deeper_than(value: Any, limit: int) -> bool:
    """Whether ``value`` nests objects and arrays more than ``limit`` levels deep. Iterative and linear, for
    documents from outside before anything recursive reads them (a thousand levels fit in a small body and
    exhaust Python's stack: a server error instead of an answer).

    Level by level, scalars set aside by their exact type before any ``isinstance`` against the abstract
    ``Mapping`` (slow): this runs for every document verified, and the first version cost a tenth of a
    verification's CPU."""
    level = [value] if _container(value) else []
    depth = 0
    while level:
        if depth >= limit:
            return True
        following: list[Any] = []
        for node in level:
            children = node.values() if isinstance(node, Mapping) else node
            following += [child for child in children if _container(child)]
        level = following
        depth += 1
    return False


_SCALARS = (str, int, float, bool, type(None))


def _container(node: Any) -> bool:
    return type(node) not in _SCALARS and isinstance(node, Mapping | list | tuple)


#: A path under construction: None at the root, else (the parent's path, the member name or array index).
_Chain = tuple[Any, str | int] | None


def first_path(document: Any, bad_value: Callable[[Any], bool],
               bad_name: Callable[[Any], bool] | None = None) -> tuple[tuple[str | int, ...], bool] | None:
    """The keys to the first value (depth first, in document order) for which ``bad_value`` holds, or to the
    first member whose name ``bad_name`` holds (then the flag is True), else None.

    Iterative (no stack to exhaust), and the path is kept as links to its parent and written only for the hit:
    a text path per node cost memory quadratic in the input (260 levels of 200-character names over a long list
    asked for gigabytes)."""
    stack: list[tuple[_Chain, Any]] = [(None, document)]
    while stack:
        chain, node = stack.pop()
        if bad_value(node):
            return _keys(chain), False
        if isinstance(node, Mapping):
            items = list(node.items())
            if bad_name is not None:
                for name, _ in items:
                    if bad_name(name):
                        return _keys((chain, name)), True
            stack.extend(((chain, name), value) for name, value in reversed(items))
        elif isinstance(node, list | tuple):
            stack.extend(((chain, n), item) for n, item in reversed(list(enumerate(node))))
    return None


def _keys(chain: _Chain) -> tuple[str | int, ...]:
    keys: list[str | int] = []
    while chain is not None:
        chain, key = chain
        keys.append(key)
    return tuple(reversed(keys))


def _is_text(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
