"""Test helpers for the verifier: fixtures, fake ports, and a small signed "platform world".

:class:`World` is an in-memory stand-in for the platform: a registered, accredited did:web issuer (in an
:class:`~microcred.registry.memory.InMemoryRegistry` fed with real registry events), a status-list signer
(did:key) with revocation and suspension lists, and a factory for signed OB 3.0 micro-credentials.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import uvicorn
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from google.protobuf.message import Message

from microcred.credential.ob3 import issuer_profile, render_achievement_credential
from microcred.crypto.data_integrity import sign_eddsa_rdfc_2022
from microcred.crypto.did_key import did_key_from_public_key, verification_method_id
from microcred.crypto.multikey import encode_ed25519_public_key
from microcred.events.envelope import new_envelope
from microcred.gen.microcred.v1 import elements_pb2, events_pb2
from microcred.http_protocol import CoalescingHttpToolsProtocol
from microcred.http_service import EmbeddedUvicorn
from microcred.registry.did_web import did_web_id, method_id
from microcred.registry.domain import timestamp
from microcred.registry.memory import InMemoryRegistry
from microcred.status.bitstring import Bitstring
from microcred.status.build import build_status_list_credential, status_entry
from microcred.verification import ResultCache, VerificationPorts
from microcred.verification.keys import (
    ChainKeyResolver,
    ControllerDocumentResolver,
    DidKeyResolver,
    RegistryKeyResolver,
)
from tests.harness.factories import ISSUED_AT, NOW, organisation, valid_micro_credential

FIXTURES = Path(__file__).parent / "fixtures" / "verifier"
SUITE_BASE = "https://w3c-ccg.github.io/vc-api/fixtures/credentials/status/"
SUITE_LISTS = {"purpose-single-ok.jsonld": "single-purpose-ok.jsonld",
               "purpose-multi-ok.jsonld": "multi-purpose-ok.jsonld"}
TESTLIST_URL = ("https://raw.githubusercontent.com/1EdTech/digital-credentials-public-validator/refs/heads/main/"
                "inspector-vc/src/test/resources/ob30/bit-string-list/testlist")
REC_LIST_URL = "https://example.com/credentials/status/3"
LIST_SIGNER = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
LIST_SIGNER_DID = did_key_from_public_key(LIST_SIGNER.public_key())


def load(name: str) -> dict[str, Any]:
    """A fixture from tests/fixtures/verifier."""
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return data


def controller_documents() -> list[dict[str, Any]]:
    """Stand-ins for the fixtures' HTTPS / did:web / did:example controllers (see SOURCES.md)."""
    docs: list[dict[str, Any]] = json.loads((FIXTURES / "controllers.json").read_text(encoding="utf-8"))
    return docs


class DictStatusSource:
    """StatusListSource over a dict; ``fail`` makes every lookup raise (an unreachable source)."""

    def __init__(self, lists: Mapping[str, Mapping[str, Any]] | None = None, obtained_at: datetime = NOW) -> None:
        self.lists: dict[str, Mapping[str, Any]] = dict(lists or {})
        self.obtained_at = obtained_at
        self.fail = False
        self.calls: list[str] = []

    async def get(self, url: str) -> tuple[Mapping[str, Any], datetime] | None:
        self.calls.append(url)
        if self.fail:
            raise ConnectionError("status source down")
        found = self.lists.get(url)
        return None if found is None else (found, self.obtained_at)


def sign_list(credential: Mapping[str, Any], url: str, key: Ed25519PrivateKey = LIST_SIGNER,
              created: datetime = ISSUED_AT) -> dict[str, Any]:
    """A copy of an (unsigned) status list published at ``url``, signed by ``key``'s did:key as its issuer."""
    doc = {k: v for k, v in copy.deepcopy(dict(credential)).items() if k != "proof"}
    did = did_key_from_public_key(key.public_key())
    doc["id"], doc["issuer"] = url, did
    return sign_eddsa_rdfc_2022(doc, key, verification_method_id(did), created=created)


def fixture_lists() -> dict[str, Mapping[str, Any]]:
    """Status lists the fixture credentials point at: signed test-suite lists, the signed 1EdTech and REC lists."""
    lists: dict[str, Mapping[str, Any]] = {
        SUITE_BASE + name: sign_list(load(f"status-suite/{local}"), SUITE_BASE + name)
        for name, local in SUITE_LISTS.items()
    }
    lists[TESTLIST_URL] = load("bitstring/1edtech-testlist.json")
    lists[REC_LIST_URL] = load("bitstring/section-A.2-statuslist-eddsa-rdfc-2022.json")
    return lists


def fixture_ports(status: DictStatusSource | None = None, *, controllers: bool = True) -> VerificationPorts:
    """Ports for the public fixtures: did:key plus (optionally) the fixture controller documents."""
    resolvers: list[Any] = [DidKeyResolver()]
    if controllers:
        resolvers.append(ControllerDocumentResolver(controller_documents()))
    return VerificationPorts(keys=ChainKeyResolver(*resolvers), status=status or DictStatusSource(fixture_lists()),
                             cache=ResultCache())


# --------------------------------------------------------------------------------------------- platform world


def registry_event(registry: InMemoryRegistry, payload: Message, at: datetime) -> None:
    """Apply one registry event, as the projection would."""
    registry.apply(new_envelope(payload, occurred_at=at))


@dataclass
class Limits:
    """The settings ``create_gateway_app`` reads (``services.verifier.api.GatewayLimits``): a generous rate limit
    unless a test sets its own, no trusted proxies."""

    max_body_bytes: int = 256 * 1024
    rate_limit_per_second: float = 1000.0
    rate_limit_burst: int = 1000
    cors_origins: list[str] = field(default_factory=lambda: ["*"])
    trusted_proxies: list[str] = field(default_factory=list)


