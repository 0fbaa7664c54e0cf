"""IETF Token Status List (draft-ietf-oauth-status-list-20): the list, its token and the check.

Pure: no I/O; time is a parameter.

* :class:`TokenStatusList`: ``bits`` (1, 2, 4 or 8) per entry, packed from the least significant bit of each
  byte (§4.1), ZLIB-compressed at the highest level and base64url-encoded as ``lst`` (§4.2). Decoding bounds
  the decompressed size, so a "zip bomb" costs bounded memory.
* :func:`status_list_token`: the Status List Token, a JWT with ``typ: statuslist+jwt``, ``x5c``, ``sub`` = the
  list's URI, ``iat``, ``exp`` and ``ttl`` (§5.1). :func:`verify_status_list_token` is the relying party's side
  (§8.3), :func:`check_token_status` turns a credential's ``status_list`` reference into the report's revocation
  and suspension checks.
* Indexes (HAIP: unpredictable) are :class:`~microcred.status.allocator.IndexAllocator`'s: random among the
  unused, never reused, the same rule as for the Bitstring lists.

The platform uses 2 bits, so that suspension (0x02) is expressible next to revocation (0x01, "INVALID"), and lists
of at least :data:`MIN_ENTRIES` entries for herd privacy.
"""

from __future__ import annotations

import datetime as dt
import zlib
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography import x509

from microcred.sdjwt.issue import IssuerKey, StatusReference
from microcred.sdjwt.jose import (
    ASYMMETRIC_ALGORITHMS,
    JoseError,
    JwsParts,
    b64url_decode,
    b64url_encode,
    parse_jws,
    sign_jws,
    verify_jws_signature,
)
from microcred.sdjwt.result import REVOCATION, SUSPENSION, SdJwtCheck, check_invalid, check_unknown, check_valid
from microcred.sdjwt.x5c import ChainError, validate_x5c
from microcred.status.errors import (
    MalformedValueError,
    RangeError,
    StatusListValidityError,
    StatusVerificationError,
)

__all__ = [
    "BITS",
    "DEFAULT_BITS",
    "INVALID",
    "MAX_LIST_BYTES",
    "MEDIA_TYPE",
    "MIN_ENTRIES",
    "STATUS_LIST_TYP",
    "SUSPENDED",
    "VALID",
    "StatusListToken",
    "TokenStatusList",
    "check_token_status",
    "status_list_token",
    "token_status_uri",
    "verify_status_list_token",
]

BITS: tuple[int, ...] = (1, 2, 4, 8)
DEFAULT_BITS = 2
VALID, INVALID, SUSPENDED = 0x00, 0x01, 0x02
#: Entries per list the platform publishes (herd privacy; the draft's §13.4 leaves the size to the issuer).
MIN_ENTRIES = 1_000_000
#: Largest decompressed list accepted (2^24 entries of 8 bits).
MAX_LIST_BYTES = 1 << 24
STATUS_LIST_TYP = "statuslist+jwt"
MEDIA_TYPE = "application/statuslist+jwt"
_MAX_TOKEN = 8 * MAX_LIST_BYTES // 6  # generous bound on a compact token before it is parsed
#: Tokens whose signature verified, with their decoded list (read-only for callers), newest last.
_SIGNED: OrderedDict[str, tuple[JwsParts, TokenStatusList]] = OrderedDict()
_MAX_SIGNED = 64


