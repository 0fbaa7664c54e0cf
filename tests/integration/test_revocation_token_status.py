"""Token Status Lists in the revocation service: real Redis, the HTTP route on a real socket, gRPC changes.

The Redis byte array must be the draft's layout (LSB first) bit for bit; each credential's entry (at its
revocation index) must follow its Bitstring bits whatever order the projection writes come in; revoke, suspend
and reinstate over gRPC must flip it; and what a verifier fetches must verify and say revoked / suspended as
soon as the entry changed.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import random
import time
from collections.abc import AsyncIterator
from typing import cast

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi import FastAPI
from redis.asyncio import Redis

from microcred import pki
from microcred.gen.microcred.v1 import revocation_pb2, status_pb2
from microcred.lifecycle import one_slot
from microcred.sdjwt.issue import IssuerKey, StatusReference
from microcred.sdjwt.x5c import load_certificates, x5c_header
from microcred.status.token_status_list import (
    INVALID,
    MEDIA_TYPE,
    SUSPENDED,
    VALID,
    TokenStatusList,
    check_token_status,
    verify_status_list_token,
)
from services.revocation.adapters.store import RevocationStore
from services.revocation.api.token_status import (
    TOKEN_LIST_SIZE,
    TokenStatusPublisher,
    TokenStatusStore,
    add_token_status_routes,
)
from services.revocation.domain import CredentialRecord, EntryRef, ListMeta, StatusWrite
from tests.conftest import Infrastructure
from tests.harness.redis_cluster import RedisClients
from tests.harness.revocation import Harness, start_harness
from tests.verifier_support import RunningServer

pytestmark = pytest.mark.integration

NOW_ = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
_OFFSETS = itertools.count()  # each change newer than the last, as on one Kafka partition


# The rules the store's Lua (services/revocation/adapters/store.py) applies, restated as the tests' oracle.
def entry_offset(index: int) -> int:
    """The Redis ``BITFIELD u2`` offset of 2-bit entry ``index`` in the draft's LSB-first layout."""
    return 8 * (index // 4) + 6 - 2 * (index % 4)


def token_value(revoked: bool, suspended: bool) -> int:
    """The entry for a credential's two Bitstring bits: revocation (final) wins over suspension."""
    if revoked:
        return INVALID
    return SUSPENDED if suspended else VALID


@pytest.fixture
async def store(redis_clients: RedisClients, unique: str) -> AsyncIterator[TokenStatusStore]:
    """On the single node, then on the 3-master cluster (the prefix a hash tag there, as the service keeps it)."""
    client = await redis_clients.new()
    yield TokenStatusStore(cast("Redis", client), prefix=one_slot(client, f"tsl-test-{unique}"))


@pytest.fixture(scope="module")
def signer() -> tuple[IssuerKey, list[x509.Certificate]]:
    ca = pki.create_ca("Platform CA")
    cert = pki.create_signing_cert(ca, issuer_uri="https://status.example", common_name="Revocation service")
    key = serialization.load_pem_private_key(cert.key_pem, password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return IssuerKey("https://status.example", key, tuple(x5c_header([cert.cert_pem]))), load_certificates(
        ca.cert_pem)


def test_offsets_map_redis_msb_first_bits_onto_the_drafts_lsb_first_entries() -> None:
    assert [entry_offset(i) for i in range(5)] == [6, 4, 2, 0, 14]


async def test_redis_bytes_are_the_drafts_byte_array(store: TokenStatusStore) -> None:
    # the draft's section 4.1 example with bits=2: 12 entries -> bytes c9 44 f9
    statuses = [1, 2, 0, 3, 0, 1, 0, 1, 1, 2, 3, 3]
    for index, status in enumerate(statuses):
        offset = entry_offset(index)
        await store.redis.execute_command("BITFIELD", f"{store.prefix}:tsl:example", "SET", "u2", offset, status)
    assert (await store.list_bytes("example")).hex() == "c944f9"


def _record(n: int, rev: int, sus: int) -> CredentialRecord:
    return CredentialRecord(f"urn:uuid:c{n}", "uni-a", "PL",
                            (EntryRef("uni-a-revocation-1", rev, "revocation"), EntryRef("uni-a-suspension-1", sus,
                                                                                          "suspension")))


async def _change(revocation: RevocationStore, record: CredentialRecord, purpose: str, value: bool) -> None:
    entry = next(e for e in record.entries if e.purpose == purpose)
    await revocation.apply_changes([StatusWrite(entry.list_id, entry.index, value, record.credential_id, NOW_,
                                                "test", "test", partition=0, offset=next(_OFFSETS))])


async def test_entries_follow_the_bitstring_bits_through_random_changes(store: TokenStatusStore) -> None:
    revocation = RevocationStore(store.redis, store.prefix)
    rng = random.Random(5)
    indexes = rng.sample(range(131_072), 200)
    records = [_record(n, indexes[n], indexes[n + 100]) for n in range(100)]
    async with store.redis.pipeline(transaction=True) as pipe:
        revocation.write_credentials(pipe, records)
        await pipe.execute()
    model = {r.credential_id: [False, False] for r in records}
    for _ in range(300):
        record = rng.choice(records)
        state = model[record.credential_id]
        action = rng.choice(["revoke", "suspend", "reinstate"])
        if action == "revoke":
            state[0] = True
            await _change(revocation, record, "revocation", True)
        elif not state[0]:  # the service refuses to suspend or reinstate a revoked credential
            state[1] = action == "suspend"
            await _change(revocation, record, "suspension", state[1])
    decoded = TokenStatusList(TOKEN_LIST_SIZE, 2, await store.list_bytes("uni-a-revocation-1"))
    for record in records:
        assert decoded.get(record.entries[0].index) == token_value(*model[record.credential_id])
    assert await store.exists("uni-a-revocation-1")


async def test_a_replay_in_another_order_gives_the_same_entries(store: TokenStatusStore) -> None:
    revocation = RevocationStore(store.redis, store.prefix)
    suspended, revoked = _record(1, 10, 20), _record(2, 11, 21)
    # status events projected before the CredentialIssued records (another topic, another order)
    await _change(revocation, suspended, "suspension", True)
    await _change(revocation, revoked, "revocation", True)
    assert (await store.list_bytes("uni-a-revocation-1")) == b""
    async with store.redis.pipeline(transaction=True) as pipe:
        revocation.write_credentials(pipe, [suspended, revoked])
        await pipe.execute()
    decoded = TokenStatusList(TOKEN_LIST_SIZE, 2, await store.list_bytes("uni-a-revocation-1"))
    assert (decoded.get(10), decoded.get(11)) == (SUSPENDED, INVALID)


def _served(store: TokenStatusStore, key: IssuerKey) -> tuple[TokenStatusPublisher, FastAPI, RevocationStore]:
    """The token route over ``store`` (tokens valid 120 s, cacheable 30 s), and the revocation store beside it."""
    publisher = TokenStatusPublisher(store, key, base_url="https://status.example/", ttl_seconds=30,
                                     lifetime_seconds=120)
    app = FastAPI()
    add_token_status_routes(app, publisher)
    return publisher, app, RevocationStore(store.redis, store.prefix)


async def test_the_route_serves_a_verifiable_token_and_shows_changes_at_once(
        store: TokenStatusStore, signer: tuple[IssuerKey, list[x509.Certificate]]) -> None:
    anchors = signer[1]
    publisher, app, rev_store = _served(store, signer[0])
    record = CredentialRecord("urn:uuid:route", "issuer-a", "PL", (EntryRef("issuer-a-1", 77_777, "revocation"),
                                                                   EntryRef("issuer-a-s-1", 5, "suspension")))
    async with store.redis.pipeline(transaction=True) as pipe:
        rev_store.write_credentials(pipe, [record])
        await pipe.execute()
    reference = StatusReference(publisher.uri_for("issuer-a-1"), 77_777)
    async with RunningServer(app) as server, httpx.AsyncClient(base_url=server.url) as client:
        first = await client.get("/token-status/issuer-a-1")
        assert first.status_code == 200 and first.headers["content-type"] == MEDIA_TYPE
        assert first.headers["cache-control"] == "public, max-age=30"
        now = dt.datetime.now(dt.UTC)
        token = verify_status_list_token(first.text, expected_uri=reference.uri, trust_anchors=anchors, now=now)
        assert len(token.status_list) >= 1_000_000 and token.ttl == 30
        revocation, _ = check_token_status(reference, first.text, trust_anchors=anchors, now=now)
        assert revocation.reason_code == "NOT_REVOKED"

        again = await client.get("/token-status/issuer-a-1", headers={"If-None-Match": first.headers["etag"]})
        assert again.status_code == 304

        await _change(rev_store, record, "suspension", True)
        suspended = await client.get("/token-status/issuer-a-1", headers={"If-None-Match": first.headers["etag"]})
        assert suspended.status_code == 200 and suspended.headers["etag"] != first.headers["etag"]
        _, suspension = check_token_status(reference, suspended.text, trust_anchors=anchors, now=now)
        assert suspension.reason_code == "SUSPENDED"

        await _change(rev_store, record, "revocation", True)
        revoked = await client.get("/token-status/issuer-a-1")
        revocation, _ = check_token_status(reference, revoked.text, trust_anchors=anchors, now=now)
        assert revocation.reason_code == "REVOKED"

        head = await client.head("/token-status/issuer-a-1")
        assert head.status_code == 200 and int(head.headers["content-length"]) == len(revoked.text)
        missing = await client.get("/token-status/no-such-list")
        assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"
        bad = await client.get("/token-status/%2e%2e")
        assert bad.status_code == 404


async def test_a_revocation_list_no_credential_was_projected_into_is_served_all_valid(
        store: TokenStatusStore, signer: tuple[IssuerKey, list[x509.Certificate]]) -> None:
    """The issuer answers once Kafka has a CredentialIssued; the projector writes its entry a moment later. A
    verifier asking in between for a new list got 404 (status unknown). A revocation list registered at
    reservation is served at once, every entry valid; a suspension list, or no list, is still 404."""
    anchors = signer[1]
    publisher, app, rev_store = _served(store, signer[0])
    for list_id, purpose in (("issuer-b-1", "revocation"), ("issuer-b-s-1", "suspension")):
        usable, created = await rev_store.create_list(ListMeta(list_id, "issuer-b", purpose,
                                                               f"https://status.example/{list_id}", 1, 131_072))
        assert usable and created
    async with store.redis.pipeline(transaction=True) as pipe:  # a list registered by a replay after a Redis loss
        rev_store.write_list(pipe, ListMeta("issuer-b-2", "issuer-b", "revocation", "https://status.example/issuer-b-2",
                                            2, 131_072))
        await pipe.execute()
    reference = StatusReference(publisher.uri_for("issuer-b-1"), 4_242)
    async with RunningServer(app) as server, httpx.AsyncClient(base_url=server.url) as client:
        served = await client.get("/token-status/issuer-b-1")
        assert served.status_code == 200, served.text
        revocation, suspension = check_token_status(reference, served.text, trust_anchors=anchors,
                                                    now=dt.datetime.now(dt.UTC))
        assert (revocation.reason_code, suspension.reason_code) == ("NOT_REVOKED", "NOT_SUSPENDED")
        assert (await client.get("/token-status/issuer-b-2")).status_code == 200
        assert (await client.get("/token-status/issuer-b-s-1")).status_code == 404
        assert (await client.get("/token-status/issuer-b-9")).status_code == 404


async def test_revoke_suspend_reinstate_over_grpc_flip_the_served_token_status_list(
        infrastructure: Infrastructure, tmp_path_factory: pytest.TempPathFactory) -> None:
    from microcred import pki as _pki

    harness: Harness = await start_harness(infrastructure.kafka_bootstrap, infrastructure.redis_url,
                                           tmp_path_factory.mktemp("revocation-tsl"))
    try:
        anchors = load_certificates(harness.ca.cert_pem)
        issuer = f"uni-{random.randrange(1 << 32):08x}"
        (credential,) = await harness.issue(issuer, "PL", 1)
        entry = credential.entry(status_pb2.STATUS_PURPOSE_REVOCATION)
        # the SD-JWT VC's status reference: the revocation list's token list, at the revocation index
        reference = StatusReference(f"{harness.app.base_url}/token-status/{entry.status_list_id}",
                                    entry.status_list_index)
        stub = harness.stub(issuer, "PL", _pki.ROLE_ISSUER)

        async def served() -> tuple[str, str]:
            response = await harness.fetch(reference.uri)
            assert response.status_code == 200 and response.headers["content-type"] == MEDIA_TYPE
            revocation, suspension = check_token_status(reference, response.text, trust_anchors=anchors,
                                                        now=dt.datetime.now(dt.UTC))
            return revocation.reason_code, suspension.reason_code

        async def visible(expected: tuple[str, str]) -> float:
            started = time.monotonic()
            while (got := await served()) != expected:
                assert time.monotonic() - started < 1.0, f"{got} is not {expected} within a second"
                await asyncio.sleep(0.01)
            return time.monotonic() - started

        assert await served() == ("NOT_REVOKED", "NOT_SUSPENDED")
        await stub.SuspendCredential(revocation_pb2.SuspendCredentialRequest(
            credential_id=credential.credential_id, reason="under investigation"))
        await visible(("NOT_REVOKED", "SUSPENDED"))
        await stub.ReinstateCredential(revocation_pb2.ReinstateCredentialRequest(
            credential_id=credential.credential_id, reason="investigation closed"))
        await visible(("NOT_REVOKED", "NOT_SUSPENDED"))
        await stub.RevokeCredential(revocation_pb2.RevokeCredentialRequest(
            credential_id=credential.credential_id, reason="issued in error"))
        await visible(("REVOKED", "NOT_SUSPENDED"))
    finally:
        await harness.close()