@dataclass
class World:
    """One accredited did:web issuer, a status-list signer and its two lists, all in memory."""

    host: str = "trust.example"
    issuer_id: str = "uni-zed"
    agency_id: str = "agency-ie"
    issuer_key: Ed25519PrivateKey = field(default_factory=lambda: Ed25519PrivateKey.from_private_bytes(b"\x07" * 32))
    registry: InMemoryRegistry = field(default_factory=InMemoryRegistry)
    revocation: Bitstring = field(default_factory=Bitstring)
    suspension: Bitstring = field(default_factory=Bitstring)
    status: DictStatusSource = field(default_factory=DictStatusSource)
    list_base: str = "https://status.trust.example/status/"

    def __post_init__(self) -> None:
        org = organisation()
        registered = ISSUED_AT - timedelta(days=30)
        registry_event(self.registry, events_pb2.AgencyRegistered(agency_id=self.agency_id, organisation=organisation(
            "Higher Education Authority")), registered)
        registry_event(self.registry, events_pb2.IssuerRegistered(
            issuer_id=self.issuer_id, agency_id=self.agency_id, organisation=org, did=self.did,
            verification_method_id=self.vm,
            public_key_multibase=encode_ed25519_public_key(self.issuer_key.public_key())), registered)
        registry_event(self.registry, events_pb2.IssuerAccredited(
            issuer_id=self.issuer_id, accreditation_id="acc-1",
            type=elements_pb2.ACCREDITATION_TYPE_INSTITUTIONAL_QUALITY_ASSURANCE, framework="Irish NFQ",
            accrediting_body=organisation("Quality and Qualifications Ireland"), max_eqf_level=elements_pb2.EQF_LEVEL_7,
            valid_from=timestamp(registered), decision_reference="QQI-2024-17"), registered)
        self.publish()

    @property
    def did(self) -> str:
        return did_web_id(self.host, self.issuer_id)

    @property
    def vm(self) -> str:
        return method_id(self.did, 1)

    @property
    def revocation_url(self) -> str:
        return self.list_base + "rev-1"

    @property
    def suspension_url(self) -> str:
        return self.list_base + "sus-1"

    def publish(self, now: datetime = NOW) -> None:
        """(Re-)sign both lists into the status source, valid for an hour around ``now``, obtained at ``now``."""
        self.status.obtained_at = now
        for url, purpose, bits in ((self.revocation_url, "revocation", self.revocation),
                                   (self.suspension_url, "suspension", self.suspension)):
            unsigned = build_status_list_credential(url, LIST_SIGNER_DID, purpose, bits, now - timedelta(minutes=5),
                                                    ttl_ms=60_000, valid_until=now + timedelta(hours=1))
            self.status.lists[url] = sign_eddsa_rdfc_2022(unsigned, LIST_SIGNER, verification_method_id(
                LIST_SIGNER_DID), created=now - timedelta(minutes=5))

    def credential(self, index: int = 4242, *, mutate: Any = None, key: Ed25519PrivateKey | None = None,
                   vm: str | None = None, signed_at: datetime = ISSUED_AT) -> dict[str, Any]:
        """A signed OB 3.0 micro-credential of this issuer (``mutate(micro_credential)`` edits the model first)."""
        mc = valid_micro_credential()
        if mutate is not None:
            mutate(mc)
        doc = render_achievement_credential(
            mc, credential_id=f"urn:uuid:00000000-0000-4000-8000-{index:012d}",
            issuer=issuer_profile(self.did, organisation()),
            status_entries=[status_entry(self.revocation_url, index, "revocation"),
                            status_entry(self.suspension_url, index, "suspension")],
            valid_from=ISSUED_AT)
        return sign_eddsa_rdfc_2022(doc, key or self.issuer_key, vm or self.vm, created=signed_at)

    def ports(self, **overrides: Any) -> VerificationPorts:
        """Ports as the gateway wires them (did:key, registry did:web, trusted list signer), in memory."""
        options: dict[str, Any] = {
            "keys": ChainKeyResolver(DidKeyResolver(), RegistryKeyResolver(self.registry)),
            "status": self.status, "trust": self.registry, "cache": ResultCache(),
            "status_list_signers": frozenset({LIST_SIGNER_DID}),
        }
        options.update(overrides)
        return VerificationPorts(**options)


__all__ = ["FIXTURES", "LIST_SIGNER", "LIST_SIGNER_DID", "NOW", "DictStatusSource", "RunningServer", "World",
           "controller_documents", "fixture_lists", "fixture_ports", "load", "registry_event", "sign_list"]


# --------------------------------------------------------------------------------------------- real sockets


class RunningServer:
    """An ASGI app served by uvicorn on a real loopback socket, in this event loop."""

    def __init__(self, app: Any, **config: Any) -> None:
        """``config``: further uvicorn settings (e.g. ``proxy_headers=False``, as the verifier runs); the HTTP
        protocol is the services' own (responses written in one send) unless ``http`` says otherwise."""
        config.setdefault("http", CoalescingHttpToolsProtocol)
        self.server = EmbeddedUvicorn(uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="on", log_config=None,
                                                  access_log=False, **config))
        self.task: Any = None

    async def __aenter__(self) -> RunningServer:
        import asyncio

        self.task = asyncio.create_task(self.server.serve())
        for _ in range(600):
            if self.server.started or self.task.done():
                break
            await asyncio.sleep(0.05)
        if not self.server.started:
            if self.task.done():
                self.task.result()
            raise TimeoutError("uvicorn did not start")
        return self

    @property
    def url(self) -> str:
        port = self.server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    async def __aexit__(self, *exc: object) -> None:
        self.server.should_exit = True
        if self.task is not None:
            await self.task
