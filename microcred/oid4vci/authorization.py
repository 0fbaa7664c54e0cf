"""The authorization code flow of OpenID4VCI 1.0 §5 with PKCE (RFC 7636) and PAR (RFC 9126), as HAIP 1.0
profiles it: the pure checks (no I/O). The store keeps what they return; :mod:`~.pkce` checks the verifier.

* A **pushed authorization request** (``POST /oid4vci/par``, form-encoded) is checked by
  :func:`check_pushed_request`: ``response_type=code``, a ``client_id``, an absolute ``redirect_uri`` (https, a
  loopback http URI or a private-use scheme of a native wallet, RFC 8252 §7), ``code_challenge`` with
  ``code_challenge_method=S256`` (``plain`` refused), an ``issuer_state`` (required: this authorization server
  has no learner login, so the offer the learner holds is the authorization, see docs/oid4vci.md), and what is
  asked, as ``authorization_details`` of type ``openid_credential`` or a ``scope`` (unknown scopes ignored, §5.1.2).
  A ``request_uri`` inside a PAR is refused (RFC 9126 §2.1).
* The **authorization endpoint** takes only the ``request_uri`` the PAR answered (``require_pushed_authorization_
  requests``) with the same ``client_id``, and redirects with ``code``, ``state`` and ``iss`` (RFC 9207):
  :func:`redirect_location`.
* The **token request** (``grant_type=authorization_code``) must name the ``client_id`` and ``redirect_uri`` the
  code was issued to (RFC 6749 §4.1.3) and carry the ``code_verifier``: :func:`check_code_exchange`.
* **DPoP authorization code binding** (RFC 9449 §10): a pushed request with a ``DPoP`` proof header or a
  ``dpop_jkt`` parameter (both: they must name the same key, §10.1) binds the code to that key; the token request
  must then carry a DPoP proof by it (``invalid_dpop_proof`` otherwise). An intercepted code is useless without
  the wallet's private key, beyond what PKCE already gives.

Errors are :class:`~.errors.OAuthError` with the RFC 6749 §4.1.2.1 / §5.2 codes (``invalid_request``,
``unsupported_response_type``, ``invalid_grant``), RFC 9396's ``invalid_authorization_details`` and RFC 9101's
``invalid_request_uri``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from microcred.loopback import LOOPBACK_HOSTS
from microcred.oid4vci import pkce
from microcred.oid4vci.errors import INVALID_DPOP_PROOF, INVALID_GRANT, INVALID_REQUEST, OAuthError

__all__ = [
    "AUTHORIZATION_CODE_GRANT", "CODE_SECONDS", "INVALID_AUTHORIZATION_DETAILS", "INVALID_REQUEST_URI",
    "REQUEST_URI_PREFIX", "REQUEST_URI_SECONDS", "UNSUPPORTED_RESPONSE_TYPE", "PushedRequest",
    "check_code_exchange", "check_pushed_request", "check_redirect_uri", "redirect_location", "request_uri_secret",
]

AUTHORIZATION_CODE_GRANT = "authorization_code"
REQUEST_URI_PREFIX = "urn:ietf:params:oauth:request_uri:"
#: A request_uri lives one minute (RFC 9126 §2.2: "short", its example 60 s); a code as long (RFC 6749 §4.1.2).
REQUEST_URI_SECONDS = 60
CODE_SECONDS = 60
UNSUPPORTED_RESPONSE_TYPE = "unsupported_response_type"
INVALID_AUTHORIZATION_DETAILS = "invalid_authorization_details"
INVALID_REQUEST_URI = "invalid_request_uri"
MAX_PARAMETER = 2048
# Schemes a redirect must never go to, whatever a wallet registers (script and local-content schemes).
_FORBIDDEN_SCHEMES = frozenset({"javascript", "data", "vbscript", "file", "about", "blob", "filesystem"})
#: A JWK SHA-256 thumbprint (RFC 7638), base64url without padding.
_THUMBPRINT = re.compile(r"[A-Za-z0-9_-]{43}")


@dataclass(frozen=True)
class PushedRequest:
    """A checked authorization request, kept under its ``request_uri`` until the authorization endpoint uses it."""

    client_id: str
    redirect_uri: str
    code_challenge: str
    state: str
    issuer_state: str
    configuration: str
    dpop_jkt: str = ""  # the key the code is bound to (RFC 9449 §10), '' for none

    def to_json(self) -> str:
        """What the store keeps (the issuer_state is the offer's secret: the store keeps it only 60 s)."""
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> PushedRequest:
        """Back from the store."""
        return cls(**json.loads(text))


def _text(form: Mapping[str, str], name: str, *, required: bool = True) -> str:
    value = form.get(name, "")
    if len(value) > MAX_PARAMETER:
        raise OAuthError(INVALID_REQUEST, f"{name} is longer than {MAX_PARAMETER} characters")
    if required and not value:
        raise OAuthError(INVALID_REQUEST, f"{name} is required")
    return value


def check_redirect_uri(uri: str) -> str:
    """An absolute redirect URI without fragment (RFC 6749 §3.1.2): ``https``, ``http`` only to a loopback host
    (RFC 8252 §7.3), or a private-use scheme of a native app (§7.1); else ``invalid_request``."""
    try:
        parts = urlsplit(uri)
        host = parts.hostname
    except ValueError as exc:
        raise OAuthError(INVALID_REQUEST, "redirect_uri is not a URI") from exc
    scheme = parts.scheme.lower()
    if not scheme or parts.fragment or "#" in uri:
        raise OAuthError(INVALID_REQUEST, "redirect_uri must be an absolute URI without a fragment")
    if scheme in _FORBIDDEN_SCHEMES:
        raise OAuthError(INVALID_REQUEST, f"redirect_uri may not use the {scheme} scheme")
    if scheme in ("https", "http") and not host:
        raise OAuthError(INVALID_REQUEST, "redirect_uri must name a host")
    if scheme == "http" and host not in LOOPBACK_HOSTS:
        raise OAuthError(INVALID_REQUEST, "an http redirect_uri must be a loopback address (else use https)")
    return uri


def _configuration(form: Mapping[str, str], offered: str | Sequence[str], supported: Collection[str]) -> str:
    """What the request asks for, which must be among what the offer offers (``offered``, in the offer's order):
    one configuration id (the first offered when the request names none)."""
    offers = (offered,) if isinstance(offered, str) else tuple(offered)
    details = _text(form, "authorization_details", required=False)
    if details:
        try:
            items = json.loads(details)
        except ValueError as exc:
            raise OAuthError(INVALID_AUTHORIZATION_DETAILS, "authorization_details is not JSON") from exc
        if not isinstance(items, list) or not items or not all(isinstance(i, dict) for i in items):
            raise OAuthError(INVALID_AUTHORIZATION_DETAILS, "authorization_details must be a non-empty JSON array of "
                                                            "objects")
        wanted = {i.get("credential_configuration_id") for i in items if i.get("type") == "openid_credential"}
        if not wanted:
            raise OAuthError(INVALID_AUTHORIZATION_DETAILS, "no authorization_details of type openid_credential")
        if not wanted <= set(offers):
            raise OAuthError(INVALID_AUTHORIZATION_DETAILS, f"this offer is for credential_configuration_id "
                                                            f"{' or '.join(offers)} only")
        return next(o for o in offers if o in wanted)
    scopes = set(_text(form, "scope", required=False).split())
    asked = scopes & set(supported)  # unknown scope values are ignored (§5.1.2)
    if not asked <= set(offers):
        raise OAuthError("invalid_scope", f"this offer is for the scope {' or '.join(offers)} only")
    return next((o for o in offers if o in asked), offers[0])  # neither given: the offer says what is authorized


def _dpop_jkt(form: Mapping[str, str], proof_jkt: str) -> str:
    """The key the code is to be bound to: the DPoP proof's (``proof_jkt``, '' without a proof) and the
    ``dpop_jkt`` parameter's must agree (RFC 9449 §10.1)."""
    named = _text(form, "dpop_jkt", required=False)
    if named and not _THUMBPRINT.fullmatch(named):
        raise OAuthError(INVALID_REQUEST, "dpop_jkt must be a base64url SHA-256 JWK thumbprint (RFC 7638)")
    if named and proof_jkt and named != proof_jkt:
        raise OAuthError(INVALID_DPOP_PROOF, "dpop_jkt is not the thumbprint of the DPoP proof's key")
    return proof_jkt or named


def check_pushed_request(form: Mapping[str, str], offered: str | Sequence[str],
                         supported: Collection[str], *, dpop_jkt: str = "",
                         wallet_initiated: bool = False) -> PushedRequest:
    """Check a pushed authorization request whose ``issuer_state`` names an offer of ``offered`` (its credential
    configuration id(s); ``supported``: all of them); ``dpop_jkt``: the thumbprint of the key of the request's
    checked DPoP proof, if it had one. With ``wallet_initiated`` the request may come without ``issuer_state``
    (OpenID4VCI §5.1.3); it must then name what it asks for (``authorization_details`` or a supported
    ``scope``)."""
    if "request_uri" in form:
        raise OAuthError(INVALID_REQUEST, "request_uri must not be sent in a pushed authorization request")
    if form.get("response_type") != "code":
        raise OAuthError(UNSUPPORTED_RESPONSE_TYPE, "response_type must be code")
    client_id = _text(form, "client_id")
    redirect_uri = check_redirect_uri(_text(form, "redirect_uri"))
    challenge = pkce.check_challenge(form.get("code_challenge"), form.get("code_challenge_method"))
    issuer_state = _text(form, "issuer_state", required=not wallet_initiated)
    if not issuer_state and not form.get("authorization_details") and not (
            set(form.get("scope", "").split()) & set(supported)):
        raise OAuthError("invalid_scope", "a request without issuer_state must name the credential it asks for: "
                                          "authorization_details or a scope of the issuer's metadata")
    return PushedRequest(client_id, redirect_uri, challenge, _text(form, "state", required=False),
                         issuer_state, _configuration(form, offered, supported), _dpop_jkt(form, dpop_jkt))


def request_uri_secret(request_uri: str) -> str:
    """The secret part of a ``request_uri`` this server made ('' when it is not one)."""
    if not request_uri.startswith(REQUEST_URI_PREFIX) or len(request_uri) > 200:
        return ""
    return request_uri[len(REQUEST_URI_PREFIX):]


def redirect_location(redirect_uri: str, params: Mapping[str, str]) -> str:
    """``redirect_uri`` with ``params`` added to its query (RFC 6749 §4.1.2: its own query is kept); empty values
    are left out."""
    parts = urlsplit(redirect_uri)
    query = parse_qsl(parts.query, keep_blank_values=True) + [(k, v) for k, v in params.items() if v]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


def check_code_exchange(form: Mapping[str, str], kept: Mapping[str, Any], dpop_jkt: str | None = None) -> None:
    """Check a token request against the code's record (``client_id``, ``redirect_uri``, ``code_challenge``,
    ``dpop_jkt``): another client or redirect URI, or a ``code_verifier`` that does not match, is
    ``invalid_grant``; a code bound to a DPoP key needs a proof by it (``dpop_jkt``: the thumbprint of the
    request's checked proof, None without one), else ``invalid_dpop_proof``."""
    bound = str(kept.get("dpop_jkt") or "")
    if bound and dpop_jkt is None:
        raise OAuthError(INVALID_DPOP_PROOF, "this code is bound to a DPoP key (RFC 9449 §10): send a DPoP proof "
                                             "by that key")
    if bound and dpop_jkt != bound:
        raise OAuthError(INVALID_DPOP_PROOF, "the DPoP proof's key is not the one this code is bound to")
    if form.get("client_id", "") != kept["client_id"]:
        raise OAuthError(INVALID_GRANT, "the code was issued to another client_id")
    if form.get("redirect_uri", "") != kept["redirect_uri"]:
        raise OAuthError(INVALID_GRANT, "redirect_uri must be the one of the authorization request")
    pkce.verify(form.get("code_verifier"), str(kept["code_challenge"]))
