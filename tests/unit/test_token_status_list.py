"""IETF Token Status List: the draft's vectors, the Status List Token, the allocator and the status check."""

from __future__ import annotations

import base64
import datetime as dt
import json
import zlib
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from microcred import pki
from microcred.sdjwt.issue import IssuerKey, StatusReference
from microcred.sdjwt.jose import b64url_decode, b64url_encode, sign_jws
from microcred.sdjwt.x5c import load_certificates, x5c_header
from microcred.status.allocator import IndexAllocator
from microcred.status.errors import (
    ListFull,
    MalformedValueError,
    RangeError,
    StatusListValidityError,
    StatusVerificationError,
)
from microcred.status.token_status_list import (
    INVALID,
    MIN_ENTRIES,
    SUSPENDED,
    TokenStatusList,
    check_token_status,
    status_list_token,
    verify_status_list_token,
)

VECTORS = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "token_status_list"
                      / "draft-20-vectors.json").read_text())
URI = "https://status.example/lists/1"
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


# --------------------------------------------------------------------------------------------- encoding


@pytest.mark.parametrize("vector", VECTORS["vectors"], ids=lambda v: v["section"])
def test_spec_vectors_decode_to_the_documented_statuses(vector: dict[str, Any]) -> None:
    decoded = TokenStatusList.decode(vector["lst"], vector["bits"])
    expected = {int(i): s for i, s in vector["statuses"].items()}
    assert {i: decoded.get(i) for i in expected} == expected
    # every other entry is VALID ("All values that are not mentioned ... can be assumed to be 0")
    assert sum(1 for i in range(min(len(decoded), vector["size"])) if decoded.get(i)) == sum(
        1 for s in expected.values() if s)


@pytest.mark.parametrize("vector", VECTORS["vectors"], ids=lambda v: v["section"])
def test_encoding_the_documented_statuses_gives_the_spec_lst(vector: dict[str, Any]) -> None:
    status_list = TokenStatusList(vector["size"], vector["bits"])
    for index, status in vector["statuses"].items():
        status_list.set(int(index), status)
    assert status_list.encode() == vector["lst"]
    if "bytes_hex" in vector:
        assert status_list.to_bytes().hex() == vector["bytes_hex"]
        assert b64url_decode(vector["lst"]).hex() == vector["compressed_hex"]


def test_the_spec_example_token_payload() -> None:
    payload = json.loads(b64url_decode(VECTORS["example_token_8_2"].split(".")[1]))
    assert payload == VECTORS["example_token_8_2_payload"]
    assert TokenStatusList.decode(payload["status_list"]["lst"], 1).get(0) == 1


@pytest.mark.parametrize("bits", [1, 2, 4, 8])
def test_set_and_get_every_value_at_the_edges(bits: int) -> None:
    status_list = TokenStatusList(1001, bits)
    top = (1 << bits) - 1
    for index in (0, 1, 7, 8, 999, 1000):
        status_list.set(index, top)
        assert status_list.get(index) == top
        status_list.set(index, 1)
        assert status_list.get(index) == 1
    assert TokenStatusList.decode(status_list.encode(), bits).get(1000) == 1
    with pytest.raises(MalformedValueError):
        status_list.set(0, top + 1)
    with pytest.raises(RangeError):
        status_list.get(1001)


def test_a_million_entry_list_compresses_small() -> None:
    status_list = TokenStatusList(MIN_ENTRIES)
    status_list.set(123_456, INVALID)
    status_list.set(999_999, SUSPENDED)
    assert len(status_list.encode()) < 2_000
    decoded = TokenStatusList.decode(status_list.encode(), 2)
    assert (decoded.get(123_456), decoded.get(999_999), decoded.get(0)) == (INVALID, SUSPENDED, 0)


def test_a_decompression_bomb_is_refused_with_bounded_memory() -> None:
    bomb = b64url_encode(zlib.compress(b"\x00" * (64 << 20), 9))
    with pytest.raises(MalformedValueError, match="more than"):
        TokenStatusList.decode(bomb, 2)