class TokenStatusList:
    """A mutable status list of ``size`` entries of ``bits`` bits each (all VALID at first)."""

    __slots__ = ("_bits", "_data", "_size")

    def __init__(self, size: int, bits: int = DEFAULT_BITS, data: bytes | bytearray | None = None) -> None:
        """A list of ``size`` entries; ``data`` is an existing uncompressed byte array (padded if shorter)."""
        if bits not in BITS:
            raise MalformedValueError(f"bits must be one of {BITS}, not {bits}")
        if size <= 0 or size * bits > MAX_LIST_BYTES * 8:
            raise MalformedValueError(f"a list holds 1 to {MAX_LIST_BYTES * 8 // bits} entries of {bits} bits")
        length = (size * bits + 7) // 8
        buffer = bytearray(length)
        if data:
            if len(data) > length:
                raise MalformedValueError(f"{len(data)} bytes is more than a list of {size} entries holds")
            buffer[: len(data)] = data
        self._bits, self._size, self._data = bits, size, buffer

    @property
    def bits(self) -> int:
        """Bits per entry."""
        return self._bits

    def __len__(self) -> int:
        return self._size

    def _where(self, index: int) -> tuple[int, int]:
        if not 0 <= index < self._size:
            raise RangeError(f"index {index} is outside a list of {self._size} entries")
        bit = index * self._bits
        return bit // 8, bit % 8

    def get(self, index: int) -> int:
        """The status value at ``index``."""
        byte, shift = self._where(index)
        return (self._data[byte] >> shift) & ((1 << self._bits) - 1)

    def set(self, index: int, value: int) -> None:
        """Set the status value at ``index`` (0 .. 2^bits - 1)."""
        if not 0 <= value < 1 << self._bits:
            raise MalformedValueError(f"status {value} does not fit in {self._bits} bits")
        byte, shift = self._where(index)
        mask = ((1 << self._bits) - 1) << shift
        self._data[byte] = (self._data[byte] & ~mask) | (value << shift)

    def to_bytes(self) -> bytes:
        """The uncompressed byte array (what to persist)."""
        return bytes(self._data)

    def encode(self) -> str:
        """``lst``: base64url of the ZLIB-compressed byte array (§4.1 step 4, highest compression)."""
        return b64url_encode(zlib.compress(bytes(self._data), 9))

    def to_json(self) -> dict[str, Any]:
        """The ``status_list`` claim value ``{bits, lst}``."""
        return {"bits": self._bits, "lst": self.encode()}

    @classmethod
    def decode(cls, lst: str, bits: int, *, max_bytes: int = MAX_LIST_BYTES) -> TokenStatusList:
        """Decode ``lst``; its size is every entry the byte array holds. Refuses more than ``max_bytes``."""
        if bits not in BITS:
            raise MalformedValueError(f"bits must be one of {BITS}, not {bits!r}")
        try:
            compressed = b64url_decode(lst)
            inflater = zlib.decompressobj()
            data = inflater.decompress(compressed, max_bytes + 1)
        except (JoseError, zlib.error) as exc:
            raise MalformedValueError(f"lst is not base64url ZLIB data: {exc}") from exc
        if len(data) > max_bytes or inflater.unconsumed_tail:
            raise MalformedValueError(f"the list decompresses to more than {max_bytes} bytes")
        if not inflater.eof:
            raise MalformedValueError("lst is truncated ZLIB data")
        if not data:
            raise MalformedValueError("the list is empty")
        return cls(len(data) * 8 // bits, bits, data)


# --------------------------------------------------------------------------------------------- the token


def status_list_token(status_list: TokenStatusList, *, uri: str, signer: IssuerKey, now: dt.datetime,
                      ttl: int, lifetime: int) -> str:
    """The signed Status List Token for ``uri`` (§5.1): valid ``lifetime`` s, cacheable ``ttl`` s."""
    if ttl <= 0 or lifetime <= 0:
        raise ValueError("ttl and lifetime must be positive")
    iat = int(now.timestamp())
    payload: dict[str, Any] = {"sub": uri, "iat": iat, "exp": iat + lifetime, "ttl": ttl,
                               "status_list": status_list.to_json()}
    if signer.iss:
        payload["iss"] = signer.iss
    header: dict[str, Any] = {"typ": STATUS_LIST_TYP}
    if signer.x5c:
        header["x5c"] = list(signer.x5c)
    return sign_jws(header, payload, signer.key)


@dataclass(frozen=True)
class StatusListToken:
    """A verified Status List Token."""

    sub: str
    iat: int
    exp: int | None
    ttl: int | None
    status_list: TokenStatusList
    certificate: x509.Certificate


def _int_claim(payload: Mapping[str, Any], name: str, *, required: bool) -> int | None:
    value = payload.get(name)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MalformedValueError(f"{name} must be a number")
    return int(value)


def verify_status_list_token(token: str, *, expected_uri: str, trust_anchors: Sequence[x509.Certificate],
                             now: dt.datetime, clock_skew: int = 60) -> StatusListToken:
    """Validate a Status List Token (§8.3 steps 3 to 5): ``typ``, ``x5c`` chain, signature, ``sub``, times.

    Raises StatusVerificationError (untrusted, wrong subject), StatusListValidityError (expired) or
    MalformedValueError (a claim breaks §5.1).
    """
    text = token.strip()
    kept = _SIGNED.get(text)
    if kept is None:
        try:
            jws = parse_jws(text, max_length=_MAX_TOKEN)
        except JoseError as exc:
            raise MalformedValueError(f"not a compact JWT: {exc}") from exc
    else:
        jws = kept[0]
    if jws.header.get("typ") != STATUS_LIST_TYP:
        raise StatusVerificationError(f"typ is {jws.header.get('typ')!r}, not {STATUS_LIST_TYP}")
    if jws.header.get("alg") not in ASYMMETRIC_ALGORITHMS:
        raise StatusVerificationError(f"alg {jws.header.get('alg')!r} is not accepted")
    try:
        leaf, key = validate_x5c(jws.header.get("x5c"), trust_anchors, now)  # at ``now``, every time
    except ChainError as exc:
        raise StatusVerificationError(f"{exc.reason}: {exc.problem}") from exc
    # The signature over these exact bytes by the key their own x5c names does not depend on time or anchors:
    # a token verified once is not verified again (a list token is shared by every credential on the list).
    if kept is None and not verify_jws_signature(jws.compact, key):
        raise StatusVerificationError("the signature does not verify")
    payload = jws.payload
    if payload.get("sub") != expected_uri:
        raise StatusVerificationError(f"sub {payload.get('sub')!r} is not the referenced {expected_uri}")
    iat = _int_claim(payload, "iat", required=True)
    nbf = _int_claim(payload, "nbf", required=False)  # RFC 7519 §4.1.5: a JWT "MUST NOT be accepted" before it
    exp = _int_claim(payload, "exp", required=False)
    ttl = _int_claim(payload, "ttl", required=False)
    if ttl is not None and ttl <= 0:
        raise MalformedValueError("ttl must be positive")
    moment = now.timestamp()
    if exp is not None and exp <= moment - clock_skew:
        raise StatusListValidityError(f"the list expired at {exp}", reason="expired")
    if iat is not None and iat > moment + clock_skew:
        raise StatusListValidityError(f"the list is issued in the future ({iat})", reason="not_yet_valid")
    if nbf is not None and nbf > moment + clock_skew:
        raise StatusListValidityError(f"the list is not valid before {nbf}", reason="not_yet_valid")
    claim = payload.get("status_list")
    if not isinstance(claim, Mapping) or not isinstance(claim.get("lst"), str):
        raise MalformedValueError("status_list must be an object with bits and lst")
    bits = claim.get("bits")
    if not isinstance(bits, int) or isinstance(bits, bool):
        raise MalformedValueError("status_list.bits must be 1, 2, 4 or 8")
    status_list = kept[1] if kept is not None else TokenStatusList.decode(claim["lst"], bits)
    if kept is None:
        _SIGNED[text] = (jws, status_list)
        while len(_SIGNED) > _MAX_SIGNED:
            _SIGNED.popitem(last=False)
    else:
        _SIGNED.move_to_end(text)
    assert iat is not None
    return StatusListToken(expected_uri, iat, exp, ttl, status_list, leaf)


def token_status_uri(status_list_credential: str) -> str:
    """The Token Status List beside a Bitstring Status List credential URL: ``{base}/status/{list}`` ->
    ``{base}/token-status/{list}`` (the revocation service serves both; a credential's token entry sits at its
    revocation list id and index)."""
    base, sep, list_id = status_list_credential.rpartition("/status/")
    if not sep or not base or not list_id or "/" in list_id:
        raise ValueError(f"not a platform status list URL: {status_list_credential!r}")
    return f"{base}/token-status/{list_id}"


def check_token_status(reference: StatusReference, token: str, *, trust_anchors: Sequence[x509.Certificate],
                       now: dt.datetime) -> tuple[SdJwtCheck, SdJwtCheck]:
    """(revocation, suspension) checks for a credential's ``status_list`` reference against the list token."""
    revocation, suspension = REVOCATION, SUSPENSION
    try:
        verified = verify_status_list_token(token, expected_uri=reference.uri, trust_anchors=trust_anchors, now=now)
        status = verified.status_list.get(reference.idx)
    except RangeError as exc:
        # §8.3 step 6: an index outside the list means no statement is possible and the token MUST be rejected
        failed = check_invalid(revocation, "RANGE_ERROR", problem=exc.message)
        return failed, check_invalid(suspension, "RANGE_ERROR", problem=exc.message)
    except StatusListValidityError as exc:
        return (check_unknown(revocation, "STATUS_LIST_EXPIRED", problem=exc.message),
                check_unknown(suspension, "STATUS_LIST_EXPIRED", problem=exc.message))
    except (StatusVerificationError, MalformedValueError) as exc:
        return (check_unknown(revocation, "STATUS_VERIFICATION_ERROR", problem=exc.message),
                check_unknown(suspension, "STATUS_VERIFICATION_ERROR", problem=exc.message))
    age = max(0, int(now.timestamp()) - verified.iat)
    if status == VALID:
        return (check_valid(revocation, "NOT_REVOKED", age_seconds=age),
                check_valid(suspension, "NOT_SUSPENDED", age_seconds=age))
    if status == INVALID:
        return check_invalid(revocation, "REVOKED"), check_valid(suspension, "NOT_SUSPENDED", age_seconds=age)
    if status == SUSPENDED:
        return check_valid(revocation, "NOT_REVOKED", age_seconds=age), check_invalid(suspension, "SUSPENDED")
    problem = f"status value {status:#04x} has no meaning this verifier knows"
    return (check_unknown(revocation, "STATUS_VERIFICATION_ERROR", problem=problem),
            check_unknown(suspension, "STATUS_VERIFICATION_ERROR", problem=problem))
