"""The issuer's REST API (VC-API ``POST /credentials/issue``) for issuers who integrate over HTTPS, not gRPC.

Authentication is as strict as gRPC's: either a client certificate issued by the platform CA with OU ``issuer``
(CN the issuer id, O its agency; the registry's pinned fingerprints apply), verified in the TLS handshake
(:mod:`~.rest_tls`), or an OAuth 2.0 client-credentials bearer token (``POST /oauth2/token``) whose client is
registered for one issuer and agency (:mod:`~.oauth`). Either way there is no field naming another issuer: a
credential is issued in the caller's name only, and a document naming another issuer is refused.

``POST /credentials/issue`` body: ``{"credential": ..., "options": {...}}``

* the EU-element model (``credential`` is a ``microcred.v1.MicroCredential`` in protobuf JSON, no
  ``@context``) with ``options.idempotencyKey``: exactly what gRPC ``IssueCredential`` does
  (:class:`~.issuance.Issuance`: same validation, registry checks, status pair, rendering, signature and
  ``CredentialIssued`` event; the same key gives the same credential);
* a VC 2.0 (or 1.1) JSON-LD credential: :class:`~.vc_issuance.VcIssuance` (data-model validation, the same
  registry checks and status pool, the issuer's key, ``CredentialIssued``); ``options.credentialId`` names it.

201 ``{"verifiableCredential": {...}}``. Errors are problem+json: 400 invalid input (``field`` and every
violation named), 401 no or bad credentials, 403 the registry refuses (``reason``), 409 no usable key, 503 retry.

Every route has a body limit, enforced before a body is read (:class:`microcred.http_limits.BodyLimitMiddleware`):
``max_body_bytes`` (``MICROCRED_REST_MAX_BODY_BYTES``, 256 KiB), ``MAX_BODY_BYTES`` for ``/credentials/issue``,
the cohort bound for ``POST /oid4vci/offers`` and ``TOKEN_MAX_BODY_BYTES`` for ``/oauth2/token``. Over it, the
OAuth 2.0 / OpenID4VCI endpoints (``/oauth2/token`` and the wallet-facing ``/oid4vci/...`` ones) answer as their own
size checks do, a 400 ``invalid_request`` (RFC 6749 §5.2) with ``Cache-Control: no-store``; every other route a
413 problem+json naming ``body``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from google.protobuf import json_format
from google.rpc import code_pb2  # type: ignore[import-untyped, unused-ignore]

from microcred.credential.jsontext import parse
from microcred.gen.microcred.v1 import elements_pb2 as pb
from microcred.http_limits import BodyLimitMiddleware
from microcred.metrics import RequestMetrics
from microcred.oid4vci.encryption import RequestKeys
from microcred.oid4vci.errors import INVALID_REQUEST
from microcred.oid4vci.errors import OAuthError as WalletFacingError
from microcred.pki import ROLE_ISSUER, certificate_sha256, identity_from_pem
from services.issuer.api.client_auth import ClientAuthentication
from services.issuer.api.oauth import OAuthError, TokenIssuer
from services.issuer.api.oauth_errors import oauth_response
from services.issuer.api.oid4vci import MAX_OFFER_BODY, oid4vci_router
from services.issuer.api.rest_tls import client_certificate_pem
from services.issuer.application.issuance import Caller, Issuance, IssueItem, Refusal
from services.issuer.application.offers import Offers
from services.issuer.application.ports import MetadataSigning
from services.issuer.application.vc_issuance import VcIssuance

__all__ = ["DEFAULT_MAX_BODY_BYTES", "MAX_BODY_BYTES", "TOKEN_MAX_BODY_BYTES", "create_rest_app"]

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024
#: Every other route's body bound unless the settings say otherwise (the OpenID4VCI endpoints' own checks are lower:
#: 64 KiB, 128 KiB encrypted).
DEFAULT_MAX_BODY_BYTES = 256 * 1024
TOKEN_MAX_BODY_BYTES = 8192
_OFFERS_PATH = "/oid4vci/offers"
PROBLEM_BASE = "https://microcred.example/problems/issuer/"
_HTTP = {code_pb2.INVALID_ARGUMENT: 400, code_pb2.UNAUTHENTICATED: 401, code_pb2.PERMISSION_DENIED: 403,
         code_pb2.NOT_FOUND: 404, code_pb2.FAILED_PRECONDITION: 409, code_pb2.UNAVAILABLE: 503,
         code_pb2.INTERNAL: 500}
_OPTIONS = {"idempotencyKey", "credentialId"}


def _problem(status: int, detail: str, *, field: str | None = None, headers: Mapping[str, str] | None = None,
             **extra: Any) -> JSONResponse:
    body: dict[str, Any] = {"type": PROBLEM_BASE + str(status), "title": detail.split(":")[0][:80],
                            "status": status, "detail": detail}
    if field is not None:
        body["field"] = field
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type="application/problem+json", headers=headers)


def _oauth_path(path: str) -> bool:
    """Whether ``path`` is an OAuth 2.0 / OpenID4VCI endpoint (its errors are OAuth's), not an issuer-facing one."""
    return path == "/oauth2/token" or (path.startswith("/oid4vci/") and not path.startswith(_OFFERS_PATH))


def _body_too_large(path: str, limit: int) -> Response:
    """The answer to a body over ``limit`` (the refusal of the app's ``BodyLimitMiddleware``)."""
    if _oauth_path(path):
        return oauth_response(WalletFacingError(INVALID_REQUEST, f"the body is larger than {limit} bytes"), None)
    return _problem(413, f"request bodies are limited to {limit} bytes", field="body")


def _refused(refusal: Refusal) -> JSONResponse:
    status = _HTTP.get(refusal.code, 500)
    extra: dict[str, Any] = {}
    if refusal.reason:
        extra["reason"] = refusal.reason
    if refusal.violations:
        extra["violations"] = [{"field": v.field, "description": v.description} for v in refusal.violations]
    field = refusal.violations[0].field if refusal.violations else None
    return _problem(status, refusal.message, field=field, **extra)


class _Unauthorized(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status


def _caller(request: Request, tokens: TokenIssuer) -> Caller:
    """The caller (by client certificate, else by bearer token: no certificate fingerprint); raises
    _Unauthorized."""
    pem = client_certificate_pem(request.scope)
    if pem is not None:
        identity = identity_from_pem(pem)
        if not identity.subject_id:
            raise _Unauthorized(401, "the client certificate names no subject")
        if identity.role != ROLE_ISSUER:
            raise _Unauthorized(403, f"only issuers (client certificate OU=issuer) may issue; the caller has role "
                                     f"{identity.role!r}")
        return Caller(identity.subject_id, identity.agency_id, certificate_sha256(pem))
    client = tokens.resolve(request.headers.get("authorization"))
    if client is None:
        raise _Unauthorized(401, "a client certificate issued by the platform CA, or an OAuth 2.0 bearer token "
                                 "(client credentials, POST /oauth2/token), is required")
    return Caller(client.issuer_id, client.agency_id)


async def _json_body(request: Request) -> Any:
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        raise ValueError(f"the body is larger than {MAX_BODY_BYTES} bytes")
    return parse(raw)


def create_rest_app(issuance: Issuance, vc_issuance: VcIssuance, tokens: TokenIssuer,
                    offers: Offers | None = None, oid4vci_issuer_url: str | None = None,
                    client_auth: ClientAuthentication | None = None,
                    metadata_signing: MetadataSigning | None = None, encryption: RequestKeys | None = None,
                    encryption_required: bool = False, *, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES) -> FastAPI:
    """The REST application (served over TLS by :class:`~.app.IssuerApp` with :mod:`~.rest_tls`); with
    ``offers``, also the OpenID4VCI routes (:mod:`~.oid4vci`), wallets authenticating as ``client_auth`` says,
    the Credential Issuer Metadata also signed when ``metadata_signing`` can certify a key, credential requests
    and responses encrypted with ``encryption`` when a wallet asks (always when ``encryption_required``).
    Request bodies are bounded as the module docstring says (``max_body_bytes``: the default bound)."""
    app = FastAPI(title="microcred issuer REST API", version="1",
                  description="VC-API POST /credentials/issue for issuers integrating over HTTPS (mTLS or "
                              "OAuth 2.0 client credentials). Errors are RFC 9457 problem+json.")
    if offers is not None:
        def caller_of(request: Request) -> Caller | Response:
            try:
                return _caller(request, tokens)
            except _Unauthorized as exc:
                headers = {"WWW-Authenticate": 'Bearer realm="issuer"'} if exc.status == 401 else None
                return _problem(exc.status, str(exc), headers=headers)
        app.include_router(oid4vci_router(offers, caller_of, _problem, oid4vci_issuer_url, client_auth,
                                          metadata_signing, encryption, encryption_required))

    @app.post("/oauth2/token", summary="OAuth 2.0 client-credentials token", tags=["auth"], response_model=None)
    async def token(request: Request) -> Response:
        raw = await request.body()
        if len(raw) > TOKEN_MAX_BODY_BYTES:
            return JSONResponse({"error": "invalid_request", "error_description": "body too large"}, 400)
        form = dict(parse_qsl(raw.decode("utf-8", "replace")))
        try:
            answer = tokens.token(form, request.headers.get("authorization"))
        except OAuthError as exc:
            headers = {"WWW-Authenticate": "Basic"} if exc.status == 401 else None
            return JSONResponse({"error": exc.error, "error_description": exc.description}, exc.status,
                                headers=headers)
        return JSONResponse(answer, headers={"Cache-Control": "no-store"})

    @app.post("/credentials/issue", summary="Issue a credential (VC-API)", tags=["VC-API"], response_model=None,
              status_code=201, openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
                  "schema": {"type": "object", "required": ["credential"], "properties": {
                      "credential": {"type": "object", "description": "a VC 2.0/1.1 credential (with @context) "
                                     "or a microcred.v1.MicroCredential in protobuf JSON"},
                      "options": {"type": "object", "properties": {"idempotencyKey": {"type": "string"},
                                                                   "credentialId": {"type": "string"}}}}}}}}})
    async def issue(request: Request) -> Response:
        try:
            caller = _caller(request, tokens)
        except _Unauthorized as exc:
            headers = {"WWW-Authenticate": 'Bearer realm="issuer"'} if exc.status == 401 else None
            return _problem(exc.status, str(exc), headers=headers)
        try:
            body = await _json_body(request)
        except (ValueError, UnicodeDecodeError) as exc:
            return _problem(400, f"the body is not a JSON object: {str(exc)[:200]}", field="body")
        if not isinstance(body, dict) or not isinstance(body.get("credential"), dict):
            return _problem(400, "credential must be a JSON object", field="credential")
        unknown = [k for k in body if k not in ("credential", "options")]
        if unknown:
            return _problem(400, f"unexpected member {str(unknown[0])[:100]!r}", field=str(unknown[0])[:100])
        options = body.get("options", {})
        if not isinstance(options, dict) or any(k not in _OPTIONS for k in options) \
                or not all(isinstance(v, str) for v in options.values()):
            return _problem(400, f"options must be an object with string members among {sorted(_OPTIONS)}",
                            field="options")
        credential: dict[str, Any] = body["credential"]
        if "@context" in credential:
            outcome = await vc_issuance.issue(caller, credential, options.get("credentialId"))
            if isinstance(outcome, Refusal):
                return _refused(outcome)
            return JSONResponse({"verifiableCredential": outcome}, status_code=201)
        return await _issue_eu(issuance, caller, credential, options)

    app.add_middleware(BodyLimitMiddleware, max_bytes=max_body_bytes, refuse=_body_too_large,
                       per_path={"/credentials/issue": max(MAX_BODY_BYTES, max_body_bytes),
                                 _OFFERS_PATH: max(MAX_OFFER_BODY, max_body_bytes),
                                 "/oauth2/token": TOKEN_MAX_BODY_BYTES})
    # outermost: body-limit refusals are counted too; exported on the service's metrics port with the gRPC series
    app.add_middleware(RequestMetrics, service="issuer")
    return app


async def _issue_eu(issuance: Issuance, caller: Caller, credential: dict[str, Any],
                    options: Mapping[str, str]) -> Response:
    """The EU-element model, through exactly what gRPC IssueCredential runs."""
    model = pb.MicroCredential()
    try:
        json_format.ParseDict(credential, model)
    except json_format.ParseError as exc:
        return _problem(400, f"credential is neither a JSON-LD credential (no @context) nor a MicroCredential: "
                             f"{str(exc)[:300]}", field="credential")
    key = options.get("idempotencyKey") or options.get("credentialId") or ""
    [outcome] = await issuance.issue(caller, [IssueItem(key, model)])
    if isinstance(outcome, Refusal):
        if any(v.field == "idempotency_key" for v in outcome.violations):
            return _problem(400, f"options.idempotencyKey: {outcome.violations[0].description}",
                            field="options.idempotencyKey")
        return _refused(outcome)
    return JSONResponse({"verifiableCredential": json.loads(outcome.credential_json)}, status_code=201)
