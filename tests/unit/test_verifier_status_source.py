"""The gateway fetches status lists only from the platform's own prefixes, compared as parsed URLs; what it
keeps is bounded; a credential's number of status entries is limited (a named reason past the limit)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from microcred.credential.ob3 import issuer_profile, render_achievement_credential
from microcred.crypto.data_integrity import sign_eddsa_rdfc_2022
from microcred.status.build import status_entry
from microcred.verification import verify
from services.verifier.adapters.sources import GatewayStatusSource
from tests.harness.factories import ISSUED_AT, NOW, organisation, valid_micro_credential
from tests.verifier_support import World

PREFIX = "https://status.example/status/"


@pytest.mark.parametrize("url", [
    "https://status.example/status/rev-1",
    "https://STATUS.example/status/rev-1",
    "https://status.example:443/status/rev-1",
])
def test_platform_urls_are_allowed(url: str) -> None:
    assert GatewayStatusSource(None, None, [PREFIX]).allowed(url)


@pytest.mark.parametrize("url", [
    "https://status.example/status/../evil",
    "https://status.example/status/./../evil/list",
    "https://status.example/status/%2e%2e/evil",
    "https://status.example/status/%2E%2E/evil",
    "https://status.example/status/.%2e/evil",
    "https://status.example/status/%2fevil",
    "https://status.example/status/..%5cevil",
    "https://status.example/status\\..\\evil",
    "https://status.example@evil.com/status/rev-1",
    "https://status.example/status/@evil.com/",  # harmless path, but fine to keep: see allowed below
    "https://user:pw@status.example/status/rev-1",
    "https://status.example.evil.com/status/rev-1",
    "https://status.example:8443/status/rev-1",
    "http://status.example/status/rev-1",
    "https://status.example/statusX/rev-1",
    "https://status.example/status",
    "https://status.example/status/rev-1#frag",
    "https://status.example/status/rev-1?x=../../evil",
    "https://status.example/status/rev 1",
    "https://status.example/status/rev-1\n",
    "not a url",
    "",
])
def test_lookalike_urls_are_refused(url: str) -> None:
    if url == "https://status.example/status/@evil.com/":
        assert GatewayStatusSource(None, None, [PREFIX]).allowed(url)  # '@' in the path is just a path
        return
    assert not GatewayStatusSource(None, None, [PREFIX]).allowed(url)


def test_a_prefix_without_a_trailing_slash_still_ends_at_a_segment() -> None:
    source = GatewayStatusSource(None, None, ["https://status.example/status"])
    assert source.allowed("https://status.example/status/rev-1")
    assert not source.allowed("https://status.example/status-evil/rev-1")
    host_only = GatewayStatusSource(None, None, ["https://status.example"])
    assert host_only.allowed("https://status.example/status/rev-1")
    for url in ("https://status.example@evil.com/status/rev-1", "https://status.example.evil.com/status/rev-1",
                "https://status.example:8443/x", "https://status.example/../evil"):
        assert not host_only.allowed(url)


async def test_refused_urls_are_never_fetched_and_what_is_kept_is_bounded() -> None:
    asked: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        asked.append(str(request.url))
        return httpx.Response(200, json={"credentialSubject": {"ttl": 300_000}, "id": str(request.url)})

    async with httpx.AsyncClient(transport=httpx.MockTransport(handle)) as http:
        source = GatewayStatusSource(None, http, [PREFIX], max_kept=4)
        assert await source.get("https://status.example@evil.com/status/x") is None
        assert await source.get(PREFIX + "../evil") is None
        assert asked == []
        for n in range(10):
            assert await source.get(f"{PREFIX}list-{n}") is not None
        assert len(asked) == 10 and source.kept <= 4
        await source.get(f"{PREFIX}list-9")  # still kept: not fetched again
        assert len(asked) == 10
        await source.get(f"{PREFIX}list-0")  # evicted long ago: fetched again
        assert len(asked) == 11


async def test_too_many_status_entries_is_a_named_reason_and_no_list_is_fetched() -> None:
    world = World()
    world.publish(datetime.now(UTC))
    entries = [status_entry(world.revocation_url, 100 + i, "revocation") for i in range(40)]
    doc = render_achievement_credential(
        valid_micro_credential(), credential_id="urn:uuid:00000000-0000-4000-8000-000000000777",
        issuer=issuer_profile(world.did, organisation()), status_entries=entries, valid_from=ISSUED_AT)
    signed: dict[str, Any] = sign_eddsa_rdfc_2022(doc, world.issuer_key, world.vm, created=ISSUED_AT)
    world.status.calls.clear()
    report = await verify(signed, world.ports(), NOW)
    revocation = report.check(next(c.id for c in report.checks if c.id.value == "revocation"))
    assert revocation is not None and revocation.reason_code.value == "TOO_MANY_STATUS_ENTRIES"
    assert revocation.status.value == "unknown" and report.verdict.value != "valid"
    assert world.status.calls == []
