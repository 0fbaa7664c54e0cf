"""Our wallet as an OpenID4VP 1.0 responder (issue 21): the learner answers a verifier's presentation request.

* ``POST /v1/presentation-requests/inspect`` ``{link}``: fetches the request object, checks it
  (:mod:`services.wallet.domain.presentations_oid4vp`) and says who is asking (client id, whether its identity
  is certified), what for (``purpose`` when given), what it asks for and which of the learner's SD-JWT VCs meet
  it, with the claims each would disclose and their values.
* ``POST /v1/presentation-requests/answer`` ``{link, credential_id, disclose: [claims], query?}``: fetches and
  checks the request again (nothing is kept between the two calls: the request object is the state), builds
  the SD-JWT+KB with only the chosen claims, signed with the holder key the credential is bound to, and posts
  it in the request's response mode (encrypted with ``direct_post.jwt``); returns the verifier's answer.
* ``POST /v1/presentation-requests/refuse`` ``{link}``: posts ``error=access_denied``.
* ``GET /v1/holder-keys/jwks``: the public JWK of each holder key, what an issuer binds an SD-JWT VC to
  (``cnf``, e.g. gRPC ``holder_jwk_json``).

Neither the presentation nor the verifier's request is logged (personal data, and the nonce binds it).
"""

from __future__ import annotations

import functools
import json
import secrets
from pathlib import Path
from typing import Any

from cryptography import x509
from fastapi import APIRouter
from pydantic import BaseModel, Field

from microcred.oid4vp.dcql import SD_JWT
from microcred.sdjwt.core import SdJwtError
from microcred.sdjwt.jose import JoseError, PrivateKey, public_jwk
from microcred.sdjwt.x5c import load_certificates
from services.wallet.adapters.presentation_client import VerifierClient
from services.wallet.api.deps import Learner, Session
from services.wallet.domain.credentials import CredentialStatus, HeldCredential
from services.wallet.domain.errors import Conflict, NotFound, Unavailable, Unprocessable
from services.wallet.domain.presentations_oid4vp import (
    Holding,
    PresentationRequestError,
    RefusedRequest,
    VerifierRequest,
    answer_form,
    build_presentation,
    check_request_object,
    continue_to,
    disclosed_values,
    error_form,
    match,
    parse_holding,
    parse_link,
    refusal_form,
    same_key,
    wallet_metadata,
)

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["presentations"])
_CODE = "INVALID_PRESENTATION_REQUEST"
_REFUSED = "PRESENTATION_REQUEST_REFUSED"  # valid enough to answer, but asking what this wallet does not do


class LinkBody(BaseModel):
    """A verifier's ``openid4vp://`` link (from its QR code)."""

    link: str = Field(max_length=4096)


class AnswerBody(LinkBody):
    """The learner's choice: one credential and which of the requested claims it discloses."""

    credential_id: str = Field(max_length=512)
    disclose: list[str] = Field(default_factory=list, max_length=64)
    query: str | None = Field(default=None, max_length=64, description="the credential query id (default: the "
                                                                        "first one the credential meets)")


@functools.lru_cache(maxsize=4)
def _anchors(path: Path | None) -> tuple[x509.Certificate, ...]:
    return () if path is None else tuple(load_certificates(path.read_bytes()))


def _client(session: Session) -> VerifierClient:
    # http only to loopback, and only in dev/test (the gateway of `make run` and the tests listen there).
    return VerifierClient(allow_loopback_http=session.ctx.settings.is_dev)


async def _request(session: Session, link_text: str, client: VerifierClient) -> VerifierRequest:
    try:
        link = parse_link(link_text)
        nonce = posted = None
        if link.request_uri_method == "post":  # §5.10: a nonce of this fetch, which the signed object carries back
            nonce = secrets.token_urlsafe(32)
            posted = {"wallet_nonce": nonce, "wallet_metadata": json.dumps(wallet_metadata(link.client_id))}
        token = await client.fetch_request_object(link.request_uri, posted)
        return check_request_object(token, link.client_id, _anchors(session.ctx.settings.oid4vp_trust_anchors_file),
                                    session.ctx.now(), nonce)
    except RefusedRequest as exc:  # authenticated, but not one we answer: the verifier is told why (§8.5)
        told = await _tell_verifier(client, exc)
        raise Unprocessable(f"{exc} ({told})", code=_REFUSED) from None
    except PresentationRequestError as exc:
        raise Unprocessable(str(exc), code=_CODE) from None


async def _tell_verifier(client: VerifierClient, refused: RefusedRequest) -> str:
    """Post the error response of a refused request to its ``response_uri``; what became of it, in words."""
    try:
        reply = await client.post_response(refused.response_uri,
                                           error_form(refused.error, refused.problem, refused.state))
    except (Unavailable, Unprocessable):
        return f"the verifier could not be told {refused.error}"
    return f"the verifier was told {refused.error}" if reply.status == 200 else \
        f"the verifier was told {refused.error} and answered {reply.status}"


