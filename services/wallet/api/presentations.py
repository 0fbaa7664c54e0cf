"""Our wallet as an OpenID4VP 1.0 responder (issue 21): the learner answers a verifier's presentation request.

* ``POST /v1/presentation-requests/inspect`` ``{link}``: fetches the request object, checks it
  (:mod:`services.wallet.domain.presentations_oid4vp`) and says who is asking (client id, whether its identity
  is certified), what for (``purpose`` when given), what it asks for (its credential sets, and whether the
  learner can answer them) and which of the learner's SD-JWT VCs meet it, with the claims each claim set it
  meets would disclose and their values.
* ``POST /v1/presentation-requests/answer`` ``{link, answers: [{query, credential_id, claim_set?}]}`` (or
  ``{link, credential_id, query?, claim_set?}`` for one credential): fetches and checks the request again
  (nothing is kept between the two calls: the request object is the state); when the choices answer everything
  the request needs (every required credential query or set, each credential with a whole claim set: OpenID4VP
  1.0 §6.4), builds each SD-JWT+KB with that claim set's claims only, signed with the holder key the credential
  is bound to, and posts them in the request's response mode (encrypted with ``direct_post.jwt``); returns the
  verifier's answer. Anything less is 422 and nothing is sent: a learner who does not want to share what is
  asked refuses.
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

from microcred.oid4vp.dcql import SD_JWT, CredentialSetQuery, DcqlQuery
from microcred.sdjwt.core import SdJwtError
from microcred.sdjwt.jose import JoseError, PrivateKey, public_jwk
from microcred.sdjwt.type_metadata import type_metadata_bytes
from microcred.sdjwt.x5c import load_certificates
from services.wallet.adapters.presentation_client import VerifierClient
from services.wallet.api.deps import Learner, Session
from services.wallet.domain.credentials import CredentialStatus, HeldCredential
from services.wallet.domain.errors import Conflict, NotFound, Unavailable, Unprocessable
from services.wallet.domain.oid4vp_answers import (
    answer_form,
    build_presentation,
    continue_to,
    disclosed_values,
    error_form,
    refusal_form,
)
from services.wallet.domain.oid4vp_matching import (
    NOT_ASKED,
    AnswerError,
    Choice,
    ClaimOption,
    Holding,
    answerable,
    match,
    parse_holding,
    plan_answer,
    same_key,
)
from services.wallet.domain.presentations_oid4vp import (
    PresentationRequestError,
    RefusedRequest,
    VerifierRequest,
    check_request_object,
    parse_link,
    wallet_metadata,
)

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["presentations"])
_CODE = "INVALID_PRESENTATION_REQUEST"
_REFUSED = "PRESENTATION_REQUEST_REFUSED"  # valid enough to answer, but asking what this wallet does not do


class LinkBody(BaseModel):
    """A verifier's ``openid4vp://`` link (from its QR code)."""

    link: str = Field(max_length=4096)


class ChoiceBody(BaseModel):
    """One credential of the answer: for which credential query, which of the learner's credentials, and which
    of the query's claim sets it discloses (all of its claims)."""

    query: str = Field(max_length=1024)
    credential_id: str = Field(max_length=512)
    claim_set: int | None = Field(default=None, ge=0, le=1024,
                                  description="index in the query's claim_sets (default: the first one met)")
    disclose: list[str] | None = Field(default=None, max_length=64,
                                       description="the claims the learner was shown; when given, the claim set's")


class AnswerBody(LinkBody):
    """The learner's answer: a credential per credential query the answer needs (``answers``), or, for a request
    that one credential answers, ``credential_id`` (with ``query``, ``claim_set`` and ``disclose`` as in
    ``answers``; ``query`` defaults to the first one the credential meets)."""

    answers: list[ChoiceBody] = Field(default_factory=list, max_length=16)
    credential_id: str | None = Field(default=None, max_length=512)
    query: str | None = Field(default=None, max_length=1024)
    claim_set: int | None = Field(default=None, ge=0, le=1024)
    disclose: list[str] | None = Field(default=None, max_length=64)


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
        raise Unprocessable(str(exc), code=_request_code(exc.field)) from None


def _request_code(field: str) -> str:
    """The refusal's code, so the page says in plain words what the learner can do: an expired request, a verifier
    whose identity does not check out, or (any other problem) a request this wallet cannot read."""
    if field == "request.exp":
        return "PRESENTATION_REQUEST_EXPIRED"
    if field.startswith(("request.x5c", "request.signature", "request.alg")):
        return "VERIFIER_NOT_TRUSTED"
    return _CODE


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


def _credential_sets(query: DcqlQuery, met: set[str]) -> list[dict[str, Any]]:
    """The request's credential sets (without ``credential_sets``: one, required, of every credential query),
    each option saying whether the learner's credentials meet all of its queries."""
    sets = query.credential_sets or (CredentialSetQuery((tuple(c.id for c in query.credentials),)),)
    return [{"required": cs.required, "options": [{"queries": list(o), "met": set(o) <= met} for o in cs.options]}
            for cs in sets]


