"""The gateway's OpenID4VP verifier: create a request, serve its request object, take the wallet's answer, and
give the employer the result. Protocol rules are :mod:`microcred.oid4vp` (pure); this module orders them
around the Redis store (:class:`~services.verifier.adapters.presentation_store.PresentationStore`).

Security properties (issue 21): every id, nonce and state is 256 random bits; a request is answered once
(``SET NX`` in Redis, so across replicas), a second answer is refused as a replay; an answer must name the
request's ``state`` and its presentations the request's ``nonce`` and ``client_id`` (KB-JWT ``nonce``/``aud``,
``ldp_vp`` ``challenge``/``domain``); requests expire; nothing of a response body is ever logged (the log lines
below name only ids and outcome codes).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path as PathType
from typing import Any, Protocol

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from joserfc.jwk import ECKey

from microcred.oid4vp.dc_api import dc_api_audience, dc_api_request, origin_of, origin_problem
from microcred.oid4vp.dcql import CHECKED_AUTHORITIES, DcqlError, DcqlQuery, parse_query
from microcred.oid4vp.request import (
    ClientIdentity,
    LinkScheme,
    PresentationRequest,
    authorization_link,
    build_request,
    new_token,
    request_object,
)
from microcred.oid4vp.request_uri_post import read_wallet_fetch
from microcred.oid4vp.response import ResponseError, check_response, read_response
from microcred.oid4vp.templates import template
from microcred.oid4vp.webhook import WebhookPolicy, WebhookUrlError
from microcred.sdjwt.x5c import x5c_header
from microcred.verification.messages import LANGUAGES
from microcred.verification.ports import VerificationPorts
from services.verifier.adapters.presentation_store import PresentationStore, StoredRequest
from services.verifier.adapters.webhook import WebhookDispatcher
from services.verifier.api.same_device import CODE_DIGEST, check_redirect_uri, new_response_code, redirect_to, released

__all__ = ["CreatedRequest", "OriginError", "PresentationService", "RequestGone", "RequestUnknown",
           "client_identity"]

log = logging.getLogger(__name__)


class RequestUnknown(LookupError):
    """No such request (or result)."""


class RequestGone(LookupError):
    """The request expired."""


class OriginError(ValueError):
    """An expected origin that cannot be one (``field``: which, ``problem``: why)."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field, self.problem = field, problem


@dataclass(frozen=True)
class CreatedRequest:
    """What the employer gets back when creating a request."""

    request: PresentationRequest
    request_uri: str
    link: str
    result_id: str


def _encryption_key() -> tuple[dict[str, Any], dict[str, Any]]:
    """A fresh ephemeral P-256 key for one direct_post.jwt response: (public JWK for client_metadata, private)."""
    key = ECKey.generate_key("P-256", parameters={"kid": new_token()[:16], "use": "enc", "alg": "ECDH-ES"})
    return dict(key.as_dict(private=False)), dict(key.as_dict(private=True))