async def _holdings(session: Session) -> dict[str, tuple[HeldCredential, Holding]]:
    """The learner's active SD-JWT VCs (revoked or suspended ones are not offered)."""
    found: dict[str, tuple[HeldCredential, Holding]] = {}
    for credential in await session.ctx.holdings.of(session.account):
        compact = credential.sd_jwt_compact  # issued in that format, or an imported SD-JWT VC
        if compact is None or credential.status is not CredentialStatus.ACTIVE:
            continue
        try:
            found[credential.credential_id] = (credential, parse_holding(credential.credential_id, compact))
        except (SdJwtError, JoseError, ValueError):
            continue  # not readable as held: it cannot be presented (it was checked when it arrived)
    return found


async def _holder_key(session: Session, holding: Holding) -> PrivateKey:
    """The learner's key that the credential's ``cnf`` names (found by its did:key, not by opening every key)."""
    private = await session.ctx.keys.bound_key(session.account.account_id, holding.cnf_jwk)
    if private is not None and same_key(holding.cnf_jwk, private):
        return private
    raise Conflict("the credential is not bound to any of your holder keys", code="NOT_BOUND_TO_HOLDER_KEY")


def _who(request: VerifierRequest) -> dict[str, Any]:
    exp = request.claims.get("exp")
    return {"client_id": request.client_id, "verifier": request.host, "verified": request.verified,
            "purpose": request.purpose, "response_mode": request.response_mode,
            "expires_at": exp if isinstance(exp, int) else None}


@router.post("/presentation-requests/inspect", summary="Who asks for what, and what of mine meets it")
async def inspect(session: Learner, body: LinkBody) -> dict[str, Any]:
    """Fetch and check the request behind ``link``; list the learner's credentials that meet it."""
    client = _client(session)
    try:
        request = await _request(session, body.link, client)
    finally:
        await client.aclose()
    held = await _holdings(session)
    asks = [{"query": q.id, "format": q.format, "claims": [c.label() for c in q.claims],
             "supported": q.format == SD_JWT} for q in request.query.credentials]
    matches = []
    for candidate in match(request, [h for _, h in held.values()]):
        credential, holding = held[candidate.credential_id]
        query = request.query.by_id(candidate.query_id)
        assert query is not None  # match() only names the request's own queries
        matches.append({"query": candidate.query_id, "credential_id": candidate.credential_id,
                        "title": credential.elements.title, "issuer_name": credential.issuer_name,
                        "claims": [{"claim": label, "values": values} for label, values
                                   in disclosed_values(holding, candidate.claims, query).items()]})
    return {**_who(request), "requests": asks, "matches": matches}


@router.post("/presentation-requests/answer", summary="Present a credential with the chosen claims")
async def answer(session: Learner, body: AnswerBody) -> dict[str, Any]:
    """Build the presentation with only the ``disclose`` claims and post it to the verifier."""
    client = _client(session)
    try:
        request = await _request(session, body.link, client)
        held = await _holdings(session)
        if body.credential_id not in held:
            raise NotFound("no such SD-JWT VC among your active credentials")
        _, holding = held[body.credential_id]
        met = [c.query_id for c in match(request, [holding])]
        query_id = body.query or (met[0] if met else None)
        query = request.query.by_id(query_id) if query_id is not None else None
        if query is None or query_id not in met:
            raise Unprocessable("credential_id: this credential does not meet what the verifier asks for",
                                code="CREDENTIAL_DOES_NOT_MATCH")
        key = await _holder_key(session, holding)
        try:
            vp = build_presentation(holding, query, body.disclose, key, nonce=request.nonce,
                                    aud=request.client_id, iat=int(session.ctx.now().timestamp()))
            form = answer_form(request, {query.id: [vp]})
        except PresentationRequestError as exc:
            raise Unprocessable(str(exc), code=_CODE) from None
        reply = await client.post_response(request.response_uri, form)
    finally:
        await client.aclose()
    return {**_who(request), "accepted": reply.status == 200, "verifier_status": reply.status,
            "verifier_answer": reply.body, "query": query.id, "credential_id": body.credential_id,
            "disclosed": list(dict.fromkeys(body.disclose)),
            "continue_to": continue_to(reply.body) if reply.status == 200 else None}


@router.post("/presentation-requests/refuse", summary="Decline a presentation request")
async def refuse(session: Learner, body: LinkBody) -> dict[str, Any]:
    """Tell the verifier the learner declined (``error=access_denied``)."""
    client = _client(session)
    try:
        request = await _request(session, body.link, client)
        reply = await client.post_response(request.response_uri, refusal_form(request))
    finally:
        await client.aclose()
    return {**_who(request), "accepted": reply.status == 200, "verifier_status": reply.status,
            "verifier_answer": reply.body, "continue_to": continue_to(reply.body) if reply.status == 200 else None}


@router.get("/holder-keys/jwks", summary="The public JWK of each holder key (for SD-JWT VC issuance)")
async def holder_jwks(session: Learner) -> dict[str, Any]:
    """``{"keys": [{"did", "jwk"}]}``: what an issuer puts in an SD-JWT VC's ``cnf`` (never a private member)."""
    aid = session.account.account_id
    keys = []
    for key in await session.ctx.keys.for_account(aid):
        keys.append({"did": key.did, "jwk": public_jwk(await session.ctx.keys.jose_key(aid, key.did))})
    return {"keys": keys}
