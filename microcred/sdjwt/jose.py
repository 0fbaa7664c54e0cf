"""JOSE for SD-JWT: compact JWS signing and verification over PyJWT, base64url and strict JSON.

The signature maths (ES256/ES384/ES512, EdDSA) and JWK parsing are PyJWT's (``jwt.api_jws.PyJWS``,
``jwt.PyJWK``), which the platform already uses. This module adds only what PyJWT leaves to the caller:

* **strict JSON** for headers and payloads: duplicate member names, NaN/Infinity and over-deep nesting are
  refused, so what a verdict reads is exactly what was signed (PyJWT's ``json.loads`` keeps the last
  duplicate silently);
* **strict base64url** (RFC 7515 §2: no padding, URL-safe alphabet only, canonical: the unused bits of the last
  character zero), where the stdlib decoder would ignore stray characters and let two texts mean one value;
* size bounds, so hostile input costs bounded CPU and memory.

``alg: none`` and MAC algorithms are never accepted: an SD-JWT must be signed with an asymmetric key.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import jwt
import orjson
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from jwt.algorithms import ECAlgorithm, OKPAlgorithm

from microcred.crypto.ed25519 import is_sound_public_key

__all__ = [
    "ASYMMETRIC_ALGORITHMS",
    "MAX_JSON_DEPTH",
    "JoseError",
    "JwsParts",
    "PrivateKey",
    "PublicKey",
    "algorithm_for_key",
    "algorithms_for_key",
    "b64url_decode",
    "b64url_encode",
    "compact_json",
    "jwk_to_public_key",
    "numeric_date",
    "parse_jws",
    "public_jwk",
    "sign_jws",
    "strict_json_loads",
    "verify_jws_signature",
]

#: Signature algorithms accepted anywhere in SD-JWT processing (HAIP requires ES256). ``Ed25519`` is RFC 9864's
#: fully specified name for EdDSA over Ed25519, which deprecates the polymorphic ``EdDSA`` (RFC 8037): both are
#: accepted for an Ed25519 key; we sign with ``EdDSA``, which every deployed verifier knows.
ASYMMETRIC_ALGORITHMS: tuple[str, ...] = ("ES256", "ES384", "ES512", "EdDSA", "Ed25519")
#: Deepest JSON nesting accepted in a header, payload or disclosure.
MAX_JSON_DEPTH = 32

PrivateKey = ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
PublicKey = ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey

_B64URL_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_B64URL_VALUE = {c: n for n, c in enumerate(_B64URL_ALPHABET)}
_URL_TO_STANDARD = bytes.maketrans(b"-_", b"+/")
_CURVE_ALG = {"secp256r1": "ES256", "secp384r1": "ES384", "secp521r1": "ES512"}
_JWS = jwt.api_jws.PyJWS(algorithms=["ES256", "ES384", "ES512", "EdDSA"])
# PyJWT knows Ed25519 signatures only as "EdDSA" (its OKPAlgorithm); RFC 9864's name is the same signature.
_JWS.register_algorithm("Ed25519", OKPAlgorithm())


class JoseError(ValueError):
    """A JWS, JWK, base64url or JSON value that is malformed (``problem`` says how)."""


def numeric_date(moment: datetime) -> int:
    """A JWT NumericDate (RFC 7519 §2: whole seconds since the epoch) of a timezone-aware ``moment``; a naive
    one is refused (read as local time it would shift every ``iat``/``exp`` by the host's offset)."""
    if moment.tzinfo is None:
        raise ValueError("datetimes must be timezone-aware")
    return int(moment.timestamp())


def b64url_encode(data: bytes) -> str:
    """Base64url without padding (RFC 7515 §2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Decode unpadded base64url, refusing padding, other alphabets and impossible lengths.

    ``binascii.a2b_base64`` in strict mode (after mapping the URL alphabet onto the standard one) refuses any
    other character; ``+``, ``/`` and ``=`` are refused before the mapping, which would let them through. A text
    whose last character has non-zero unused bits is refused too: two texts would decode to the same bytes.
    (This replaced a regular expression over the text and re-encoding the result to compare: a quarter of the
    cost of reading an SD-JWT VC's payload.)
    """
    rest = len(text) % 4
    if rest == 1 or "+" in text or "/" in text or "=" in text:
        raise JoseError("not base64url")
    try:
        data = binascii.a2b_base64(text.encode("ascii").translate(_URL_TO_STANDARD) + b"=" * (-rest % 4),
                                   strict_mode=True)
    except (binascii.Error, ValueError) as exc:  # UnicodeEncodeError is a ValueError
        raise JoseError("not base64url") from exc
    if rest and _B64URL_VALUE[text[-1]] & (0x0F if rest == 2 else 0x03):
        raise JoseError("not canonical base64url")
    return data


def compact_json(value: Any) -> bytes:
    """``json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)`` in UTF-8, written by
    ``orjson`` (an order of magnitude faster; issuing one SD-JWT VC writes about ten JSON texts).

    ``orjson`` writes NaN and the infinities as ``null`` where the standard library refuses them, and refuses what
    it cannot write (integers beyond 64 bits, non-string keys): any text with ``null`` in it, and anything
    ``orjson`` refuses, is written by the standard library instead, which refuses non-finite numbers as before.
    Numbers may be spelled differently (``1e16`` for ``1e+16``): the bytes signed are the bytes sent."""
    try:
        out = orjson.dumps(value)
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        out = b"null"
    if b"null" in out:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")
    return out


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)  # built in C; a duplicate name shows as fewer members than pairs
    if len(out) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise JoseError(f"duplicate member {key!r}")
            seen.add(key)
    return out


