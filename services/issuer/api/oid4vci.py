"""OpenID4VCI 1.0 HTTP routes of the issuer service (docs/oid4vci.md), included in the REST app (:mod:`.rest`).

Wallet-facing (no client authentication; the pre-authorized code, access token and nonces are the secrets):
``/.well-known/openid-credential-issuer``, ``/.well-known/oauth-authorization-server``,
``GET /oid4vci/offers/{id}`` (the ``credential_offer_uri``), ``POST /oid4vci/par`` and ``GET /oid4vci/authorize``
(:mod:`.oid4vci_authorization`), ``POST /oid4vci/token``, ``POST /oid4vci/nonce``, ``POST /oid4vci/credential``
(200, or 202 with a ``transaction_id``), ``POST /oid4vci/deferred-credential``, ``POST /oid4vci/notification``.
Issuer-facing, authenticated like
``/credentials/issue`` (client certificate or OAuth client-credentials token): ``POST /oid4vci/offers`` (one
offer per award), ``GET /oid4vci/offers`` (the caller's own offers, newest first, in pages, as gRPC
``ListOffers``) and ``DELETE /oid4vci/offers/{id}`` (withdraw).

DPoP (RFC 9449, HAIP): a ``DPoP`` header at the token endpoint binds the access token to its key; such a token
is then only accepted as ``Authorization: DPoP`` with a fresh proof (``ath``) by that key, each ``jti`` once.

Errors on the OAuth/OpenID4VCI endpoints are ``{"error", "error_description"}`` (RFC 6749 §5.2, OpenID4VCI
§8.3.1.2) with ``Cache-Control: no-store`` and, where one belongs, ``WWW-Authenticate``
(:mod:`.oauth_errors`); on the issuer-facing ones problem+json like the rest of the API.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from google.protobuf import json_format

from microcred.credential.jsontext import parse
from microcred.loopback import LOOPBACK_HOSTS
from microcred.model.errors import INVALID_FORMAT, FieldViolation
from microcred.oid4vci.dpop import DpopProof, check_dpop_proof
from microcred.oid4vci.encryption import (
    MAX_JWE,
    RequestKeys,
    ResponseEncryption,
    decrypt_request,
    encrypt_message,
    read_response_encryption,
)
from microcred.oid4vci.errors import (
    INVALID_ENCRYPTION_PARAMETERS,
    INVALID_REQUEST,
    INVALID_TOKEN,
    OAuthError,
)
from microcred.oid4vci.metadata import authorization_server_metadata, credential_issuer_metadata
from microcred.oid4vci.signed_metadata import JWT_MEDIA_TYPE, sign_issuer_metadata, wants_signed
from services.issuer.api.client_auth import ClientAuthentication
from services.issuer.api.issuer_metadata import CACHE
from services.issuer.api.oauth_errors import NO_STORE as _NO_STORE
from services.issuer.api.oauth_errors import oauth_response
from services.issuer.api.offer_listing import STATE_NAMES, offer_summary, query_problems, reference_violations
from services.issuer.api.oid4vci_authorization import authorization_router
from services.issuer.application.award_json import AwardParser
from services.issuer.application.issuance import Caller
from services.issuer.application.offer_listing import DEFAULT_PAGE
from services.issuer.application.offers import Offers
from services.issuer.application.ports import DocumentSigningUnavailable, MetadataSigning

__all__ = ["MAX_COHORT", "oid4vci_router"]

MAX_BODY = 64 * 1024
MAX_JWE_BODY = min(MAX_JWE, 2 * MAX_BODY)  # a request's JSON, base64url-encoded under a JWE header
MAX_OFFER_BODY = 16 * 1024 * 1024
#: Awards per offer-creation request (a 50,000 cohort is sent in chunks).
MAX_COHORT = 5000
#: Both metadata documents change only with a release: a wallet (or a proxy) may keep them five minutes instead
#: of reading them again for every offer (as the JWT VC Issuer Metadata is served).
_METADATA_CACHE = {"Cache-Control": CACHE, "Vary": "Accept"}

CallerOf = Callable[[Request], Caller | Response]
Problem = Callable[..., JSONResponse]


def _access(request: Request, url: str) -> tuple[str, DpopProof | None]:
    """The access token (``Bearer`` or ``DPoP`` scheme) and, for ``DPoP``, the checked proof."""
    value = request.headers.get("authorization", "")
    scheme, _, token = value.partition(" ")
    token = token.strip()
    if scheme.lower() not in ("bearer", "dpop") or not token or len(token) > 256:
        raise OAuthError(INVALID_TOKEN, "an access token from the token endpoint is required "
                                        "(Authorization: Bearer or DPoP)", 401)
    if scheme.lower() == "bearer":
        return token, None
    try:
        return token, check_dpop_proof(request.headers.get("dpop"), method=request.method, url=url,
                                       now=datetime.now(UTC), access_token=token)
    except OAuthError as exc:  # at a resource endpoint a bad proof is 401 (RFC 9449 §7.1)
        raise OAuthError(exc.error, exc.description, 401) from exc


def _form(raw: bytes) -> dict[str, str]:
    """A form-encoded body (at most 32 fields: more is ``invalid_request``, not a server error)."""
    try:
        return dict(parse_qsl(raw.decode("utf-8", "replace"), max_num_fields=32))
    except ValueError as exc:
        raise OAuthError(INVALID_REQUEST, "the form has too many fields") from exc


def _issued(answer: dict[str, Any], encrypted: ResponseEncryption | None) -> Response:
    """A (deferred) credential response: 200 with the credentials, 202 with a ``transaction_id`` (§8.3); a JWE
    (``application/jwt``) when the wallet asked for an encrypted one (§10)."""
    status = 202 if "transaction_id" in answer else 200
    if encrypted is not None:
        return Response(encrypt_message(answer, encrypted.jwk, encrypted.enc), status, headers=_NO_STORE,
                        media_type=JWT_MEDIA_TYPE)
    return JSONResponse(answer, status, headers=_NO_STORE)


async def _body(request: Request, limit: int = MAX_BODY) -> bytes:
    raw = await request.body()
    if len(raw) > limit:
        raise OAuthError(INVALID_REQUEST, f"the body is larger than {limit} bytes")
    return raw


def _json(raw: bytes) -> Any:
    try:
        return parse(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise OAuthError(INVALID_REQUEST, "the body is not JSON") from exc


async def _credential_body(request: Request, keys: RequestKeys | None,
                           required: bool) -> tuple[Any, ResponseEncryption | None]:
    """A (deferred) credential request's JSON, and how to encrypt its response (None: in clear).

    Encrypted (§10: a JWE to one of the ``keys``, ``application/jwt``), it may ask for an encrypted response
    (``credential_response_encryption``, checked here, before anything is issued, so that encrypting cannot fail
    after). In clear, it may not (§8.2: the response key must come encrypted, or it could be swapped), nor at all
    when ``required``. Without ``keys`` the issuer encrypts nothing, and says so."""
    if request.headers.get("content-type", "").partition(";")[0].strip().lower() == JWT_MEDIA_TYPE:
        if keys is None:
            raise OAuthError(INVALID_ENCRYPTION_PARAMETERS, "this issuer takes no encrypted credential requests "
                                                            "(its metadata has no credential_request_encryption): "
                                                            "send application/json")
        raw = await _body(request, MAX_JWE_BODY)
        body = decrypt_request(raw.decode("ascii", "replace"), keys)
        asked = body.pop("credential_response_encryption", None)
        respond = None if asked is None else read_response_encryption(asked)
        if respond is None and required:
            raise OAuthError(INVALID_ENCRYPTION_PARAMETERS, "this issuer encrypts every credential response: the "
                                                            "request needs credential_response_encryption")
        return body, respond
    if required:
        raise OAuthError(INVALID_ENCRYPTION_PARAMETERS, "this issuer takes only encrypted credential requests "
                                                        "(application/jwt to its credential_request_encryption "
                                                        "key)")
    body = _json(await _body(request))
    if isinstance(body, dict) and "credential_response_encryption" in body:
        raise OAuthError(INVALID_ENCRYPTION_PARAMETERS,
                         "credential_response_encryption comes only in an encrypted request (OpenID4VCI §8.2), "
                         "to this issuer's credential_request_encryption key" if keys is not None else
                         "this issuer encrypts no credential responses (its metadata has no "
                         "credential_response_encryption): ask without credential_response_encryption")
    return body, None


@functools.lru_cache(maxsize=32)  # a new wallet reads both documents per learner; they change only with the code
def _metadata_bytes(document: Callable[[str], dict[str, Any]], credential_issuer: str) -> bytes:
    """A metadata document as JSONResponse writes it, built once per issuer identifier (one, unless the
    identifier is taken from each request's own base URL: then at most a few, bounded by the cache)."""
    return json.dumps(document(credential_issuer), ensure_ascii=False, allow_nan=False, indent=None,
                      separators=(",", ":")).encode("utf-8")


def oid4vci_router(offers: Offers, caller_of: CallerOf, problem: Problem, issuer_url: str | None,
                   client_auth: ClientAuthentication | None = None,
                   metadata_signing: MetadataSigning | None = None, encryption: RequestKeys | None = None,
                   encryption_required: bool = False) -> APIRouter:
    """The routes; ``issuer_url``: the Credential Issuer identifier (None: the request's own base URL);
    ``client_auth``: how wallets authenticate at PAR and token endpoints (None: public clients);
    ``metadata_signing``: the key for signed Credential Issuer Metadata (None: only the JSON form is served);
    ``encryption``: the keys wallets encrypt credential requests to (§10; None: no encryption offered), and
    whether every request and response must be encrypted."""
    router = APIRouter(tags=["OpenID4VCI"])
    award_parser = AwardParser()  # a cohort's repeated parts (the achievement, the awarding body) parsed once
    clients = client_auth or ClientAuthentication((), False, offers.first_attestation_pop)
    # one object per router: the metadata cache below is keyed by it
    as_document = functools.partial(authorization_server_metadata, client_auth=clients.methods)
    required = encryption is not None and encryption_required
    base_document = functools.partial(credential_issuer_metadata, key_attestations=offers.key_attestations,
                                      di_vp=offers.takes_di_vp, encryption_required=required)
    by_kid: dict[str, Callable[[str], dict[str, Any]]] = {}

    def issuer_document() -> Callable[[str], dict[str, Any]]:
        """The metadata builder listing the current request-encryption key: one object per key, since the cache
        of :func:`_metadata_bytes` is keyed by it (a rotation makes a new one)."""
        if encryption is None:
            return base_document
        key = encryption.current()
        document = by_kid.get(key.kid)
        if document is None:
            by_kid.clear()  # a key rotated out is never listed again
            document = by_kid[key.kid] = functools.partial(base_document, encryption_jwk=key.jwk)
        return document

    def ident(request: Request) -> str:
        return issuer_url or str(request.base_url).rstrip("/")

    def url(request: Request) -> str:  # the public URL of this request (DPoP htu)
        return ident(request) + request.url.path

    def oauth_route(handler: Callable[[Request], Awaitable[Response]],
                    resource: bool = False) -> Callable[[Request], Awaitable[Response]]:
        """``handler`` answering its OAuth errors (``resource``: an endpoint taking an access token)."""
        async def run(request: Request) -> Response:
            try:
                return await handler(request)
            except OAuthError as exc:
                return oauth_response(exc, request.headers.get("authorization"), resource=resource)
        run.__doc__ = handler.__doc__
        run.__name__ = handler.__name__
        return run

    @router.get("/.well-known/openid-credential-issuer", summary="Credential Issuer metadata",
                response_class=JSONResponse)
    async def issuer_metadata(request: Request) -> Response:
        """JSON, or signed (§12.2.3, ``application/jwt``) for a wallet that asks for it and when a key can be
        certified here; the JSON form otherwise, which every wallet must take (§12.2.2).

        Signed only for the configured identifier (or, in development, a loopback one): an identifier taken from
        the request's ``Host`` is the caller's word, and the agency's CA must not certify whatever a caller names
        (a copy of metadata signed for ``https://evil.example`` would let that host pass for a trusted issuer)."""
        credential_issuer = ident(request)
        if metadata_signing is not None and wants_signed(request.headers.get("accept")) \
                and (issuer_url is not None or request.url.hostname in LOOPBACK_HOSTS):
            now = datetime.now(UTC)
            try:
                key = metadata_signing.metadata_key(credential_issuer, now)
            except DocumentSigningUnavailable:
                key = None
            if key is not None:
                token = sign_issuer_metadata(issuer_document()(credential_issuer), key, now)
                return Response(token, media_type=JWT_MEDIA_TYPE, headers=_METADATA_CACHE)
        return Response(_metadata_bytes(issuer_document(), credential_issuer), media_type="application/json",
                        headers=_METADATA_CACHE)

    @router.get("/.well-known/oauth-authorization-server", summary="Authorization server metadata (RFC 8414)",
                response_class=JSONResponse)
    async def as_metadata(request: Request) -> Response:
        return Response(_metadata_bytes(as_document, ident(request)),
                        media_type="application/json", headers=_METADATA_CACHE)

    @router.get("/oid4vci/offers/{offer_id}", summary="A Credential Offer by reference", response_model=None)
    async def get_offer(offer_id: str) -> Response:
        try:
            document = await offers.offer_document(offer_id[:128])
        except OAuthError as exc:  # offers being rebuilt: "try again", not "no such offer"
            return oauth_response(exc, None)
        if document is None:
            return JSONResponse({"error": "not_found", "error_description": "no such offer (unknown, expired, "
                                 "redeemed or withdrawn)"}, 404, headers=_NO_STORE)
        return JSONResponse(document, headers=_NO_STORE)

    def posted_proof(request: Request) -> DpopProof | None:
        """The checked DPoP proof of a POST to the authorization server (token endpoint, PAR), if it has one."""
        if "dpop" not in request.headers:
            return None
        return check_dpop_proof(request.headers["dpop"], method="POST", url=url(request), now=datetime.now(UTC))

    async def authenticate(request: Request, form: dict[str, str]) -> None:
        """The wallet's client authentication; an attested wallet is the client its attestation names, whether
        or not the form repeats its client_id (the code a PAR bound to it is then its own)."""
        attested = await clients.check(request.headers, form, ident(request))
        if attested is not None:
            form.setdefault("client_id", attested.client_id)

    async def token(request: Request) -> Response:
        form = _form(await _body(request))
        await authenticate(request, form)
        return JSONResponse(await offers.token(form, posted_proof(request)), headers=_NO_STORE)

    async def nonce(request: Request) -> Response:
        return JSONResponse({"c_nonce": await offers.nonce()}, headers=_NO_STORE)

    async def credential(request: Request) -> Response:
        access, dpop = _access(request, url(request))
        body, respond = await _credential_body(request, encryption, required)
        return _issued(await offers.credential(access, body, ident(request), dpop), respond)

    async def deferred(request: Request) -> Response:
        access, dpop = _access(request, url(request))
        body, respond = await _credential_body(request, encryption, required)
        return _issued(await offers.deferred(access, body, dpop), respond)

    async def notification(request: Request) -> Response:
        access, dpop = _access(request, url(request))
        await offers.notification(access, _json(await _body(request)), dpop)
        return Response(status_code=204)

    router.add_api_route("/oid4vci/token", oauth_route(token), methods=["POST"], summary="Token endpoint "
                         "(pre-authorized code with tx_code; authorization code with PKCE)", response_model=None)
    router.add_api_route("/oid4vci/nonce", oauth_route(nonce), methods=["POST"], summary="Nonce endpoint",
                         response_model=None)
    router.add_api_route("/oid4vci/credential", oauth_route(credential, resource=True), methods=["POST"],
                         summary="Credential endpoint (one SD-JWT VC per key proof)", response_model=None)
    router.add_api_route("/oid4vci/deferred-credential", oauth_route(deferred, resource=True), methods=["POST"],
                         summary="Deferred credential endpoint (transaction_id)", response_model=None)
    async def par_dpop(request: Request) -> DpopProof | None:
        proof = posted_proof(request)
        if proof is not None:
            await offers.spend_dpop_proof(proof)
        return proof

    router.include_router(authorization_router(offers.codes, _form, ident, MAX_BODY, par_dpop, authenticate))
    router.add_api_route("/oid4vci/notification", oauth_route(notification, resource=True), methods=["POST"],
                         summary="Notification endpoint", response_model=None)

    @router.post("/oid4vci/offers", summary="Create one offer per award (issuer)", status_code=201,
                 response_model=None)
    async def create_offers(request: Request) -> Response:
        caller = caller_of(request)
        if isinstance(caller, Response):
            return caller
        raw = await request.body()
        if len(raw) > MAX_OFFER_BODY:
            return problem(400, f"the body is larger than {MAX_OFFER_BODY} bytes", field="body")
        try:
            # orjson: a tenth of the issuer's CPU per offer went to json.loads of the cohort. It refuses what
            # json.loads let through to fail later (NaN, lone surrogates, nesting past its depth limit), and
            # reads an integer beyond 64 bits as a float, which the award's validation refuses all the same.
            body = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return problem(400, "the body is not JSON", field="body")
        if not isinstance(body, dict) or not isinstance(body.get("credentials"), list) \
                or not 1 <= len(body["credentials"]) <= MAX_COHORT:
            return problem(400, f"credentials must be a list of 1..{MAX_COHORT} MicroCredentials",
                           field="credentials")
        tx_code, expires_in, not_before = body.get("tx_code", False), body.get("expires_in"), body.get("not_before")
        if not isinstance(tx_code, bool):
            return problem(400, "tx_code must be a boolean", field="tx_code")
        if expires_in is not None and (isinstance(expires_in, bool) or not isinstance(expires_in, int)
                                       or expires_in < 1):
            return problem(400, "expires_in must be a positive number of seconds", field="expires_in")
        embargo = None
        if not_before is not None:
            try:
                embargo = datetime.fromisoformat(not_before) if isinstance(not_before, str) else None
            except ValueError:
                embargo = None
            if embargo is None or embargo.tzinfo is None:
                return problem(400, "not_before must be an RFC 3339 date-time with a time zone", field="not_before")
        references = body.get("references", [])
        if not isinstance(references, list) or not all(isinstance(r, str) for r in references):
            return problem(400, "references must be a list of strings", field="references")
        bad = reference_violations(references, len(body["credentials"]))
        if bad:
            return problem(400, f"{bad[0].field} {bad[0].description}", field=bad[0].field)
        awards = []
        for n, document in enumerate(body["credentials"]):
            try:
                awards.append(award_parser.parse(document))
            except ValueError as exc:
                return problem(400, str(exc), field=f"credentials[{n}]")
        for n, refusal in enumerate(offers.validate(awards)):
            if refusal is not None:
                return problem(400, refusal.message[:500], field=f"credentials[{n}]",
                               violations=[{"field": f"credentials[{n}].{v.field}", "description": v.description}
                                           for v in refusal.violations])
        created = await offers.create(caller, ident(request), awards, tx_code=tx_code, expires_in=expires_in,
                                      not_before=embargo, references=references)
        return Response(orjson.dumps({"offers": [
            {"offer_id": c.offer_id, "credential_offer_uri": c.credential_offer_uri, "link": c.link,
             "expires_in": c.expires_in, **({"tx_code": c.tx_code} if c.tx_code else {})} for c in created]}),
            201, headers=_NO_STORE, media_type="application/json")

    @router.get("/oid4vci/offers", summary="List the caller's offers, newest first (issuer)", response_model=None)
    async def list_offers(request: Request, page_size: str = "0", page_token: str = "", state: str = "",
                          since: str = "") -> Response:
        caller = caller_of(request)
        if isinstance(caller, Response):
            return caller
        # a string, checked here: FastAPI's own refusal of a non-integer would be its 422, not problem+json
        size = int(page_size) if page_size.isdigit() and len(page_size) <= 6 else -1
        violations, cursor = query_problems(size, page_token)
        if state and state not in STATE_NAMES.values():
            violations.append(FieldViolation("state", f"must be one of {', '.join(STATE_NAMES.values())}",
                                             INVALID_FORMAT))
        after = None
        if since:
            try:
                after = datetime.fromisoformat(since)
            except ValueError:
                after = None
            if after is None or after.tzinfo is None:
                violations.append(FieldViolation("since", "must be an RFC 3339 date-time with a time zone",
                                                 INVALID_FORMAT))
        if violations:
            return problem(400, f"{violations[0].field} {violations[0].description}", field=violations[0].field,
                           violations=[{"field": v.field, "description": v.description} for v in violations])
        page = await offers.list_offers(caller, size=size or DEFAULT_PAGE, cursor=cursor, state=state,
                                        since=after)
        # the field names as documented and as CreateOffers answers them (offer_id, not offerId)
        listed = [json_format.MessageToDict(offer_summary(entry, now_state, reason, ident(request),
                                                          offers.offer_scheme),
                                            preserving_proto_field_name=True)
                  for entry, now_state, reason in page.entries]
        return JSONResponse({"offers": listed, "next_page_token": page.next_token}, headers=_NO_STORE)

    @router.delete("/oid4vci/offers/{offer_id}", summary="Withdraw an offer (issuer)", status_code=204,
                   response_model=None)
    async def withdraw(request: Request, offer_id: str) -> Response:
        caller = caller_of(request)
        if isinstance(caller, Response):
            return caller
        outcome = await offers.withdraw(caller, offer_id[:128])
        if outcome == "ok":
            return Response(status_code=204)
        if outcome == "unknown":
            return problem(404, "no such offer of this issuer", field="offer_id")
        return problem(409, f"the offer cannot be withdrawn: it is {outcome}", field="offer_id")

    return router
