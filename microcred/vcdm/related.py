"""Integrity of related resources (VC DM 2.0 §5.3): ``digestSRI`` and ``digestMultibase`` of ``relatedResource``.

A digest is checked against the bytes of the resource as this platform holds it. Nothing is fetched (no network
at run time): the resources available are the pinned JSON-LD contexts, each checked against its pinned SHA-256.
A digest of any other resource cannot be checked, and is reported as such (``unknown``), never as matching.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Callable
from importlib import resources

from microcred.crypto.multikey import MultikeyError, decode_base58btc
from microcred.jsonld import loader

__all__ = ["DigestProblem", "check_multibase", "check_sri", "pinned_resource"]

#: Where the pinned context files live (the loader's package).
_CONTEXTS_PACKAGE = "microcred.jsonld.contexts"
# SRI (W3C Subresource Integrity): "sha256|sha384|sha512-" + standard base64 (with padding).
_SRI = re.compile(r"^(sha256|sha384|sha512)-([A-Za-z0-9+/]+={0,2})$")
_SRI_LENGTHS = {"sha256": 32, "sha384": 48, "sha512": 64}
# Multihash codes for the SHA-2 functions (multiformats table): sha2-256, sha2-512, sha2-384.
_MULTIHASH = {0x12: "sha256", 0x13: "sha512", 0x20: "sha384"}
_RAW_LENGTHS = {32: "sha256", 48: "sha384", 64: "sha512"}

Retriever = Callable[[str], bytes | None]


class DigestProblem(ValueError):
    """A digest value that is malformed (its text, not its match)."""


def pinned_resource(url: str) -> bytes | None:
    """The bytes of ``url`` when it is one of the pinned contexts (hash-checked), else None."""
    entry = loader.manifest().get(url)
    if entry is None:
        return None
    data = resources.files(_CONTEXTS_PACKAGE).joinpath(entry.file).read_bytes()
    if hashlib.sha256(data).hexdigest() != entry.sha256:
        return None  # an altered file is not the resource: the digest cannot be checked against it
    return data


def check_sri(value: str, data: bytes | None) -> bool | None:
    """Whether ``value`` (an SRI hash expression) matches ``data``; None when ``data`` is unavailable.

    Raises :class:`DigestProblem` when ``value`` is not a well-formed SRI expression."""
    match = _SRI.match(value)
    if match is None:
        raise DigestProblem("not a Subresource Integrity value (sha256-, sha384- or sha512- and base64)")
    algorithm, encoded = match.groups()
    try:
        digest = base64.b64decode(encoded, validate=True)
    except binascii.Error as exc:
        raise DigestProblem(f"invalid base64: {exc}") from None
    if len(digest) != _SRI_LENGTHS[algorithm]:
        raise DigestProblem(f"a {algorithm} digest is {_SRI_LENGTHS[algorithm]} bytes, not {len(digest)}")
    if data is None:
        return None
    return hmac.compare_digest(hashlib.new(algorithm, data).digest(), digest)


def _decode_multibase(value: str) -> bytes:
    # Hand-written (two bases, a few lines): the multiformats packages pull in far more than this needs.
    if not value or value[0] not in "uz":
        raise DigestProblem("a multibase value starting with 'u' (base64url) or 'z' (base58btc)")
    body = value[1:]
    if value[0] == "u":
        if not re.fullmatch(r"[A-Za-z0-9_-]+", body):
            raise DigestProblem("invalid base64url")
        try:
            return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        except (binascii.Error, ValueError) as exc:
            raise DigestProblem(f"invalid base64url: {exc}") from None
    try:
        return decode_base58btc(value)
    except MultikeyError as exc:
        raise DigestProblem(str(exc)) from None


def check_multibase(value: str, data: bytes | None) -> bool | None:
    """Whether ``value`` (a multibase digest: a multihash, or a bare SHA-2 digest told apart by its length)
    matches ``data``; None when ``data`` is unavailable. Raises :class:`DigestProblem` when malformed."""
    raw = _decode_multibase(value)
    algorithm: str | None
    if len(raw) >= 2 and raw[0] in _MULTIHASH and raw[1] == len(raw) - 2:
        algorithm, digest = _MULTIHASH[raw[0]], raw[2:]
    else:
        algorithm, digest = _RAW_LENGTHS.get(len(raw)), raw
    if algorithm is None:
        raise DigestProblem(f"{len(raw)} bytes is not a SHA-256, SHA-384 or SHA-512 digest")
    if data is None:
        return None
    return hmac.compare_digest(hashlib.new(algorithm, data).digest(), digest)
