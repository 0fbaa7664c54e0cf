"""The verifier's trust-list and DID-document routes, over an InMemoryRegistry through httpx's ASGI transport."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi import FastAPI

from microcred.events.envelope import new_envelope
from microcred.gen.microcred.v1 import events_pb2
from microcred.registry.memory import InMemoryRegistry
from microcred.sdjwt.type_metadata import VCT, integrity, integrity_matches, type_metadata_bytes
from services.verifier.api.trust import render_html, trust_list, trust_router
from tests.contract.registry import (
    MemoryHarness,
    accredited,
    agency_registered,
    issuer_registered,
    org,
    rotated,
)

NOW = datetime.now(UTC)


async def populated() -> InMemoryRegistry:
    h = MemoryHarness()
    past = NOW - timedelta(days=30)
    evil = events_pb2.IssuerRegistered(issuer_id="evil", agency_id="pl-pka", did="did:key:z6Mkx",
                                       organisation=org("<script>alert(1)</script>", homepage="javascript:alert(1)"))
    for event in (agency_registered("ie-qqi"), agency_registered("pl-pka"), agency_registered("mt-mfhea"),
                  issuer_registered("uni-a", "ie-qqi"), issuer_registered("uni-b", "ie-qqi"), evil,
                  accredited("uni-a", "acc-1", max_eqf=5, valid_from=past, valid_until=NOW + timedelta(days=365)),
                  accredited("uni-a", "acc-0", max_eqf=8, valid_from=past - timedelta(days=900), valid_until=past),
                  events_pb2.AccreditationSuspended(issuer_id="uni-a", accreditation_id="acc-0", reason="r"),
                  rotated("uni-a", retired_at=NOW - timedelta(days=1))):
        await h.feed(event, past)
    return h.registry


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    app.include_router(trust_router(await populated()))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://verifier") as c:
        yield c


async def test_trust_list_json(client: httpx.AsyncClient) -> None:
    response = await client.get("/trust-list")
    assert response.status_code == 200 and response.headers["cache-control"] == "public, max-age=30"
    data = response.json()
    assert [a["agency_id"] for a in data["agencies"]] == ["ie-qqi", "mt-mfhea", "pl-pka"]
    ie = data["agencies"][0]
    assert ie["name"] == "Agency ie-qqi" and ie["registered"] is True and ie["country"] == "IE"
    assert [i["issuer_id"] for i in ie["issuers"]] == ["uni-a", "uni-b"]
    uni_a = ie["issuers"][0]
    assert uni_a["did"] == "did:web:trust.example%3A8443:issuers:uni-a"
    assert uni_a["did_document"] == "/issuers/uni-a/did.json"
    assert [k["retired_at"] is None for k in uni_a["keys"]] == [False, True]
    current, old = uni_a["accreditations"]
    assert current == {
        "accreditation_id": "acc-1", "type": "Institutional Quality Assurance",
        "type_uri": "http://data.europa.eu/snb/accreditation/bb4618238e", "framework": "ESG 2015",
        "accrediting_body": {"name": "Quality and Qualifications Ireland",
                             "legal_name": {"en": "Quality and Qualifications Ireland"}, "country": "IE",
                             "homepage": "https://example.org",
                             "identifiers": [{"scheme": "registration", "value": "123"}]},
        "max_eqf_level": 5, "max_eqf_level_uri": "http://data.europa.eu/snb/eqf/5",
        "valid_from": current["valid_from"], "valid_until": current["valid_until"],
        "status": "active", "in_force": True, "standing": "in force", "decision_reference": "QQI/2025/17"}
    assert current["valid_from"].endswith("Z")
    assert (old["status"], old["in_force"], old["standing"]) == ("suspended", False, "suspended")
    assert ie["issuers"][1]["accreditations"] == []
    assert data["agencies"][1]["issuers"] == []
    only = (await client.get("/trust-list", params={"agency": "pl-pka"})).json()
    assert [a["agency_id"] for a in only["agencies"]] == ["pl-pka"]
    assert (await client.get("/trust-list", params={"agency": "nobody"})).json()["agencies"] == []


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


async def test_trust_list_html_is_plain_accessible_english(client: httpx.AsyncClient) -> None:
    response = await client.get("/trust-list.html")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    page = _Collect()
    page.feed(response.text)
    names = [t for t, _ in page.tags]
    assert ("html", {"lang": "en"}) in page.tags and "script" not in names
    assert names.count("table") == 3 and names.count("caption") == 3 and "h1" in names
    assert all(attrs.get("scope") in ("col", "row") for t, attrs in page.tags if t == "th")
    text = " ".join(page.text)
    for expected in ("Agency ie-qqi", "Uni uni-a", "ESG 2015", "Quality and Qualifications Ireland", "QQI/2025/17",
                     "in force", "suspended", "No accreditation recorded", "No issuers registered yet"):
        assert expected in text, expected
    assert "<script>alert(1)</script>" not in response.text and "&lt;script&gt;" in response.text
    assert 'href="javascript:' not in response.text
    assert ("a", {"href": "/issuers/uni-a/did.json"}) in page.tags


async def test_did_documents(client: httpx.AsyncClient) -> None:
    response = await client.get("/issuers/uni-a/did.json")
    assert response.status_code == 200 and response.headers["content-type"] == "application/did+ld+json"
    doc = response.json()
    assert doc["id"] == "did:web:trust.example%3A8443:issuers:uni-a" and len(doc["assertionMethod"]) == 2
    assert "revoked" in doc["verificationMethod"][0]
    for missing in ("nobody", "evil", "..%2Fetc"):
        assert (await client.get(f"/issuers/{missing}/did.json")).status_code == 404, missing


async def test_the_sd_jwt_vc_type_metadata_is_served_byte_for_byte(client: httpx.AsyncClient) -> None:
    response = await client.get(urlsplit(VCT).path)
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    assert response.content == type_metadata_bytes()
    assert integrity_matches(response.content, integrity(type_metadata_bytes()))
    assert response.json()["vct"] == VCT


def test_render_html_of_an_empty_registry() -> None:
    html = render_html({"generated_at": "2025-01-01T00:00:00Z", "agencies": []})
    assert "No agency is registered yet." in html


async def test_an_issuer_without_registered_agency_is_still_listed() -> None:
    registry = InMemoryRegistry()
    event = issuer_registered("orphan", "zz-none")
    registry.apply(new_envelope(event, occurred_at=NOW), event)
    data = await trust_list(registry, NOW)
    [agency] = data["agencies"]
    assert agency["agency_id"] == "zz-none" and agency["registered"] is False and agency["name"] == ""
    assert [i["issuer_id"] for i in agency["issuers"]] == ["orphan"]
