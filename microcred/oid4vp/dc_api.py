"""OpenID4VP 1.0 over the W3C Digital Credentials API (Appendix A; HAIP 1.0 §5.2: ``dc_api.jwt``).

A page calls ``navigator.credentials.get({digital: {requests: [{protocol, data}]}})``; the browser (or the app
platform) hands ``data`` and the page's **origin** to the wallet the user picks, and returns the wallet's answer to
the page, which posts it to the verifier. :func:`dc_api_request` builds ``protocol`` and ``data`` for one of the
gateway's requests:

* signed identity (``x509_san_dns``, ``x509_hash``): ``openid4vp-v1-signed``, ``data = {"request": <JWS>}``, a
  request object (A.3.1, ``typ: oauth-authz-req+jwt``, ``x5c``) with ``client_id``, ``response_type``,
  ``response_mode``, ``nonce``, ``dcql_query``, ``client_metadata`` and ``expected_origins`` (REQUIRED for signed
  requests: the wallet refuses to answer a page whose origin is not listed, so a request replayed by another site
  is useless);
* the development scheme (unsigned requests): ``openid4vp-v1-unsigned``, ``data`` = those parameters in the clear,
  without ``client_id`` and ``expected_origins`` (A.2: the wallet ignores both in an unsigned request).

There is no ``response_uri``, ``redirect_uri`` or ``state`` (A.2 lists the parameters; ``state`` is not one): the
answer comes back through the page. ``response_mode`` is ``dc_api.jwt`` (the answer encrypted to the request's
ephemeral key, as ``direct_post.jwt``) or ``dc_api`` (in the clear, as ``direct_post``), following the request's
own mode. The audience of every presentation in the answer (a Key Binding JWT's ``aud``, an ``ldp_vp``'s
``domain``) is **the origin prefixed with** ``origin:`` (A.4), even for signed requests: :func:`dc_api_audience`.
Pure.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from microcred.loopback import LOOPBACK_HOSTS
from microcred.oid4vp.request import (
    SIOP_AUD,
    ClientIdentity,
    PresentationRequest,
    client_metadata,
    encode_request_object,
)

__all__ = [
    "MAX_EXPECTED_ORIGINS", "PROTOCOL_SIGNED", "PROTOCOL_UNSIGNED", "dc_api_audience", "dc_api_request",
    "dc_api_response_mode", "origin_of", "origin_problem",
]

PROTOCOL_SIGNED = "openid4vp-v1-signed"
PROTOCOL_UNSIGNED = "openid4vp-v1-unsigned"
MAX_EXPECTED_ORIGINS = 8
_MAX_ORIGIN = 256
_DEFAULT_PORTS = {"https": 443, "http": 80}


def origin_problem(origin: str) -> str | None:
    """Why ``origin`` cannot be an expected origin (None: it can). The wallet compares origins as strings (A.2),
    so only an origin in its serialised form counts: ``https://host[:port]`` in lower case, nothing after it;
    ``http`` only on a loopback host (A.2: "MUST NOT be used unless ... local development")."""
    if not origin or len(origin) > _MAX_ORIGIN or not origin.isascii() or any(c.isspace() for c in origin):
        return f"must be an origin of 1..{_MAX_ORIGIN} ASCII characters"
    try:
        parts = urlsplit(origin)
        parts.port  # noqa: B018 (raises ValueError for a port out of range or not a number)
    except ValueError:
        return "not an origin"
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return "must be an https origin (https://host[:port])"
    if parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS:
        return "must be an https origin (http only for localhost, in development)"
    if origin != origin_of(origin) or "@" in parts.netloc:
        return "must be the origin alone, as a browser writes it: scheme://host[:port] in lower case, no default " \
               "port, no path, query or user information"
    return None


def origin_of(url: str) -> str:
    """The origin of an absolute URL (such as the gateway's public URL) as a browser serialises it:
    ``scheme://host[:port]`` in lower case, without the scheme's default port."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port
    if ":" in host:  # IPv6
        host = f"[{host}]"
    default = _DEFAULT_PORTS.get(parts.scheme.lower())
    return f"{parts.scheme.lower()}://{host}" + ("" if port is None or port == default else f":{port}")


def dc_api_response_mode(request: PresentationRequest) -> str:
    """``dc_api.jwt`` for a request whose answers are encrypted (``direct_post.jwt``), else ``dc_api``."""
    return "dc_api.jwt" if request.encrypted else "dc_api"


def dc_api_audience(origin: str) -> str:
    """The audience a presentation answered over the DC API must name (A.4): ``origin:`` + the page's origin."""
    return "origin:" + origin


def dc_api_request(request: PresentationRequest, identity: ClientIdentity) -> tuple[str, dict[str, Any]]:
    """The DC API ``protocol`` and ``data`` of ``request`` (module docstring); a signed request lists the
    request's ``expected_origins``, which must not be empty."""
    if identity.client_id != request.client_id:
        raise ValueError("the request belongs to another client identifier")
    params: dict[str, Any] = {
        "response_type": "vp_token", "response_mode": dc_api_response_mode(request), "nonce": request.nonce,
        "dcql_query": dict(request.dcql_query), "client_metadata": client_metadata(request),
    }
    if identity.key is None:
        return PROTOCOL_UNSIGNED, params
    if not request.expected_origins:
        raise ValueError("a signed DC API request needs expected_origins")
    claims = {"iss": identity.client_id, "aud": SIOP_AUD, "client_id": request.client_id, **params,
              "expected_origins": list(request.expected_origins), "iat": request.issued_at,
              "exp": request.expires_at}
    return PROTOCOL_SIGNED, {"request": encode_request_object(claims, identity)}
