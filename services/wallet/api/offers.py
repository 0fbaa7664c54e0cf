"""Our wallet as an OpenID4VCI 1.0 client (issue 20): the learner accepts a credential offer.

* ``GET /v1/credential-offers``: the open offers issuers of this platform addressed to the learner (their verified
  e-mail or a holder DID): each with its link (for ``inspect``/``accept``), issuer, title and awarding body in
  ``lang``, expiry and whether a transaction code is needed. The link is the learner's: it redeems the offer.
* ``POST /v1/credential-offers/inspect`` ``{offer}``: the offer (an ``openid-credential-offer://`` link, or any
  URL with ``credential_offer_uri``/``credential_offer``) read from a trusted issuer, with its metadata: who
  offers (identifier and display name in ``lang``), what (each offered configuration, named, and whether this
  wallet can hold it), and the transaction code it asks for (length, input mode, the issuer's description).
* ``POST /v1/credential-offers/accept`` ``{offer, tx_code?}``: redeems it and keeps the SD-JWT VC
  (:class:`~services.wallet.application.offers.CredentialOffers`); answers the credentials now listed.
* ``POST /v1/credential-offers/authorize`` ``{offer}``: an offer of the authorization code grant (``inspect``
  says ``grant: "authorization_code"``): ``{authorization_url}``, where the page sends the learner's browser. The
  issuer sends it back to the wallet's page (``redirect_uri``: this wallet's own root URL; ``client_id``: its
  origin) with ``code``, ``state`` and ``iss``;
* ``POST /v1/credential-offers/complete`` ``{state, code?, iss?, error?, error_description?}``: what came back;
  the code is redeemed as ``accept`` does, and the same answer given.
* ``GET /v1/credential-offers/deferred``: accepted credentials the issuer is still preparing (``accept`` and
  ``complete`` answer ``deferred: 1`` for one); ``POST /v1/credential-offers/deferred/collect``: asks the issuers
  of those due (no more often than each asked) and answers what arrived, what still waits and what never will,
  with its code (:class:`~services.wallet.application.deferred_offers.DeferredCredentials`).

A refusal is 422 problem+json whose ``code`` is one of :mod:`services.wallet.domain.offers`'s (the page words
it in the learner's language); an issuer that cannot be reached is 503 ``OFFER_ISSUER_UNAVAILABLE``. The offer,
its code and the credential are never logged.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Header, Query, Request
from pydantic import BaseModel, Field

from services.wallet.adapters.oid4vci_client import IssuerClient
from services.wallet.api.deps import Learner, Session
from services.wallet.api.i18n import pick_language
from services.wallet.application.deferred_offers import DeferredCredentials
from services.wallet.application.offers import CredentialOffers, Received
from services.wallet.domain.addressed_offers import pick_text
from services.wallet.domain.credential_offer import MAX_LINK_CHARS
from services.wallet.domain.deferred import DeferredIssuance
from services.wallet.domain.errors import Unavailable, Unprocessable
from services.wallet.domain.issuer_metadata import display_name
from services.wallet.domain.offers import ISSUER_UNAVAILABLE, PRE_AUTHORIZED_GRANT, OfferError

__all__ = ["router"]

router = APIRouter(prefix="/v1/credential-offers", tags=["credential offers"])
T = TypeVar("T")


class OfferBody(BaseModel):
    """A credential offer link (from the issuer's e-mail or QR code)."""

    offer: str = Field(min_length=1, max_length=MAX_LINK_CHARS)


class AuthorizationResponse(BaseModel):
    """The issuer's authorization response (RFC 6749 §4.1.2), as the learner's browser brought it back."""

    state: str = Field(min_length=1, max_length=512)
    code: str | None = Field(default=None, max_length=4096)
    iss: str | None = Field(default=None, max_length=2048)
    error: str | None = Field(default=None, max_length=200)
    error_description: str | None = Field(default=None, max_length=1000)


class AcceptBody(OfferBody):
    """The offer and the transaction code the issuer sent separately, when it asks for one."""

    tx_code: str | None = Field(default=None, max_length=64)


def _offers(session: Session) -> tuple[CredentialOffers, IssuerClient]:
    settings, ctx = session.ctx.settings, session.ctx
    client = IssuerClient(settings.wallet_trusted_issuers, ca_file=settings.wallet_issuer_tls_ca_file)
    return CredentialOffers(settings.wallet_trusted_issuers, client, ctx.keys, ctx.verifier, ctx.accounts,
                            ctx.holdings, ctx.clock, ctx.authorizations, ctx.deferred,
                            ctx.issuer_metadata_trust), client


async def _with_offers(session: Session, use: Callable[[CredentialOffers], Awaitable[T]]) -> T:
    """Run one use of :class:`CredentialOffers` with its own issuer client; a refusal becomes its problem."""
    offers, client = _offers(session)
    try:
        return await use(offers)
    except OfferError as exc:
        raise _problem(exc) from None
    finally:
        await client.aclose()


def _received(received: Received) -> dict[str, Any]:
    """The answer of ``accept`` and ``complete``: the credentials now listed."""
    return {"credentials": [c.meta_json() for c in received.credentials], "pending": received.pending,
            "notified": received.notified, "deferred": received.deferred}


def _waiting(item: DeferredIssuance, lang: str) -> dict[str, Any]:
    """A deferred issuance as the learner's list shows it (never its token, key or transaction id)."""
    return {"id": item.ref, "credential_issuer": item.credential_issuer,
            "issuer_name": display_name(item.issuer_display, lang) or item.credential_issuer,
            "name": display_name(item.display, lang) or item.configuration_id,
            "accepted_at": _iso(item.created_at), "interval": item.interval}


def _iso(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat().replace("+00:00", "Z")


def _problem(exc: OfferError) -> Exception:
    if exc.code == ISSUER_UNAVAILABLE:
        return Unavailable(exc.detail, code=exc.code)
    return Unprocessable(exc.detail, code=exc.code)


@router.get("", summary="The offers issuers of this platform made for the signed-in learner")
async def addressed(session: Learner, lang: Annotated[str | None, Query(max_length=35)] = None,
                    accept_language: Annotated[str | None, Header()] = None) -> dict[str, Any]:
    """Open offers only (not yet redeemed, withdrawn, locked or expired), soonest to expire first."""
    chosen = pick_language(lang, accept_language)
    offers = await session.ctx.addressed_offers(session.account)
    return {"offers": [{"link": o.link, "issuer_id": o.issuer_id, "title": pick_text(o.title, chosen),
                        "awarding_body": pick_text(o.awarding_body, chosen),
                        "expires_at": _iso(o.expires_at),
                        "tx_code_required": o.tx_code_required} for o in offers]}


@router.post("/inspect", summary="Who offers which credential, and whether a code is needed")
async def inspect(session: Learner, body: OfferBody, lang: Annotated[str | None, Query(max_length=35)] = None,
                  accept_language: Annotated[str | None, Header()] = None) -> dict[str, Any]:
    """Read and check the offer and its issuer's metadata (only trusted issuers are contacted)."""
    chosen = pick_language(lang, accept_language)
    seen = await _with_offers(session, lambda offers: offers.inspect(body.offer))
    metadata = seen.metadata
    return {
        "credential_issuer": metadata.credential_issuer,
        "issuer_name": display_name(metadata.display, chosen) or metadata.credential_issuer,
        "credentials": [{"configuration_id": cid,
                         "name": display_name(metadata.configurations[cid].display, chosen)
                         if cid in metadata.configurations else None,
                         "format": metadata.configurations[cid].format if cid in metadata.configurations else None,
                         "supported": cid == seen.configuration.configuration_id}
                        for cid in seen.offer.configuration_ids],
        "tx_code": None if seen.offer.tx_code is None else seen.offer.tx_code.to_json(),
        "grant": "pre-authorized_code" if seen.offer.grant == PRE_AUTHORIZED_GRANT else "authorization_code",
    }


@router.post("/accept", summary="Redeem the offer and keep the credential")
async def accept(session: Learner, body: AcceptBody) -> dict[str, Any]:
    """Token, nonce, key proof by the learner's P-256 holder key, credential, verification, notification."""
    return _received(await _with_offers(session, lambda offers: offers.accept(session.account, body.offer,
                                                                               body.tx_code)))


@router.post("/authorize", summary="Begin the authorization code grant: where to send the learner's browser")
async def authorize(session: Learner, body: OfferBody, request: Request) -> dict[str, Any]:
    """PAR (when the issuer takes it) with PKCE S256 and the offer's issuer_state; the attempt waits 10 min."""
    redirect_uri = str(request.base_url)  # the wallet's page, which reads the response and calls /complete
    client_id = redirect_uri.rstrip("/")
    url = await _with_offers(session, lambda offers: offers.authorize(session.account, body.offer, client_id,
                                                                      redirect_uri))
    return {"authorization_url": url}


@router.post("/complete", summary="Redeem the code the issuer sent back, and keep the credential")
async def complete(session: Learner, body: AuthorizationResponse) -> dict[str, Any]:
    """The attempt is taken once (a replayed response is refused), ``iss`` checked, the code redeemed."""
    return _received(await _with_offers(session, lambda offers: offers.complete(
        session.account, body.model_dump(exclude_none=True))))


async def _with_deferred(session: Session, use: Callable[[DeferredCredentials], Awaitable[T]]) -> T:
    """Run one use of :class:`DeferredCredentials` with its own issuer client."""
    if session.ctx.deferred is None:
        raise Unavailable("this wallet keeps no deferred issuances", code=ISSUER_UNAVAILABLE)
    deferred_store = session.ctx.deferred
    return await _with_offers(session, lambda offers: use(DeferredCredentials(offers, deferred_store)))


@router.get("/deferred", summary="Credentials accepted whose issuer is still preparing them")
async def deferred(session: Learner, lang: Annotated[str | None, Query(max_length=35)] = None,
                   accept_language: Annotated[str | None, Header()] = None) -> dict[str, Any]:
    """Oldest first: issuer, credential, when accepted, and the wait between two checks the issuer asked for."""
    chosen = pick_language(lang, accept_language)
    waiting = await _with_deferred(session, lambda credentials: credentials.waiting(session.account))
    return {"deferred": [_waiting(item, chosen) for item in waiting]}


@router.post("/deferred/collect", summary="Ask the issuers for the deferred credentials that are due")
async def collect(session: Learner, lang: Annotated[str | None, Query(max_length=35)] = None,
                  accept_language: Annotated[str | None, Header()] = None) -> dict[str, Any]:
    """What arrived (kept like an accepted offer's), what still waits, and what will not come, with its code."""
    chosen = pick_language(lang, accept_language)
    got = await _with_deferred(session, lambda credentials: credentials.collect(session.account))
    return {"credentials": [c.meta_json() for c in got.credentials], "pending": got.pending,
            "waiting": [_waiting(item, chosen) for item in got.waiting],
            "ended": [dict(_waiting(item, chosen), code=code) for item, code in got.ended]}
