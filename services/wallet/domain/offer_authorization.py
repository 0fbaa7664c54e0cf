"""Our wallet in the OpenID4VCI authorization code flow (issue 20): the requests and checks, without I/O.

Written from the specifications (OpenID4VCI 1.0 §5; RFC 6749 §4.1; PKCE, RFC 7636 S256; PAR, RFC 9126;
RFC 9207 ``iss`` in the authorization response; RFC 8414 metadata), not from our issuer's code. The learner's
browser goes to the issuer's authorization endpoint (where the issuer may ask them to sign in), and comes back to
the wallet's page with ``code``, ``state`` and ``iss``. What the wallet needs in between is a
:class:`PendingAuthorization`, kept server-side under the SHA-256 of its ``state`` and taken once: the PKCE
verifier never leaves the wallet service.

The wallet is a public client (no registration at the issuer, as OpenID4VCI's wallets usually are): its
``client_id`` is its own origin, and its ``redirect_uri`` its page.
"""

from __future__ import annotations

import hmac
import json
import secrets
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from microcred.oid4vci.offers import digest
from microcred.oid4vci.pkce import s256_challenge
from services.wallet.domain.issuer_metadata import Configuration, IssuerMetadata
from services.wallet.domain.offers import (
    AUTHORIZATION_CODE_GRANT,
    ISSUER_ANSWER_INVALID,
    OPENID_CREDENTIAL,
    UNSUPPORTED,
    OfferError,
    normalize_issuer,
    same_origin,
)

__all__ = ["AuthorizationServer", "PendingAuthorization", "asked_for", "authorization_server", "authorization_url",
           "code_from_response", "code_token_form", "new_pending", "pushed_request_form", "state_digest"]

# Codes the page explains in plain language (api/offer_text.py).
AUTHORIZATION_DENIED = "OFFER_AUTHORIZATION_DENIED"
AUTHORIZATION_UNKNOWN = "OFFER_AUTHORIZATION_UNKNOWN"
#: How long the learner has at the issuer's pages before the wallet forgets the attempt.
PENDING_SECONDS = 600
MAX_PARAMETER = 4096


@dataclass(frozen=True)
class AuthorizationServer:
    """The parts of the issuer's authorization server metadata (RFC 8414) this flow uses."""

    issuer: str
    authorization_endpoint: str
    pushed_authorization_request_endpoint: str | None
    iss_in_response: bool  # authorization_response_iss_parameter_supported (RFC 9207 §3)


def authorization_server(as_metadata: Any, issuer: str) -> AuthorizationServer:
    """The authorization server of ``issuer`` for the code flow: its endpoints on the issuer's origin, PKCE S256
    among its methods when it lists any; ``OFFER_UNSUPPORTED`` when it has no authorization endpoint."""
    if not isinstance(as_metadata, Mapping) or normalize_issuer(str(as_metadata.get("issuer", ""))) != issuer:
        raise OfferError(ISSUER_ANSWER_INVALID, "authorization server metadata: missing, or another issuer")
    endpoint = as_metadata.get("authorization_endpoint")
    if not isinstance(endpoint, str):
        raise OfferError(UNSUPPORTED, "authorization server metadata: no authorization_endpoint")
    par = as_metadata.get("pushed_authorization_request_endpoint")
    for name, url in (("authorization_endpoint", endpoint), ("pushed_authorization_request_endpoint", par)):
        if url is not None and (not isinstance(url, str) or not same_origin(url, issuer)):
            raise OfferError(ISSUER_ANSWER_INVALID, f"authorization server metadata: {name} is not on the "
                                                    f"issuer's own origin")
    methods = as_metadata.get("code_challenge_methods_supported")
    if isinstance(methods, list) and "S256" not in methods:
        raise OfferError(UNSUPPORTED, "authorization server metadata: PKCE S256 is not supported")
    grants = as_metadata.get("grant_types_supported")
    if isinstance(grants, list) and AUTHORIZATION_CODE_GRANT not in grants:
        raise OfferError(UNSUPPORTED, "authorization server metadata: the authorization code grant is not listed")
    return AuthorizationServer(str(as_metadata["issuer"]), endpoint, par if isinstance(par, str) else None,
                               as_metadata.get("authorization_response_iss_parameter_supported") is True)


@dataclass(frozen=True)
class PendingAuthorization:
    """What the wallet keeps while the learner is at the issuer's pages."""

    account_id: str
    state: str
    code_verifier: str
    credential_issuer: str
    configuration_id: str
    client_id: str
    redirect_uri: str
    server_issuer: str
    iss_required: bool

    @property
    def code_challenge(self) -> str:
        """The PKCE S256 challenge of the verifier (RFC 7636 §4.2)."""
        return s256_challenge(self.code_verifier)

    def to_json(self) -> str:
        """For the store."""
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> PendingAuthorization:
        """Back from the store."""
        return cls(**json.loads(text))


