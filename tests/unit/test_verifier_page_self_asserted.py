"""A credential whose issuer the trust registry does not vouch for (a did:key, say) may verify "valid" (it is
authentic, in force, unrevoked), but its issuer's name and EQF level are only what the issuer says about
itself. The page served by the real gateway over HTTP, and the JSON report, must say so."""

from __future__ import annotations

import html
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from microcred.credential.ob3 import issuer_profile, render_achievement_credential
from microcred.crypto.data_integrity import sign_eddsa_rdfc_2022
from microcred.crypto.did_key import did_key_from_public_key, verification_method_id
from microcred.status.build import status_entry
from services.verifier.api.routes import create_gateway_app
from services.verifier.application import Gateway
from tests.harness.factories import ISSUED_AT, organisation, valid_micro_credential
from tests.unit.test_verification_gateway import Limits
from tests.verifier_support import RunningServer, World

TOKEN = "S" * 43


@pytest.fixture(scope="module")
def world() -> World:
    world = World()
    world.publish(datetime.now(UTC))
    return world


def self_issued(world: World) -> dict[str, Any]:
    """Signed by a did:key that calls itself "Totally Real University" and claims EQF level 6."""
    key = Ed25519PrivateKey.from_private_bytes(b"\x2a" * 32)
    did = did_key_from_public_key(key.public_key())
    doc = render_achievement_credential(
        valid_micro_credential(), credential_id="urn:uuid:00000000-0000-4000-8000-000000000901",
        issuer=issuer_profile(did, organisation("Totally Real University")),
        status_entries=[status_entry(world.revocation_url, 901, "revocation"),
                        status_entry(world.suspension_url, 901, "suspension")], valid_from=ISSUED_AT)
    doc["credentialSubject"]["achievement"]["achievementType"] = "Certificate"  # not an EU micro-credential claim
    signed: dict[str, Any] = sign_eddsa_rdfc_2022(doc, key, verification_method_id(did), created=ISSUED_AT)
    return signed


def fake_wallet(credential: dict[str, Any]) -> httpx.AsyncClient:
    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"credentials": [credential], "expires_at": None})
    return httpx.AsyncClient(transport=httpx.MockTransport(handle))


async def serve(world: World, credential: dict[str, Any]) -> tuple[str, str, dict[str, Any], dict[str, Any]]:
    from services.verifier.adapters.sources import WalletClient

    app = create_gateway_app(Limits())
    app.state.gateway = Gateway(world.ports(), WalletClient("http://wallet.test", fake_wallet(credential)))
    async with RunningServer(app, proxy_headers=False) as server, httpx.AsyncClient(base_url=server.url) as http:
        english = html.unescape((await http.get(f"/share/{TOKEN}")).text)
        polish = html.unescape((await http.get(f"/share/{TOKEN}?lang=pl")).text)
        report = (await http.post("/v1/verify", json=credential)).json()
        shared = (await http.get(f"/v1/shares/{TOKEN}/report")).json()
    return english, polish, report, shared


async def test_a_self_asserted_issuer_is_shown_as_not_vouched_for(world: World) -> None:
    english, polish, report, shared = await serve(world, self_issued(world))
    assert report["verdict"] == "valid"  # authentic and in force: the verdict itself is right
    assert 'data-verdict="valid"' in english and "Totally Real University" in english
    # next to "Valid", the page says whose word the details are
    assert 'data-testid="not-vouched"' in english
    assert "not in this platform's trust registry" in english
    assert "self-asserted" in english.lower()
    details = english.split('data-testid="details"', 1)[1].split("</table>", 1)[0]
    assert "Issuer (self-asserted)" in details and "EQF level (self-asserted)" in details
    assert 'data-testid="not-vouched"' in polish and "nie" in polish
    # the JSON report says the same, for programs
    assert report["issuer_vouched"] is False and shared["reports"][0]["issuer_vouched"] is False


async def test_an_accredited_issuer_is_shown_as_vouched_for(world: World) -> None:
    english, _, report, _ = await serve(world, world.credential())
    assert report["verdict"] == "valid" and report["issuer_vouched"] is True
    assert 'data-testid="not-vouched"' not in english and "(self-asserted)" not in english