def _refuse_constant(name: str) -> Any:
    raise JoseError(f"{name} is not JSON")


# Numbers beyond an IEEE 754 double (RFC 7493 §2.2: I-JSON has none) are refused where they are read, as JSON that
# these checks cannot use: such an integer cannot become a float (a time claim compared with the clock raised
# OverflowError, not an error naming the claim), and one of over 4,300 digits makes int() itself raise; a float
# that overflows would be an infinity, which nothing signed here means.
_MAX_INTEGER_DIGITS = 320  # a double's largest integer has 309; the exact bound is float()'s


def _bounded_int(text: str) -> int:
    if len(text) > _MAX_INTEGER_DIGITS:
        raise JoseError("a number beyond the range of a double")
    value = int(text)
    if len(text) > 15:  # shorter ones are far inside the range: no float() for them
        try:
            float(value)
        except OverflowError:
            raise JoseError("a number beyond the range of a double") from None
    return value


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise JoseError("a number beyond the range of a double")
    return value


def _depth(value: Any, limit: int) -> None:
    """Refuse nesting deeper than ``limit``: one level of containers at a time. Only the containers are kept
    (exact type tests: both parsers make plain dicts and lists), about three times faster than a comprehension
    with ``isinstance`` for an SD-JWT VC's payload, which has more brackets than the limit and so is walked."""
    level = [value] if type(value) is dict or type(value) is list else []
    depth = 1
    while level:
        if depth > limit:
            raise JoseError(f"JSON nested deeper than {limit}")
        deeper: list[Any] = []
        for node in level:
            for child in node.values() if type(node) is dict else node:
                kind = type(child)
                if kind is dict or kind is list:
                    deeper.append(child)
        level = deeper
        depth += 1


#: A ``\uD800``-``\uDFFF`` escape (a surrogate), matched on the raw text before the exact check below; in bytes
#: also a surrogate encoded as UTF-8 (``ED A0``-``ED BF``), which ``json.loads`` decodes with ``surrogatepass``.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE_ESCAPE_BYTES = re.compile(rb"\\u[dD][89a-fA-F]|\xed[\xa0-\xbf]")


def _openings(data: bytes | str) -> int:
    """The number of ``{`` and ``[`` in the text: a bound on its nesting depth (brackets in strings count too)."""
    if isinstance(data, str):
        return data.count("{") + data.count("[")
    return data.count(b"{") + data.count(b"[")


