"""The push-fed status-list cache: only verified lists from the right signer, newest version wins."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from microcred.crypto.data_integrity import sign_eddsa_rdfc_2022
from microcred.crypto.did_key import did_key_from_public_key, verification_method_id
from microcred.events.envelope import new_envelope
from microcred.gen.microcred.v1 import events_pb2
from microcred.kafka.consumer import Position
from microcred.status.bitstring import Bitstring
from microcred.status.build import build_status_list_credential
from microcred.status.cache import CachedStatusList, StatusListCache

URL = "https://status.example/status/uni-a-revocation-0"
NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


class Signer:
    def __init__(self) -> None:
        self.key = Ed25519PrivateKey.generate()
        self.did = did_key_from_public_key(self.key.public_key())

    def published(self, version: int, set_bits: tuple[int, ...] = (), url: str = URL,
                  issuer: str | None = None, **changes: Any) -> events_pb2.StatusListPublished:
        bits = Bitstring()
        for index in set_bits:
            bits.set(index)
        document = build_status_list_credential(url, issuer or self.did, "revocation", bits, NOW, 60_000,
                                                NOW + timedelta(minutes=5))
        signed = sign_eddsa_rdfc_2022(document, self.key, verification_method_id(self.did), created=NOW)
        signed.update(changes)
        return events_pb2.StatusListPublished(status_list_id="uni-a-revocation-0", status_list_credential=URL,
                                              version=version, credential_json=json.dumps(signed))


class Clock:
    now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def signer() -> Signer:
    return Signer()


def make_cache(signer: Signer, trusted: bool = True) -> StatusListCache:
    return StatusListCache("unused:9092", trusted_signers={signer.did} if trusted else None, clock=Clock())


def test_accepts_a_verified_list_and_reports_it(signer: Signer) -> None:
    cache = make_cache(signer)
    seen: list[CachedStatusList] = []
    cache.add_listener(seen.append)
    assert cache.get(URL) is None and cache.freshness(URL) is None and not cache.is_current(URL)
    assert cache.accept(signer.published(1, (5,)))
    credential, received_at = cache.get(URL) or ({}, None)
    assert credential["credentialSubject"]["type"] == "BitstringStatusList" and received_at == NOW
    assert cache.freshness(URL, NOW + timedelta(seconds=3)) == 3.0
    assert cache.is_current(URL, NOW + timedelta(minutes=4))
    assert not cache.is_current(URL, NOW + timedelta(minutes=6))
    assert [c.version for c in seen] == [1] and seen[0].issuer == signer.did and len(cache) == 1


def test_newer_versions_replace_older_ones_never_the_reverse(signer: Signer) -> None:
    cache = make_cache(signer)
    assert cache.accept(signer.published(2, (5,)))
    assert not cache.accept(signer.published(1))
    assert not cache.accept(signer.published(2))
    assert cache.accept(signer.published(3, (5, 6)))
    entry = cache.entry(URL)
    assert entry is not None and entry.version == 3 and cache.rejected == 0


def test_refuses_tampered_foreign_or_mislabelled_lists(signer: Signer) -> None:
    cache = make_cache(signer)
    tampered = signer.published(1, (5,))
    document = json.loads(tampered.credential_json)
    document["credentialSubject"]["encodedList"] = json.loads(signer.published(1)
                                                              .credential_json)["credentialSubject"]["encodedList"]
    tampered.credential_json = json.dumps(document)
    assert not cache.accept(tampered)
    assert not cache.accept(Signer().published(1))                      # not the trusted signer
    assert not cache.accept(signer.published(1, url="https://elsewhere.example/status/x"))  # id != URL
    assert not cache.accept(signer.published(1, issuer="did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"))
    assert not cache.accept(signer.published(1, type=["VerifiableCredential"]))
    broken = signer.published(1)
    broken.credential_json = "{not json"
    assert not cache.accept(broken)
    assert cache.rejected == 6 and cache.get(URL) is None


def test_any_did_key_signer_is_accepted_without_a_trust_list_if_it_is_the_issuer(signer: Signer) -> None:
    cache = make_cache(signer, trusted=False)
    assert cache.accept(Signer().published(1))
    foreign = Signer()
    assert not cache.accept(foreign.published(2, issuer=signer.did))  # proof by someone other than the issuer


async def test_handler_tracks_catch_up_and_ignores_other_events(signer: Signer) -> None:
    cache = make_cache(signer)
    cache._behind = {0: 2, 1: 1}  # end offsets snapshotted at start
    revoked = events_pb2.CredentialRevoked(credential_id="c", status_list_id="l")
    await cache.handle(new_envelope(revoked), revoked, Position("t", 0, 0))
    assert not cache.ready
    published = signer.published(1)
    await cache.handle(new_envelope(published), published, Position("t", 0, 1))
    assert not cache.ready and cache.get(URL) is not None
    await cache.handle(new_envelope(revoked), revoked, Position("t", 1, 0))
    assert cache.ready and await cache.wait_ready(0.01)