@pytest.mark.parametrize(("lst", "bits"), [("eNrbuRgAAhcBXQ", 3), ("not base64!", 1), (b64url_encode(b"raw"), 1),
                                           (b64url_encode(zlib.compress(b"abc"))[:-4], 1)])
def test_malformed_lists_are_refused(lst: str, bits: int) -> None:
    with pytest.raises(MalformedValueError):
        TokenStatusList.decode(lst, bits)


# --------------------------------------------------------------------------------------------- allocator
# A token list's entry sits at an index drawn by the platform's one allocator (random among the unused, never
# reused); these pin that rule at the Token Status List's size.


def test_indexes_are_unique_random_and_never_reused_across_restarts() -> None:
    allocator = IndexAllocator(MIN_ENTRIES)
    first = allocator.reserve(5_000)
    assert len(set(first)) == 5_000 and first != sorted(first)
    restored = IndexAllocator(MIN_ENTRIES, allocator.to_bytes())
    second = restored.reserve(5_000)
    assert not set(first) & set(second)
    assert restored.available == MIN_ENTRIES - 10_000


def test_a_nearly_full_list_fills_exactly_then_refuses() -> None:
    allocator = IndexAllocator(100)
    got = allocator.reserve(60) + allocator.reserve(40)
    assert sorted(got) == list(range(100))
    with pytest.raises(ListFull):
        allocator.reserve(1)


def test_two_allocators_draw_different_indexes() -> None:
    a = IndexAllocator(MIN_ENTRIES).reserve(10)
    b = IndexAllocator(MIN_ENTRIES).reserve(10)
    assert a != b


# --------------------------------------------------------------------------------------------- token and check