class PresentationService:
    """The OpenID4VP verifier flows over a store, the verification ports and this gateway's identity."""

    def __init__(self, store: PresentationStore, ports: Callable[[], VerificationPorts], *,
                 identity: ClientIdentity | None, lifetime: int = 300,
                 clock: Callable[[], float] = time.time, webhooks: WebhookDispatcher | None = None,
                 webhook_policy: WebhookPolicy | None = None, link_scheme: LinkScheme = "openid4vp") -> None:
        """``identity``: the signed identity (x509_san_dns or x509_hash), or None for the development
        ``redirect_uri`` scheme;
        ``webhooks``: the signed result webhooks (None: a request naming one is refused);
        ``link_scheme``: of the links that invoke a wallet (``openid4vp``, or HAIP's ``haip-vp``)."""
        self.store, self.ports, self.identity, self.lifetime, self.clock = store, ports, identity, lifetime, clock
        self.link_scheme = link_scheme
        self.webhooks, self.webhook_policy = webhooks, webhook_policy or WebhookPolicy(frozenset())

    def _identity(self, request: PresentationRequest) -> ClientIdentity:
        return self.identity or ClientIdentity.redirect_uri(request.response_uri)

    async def create(self, base_url: str, *, query: Mapping[str, Any] | None, template_name: str | None,
                     response_mode: str, webhook: str | None = None,
                     redirect_uri: str | None = None, request_uri_method: str = "get",
                     expected_origins: list[str] | None = None) -> CreatedRequest:
        """A new request (``query``, or the named template) answered at ``base_url``, its result POSTed signed
        to ``webhook`` when given, the wallet sending the browser to ``redirect_uri`` when given (same-device
        flow: :mod:`.same_device`), the link asking wallets to POST to ``request_uri`` with ``request_uri_method``
        ``post`` (:mod:`microcred.oid4vp.request_uri_post`), pages of ``expected_origins`` (default: the origin of
        ``base_url``, this gateway's own pages) also asking for it over the Digital Credentials API
        (:mod:`microcred.oid4vp.dc_api`); raises :class:`~microcred.oid4vp.dcql.DcqlError` naming the field,
        :class:`~microcred.oid4vp.webhook.WebhookUrlError` (field ``webhook``),
        :class:`~.same_device.RedirectUriError` (field ``redirect_uri``), :class:`OriginError`, or ValueError."""
        origins = [origin_of(base_url)] if expected_origins is None else list(expected_origins)
        for i, origin in enumerate(origins):
            why = origin_problem(origin)
            if why is not None:
                raise OriginError(f"expected_origins[{i}]", why)
        if redirect_uri is not None:
            check_redirect_uri(redirect_uri)
        if webhook is not None:
            if self.webhooks is None or self.identity is None:
                raise WebhookUrlError("webhooks are not enabled on this gateway (they need an allow-list and the "
                                      "signing key of the gateway's signed client identifier)")
            self.webhook_policy.check(webhook)
        if (query is None) == (template_name is None):
            raise DcqlError("dcql_query", "give either dcql_query or template")
        if template_name is not None:
            query = template(template_name)
            if query is None:
                raise DcqlError("template", "unknown template")
        _checkable(parse_query(query))
        assert query is not None
        now = int(self.clock())
        public = private = None
        if response_mode == "direct_post.jwt":
            public, private = _encryption_key()
        request_id = new_token()
        base = base_url.rstrip("/")
        response_uri = f"{base}/oid4vp/responses/{request_id}"
        client_id = self.identity.client_id if self.identity else f"redirect_uri:{response_uri}"
        request = build_request(client_id=client_id, response_uri=response_uri, response_mode=response_mode,
                                dcql_query=query, now=now, lifetime=self.lifetime, encryption_jwk=public,
                                request_id=request_id, expected_origins=origins)
        stored = StoredRequest(request, new_token(), private, redirect_uri)
        request_uri = f"{base}/oid4vp/requests/{request_id}"
        link = authorization_link(client_id, request_uri, self.link_scheme, request_uri_method=request_uri_method)
        await self.store.create(stored, now, link)
        if webhook is not None and self.webhooks is not None:
            await self.webhooks.register(stored.result_id, request_id, webhook, request.expires_at,
                                         self.store.retention)
        log.info("presentation request created", extra={"request_id": request_id[:8], "mode": response_mode})
        return CreatedRequest(request, request_uri, link, stored.result_id)

    async def _live(self, request_id: str) -> StoredRequest:
        stored = await self.store.get(request_id)
        if stored is None:
            raise RequestUnknown(request_id)
        if self.clock() >= stored.request.expires_at:
            raise RequestGone(request_id)
        return stored

    async def request_object(self, request_id: str, posted: bytes | None = None) -> str:
        """The request object JWT at ``request_uri``; ``posted``: the body of a wallet's POST there (§5.10: its
        ``wallet_nonce`` goes into the object; raises :class:`~microcred.oid4vp.request_uri_post.WalletFetchError`
        for a form to refuse)."""
        stored = await self._live(request_id)
        fetch = None if posted is None else read_wallet_fetch(posted, stored.request.client_id)
        return request_object(stored.request, self._identity(stored.request),
                              None if fetch is None else fetch.wallet_nonce)

    async def dc_api_request(self, request_id: str) -> tuple[str, dict[str, Any]]:
        """The Digital Credentials API ``protocol`` and ``data`` a page passes to ``navigator.credentials.get``
        (:func:`~microcred.oid4vp.dc_api.dc_api_request`); a request made without expected origins is
        :class:`RequestUnknown` here (it cannot be asked for that way)."""
        stored = await self._live(request_id)
        if not stored.request.expected_origins:
            raise RequestUnknown(request_id)
        return dc_api_request(stored.request, self._identity(stored.request))

    async def answer(self, request_id: str, form: Mapping[str, str],
                     origin: str | None = None) -> tuple[dict[str, Any], str | None]:
        """Take a wallet's posted form (``origin``: a page's, posting the wallet's answer over the Digital
        Credentials API: it must be one of the request's expected origins, the presentations must name
        ``origin:`` + it, and there is no ``state``); returns the stored result and, in a same-device flow, the
        ``redirect_uri`` (with this answer's ``response_code``) for the wallet or page; raises
        :class:`ResponseError` (OAuth error code and reason) for what is refused. A refused answer changes
        nothing, except a wrong ``aud`` or ``nonce`` in an otherwise well-formed answer: it spends the request (a
        replay attempt) and the employer sees why."""
        try:
            stored = await self._live(request_id)
        except RequestUnknown:
            raise ResponseError("invalid_request", "unknown request") from None
        except RequestGone:
            raise ResponseError("invalid_request", "the request expired") from None
        request = stored.request
        if origin is not None and origin not in request.expected_origins:
            raise ResponseError("invalid_request", "origin: not one of this request's expected_origins")
        response = read_response(form, request, stored.private_jwk)
        if origin is None and response.state != request.state:  # A.2: no state over the DC API
            raise ResponseError("invalid_request", "state: does not match this request")
        if not await self.store.claim(request_id, request.expires_at - int(self.clock()) + 60):
            log.warning("presentation replay refused", extra={"request_id": request_id[:8]})
            raise ResponseError("invalid_request", "the request was already answered (replay)")
        now = datetime.fromtimestamp(self.clock(), UTC)
        coded: dict[str, str] = {}  # same-device flow: the code's digest, kept with the result
        redirect = None
        if stored.redirect_uri:
            code, coded[CODE_DIGEST] = new_response_code()
            redirect = redirect_to(stored.redirect_uri, code)
        if response.error is not None:
            result: dict[str, Any] = {"status": "refused", "request_id": request_id, "error": response.error,
                                      "error_description": response.error_description,
                                      "answered_at": now.isoformat(), **coded}
            await self._finish(stored, result)
            log.info("presentation refused by the wallet", extra={"request_id": request_id[:8]})
            return result, redirect
        assert response.vp_token is not None
        try:
            outcome = await check_response(request, response.vp_token, self.ports(), now,
                                           None if origin is None else dc_api_audience(origin))
        except Exception as exc:  # the request is spent: the employer is told it failed, never left "pending"
            # the class only: an exception's text could quote the presentation (personal data)
            log.error("presentation check failed", extra={"request_id": request_id[:8], "error": type(exc).__name__})
            await self._finish(stored, {"status": "failed", "request_id": request_id,
                                        "answered_at": now.isoformat(), "error": type(exc).__name__, **coded})
            raise ResponseError("server_error", "the presentation could not be checked") from exc
        result = {"status": "verified", "request_id": request_id, "answered_at": now.isoformat(),
                  "encrypted": response.encrypted, "channel": "redirect" if origin is None else "dc_api",
                  **{lang: outcome.to_dict(lang) for lang in LANGUAGES}, **coded}
        await self._finish(stored, result)
        log.info("presentation verified", extra={"request_id": request_id[:8], "verdict": outcome.verdict.value})
        # §8.2: a response processed is answered 200 (with the redirect of a same-device flow), whatever its
        # verdict: a presentation that fails (holder binding included) is the employer's result, not a malformed
        # answer, and a wallet told 400 would leave the learner's browser where it was
        return result, redirect

    async def _finish(self, stored: StoredRequest, result: dict[str, Any]) -> None:
        await self.store.finish(stored, result)
        if self.webhooks is not None:
            self.webhooks.finished(stored.result_id)  # in the background: the wallet's answer never waits

    async def _read(self, result_id: str) -> dict[str, Any] | None:
        found = await self.store.result(result_id)
        if found is not None and found.get("status") == "pending" and self.clock() >= int(found.get("expires_at", 0)):
            found["status"] = "expired"
        return found

    async def document(self, result_id: str) -> dict[str, Any] | None:
        """The result as a webhook carries it (to the creator's own endpoint): the whole outcome. Answered in a
        same-device flow, it also says ``response_code_required`` with the code's SHA-256 (hex), so that the
        receiver ties the outcome to a session only when that session's browser brought the code back (HAIP
        §5.1: a redirect not followed, or arriving in another session, must not count)."""
        found = await self._read(result_id)
        if found is not None and found.get(CODE_DIGEST):
            found["response_code_required"] = True
        return found

    async def result(self, result_id: str, response_code: str | None = None) -> dict[str, Any]:
        """What the employer polls (``pending``, ``expired``, ``refused`` or ``verified``), with ``webhook``
        (the delivery's status and attempts) when the request named one; an answer given in a same-device flow
        only with its ``response_code`` (:func:`~.same_device.released`)."""
        kept = await self._read(result_id)
        if kept is None:
            raise RequestUnknown(result_id)
        found = released(kept, response_code)
        if self.webhooks is not None and not found.get("response_code_required"):
            outcome = await self.webhooks.outcome(result_id)
            if outcome is not None:
                found["webhook"] = outcome
        return found