@functools.cache
def _claim_names() -> dict[str, dict[str, str]]:
    """Each claim path of our SD-JWT VC type (``level_of_learning_experience.eqf_level``) with its name per language
    from the type metadata's ``display``, so the learner reads "Title of the micro-credential", not a path."""
    names: dict[str, dict[str, str]] = {}
    for claim in json.loads(type_metadata_bytes()).get("claims", []):
        path = ".".join("[*]" if p is None else str(p) for p in claim.get("path", []))
        names[path] = {d["locale"]: d["label"] for d in claim.get("display", []) if "locale" in d and "label" in d}
    return names


def _claims(holding: Holding, option: ClaimOption) -> list[dict[str, Any]]:
    """The claims ``option`` discloses, with their values and, where the type metadata names them (the path or the
    claim it is part of), their names per language (``names``)."""
    known = _claim_names()
    out = []
    for label, values in disclosed_values(holding, option).items():
        parts = label.split(".")
        names = next((known[p] for p in (".".join(parts[:i]) for i in range(len(parts), 0, -1)) if p in known), {})
        out.append({"claim": label, "values": values, "names": names})
    return out


@router.post("/presentation-requests/inspect", summary="Who asks for what, and what of mine meets it")
async def inspect(session: Learner, body: LinkBody) -> dict[str, Any]:
    """Fetch and check the request behind ``link``; list the learner's credentials that meet it."""
    client = _client(session)
    try:
        request = await _request(session, body.link, client)
    finally:
        await client.aclose()
    held = await _holdings(session)
    asks = []
    for q in request.query.credentials:
        labels = {c.id: c.label() for c in q.claims}
        asks.append({"query": q.id, "format": q.format, "claims": [c.label() for c in q.claims],
                     "claim_sets": [[labels[i] for i in option] for option in q.claim_sets],
                     "supported": q.format == SD_JWT})
    matches = []
    found = match(request, [h for _, h in held.values()])
    for candidate in found:
        credential, holding = held[candidate.credential_id]
        matches.append({"query": candidate.query_id, "credential_id": candidate.credential_id,
                        "title": credential.elements.title, "issuer_name": credential.issuer_name,
                        "claims": _claims(holding, candidate.options[0]),
                        "options": [{"claim_set": o.claim_set, "claims": _claims(holding, o)}
                                    for o in candidate.options]})
    met = {c.query_id for c in found}
    return {**_who(request), "requests": asks, "credential_sets": _credential_sets(request.query, met),
            "answerable": answerable(request.query, met), "matches": matches}


def _choices(body: AnswerBody, request: VerifierRequest,
             held: dict[str, tuple[HeldCredential, Holding]]) -> list[Choice]:
    """The learner's choices (a credential of theirs named that is not held: 404)."""
    if body.answers and body.credential_id is not None:
        raise Unprocessable("answers: give answers, or credential_id for a one-credential answer, not both",
                            code=NOT_ASKED)
    picked = body.answers or ([ChoiceBody(query=body.query or "", credential_id=body.credential_id,
                                          claim_set=body.claim_set, disclose=body.disclose)]
                              if body.credential_id is not None else [])
    choices = []
    for one in picked:
        if one.credential_id not in held:
            raise NotFound("no such SD-JWT VC among your active credentials")
        query_id = one.query or next((c.query_id for c in match(request, [held[one.credential_id][1]])),
                                     request.query.credentials[0].id)  # none met: said so by plan_answer
        choices.append(Choice(query_id, one.credential_id, one.claim_set,
                              None if one.disclose is None else tuple(one.disclose)))
    return choices


@router.post("/presentation-requests/answer", summary="Present the chosen credentials")
async def answer(session: Learner, body: AnswerBody) -> dict[str, Any]:
    """Build a presentation of each chosen credential with its claim set's claims only and post them to the
    verifier, when together they answer everything the request needs (else 422, nothing sent)."""
    client = _client(session)
    try:
        request = await _request(session, body.link, client)
        held = await _holdings(session)
        choices = _choices(body, request, held)
        try:
            planned = plan_answer(request, {k: h for k, (_, h) in held.items()}, choices)
        except AnswerError as exc:
            raise Unprocessable(str(exc), code=exc.code) from None
        vp_token: dict[str, list[str]] = {}
        iat = int(session.ctx.now().timestamp())
        for one in planned:
            key = await _holder_key(session, one.holding)
            vp_token.setdefault(one.query.id, []).append(
                build_presentation(one, key, nonce=request.nonce, aud=request.client_id, iat=iat))
        try:
            form = answer_form(request, vp_token)
        except PresentationRequestError as exc:
            raise Unprocessable(str(exc), code=_CODE) from None
        reply = await client.post_response(request.response_uri, form)
    finally:
        await client.aclose()
    return {**_who(request), "accepted": reply.status == 200, "verifier_status": reply.status,
            "verifier_answer": reply.body,
            "presented": [{"query": p.query.id, "credential_id": p.holding.credential_id,
                           "claim_set": p.option.claim_set, "disclosed": list(p.option.labels)} for p in planned],
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
