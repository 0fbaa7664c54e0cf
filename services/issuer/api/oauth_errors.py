"""The HTTP form of an OAuth/OpenID4VCI error at the issuer's wallet-facing endpoints (:mod:`.oid4vci`,
:mod:`.oid4vci_authorization`): ``{"error", "error_description"}`` with ``Cache-Control: no-store``, and the
``WWW-Authenticate`` header where one belongs.

* **Resource endpoints** (credential, deferred credential, notification) answer a 401 with a challenge (RFC 6750
  §3, RFC 9449 §7.1): the ``DPoP`` scheme, with ``algs`` (the DPoP proof algorithms taken), when the request
  used ``Authorization: DPoP`` or the token is DPoP-bound (its errors are ``invalid_dpop_proof``), else
  ``Bearer``; and no error code for a request that carried no ``Authorization`` at all (RFC 6750 §3.1: "the
  resource server SHOULD NOT include an error code"), which is told both schemes it may use (RFC 9449 §7.2).
* **Authorization server endpoints** (token, PAR): ``invalid_client`` is 401 with a challenge of the client's own
  scheme only when the client authenticated through the ``Authorization`` header (RFC 6749 §5.2); wallets here
  authenticate by attestation headers or not at all, so it is otherwise a 400 without ``WWW-Authenticate`` (a 401
  must carry one, RFC 9110 §15.5.2, and there is no HTTP scheme to name).
* 503 carries ``Retry-After`` (RFC 9110 §10.2.3).
"""

from __future__ import annotations

import re

from fastapi.responses import JSONResponse

from microcred.oid4vci.errors import INVALID_DPOP_PROOF, OAuthError
from microcred.oid4vci.self_keyed import ALGORITHMS

__all__ = ["NO_STORE", "challenge", "oauth_response"]

NO_STORE = {"Cache-Control": "no-store"}
INVALID_CLIENT = "invalid_client"
_SCHEME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,32}")  # an RFC 9110 token, kept short
_DPOP_ALGS = f'algs="{" ".join(ALGORITHMS)}"'


def _scheme(authorization: str) -> str:
    """The scheme an ``Authorization`` header names ('' for none)."""
    scheme = authorization.strip().partition(" ")[0]
    return scheme if _SCHEME.fullmatch(scheme) else ""


def challenge(exc: OAuthError, authorization: str | None) -> str:
    """The ``WWW-Authenticate`` value of a resource endpoint's 401 for a request with this ``Authorization``
    header (None: without one); see the module docstring."""
    scheme = _scheme(authorization or "").lower()
    if not (authorization or "").strip():
        return f"Bearer, DPoP {_DPOP_ALGS}"
    if scheme == "dpop" or exc.error == INVALID_DPOP_PROOF:
        return f'DPoP error="{exc.error}", {_DPOP_ALGS}'
    return f'Bearer error="{exc.error}"'


def oauth_response(exc: OAuthError, authorization: str | None, *, resource: bool = False) -> JSONResponse:
    """The error answer of a wallet-facing endpoint (``resource``: a resource endpoint, whose 401 is an access
    token refused; else the authorization server's); see the module docstring."""
    headers = dict(NO_STORE)
    status = exc.status
    if exc.status == 503:
        headers["Retry-After"] = "2"
    if resource and exc.status == 401:
        headers["WWW-Authenticate"] = challenge(exc, authorization)
    elif exc.error == INVALID_CLIENT:
        scheme = _scheme(authorization or "")
        status = 401 if scheme else 400
        if scheme:
            headers["WWW-Authenticate"] = f'{scheme} realm="oid4vci"'
    return JSONResponse(exc.body(), status, headers=headers)