@pytest.fixture(scope="module")
def signer() -> tuple[IssuerKey, list[Any]]:
    ca = pki.create_ca("Agency CA", agency="agency-ie", not_before=NOW - dt.timedelta(days=30))
    cert = pki.create_signing_cert(ca, issuer_uri="https://status.example", common_name="Status service",
                                     not_before=NOW - dt.timedelta(days=1))
    key = serialization.load_pem_private_key(cert.key_pem, password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return IssuerKey("https://status.example", key, tuple(x5c_header([cert.cert_pem]))), load_certificates(
        ca.cert_pem)


def _token(signer: tuple[IssuerKey, list[Any]], statuses: dict[int, int], **kwargs: Any) -> str:
    status_list = TokenStatusList(MIN_ENTRIES)
    for index, value in statuses.items():
        status_list.set(index, value)
    options: dict[str, Any] = {"uri": URI, "signer": signer[0], "now": NOW, "ttl": 300, "lifetime": 86_400}
    return status_list_token(status_list, **{**options, **kwargs})


def test_status_list_token_header_and_claims(signer: tuple[IssuerKey, list[Any]]) -> None:
    token = _token(signer, {5: INVALID})
    header, payload = (json.loads(b64url_decode(part)) for part in token.split(".")[:2])
    assert header["typ"] == "statuslist+jwt" and header["alg"] == "ES256" and header["x5c"]
    assert payload["sub"] == URI and payload["ttl"] == 300 and payload["exp"] == payload["iat"] + 86_400
    assert payload["status_list"]["bits"] == 2
    verified = verify_status_list_token(token, expected_uri=URI, trust_anchors=signer[1], now=NOW)
    assert verified.status_list.get(5) == INVALID and len(verified.status_list) >= MIN_ENTRIES


def test_status_list_token_refusals(signer: tuple[IssuerKey, list[Any]]) -> None:
    token = _token(signer, {})
    with pytest.raises(StatusVerificationError, match="sub"):
        verify_status_list_token(token, expected_uri=URI + "x", trust_anchors=signer[1], now=NOW)
    with pytest.raises(StatusListValidityError):
        verify_status_list_token(token, expected_uri=URI, trust_anchors=signer[1], now=NOW + dt.timedelta(days=2))
    other_ca = load_certificates(pki.create_ca("Other CA", not_before=NOW - dt.timedelta(days=1)).cert_pem)
    with pytest.raises(StatusVerificationError, match="CHAIN_UNTRUSTED"):
        verify_status_list_token(token, expected_uri=URI, trust_anchors=other_ca, now=NOW)
    head, body, sig = token.split(".")
    claims = json.loads(b64url_decode(body))
    claims["status_list"] = TokenStatusList(MIN_ENTRIES).to_json()
    forged = ".".join([head, b64url_encode(json.dumps(claims).encode()), sig])
    with pytest.raises(StatusVerificationError, match="signature"):
        verify_status_list_token(forged, expected_uri=URI, trust_anchors=signer[1], now=NOW)


def test_a_status_list_token_is_not_taken_before_its_nbf(signer: tuple[IssuerKey, list[Any]]) -> None:
    """RFC 7519 §4.1.5 (the draft: a Status List Token invalid per RFC 7519 is refused)."""
    header, claims = (json.loads(b64url_decode(part)) for part in _token(signer, {}).split(".")[:2])
    for nbf, taken in ((int(NOW.timestamp()) + 3600, False), (int(NOW.timestamp()) - 10, True)):
        token = sign_jws({k: v for k, v in header.items() if k != "alg"}, {**claims, "nbf": nbf}, signer[0].key)
        if taken:
            verify_status_list_token(token, expected_uri=URI, trust_anchors=signer[1], now=NOW)
            continue
        with pytest.raises(StatusListValidityError, match="not valid before") as refused:
            verify_status_list_token(token, expected_uri=URI, trust_anchors=signer[1], now=NOW)
        assert refused.value.reason == "not_yet_valid"


@pytest.mark.parametrize(("status", "revocation", "suspension"), [
    (0, ("valid", "NOT_REVOKED"), ("valid", "NOT_SUSPENDED")),
    (INVALID, ("invalid", "REVOKED"), ("valid", "NOT_SUSPENDED")),
    (SUSPENDED, ("valid", "NOT_REVOKED"), ("invalid", "SUSPENDED")),
    (3, ("unknown", "STATUS_VERIFICATION_ERROR"), ("unknown", "STATUS_VERIFICATION_ERROR")),
])
def test_check_token_status(signer: tuple[IssuerKey, list[Any]], status: int, revocation: tuple[str, str],
                            suspension: tuple[str, str]) -> None:
    token = _token(signer, {424_242: status})
    rev, sus = check_token_status(StatusReference(URI, 424_242), token, trust_anchors=signer[1], now=NOW)
    assert (rev.id, rev.status.value, rev.reason_code) == ("revocation", *revocation)
    assert (sus.id, sus.status.value, sus.reason_code) == ("suspension", *suspension)


def test_check_token_status_out_of_range_and_unverifiable(signer: tuple[IssuerKey, list[Any]]) -> None:
    token = _token(signer, {})
    rev, _ = check_token_status(StatusReference(URI, 5_000_000), token, trust_anchors=signer[1], now=NOW)
    assert (rev.status.value, rev.reason_code) == ("invalid", "RANGE_ERROR")
    rev, _ = check_token_status(StatusReference(URI, 1), token, trust_anchors=[], now=NOW)
    assert (rev.status.value, rev.reason_code) == ("unknown", "STATUS_VERIFICATION_ERROR")
    rev, _ = check_token_status(StatusReference(URI, 1), token, trust_anchors=signer[1],
                                now=NOW + dt.timedelta(days=2))
    assert (rev.status.value, rev.reason_code) == ("unknown", "STATUS_LIST_EXPIRED")
    garbage = base64.b64encode(b"x").decode()
    rev, _ = check_token_status(StatusReference(URI, 1), garbage, trust_anchors=signer[1], now=NOW)
    assert rev.status.value == "unknown"
