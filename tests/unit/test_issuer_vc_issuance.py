"""Issuing a caller-written VC (REST ``/credentials/issue``) with in-memory ports: the caller and registry
gates are gRPC issuance's own (pins for certificate callers only, UNAVAILABLE while the registry rebuilds)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from google.rpc import code_pb2  # type: ignore[import-untyped, unused-ignore]

from microcred.crypto.keystore import InMemoryKeyStore
from microcred.kafka.publisher import InMemoryEventPublisher
from services.issuer.adapters.status_pool import InMemoryStatusIndexSource
from services.issuer.adapters.store import InMemoryCredentialStore
from services.issuer.application.issuance import Caller, Refusal
from services.issuer.application.status_indexes import StatusIndexPool
from services.issuer.application.vc_issuance import VcIssuance
from tests.fixtures.issuer.world import AGENCY, IssuerSpec, World, in_memory_world

PINNED = "ab" * 32


def rig(registry_available: Callable[[], Awaitable[bool]] | None = None) -> tuple[World, VcIssuance]:
    world = in_memory_world(IssuerSpec("uni-a", certificate_sha256=(PINNED,)), keystore=InMemoryKeyStore())
    vc = VcIssuance(registry=world.registry, keystore=world.keystore,
                    status=StatusIndexPool(InMemoryStatusIndexSource(), block_size=4),
                    store=InMemoryCredentialStore(), publisher=InMemoryEventPublisher(),
                    registry_available=registry_available)
    return world, vc


async def credential(world: World) -> dict[str, Any]:
    issuer = await world.registry.get_issuer("uni-a")
    assert issuer is not None
    return {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"],
            "issuer": issuer.did, "validFrom": "2025-01-01T00:00:00Z",
            "credentialSubject": {"id": "did:example:learner", "name": "Alice"}}


async def test_pins_apply_to_certificate_callers_not_to_oauth_clients() -> None:
    world, vc = rig()
    document = await credential(world)
    denied = await vc.issue(Caller("uni-a", AGENCY, "cd" * 32), document, "k1")
    assert isinstance(denied, Refusal) and denied.reason == "CERTIFICATE_NOT_REGISTERED"
    by_certificate = await vc.issue(Caller("uni-a", AGENCY, PINNED.upper()), document, "k2")
    by_token = await vc.issue(Caller("uni-a", AGENCY), document, "k3")  # an OAuth client: no certificate
    assert not isinstance(by_certificate, Refusal) and not isinstance(by_token, Refusal)
    assert by_token["proof"]["cryptosuite"] == "eddsa-rdfc-2022"


@pytest.mark.parametrize("issuer_id", ["uni-a", "not-registered"])
async def test_while_the_registry_rebuilds_nobody_is_denied_only_asked_to_retry(issuer_id: str) -> None:
    async def rebuilding() -> bool:
        return False

    world, vc = rig(rebuilding)
    outcome = await vc.issue(Caller(issuer_id, AGENCY), await credential(world), "k")
    assert isinstance(outcome, Refusal)
    assert outcome.code == code_pb2.UNAVAILABLE and outcome.reason == "REGISTRY_REBUILDING"


async def test_a_store_that_fails_answers_retry_not_an_internal_error() -> None:
    world, vc = rig()

    async def down(issuer_id: str, credential_ids: object) -> object:
        raise ConnectionError("redis down")

    vc._store.lookup = down  # type: ignore[method-assign, assignment]
    outcome = await vc.issue(Caller("uni-a", AGENCY), await credential(world), "k")
    assert isinstance(outcome, Refusal) and outcome.code == code_pb2.UNAVAILABLE
