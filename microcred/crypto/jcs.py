"""JSON Canonicalization Scheme (RFC 8785), used by the ``eddsa-jcs-2022`` cryptosuite.

The PyPI package ``rfc8785`` is used when it is installed. Otherwise the built-in implementation
below is used. It follows the same rules:

* object members are sorted by their names' UTF-16 code units;
* numbers are IEEE-754 doubles serialised the ECMAScript ``Number.prototype.toString`` way;
* strings are escaped the ``JSON.stringify`` way, and the output is UTF-8.

``json.dumps(sort_keys=True)`` is not a substitute. It sorts by code point, prints ``1e+20`` where
JCS prints ``100000000000000000000``, prints ``1.0`` where JCS prints ``1``, and escapes non-ASCII.
"""

from __future__ import annotations

import importlib
import math
from decimal import Decimal
from typing import Any

__all__ = ["JcsError", "canonicalize", "using_rfc8785_package"]

try:
    _rfc8785: Any = importlib.import_module("rfc8785")
except ImportError:  # pragma: no cover - depends on the environment
    _rfc8785 = None

_MAX_SAFE_INT = 2**53 - 1  # same domain as the rfc8785 package
_SHORT_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


class JcsError(ValueError):
    """The value cannot be represented in canonical JSON (NaN, infinity, huge integers, bad types)."""


def using_rfc8785_package() -> bool:
    """Tell whether the ``rfc8785`` package backs :func:`canonicalize`."""
    return _rfc8785 is not None


def canonicalize(value: Any) -> bytes:
    """Return the RFC 8785 canonical UTF-8 serialisation of a JSON value."""
    if _rfc8785 is not None:
        try:
            return bytes(_rfc8785.dumps(value))
        except Exception as exc:  # the package raises its own error classes
            raise JcsError(str(exc)) from exc
    parts: list[str] = []
    _write(value, parts)
    try:
        return "".join(parts).encode("utf-8")
    except UnicodeEncodeError as exc:  # lone surrogates
        raise JcsError("string is not valid Unicode") from exc


def _write(value: Any, out: list[str]) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, str):
        out.append(_string(value))
    elif isinstance(value, int):
        if abs(value) > _MAX_SAFE_INT:  # would silently change when read back as a double
            raise JcsError(f"integer {value} is outside the IEEE-754 exact range")
        out.append(str(value))
    elif isinstance(value, float):
        out.append(_number(value))
    elif isinstance(value, dict):
        out.append("{")
        for i, key in enumerate(sorted(value, key=_utf16_key)):
            if not isinstance(key, str):
                raise JcsError(f"object key {key!r} is not a string")
            if i:
                out.append(",")
            out.append(_string(key))
            out.append(":")
            _write(value[key], out)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _write(item, out)
        out.append("]")
    else:
        raise JcsError(f"type {type(value).__name__} is not JSON")


def _utf16_key(key: Any) -> bytes:
    # Big-endian UTF-16 bytes compare exactly like sequences of UTF-16 code units.
    return key.encode("utf-16-be", "surrogatepass") if isinstance(key, str) else b""


def _string(value: str) -> str:
    chars = ['"']
    for ch in value:
        if ch in _SHORT_ESCAPES:
            chars.append(_SHORT_ESCAPES[ch])
        elif ch < " ":
            chars.append(f"\\u{ord(ch):04x}")
        else:
            chars.append(ch)
    chars.append('"')
    return "".join(chars)


def _number(value: float) -> str:
    """ECMAScript Number::toString for a finite double."""
    if math.isnan(value) or math.isinf(value):
        raise JcsError("NaN and Infinity are not allowed in JSON")
    if value == 0:
        return "0"  # also for -0.0
    sign = "-" if value < 0 else ""
    # repr() gives the shortest round-tripping digits, as ECMAScript requires.
    _, digit_tuple, raw_exponent = Decimal(repr(abs(value))).as_tuple()
    all_digits = "".join(map(str, digit_tuple))
    digits = all_digits.rstrip("0")
    exponent = int(raw_exponent) + len(all_digits) - len(digits)
    k = len(digits)
    n = k + exponent  # value = 0.digits × 10^n
    if k <= n <= 21:
        text = digits + "0" * (n - k)
    elif 0 < n <= 21:
        text = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        text = "0." + "0" * (-n) + digits
    else:
        e = n - 1
        mantissa = digits if k == 1 else digits[0] + "." + digits[1:]
        text = f"{mantissa}e{'+' if e >= 0 else '-'}{abs(e)}"
    return sign + text