def new_pending(account_id: str, credential_issuer: str, configuration_id: str, client_id: str,
                redirect_uri: str, server: AuthorizationServer) -> PendingAuthorization:
    """A fresh attempt: ``state`` (256 bits) and a PKCE verifier (384 bits, 64 characters) from :mod:`secrets`."""
    return PendingAuthorization(account_id, secrets.token_urlsafe(32), secrets.token_urlsafe(48), credential_issuer,
                                configuration_id, client_id, redirect_uri, server.issuer, server.iss_in_response)


def state_digest(state: str) -> str:
    """The key a pending attempt is kept under (the state itself is never a key): the platform's digest of a
    256-bit secret."""
    return digest(state)


def asked_for(configuration: Configuration, as_metadata: Mapping[str, Any], metadata: IssuerMetadata
              ) -> dict[str, str]:
    """How the authorization request names the credential: the configuration's ``scope`` when it has one
    (OpenID4VCI §5.1.2; HAIP 1.0: the Wallet MUST use it), with ``resource`` = the Credential Issuer Identifier
    when the issuer names authorization servers (§5.1.2, RFC 8707, RECOMMENDED); ``authorization_details`` of type
    openid_credential (§5.1.1) when the server lists that type in ``authorization_details_types_supported``, or
    when there is no scope (§12.2.4: then the only way), with ``locations`` = that identifier when the issuer
    names authorization servers (§5.1.1 MUST). The identifier as the issuer spells it (no normalisation)."""
    asked: dict[str, str] = {}
    elsewhere = bool(metadata.authorization_servers)
    if configuration.scope is not None:
        asked["scope"] = configuration.scope
        if elsewhere:
            asked["resource"] = metadata.audience
    types = as_metadata.get("authorization_details_types_supported")
    if configuration.scope is None or (isinstance(types, list) and OPENID_CREDENTIAL in types):
        detail: dict[str, Any] = {"type": OPENID_CREDENTIAL,
                                  "credential_configuration_id": configuration.configuration_id}
        if elsewhere:
            detail["locations"] = [metadata.audience]
        asked["authorization_details"] = json.dumps([detail])
    return asked


def pushed_request_form(pending: PendingAuthorization, issuer_state: str, asked: Mapping[str, str]
                        ) -> dict[str, str]:
    """The authorization request (RFC 6749 §4.1.1 with PKCE; what it asks for: ``asked``, :func:`asked_for`), to
    push (RFC 9126) or to send as the query of the authorization endpoint."""
    form = {"response_type": "code", "client_id": pending.client_id, "redirect_uri": pending.redirect_uri,
            "state": pending.state, "code_challenge": pending.code_challenge, "code_challenge_method": "S256",
            **asked}
    if issuer_state:
        form["issuer_state"] = issuer_state
    return form


def authorization_url(endpoint: str, params: Mapping[str, str]) -> str:
    """The authorization endpoint with ``params`` in its query (after any query it already has)."""
    return f"{endpoint}{'&' if urlsplit(endpoint).query else '?'}{urlencode(dict(params))}"


def code_from_response(answer: Mapping[str, str], pending: PendingAuthorization) -> str:
    """The code of the authorization response (RFC 6749 §4.1.2) the learner's browser brought back, after its
    ``iss`` is checked (RFC 9207: required when the server says it sends one, and then the server's);
    ``OFFER_AUTHORIZATION_DENIED`` when the issuer sent an error or no code."""
    iss = answer.get("iss")
    if iss is not None and not hmac.compare_digest(normalize_issuer(iss), normalize_issuer(pending.server_issuer)):
        raise OfferError(AUTHORIZATION_DENIED, "authorization response: iss is not the issuer's (mix-up)")
    if iss is None and pending.iss_required:
        raise OfferError(AUTHORIZATION_DENIED, "authorization response: no iss, which the issuer says it sends")
    error = answer.get("error")
    if error is not None:
        said = answer.get("error_description") or ""
        raise OfferError(AUTHORIZATION_DENIED, f"authorization response: {error[:100]}"
                                               + (f" ({said[:200]})" if said else ""))
    code = answer.get("code", "")
    if not code or len(code) > MAX_PARAMETER:
        raise OfferError(AUTHORIZATION_DENIED, "authorization response: no code")
    return code


def code_token_form(code: str, pending: PendingAuthorization) -> dict[str, str]:
    """The token request of the authorization code grant (RFC 6749 §4.1.3 with the PKCE ``code_verifier``)."""
    return {"grant_type": AUTHORIZATION_CODE_GRANT, "code": code, "redirect_uri": pending.redirect_uri,
            "client_id": pending.client_id, "code_verifier": pending.code_verifier}