def _checkable(query: DcqlQuery) -> None:
    """Refuse a query naming trusted authorities of a type this gateway cannot check (it would never be met)."""
    for i, credential in enumerate(query.credentials):
        for j, authority in enumerate(credential.trusted_authorities):
            if authority.type not in CHECKED_AUTHORITIES:
                raise DcqlError(f"credentials[{i}].trusted_authorities[{j}].type",
                                f"this verifier checks only {', '.join(CHECKED_AUTHORITIES)} (the Authority Key "
                                "Identifiers of the issuer's certificate chain)")


class _IdentitySettings(Protocol):
    @property
    def oid4vp_client_id_prefix(self) -> str: ...  # read-only here: the settings narrow it to a Literal
    oid4vp_client_host: str | None
    oid4vp_signing_cert_file: PathType | None
    oid4vp_signing_key_file: PathType | None


def client_identity(settings: _IdentitySettings) -> ClientIdentity | None:
    """The signed identity the settings name (host, certificate and key all set): ``x509_san_dns:<host>``, or
    ``x509_hash:<leaf hash>`` as ``oid4vp_client_id_prefix`` says; None for the development scheme. A partial or
    unusable configuration fails start-up rather than silently falling back."""
    named = (settings.oid4vp_client_host, settings.oid4vp_signing_cert_file, settings.oid4vp_signing_key_file)
    if not any(named):
        return None
    if not all(named):
        raise ValueError("a signed OpenID4VP identity needs MICROCRED_OID4VP_CLIENT_HOST, _SIGNING_CERT_FILE and "
                         "_SIGNING_KEY_FILE together")
    assert settings.oid4vp_signing_cert_file and settings.oid4vp_signing_key_file and settings.oid4vp_client_host
    key = serialization.load_pem_private_key(settings.oid4vp_signing_key_file.read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError("the OpenID4VP signing key must be an EC key")
    chain = x5c_header([settings.oid4vp_signing_cert_file.read_bytes()])  # leaf first, as the file lists them
    if settings.oid4vp_client_id_prefix == "x509_hash":
        return ClientIdentity.x509_hash(key, chain)
    return ClientIdentity.x509_san_dns(settings.oid4vp_client_host, key, chain)