_NOT_CANONICAL = object()


def _canonical_orjson(data: bytes) -> Any:
    """``orjson``'s parse of ``data`` when ``orjson`` writes that value back as exactly ``data``, else
    ``_NOT_CANONICAL``.

    The strict parser below calls Python for every object and number (to see duplicate names and huge numbers),
    seven times ``orjson``'s cost on an SD-JWT VC's payload, and a verification parses a dozen texts. When the
    round trip gives the same bytes, the strict parser would have read the same value: a duplicate name would
    be missing from the text written back, an integer ``orjson`` reads as a float (beyond 64 bits) would come
    back spelled as a float, and what ``orjson`` refuses (NaN, lone surrogates, invalid UTF-8, a BOM) never
    gets this far. Texts written by ``orjson`` (the platform's, :func:`compact_json`) take this path; any other
    spelling (spaces, escapes, another float notation) is parsed by the strict parser, as before.
    """
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError:
        return _NOT_CANONICAL
    try:
        written = orjson.dumps(value)
    except TypeError:  # nothing orjson reads should be refused, but if it were, the strict parser decides
        return _NOT_CANONICAL
    return value if written == data else _NOT_CANONICAL


def strict_json_loads(data: bytes | str, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """Parse JSON refusing duplicate names, NaN/Infinity, numbers beyond a double's range, lone surrogates and
    nesting deeper than ``max_depth``."""
    value = _canonical_orjson(data) if isinstance(data, bytes) else _NOT_CANONICAL
    if value is _NOT_CANONICAL:
        try:
            value = json.loads(data, object_pairs_hook=_no_duplicates, parse_constant=_refuse_constant,
                               parse_int=_bounded_int, parse_float=_finite_float)
        except JoseError:
            raise
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            raise JoseError(f"not JSON: {exc.__class__.__name__}") from exc
    # Nesting is never deeper than the number of opening brackets: a Disclosure or a JOSE header has fewer than
    # the limit, and walking the parsed value (the most expensive part for them) is skipped.
    if _openings(data) > max_depth:
        _depth(value, max_depth)
    if isinstance(data, str):
        escape = "\\u" in data and _SURROGATE_ESCAPE.search(data) is not None
    else:  # the substring tests are a memchr each; the expression runs only when one matches
        escape = (b"\\u" in data or b"\xed" in data) and _SURROGATE_ESCAPE_BYTES.search(data) is not None
    if escape:  # a \uD800-\uDFFF escape: refuse a lone surrogate (not Unicode text)
        try:
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError as exc:
            raise JoseError("a string holds a lone surrogate") from exc
    return value


@dataclass(frozen=True, slots=True)
class JwsParts:
    """A parsed (not yet verified) compact JWS."""

    compact: str
    header: Mapping[str, Any]
    payload: Mapping[str, Any]
    payload_bytes: bytes


def parse_jws(compact: str, *, max_length: int) -> JwsParts:
    """Split and decode a compact JWS whose header and payload are JSON objects; the signature is not checked."""
    if len(compact) > max_length:
        raise JoseError(f"longer than {max_length} characters")
    segments = compact.split(".")
    if len(segments) != 3 or not all(segments):
        raise JoseError("not a compact JWS (three non-empty dot-separated parts)")
    header = strict_json_loads(b64url_decode(segments[0]))
    payload_bytes = b64url_decode(segments[1])
    payload = strict_json_loads(payload_bytes)
    b64url_decode(segments[2])
    if not isinstance(header, dict) or not isinstance(payload, dict):
        raise JoseError("header and payload must be JSON objects")
    if "crit" in header:
        # RFC 7515 §4.1.11: extensions we do not understand must make the JWS invalid; we understand none.
        raise JoseError("critical header parameters are not supported")
    return JwsParts(compact, header, payload, payload_bytes)


def algorithm_for_key(key: PrivateKey | PublicKey) -> str:
    """The JWS ``alg`` for a key (ES256 for P-256, EdDSA for Ed25519...)."""
    if isinstance(key, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey):
        return "EdDSA"
    try:
        return _CURVE_ALG[key.curve.name]
    except KeyError as exc:
        raise JoseError(f"unsupported curve {key.curve.name}") from exc


def algorithms_for_key(key: PrivateKey | PublicKey) -> tuple[str, ...]:
    """Every JWS ``alg`` a signature by ``key`` may name: its :func:`algorithm_for_key`, and for an Ed25519 key
    also RFC 9864's ``Ed25519``."""
    own = algorithm_for_key(key)
    return (own, "Ed25519") if own == "EdDSA" else (own,)


def sign_jws(header: Mapping[str, Any], payload: Mapping[str, Any], key: PrivateKey) -> str:
    """Sign ``payload`` (compact JSON) with ``key``; ``header`` gives ``typ``, ``x5c``... (``alg`` is derived)."""
    alg = algorithm_for_key(key)
    body = compact_json(payload)
    return _JWS.encode(body, key, algorithm=alg, headers={**header, "alg": alg}, sort_headers=False)


def verify_jws_signature(compact: str, key: PublicKey, algorithms: Sequence[str] = ASYMMETRIC_ALGORITHMS) -> bool:
    """Whether the JWS signature verifies with ``key`` under its header's ``alg``, which must be in ``algorithms``
    and match the key (ES256 for P-256...).

    The signature check is PyJWT's algorithm object; the segments are decoded here (strict, canonical), which
    also spares PyJWT's per-character validation of the payload, the slowest step for an 8 KB credential.
    """
    segments = compact.split(".")
    if len(segments) != 3:
        raise JoseError("not a compact JWS")
    header = strict_json_loads(b64url_decode(segments[0]))
    alg = header.get("alg") if isinstance(header, dict) else None
    if not isinstance(alg, str) or alg not in algorithms or alg not in ASYMMETRIC_ALGORITHMS:
        return False
    try:
        if alg not in algorithms_for_key(key):
            return False
    except JoseError:
        return False
    signature = b64url_decode(segments[2])
    signing_input = f"{segments[0]}.{segments[1]}".encode("ascii")
    try:
        return bool(_JWS.get_algorithm_by_name(alg).verify(signing_input, key, signature))
    except (jwt.PyJWTError, ValueError, TypeError) as exc:
        raise JoseError(str(exc)) from exc


def jwk_to_public_key(jwk: Mapping[str, Any]) -> PublicKey:
    """The public key of a JWK (EC P-256/384/521 or OKP Ed25519); private members are refused."""
    if not isinstance(jwk, Mapping):
        raise JoseError("a JWK must be an object")
    if "d" in jwk:
        raise JoseError("the JWK contains a private key")
    try:
        key = jwt.PyJWK(dict(jwk)).key
    except (jwt.PyJWKError, jwt.InvalidKeyError, ValueError, TypeError, KeyError) as exc:
        raise JoseError(f"unusable JWK: {exc}") from exc
    if not isinstance(key, ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey):
        raise JoseError("only EC and Ed25519 public keys are accepted")
    # PyJWT checks EdDSA signatures with OpenSSL, which accepts keys of small order: for those anyone can sign
    # anything (a holder binding, a key proof, a DPoP proof would bind nobody). Refused here, where every JWK
    # (key proofs, DPoP, cnf, pinned issuer keys) becomes a key.
    if isinstance(key, ed25519.Ed25519PublicKey) and not is_sound_public_key(key):
        raise JoseError("the Ed25519 key is of small order or not a canonical point: anyone could sign for it")
    return key


def public_jwk(key: PrivateKey | PublicKey) -> dict[str, Any]:
    """The public JWK of a key (members ``kty``, ``crv``, ``x`` [, ``y``] only)."""
    public = key.public_key() if isinstance(key, ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey) else key
    if isinstance(public, ed25519.Ed25519PublicKey):
        jwk = OKPAlgorithm.to_jwk(public, as_dict=True)
    else:
        jwk = ECAlgorithm.to_jwk(public, as_dict=True)
    return {name: jwk[name] for name in ("kty", "crv", "x", "y") if name in jwk}
