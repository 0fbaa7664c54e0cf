"""The public trust list and the issuers' DID documents, served by the verifier gateway.

``trust_router(registry)`` returns an :class:`fastapi.APIRouter` with:

* ``GET /trust-list`` -- JSON: agencies -> issuers -> accreditations (framework, accrediting body, highest EQF
  level, valid from/until, status, whether in force now, decision reference) and each issuer's keys;
  ``?agency=ID`` narrows it to one agency.
* ``GET /trust-list.html`` -- the same as a plain, accessible English page (no scripts, real tables with
  captions and header cells), for people who want to know who vouches for a credential.
* ``GET /issuers/{issuer_id}/did.json`` -- the issuer's did:web document (all keys, retired ones ``revoked``).
* ``GET /vct/eu-micro-credential/v1`` -- the SD-JWT VC Type Metadata of our ``vct``, byte for byte what
  ``vct#integrity`` covers (where the platform is served at the ``vct``'s host, the ``vct`` resolves here).

Everything comes from a :class:`~microcred.registry.ports.RegistryReader` (the Redis read model in production),
so the pages show what the registry events say, no more.
"""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import HTMLResponse, JSONResponse, Response
from google.protobuf import timestamp_pb2

from microcred.gen.microcred.v1 import elements_pb2, registry_pb2
from microcred.model import vocab
from microcred.registry import domain
from microcred.registry.did_web import build_did_document
from microcred.registry.ports import RegistryReader
from microcred.sdjwt.type_metadata import VCT, type_metadata_bytes

CACHE = "public, max-age=30"
_STATUS = {domain.ACTIVE: "active", domain.SUSPENDED: "suspended", domain.WITHDRAWN: "withdrawn"}
_STANDING = {None: "in force", "ACCREDITATION_NOT_YET_VALID": "not yet valid", "ACCREDITATION_EXPIRED": "expired",
             "ACCREDITATION_SUSPENDED": "suspended", "ACCREDITATION_WITHDRAWN": "withdrawn"}


def _xsd(ts: timestamp_pb2.Timestamp) -> str:
    return domain.to_datetime(ts).isoformat().replace("+00:00", "Z")


def _name(org: elements_pb2.Organisation) -> str:
    values = org.legal_name.values
    return values.get("en") or next(iter(sorted(values.values())), "")


def _organisation(org: elements_pb2.Organisation) -> dict[str, Any]:
    return {"name": _name(org), "legal_name": dict(sorted(org.legal_name.values.items())),
            "country": org.country.code or None, "homepage": org.homepage or None,
            "identifiers": [{"scheme": i.scheme, "value": i.value} for i in org.identifiers]}


def _accreditation(acc: registry_pb2.Accreditation, now: datetime) -> dict[str, Any]:
    refusal = domain.standing(acc, now)
    acc_type = vocab.ACCREDITATION_TYPES.concepts.get(acc.type)
    return {
        "accreditation_id": acc.accreditation_id,
        "type": acc_type.label if acc_type else None,
        "type_uri": acc_type.uri if acc_type else None,
        "framework": acc.framework,
        "accrediting_body": _organisation(acc.accrediting_body),
        "max_eqf_level": acc.max_eqf_level or None,
        "max_eqf_level_uri": vocab.eqf_level_uri(acc.max_eqf_level) if acc.max_eqf_level in vocab.EQF_LEVELS else None,
        "valid_from": _xsd(acc.valid_from) if acc.HasField("valid_from") else None,
        "valid_until": _xsd(acc.valid_until) if acc.HasField("valid_until") else None,
        "status": _STATUS.get(acc.status, "unknown"),
        "in_force": refusal is None,
        "standing": _STANDING.get(refusal.value if refusal else None, "not in force"),
        "decision_reference": acc.decision_reference,
    }


def _issuer(issuer: registry_pb2.Issuer, now: datetime) -> dict[str, Any]:
    return {
        "issuer_id": issuer.issuer_id,
        **_organisation(issuer.organisation),
        "did": issuer.did,
        "did_document": f"/issuers/{issuer.issuer_id}/did.json",
        "keys": [{"id": vm.id, "created_at": _xsd(vm.created_at),
                  "retired_at": _xsd(vm.retired_at) if vm.HasField("retired_at") else None}
                 for vm in issuer.verification_methods],
        "accreditations": [_accreditation(a, now) for a in issuer.accreditations],
    }


async def trust_list(registry: RegistryReader, now: datetime, agency_id: str | None = None) -> dict[str, Any]:
    """The trust list as a JSON-able dict: agencies (ordered by id) with their issuers and accreditations."""
    agencies = {a.agency_id: a for a in await registry.list_agencies()}
    issuers = await registry.list_issuers(agency_id)
    ids = sorted({*agencies, *(i.agency_id for i in issuers)} if agency_id is None else {agency_id})
    out = []
    for aid in ids:
        agency = agencies.get(aid)
        members = [_issuer(i, now) for i in issuers if i.agency_id == aid]
        if agency is None and not members:
            continue
        out.append({"agency_id": aid, **_organisation(agency.organisation if agency else elements_pb2.Organisation()),
                    "registered": agency is not None, "issuers": members})
    return {"generated_at": now.isoformat(timespec="seconds").replace("+00:00", "Z"), "agencies": out}


