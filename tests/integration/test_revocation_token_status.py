"""Token Status Lists in the revocation service: real Redis, the HTTP route on a real socket, tokens verified.

The Redis byte array must be the draft's layout (LSB first) bit for bit, transitions must follow the service's
rules (revocation final, reinstate undoes only a suspension), and what a verifier fetches must verify and say
revoked / suspended as soon as the entry changed.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import AsyncIterator

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi import FastAPI
from redis.asyncio import Redis

from microcred import pki
from microcred.sdjwt.issue import IssuerKey, StatusReference
from microcred.sdjwt.x5c import issue_signing_certificate, load_certificates, x5c_header
from microcred.status.token_status_list import (
    INVALID,
    MEDIA_TYPE,
    SUSPENDED,
    VALID,
    TokenStatusList,
    check_token_status,
    verify_status_list_token,
)
from services.revocation.domain import Action
from services.revocation.token_status import (
    TOKEN_LIST_SIZE,
    TokenStatusPublisher,
    TokenStatusStore,
    add_token_status_routes,
    entry_offset,
    next_value,
)
from tests.verifier_support import RunningServer

pytestmark = pytest.mark.integration


@pytest.fixture
async def store(redis: Redis, unique: str) -> AsyncIterator[TokenStatusStore]:
    yield TokenStatusStore(redis, prefix=f"tsl-test-{unique}")


@pytest.fixture(scope="module")
def signer() -> tuple[IssuerKey, list[x509.Certificate]]:
    ca = pki.create_ca("Platform CA")
    cert = issue_signing_certificate(ca, issuer_uri="https://status.example", common_name="Revocation service")
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


async def test_transitions_follow_the_service_rules_and_match_the_pure_model(store: TokenStatusStore) -> None:
    rng = random.Random(5)
    model: dict[int, int] = {}
    actions = [Action.REVOKE, Action.SUSPEND, Action.REINSTATE]
    for _ in range(400):
        index, action = rng.randrange(TOKEN_LIST_SIZE), rng.choice(actions)
        if model and rng.random() < 0.6:
            index = rng.choice(list(model))
        expected = next_value(model.get(index, VALID), action)
        assert await store.apply("l1", index, action) == expected
        model[index] = expected
    decoded = TokenStatusList(TOKEN_LIST_SIZE, 2, await store.list_bytes("l1"))
    assert {i: decoded.get(i) for i in model} == model
    assert sum(1 for i in range(0, TOKEN_LIST_SIZE, 997) if decoded.get(i) and i not in model) == 0


async def test_transitions_in_a_pipeline_transaction(store: TokenStatusStore) -> None:
    async with store.redis.pipeline(transaction=True) as pipe:
        store.write_transition(pipe, "l2", 10, Action.SUSPEND)
        store.write_transition(pipe, "l2", 11, Action.REVOKE)
        store.write_transition(pipe, "l2", 11, Action.SUSPEND)  # a revoked credential stays revoked
        await pipe.execute()
    decoded = TokenStatusList(TOKEN_LIST_SIZE, 2, await store.list_bytes("l2"))
    assert (decoded.get(10), decoded.get(11)) == (SUSPENDED, INVALID)
    assert await store.exists("l2")


async def test_the_route_serves_a_verifiable_token_and_shows_changes_at_once(
        store: TokenStatusStore, signer: tuple[IssuerKey, list[x509.Certificate]]) -> None:
    key, anchors = signer
    publisher = TokenStatusPublisher(store, key, base_url="https://status.example/", ttl_seconds=30,
                                     lifetime_seconds=120)
    app = FastAPI()
    add_token_status_routes(app, publisher)
    await store.register("issuer-a-1")
    reference = StatusReference(publisher.uri_for("issuer-a-1"), 777_777)
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

        await store.apply("issuer-a-1", reference.idx, Action.SUSPEND)
        suspended = await client.get("/token-status/issuer-a-1", headers={"If-None-Match": first.headers["etag"]})
        assert suspended.status_code == 200 and suspended.headers["etag"] != first.headers["etag"]
        _, suspension = check_token_status(reference, suspended.text, trust_anchors=anchors, now=now)
        assert suspension.reason_code == "SUSPENDED"

        await store.apply("issuer-a-1", reference.idx, Action.REVOKE)
        revoked = await client.get("/token-status/issuer-a-1")
        revocation, _ = check_token_status(reference, revoked.text, trust_anchors=anchors, now=now)
        assert revocation.reason_code == "REVOKED"

        head = await client.head("/token-status/issuer-a-1")
        assert head.status_code == 200 and int(head.headers["content-length"]) == len(revoked.text)
        missing = await client.get("/token-status/no-such-list")
        assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"
        bad = await client.get("/token-status/%2e%2e")
        assert bad.status_code == 404
