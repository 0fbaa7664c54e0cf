"""Sealing with compression (issue 24): both versions open, the seal stays deterministic, opening is bounded,
and altered records are still refused (microcred/privacy/sealing.py)."""

from __future__ import annotations

import hmac
import json

import pytest
import zstandard

from microcred.privacy import sealing
from microcred.privacy.datakeys import DataKey, new_data_key
from microcred.privacy.sealing import MAX_OPENED, SealError, open_sealed, seal

# Made by the sealing code before issue 24 (version 0x01, commit 7eb3636's microcred/privacy/sealing.py) with
# DataKey("lp_fixture", bytes(range(32))): the form of every record already on Kafka and in Redis.
_FIXTURE_KEY = DataKey("lp_fixture", bytes(range(32)))
_FIXTURE_CONTEXT = "urn:uuid:00000000-0000-4000-8000-000000000001"
_FIXTURE_PLAINTEXT = (b'{"credentialSubject": {"name": "Ada Lovelace", "email": "ada@example.org"}, '
                      b'"grade": "A"}')
_FIXTURE_V1 = bytes.fromhex(
    "01ec08ee21ba864dc871d43cfba326cf5ab0793d39a114f94fbbe574c1a9102f487846bb2964cc2688e3f62dbc70f24070a1f512c1"
    "c647f58d7ebcb62a10809d59539d65ecd34f68f65042e7ef79d694919f4663eece7a675dbfe93c6cfd977ea437a621df3395dba43f"
    "a4472174c7d1855db8768c71")


def _old_seal(key: DataKey, plaintext: bytes, context: str) -> bytes:
    """The pre-issue-24 seal, as it was (uncompressed, version 0x01)."""
    aad = b"microcred/privacy/v1\x00" + key.pseudonym.encode() + b"\x00" + context.encode()
    nonce = hmac.digest(key.nonce_key, b"".join((len(aad).to_bytes(4, "big"), aad, plaintext)), "sha256")[:12]
    return b"\x01" + nonce + key.aead.encrypt(nonce, plaintext, aad)


def _credential(n: int) -> bytes:
    """A ~10 kB credential-like document of learner ``n`` (repetitive JSON, as a signed credential is)."""
    return json.dumps({
        "@context": ["https://www.w3.org/ns/credentials/v2", "https://purl.imsglobal.org/spec/ob/v3p0/context.json"],
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "credentialSubject": {"name": f"Learner {n}", "email": f"learner{n}@example.org",
                              "achievement": {"criteria": {"narrative": "Assessed by written exam. " * 40},
                                              "results": [{"resultDescription": f"urn:uuid:{i}", "value": "A"}
                                                          for i in range(150)]}},
        "proof": {"type": "DataIntegrityProof", "proofValue": "z" + f"{n:088d}"}}).encode()


def test_v2_round_trip_is_compressed() -> None:
    key, plaintext = new_data_key("lp_a"), _credential(1)
    assert len(plaintext) > 8000
    sealed = seal(key, plaintext, "event-1")
    assert sealed[0] == 2 and len(sealed) < len(plaintext) / 2
    assert b"Learner 1" not in sealed
    assert open_sealed(key, sealed, "event-1") == plaintext


def test_v1_records_made_before_compression_still_open() -> None:
    assert open_sealed(_FIXTURE_KEY, _FIXTURE_V1, _FIXTURE_CONTEXT) == _FIXTURE_PLAINTEXT
    key, plaintext = new_data_key("lp_a"), _credential(2)
    old = _old_seal(key, plaintext, "event-2")
    assert old[0] == 1 and open_sealed(key, old, "event-2") == plaintext
    with pytest.raises(SealError):
        open_sealed(key, old, "event-3")  # still bound to its event


def test_seal_is_deterministic() -> None:
    key = new_data_key("lp_a")
    first, again = seal(key, _credential(3), "event-1"), seal(key, _credential(3), "event-1")
    assert first == again and first[0] == 2
    assert seal(key, _credential(3), "event-2") != first  # another place, another nonce
    assert seal(key, _credential(4), "event-1")[1:13] != first[1:13]  # another plaintext, another nonce


def test_what_does_not_shrink_and_what_is_too_large_stay_v1() -> None:
    key = new_data_key("lp_a")
    small = seal(key, b"did:key:z6Mk", "event-1")
    assert small[0] == 1 and open_sealed(key, small, "event-1") == b"did:key:z6Mk"
    at_bound = seal(key, bytes(MAX_OPENED), "event-1")
    assert at_bound[0] == 2 and len(at_bound) < 1000 and open_sealed(key, at_bound, "event-1") == bytes(MAX_OPENED)
    over = seal(key, bytes(MAX_OPENED + 1), "event-1")
    assert over[0] == 1 and open_sealed(key, over, "event-1") == bytes(MAX_OPENED + 1)


def _v2_holding(key: DataKey, frame: bytes) -> bytes:
    """A v2 record around any frame (what only a holder of the key could make)."""
    return sealing._encrypt(key, 2, frame, "event-1")


def test_decompression_bomb_is_refused() -> None:
    key = new_data_key("lp_a")
    bomb = zstandard.ZstdCompressor(level=3).compress(bytes(MAX_OPENED + 1))
    assert len(bomb) < 1000
    with pytest.raises(SealError, match="more than"):
        open_sealed(key, _v2_holding(key, bomb), "event-1")
    unsized = zstandard.ZstdCompressor(level=3, write_content_size=False).compress(bytes(1000))
    with pytest.raises(SealError, match="more than"):
        open_sealed(key, _v2_holding(key, unsized), "event-1")


def test_malformed_frames_are_refused() -> None:
    key = new_data_key("lp_a")
    frame = zstandard.ZstdCompressor(level=3).compress(_credential(5))
    for body in (frame + frame, frame + b"x", frame[:-4], b"not a zstd frame at all"):
        with pytest.raises(SealError):
            open_sealed(key, _v2_holding(key, body), "event-1")
    dictionary = zstandard.train_dictionary(4096, [_credential(n) for n in range(64)], dict_id=7)
    named = zstandard.ZstdCompressor(level=3, dict_data=dictionary).compress(_credential(5))
    assert zstandard.get_frame_parameters(named).dict_id == 7
    with pytest.raises(SealError, match="dictionary 7"):
        open_sealed(key, _v2_holding(key, named), "event-1")


def test_tampered_or_misplaced_records_are_refused() -> None:
    key = new_data_key("lp_a")
    sealed = seal(key, _credential(6), "event-1")
    flipped = bytearray(sealed)
    flipped[40] ^= 1
    for altered in (bytes(flipped), b"\x01" + sealed[1:], b"\x03" + sealed[1:], sealed[:-1], sealed[:20], b""):
        with pytest.raises(SealError):
            open_sealed(key, altered, "event-1")
    with pytest.raises(SealError):
        open_sealed(key, sealed, "event-2")
    with pytest.raises(SealError):
        open_sealed(new_data_key("lp_a"), sealed, "event-1")
