"""Learner HTTP API: account, holder keys, credentials (list, read, bind), export and import."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field

from microcred.credential.jsontext import parse
from microcred.sdjwt.view import compact_of, enveloped
from services.wallet.api.deps import Learner
from services.wallet.domain.credentials import CredentialFilter, CredentialStatus, HeldCredential
from services.wallet.domain.errors import Unprocessable

router = APIRouter(prefix="/v1", tags=["learner"])


class BindingRequest(BaseModel):
    """Bind a credential to one of the learner's holder DIDs."""

    credential_id: str = Field(min_length=1, max_length=2048)
    did: str = Field(min_length=1, max_length=512)


def _with_document(credential: HeldCredential) -> dict[str, Any]:
    return {**credential.meta_json(), "credential": credential.document}


@router.get("/me", summary="The signed-in learner's account")
async def me(session: Learner) -> dict[str, Any]:
    """Account id, the verified e-mail the wallet matches hashed identifiers with, and the holder DIDs."""
    account = session.account
    return {"account_id": account.account_id, "email": account.email, "holder_dids": list(account.dids)}


@router.delete("/me", summary="Delete the signed-in learner's wallet account")
async def delete_me(session: Learner, confirm: Annotated[Literal["delete-my-account"], Query(
        description="must be `delete-my-account`: the learner confirmed on the page")]) -> dict[str, Any]:
    """Delete the account: its records on the wallet topic get tombstones (the read model drops them, compaction
    removes them from Kafka), the holder keys are deleted and the account learner's data key is destroyed, so
    imported credentials and completions sealed under it no longer open anywhere. Answers what was deleted.
    Credentials the learner already downloaded or shared remain theirs and are not affected."""
    return await session.ctx.delete_account(session.account)


class HolderKeyRequest(BaseModel):
    """Which kind of key: EdDSA (Ed25519, the default; signs VC presentations) or ES256 (P-256, HAIP, SD-JWT VCs)."""

    alg: Literal["EdDSA", "ES256"] = "EdDSA"


@router.post("/holder-keys", status_code=201, summary="Create a holder key (did:key)")
async def create_holder_key(session: Learner, body: HolderKeyRequest | None = None) -> dict[str, str | bool]:
    """Generate a custodial key (Ed25519, or P-256 with ``{"alg": "ES256"}``) in the wallet's encrypted key store
    and return its did:key (its public JWK: ``GET /v1/holder-keys/jwks``)."""
    key = await session.ctx.keys.create(session.account.account_id, body.alg if body is not None else "EdDSA")
    return key.to_json()


@router.get("/holder-keys", summary="List the learner's holder keys")
async def list_holder_keys(session: Learner) -> dict[str, Any]:
    """The learner's holder DIDs with their verification methods; ``for_credential``: made by the wallet for one
    credential it received (a key per credential, so that no two can be linked by their key)."""
    keys = await session.ctx.keys.for_account(session.account.account_id, credential_keys=True)
    return {"holder_keys": [k.to_json() for k in keys]}


@router.get("/credentials", summary="List the learner's credentials")
async def list_credentials(
    session: Learner,
    issuer: Annotated[str | None, Query(description="issuer id or DID")] = None,
    issued_from: Annotated[date | None, Query(description="issued on or after (YYYY-MM-DD)")] = None,
    issued_until: Annotated[date | None, Query(description="issued on or before (YYYY-MM-DD)")] = None,
    eqf_level: Annotated[int | None, Query(ge=1, le=8)] = None,
    status: CredentialStatus | None = None,
) -> dict[str, Any]:
    """Credentials with their current status and EU elements, filtered by issuer, issue date, EQF level."""
    filters = CredentialFilter(issuer, issued_from, issued_until, eqf_level, status)
    return {"credentials": [c.meta_json() for c in await session.ctx.credentials(session.account, filters)]}


@router.get("/credentials/{credential_id:path}", summary="Read one credential")
async def get_credential(session: Learner, credential_id: str) -> dict[str, Any]:
    """One credential: status, EU elements, binding and the signed document."""
    return _with_document(await session.ctx.holdings.one(session.account, credential_id))


@router.post("/bindings", summary="Bind a credential to a holder key")
async def bind_credential(session: Learner, body: BindingRequest) -> dict[str, Any]:
    """Claim a credential under one of the learner's holder DIDs."""
    return (await session.ctx.bind(session.account, body.credential_id, body.did)).meta_json()


@router.get("/export", summary="Export everything as a bundle", response_class=Response,
            responses={200: {"content": {"application/zip": {}}}})
async def export(session: Learner) -> Response:
    """A zip: one ``<credential id>.json`` VC file per credential, and ``manifest.json``."""
    bundle = await session.ctx.export(session.account)
    return Response(bundle, media_type="application/zip", headers={
        "Content-Disposition": 'attachment; filename="microcred-wallet-export.zip"', "Cache-Control": "no-store"})


async def _read_limited(request: Request, limit: int) -> bytes:
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise Unprocessable(f"the document exceeds {limit} bytes", code="TOO_LARGE")
    return bytes(body)


@router.post("/import", status_code=201, summary="Import a credential issued elsewhere",
             openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
                 "schema": {"type": "object", "description": "a W3C VC 2.0 credential with a Data Integrity proof, "
                                                            "or an enveloped SD-JWT VC"}},
                 "application/dc+sd-jwt": {"schema": {"type": "string", "description": "a compact SD-JWT VC"}}}}})
async def import_credential(session: Learner, request: Request) -> dict[str, Any]:
    """Accepted only after its proof verifies and it names the learner; else 422 with the failing reason. An SD-JWT
    VC (its compact form, as ``application/dc+sd-jwt`` or a JSON string) is kept as a VC 2.0 enveloped credential."""
    raw = await _read_limited(request, session.ctx.settings.max_import_bytes)
    text = raw.decode("utf-8", errors="replace").strip()
    if compact_of(text) is not None:  # an SD-JWT VC (application/dc+sd-jwt): held as a VC 2.0 envelope
        document: Any = enveloped(text)
    else:
        try:
            document = parse(raw)
        except ValueError:
            raise Unprocessable("the body is not JSON", code="MALFORMED") from None
        if isinstance(document, str) and compact_of(document) is not None:
            document = enveloped(document)
    if not isinstance(document, dict):
        raise Unprocessable("the body must be a JSON object (one credential) or an SD-JWT VC", code="MALFORMED")
    return (await session.ctx.import_credential(session.account, document)).meta_json()