def _link(url: str | None, text: str) -> str:
    if url and url.startswith(("https://", "http://", "/")):
        return f'<a href="{escape(url)}">{escape(text)}</a>'
    return escape(text)


def _rows(issuer: dict[str, Any]) -> list[str]:
    head = (f'<th scope="row">{_link(issuer["homepage"], issuer["name"] or issuer["issuer_id"])}<br>'
            f'<small>{escape(issuer["issuer_id"])} &middot; {escape(issuer["country"] or "")} &middot; '
            f'{_link(issuer["did_document"], "DID document")}</small></th>')
    if not issuer["accreditations"]:
        return [f'<tr>{head}<td colspan="7">No accreditation recorded</td></tr>']
    rows = []
    for acc in issuer["accreditations"]:
        body = acc["accrediting_body"]
        cells = [acc["framework"], body["name"], str(acc["max_eqf_level"] or ""), (acc["valid_from"] or "")[:10],
                 (acc["valid_until"] or "open-ended")[:10], acc["standing"], acc["decision_reference"]]
        rows.append("<tr>" + head + "".join(f"<td>{escape(c)}</td>" for c in cells) + "</tr>")
    return rows


def render_html(data: dict[str, Any]) -> str:
    """The trust list as a self-contained, accessible English HTML page."""
    sections = []
    for agency in data["agencies"]:
        title = agency["name"] or agency["agency_id"]
        rows = [row for issuer in agency["issuers"] for row in _rows(issuer)] or [
            '<tr><td colspan="8">No issuers registered yet</td></tr>']
        sections.append(
            f'<section aria-labelledby="agency-{escape(agency["agency_id"])}">'
            f'<h2 id="agency-{escape(agency["agency_id"])}">{_link(agency["homepage"], title)}</h2>'
            f'<p>Agency id {escape(agency["agency_id"])}'
            f'{", country " + escape(agency["country"]) if agency["country"] else ""}.</p>'
            f'<table><caption>Issuers accredited through {escape(title)}</caption><thead><tr>'
            '<th scope="col">Issuer</th><th scope="col">Quality-assurance framework</th>'
            '<th scope="col">Accrediting body</th><th scope="col">Highest EQF level</th>'
            '<th scope="col">Valid from</th><th scope="col">Valid until</th><th scope="col">Status</th>'
            f'<th scope="col">Decision</th></tr></thead><tbody>{"".join(rows)}</tbody></table></section>')
    body = "".join(sections) or "<p>No agency is registered yet.</p>"
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>Trust list of accredited micro-credential issuers</title>"
        "<style>body{font-family:system-ui,sans-serif;margin:2rem;line-height:1.5;color:#111}"
        "table{border-collapse:collapse;width:100%;margin-bottom:2rem}caption{text-align:left;font-weight:bold}"
        "th,td{border:1px solid #666;padding:.4rem;text-align:left;vertical-align:top}a{color:#0645ad}</style>"
        "</head><body><main><h1>Trust list of accredited micro-credential issuers</h1>"
        "<p>Every issuer below was registered by a national or sector agency and accredited under a named "
        "quality-assurance framework. A credential from an issuer is backed by that accreditation only while it "
        "is in force and only up to its highest EQF level. Machine-readable version: "
        f'<a href="trust-list">trust-list (JSON)</a>. Generated {escape(data["generated_at"])}.</p>'
        f"{body}</main></body></html>")


def trust_router(registry: RegistryReader) -> APIRouter:
    """The trust-list and DID-document routes over ``registry``."""
    router = APIRouter(tags=["trust registry"])

    @router.get("/trust-list", summary="Accredited issuers, by agency (JSON)")
    async def get_trust_list(agency: str | None = Query(default=None, description="only this agency")
                             ) -> JSONResponse:
        data = await trust_list(registry, datetime.now(UTC), agency)
        return JSONResponse(data, headers={"Cache-Control": CACHE})

    @router.get("/trust-list.html", response_class=HTMLResponse, summary="Accredited issuers (web page)")
    async def get_trust_list_html() -> HTMLResponse:
        data = await trust_list(registry, datetime.now(UTC))
        return HTMLResponse(render_html(data), headers={"Cache-Control": CACHE})

    @router.get("/issuers/{issuer_id}/did.json", summary="An issuer's did:web document")
    async def get_did_document(issuer_id: str) -> JSONResponse:
        issuer = await registry.get_issuer(issuer_id) if domain.ID_PATTERN.fullmatch(issuer_id) else None
        if issuer is None or not issuer.did.startswith("did:web:"):
            raise HTTPException(status_code=404, detail=f"no did:web issuer {issuer_id!r}")
        return JSONResponse(build_did_document(issuer), media_type="application/did+ld+json",
                            headers={"Cache-Control": CACHE})

    @router.get(urlsplit(VCT).path, summary="Type Metadata of the EU micro-credential SD-JWT VC type (vct)")
    async def get_type_metadata() -> Response:
        # the exact bytes that vct#integrity in every credential covers: served, never re-serialised
        return Response(type_metadata_bytes(), media_type="application/json", headers={"Cache-Control": CACHE})

    return router
