"""Our wallet's answer to an OpenID4VP 1.0 request (issue 21), pure logic, no I/O.

* :func:`build_presentation`: the SD-JWT with only the Disclosures of the chosen claim set (and the Disclosures
  of the objects that contain them) and a Key Binding JWT (``typ: kb+jwt``, ``iat``, ``aud`` = client_id,
  ``nonce``, ``sd_hash`` with the credential's own ``_sd_alg``, RFC 9901 §4.3.1) signed with the holder key the
  credential binds (``cnf.jwk``).
* :func:`answer_form` / :func:`refusal_form`: the ``direct_post`` form, or for ``direct_post.jwt`` a JWE
  (ECDH-ES to the request's ``client_metadata.jwks`` key, made with joserfc); a refusal is
  ``error=access_denied`` (OpenID4VP §8.5).
* :func:`continue_to`: the ``redirect_uri`` a verifier answers the POST with in a same-device flow (§8.2): the
  wallet sends the learner's browser there (an https URL; http only on a loopback host).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from joserfc import jwe
from joserfc.errors import JoseError as JoserfcError
from joserfc.jwk import ECKey

from microcred.oid4vp.dcql import select
from microcred.oid4vp.page_url import page_url_problem
from microcred.sdjwt.core import SdJwtParts, key_binding_jwt
from microcred.sdjwt.jose import PrivateKey
from services.wallet.domain.oid4vp_matching import ClaimOption, Holding, Planned, same_key
from services.wallet.domain.presentations_oid4vp import (
    JWE_ALG,
    PresentationRequestError,
    VerifierRequest,
    answer_encryption,
)

__all__ = ["answer_form", "build_presentation", "continue_to", "disclosed_values", "error_form", "refusal_form"]


def _reaches(disclosed: tuple[str | int, ...], wanted: tuple[str | int | None, ...]) -> bool:
    """Whether a Disclosure at ``disclosed`` is needed to show the claim at ``wanted``: it lies on the way to it
    (a containing object or array element) or inside it."""
    n = min(len(disclosed), len(wanted))
    return all((w is None and isinstance(d, int)) or w == d for d, w in zip(disclosed[:n], wanted[:n], strict=True))


def build_presentation(planned: Planned, key: PrivateKey, *, nonce: str, aud: str, iat: int) -> str:
    """The SD-JWT+KB presenting ``planned.holding`` with the Disclosures of its chosen claim set only (and of the
    objects containing them): §6.4 "MUST NOT send selectively disclosable claims that have not been selected"."""
    holding = planned.holding
    if not same_key(holding.cnf_jwk, key):
        raise PresentationRequestError("credential_id", "the credential is not bound to this holder key")
    paths = [c.path for c in planned.option.claims]  # no claims: the credential only, no Disclosure (§6.4.1)
    kept = tuple(encoded for path, encoded in holding.disclosures if any(_reaches(path, p) for p in paths))
    parts = SdJwtParts(holding.parts.issuer_jwt, kept, None)
    return parts.without_key_binding + key_binding_jwt(parts, key, nonce=nonce, aud=aud, iat=iat, alg=holding.sd_alg)


def disclosed_values(holding: Holding, option: ClaimOption) -> dict[str, list[Any]]:
    """What each claim of ``option`` would show (for the learner to see before sending)."""
    return {c.label(): select(holding.claims, c.path) for c in option.claims}


# --------------------------------------------------------------------------------------------- the answer


def answer_form(request: VerifierRequest, vp_token: Mapping[str, list[Any]]) -> dict[str, str]:
    """The form to POST to ``response_uri`` carrying ``vp_token`` in the request's response mode."""
    payload: dict[str, Any] = {"vp_token": dict(vp_token)}
    if request.state is not None:
        payload["state"] = request.state
    if request.response_mode != "direct_post.jwt":
        return {"vp_token": json.dumps(payload["vp_token"]), **({"state": request.state} if request.state else {})}
    jwk, enc = answer_encryption(request.claims)
    header = {"alg": JWE_ALG, "enc": enc, **({"kid": jwk["kid"]} if isinstance(jwk.get("kid"), str) else {})}
    try:
        token = jwe.encrypt_compact(header, json.dumps(payload).encode(), ECKey.import_key(dict(jwk)))
    except (JoserfcError, ValueError) as exc:
        raise PresentationRequestError("request.client_metadata.jwks", f"unusable key ({exc})") from None
    return {"response": token}


def error_form(error: str, description: str, state: str | None) -> dict[str, str]:
    """An Authorization Error Response (OpenID4VP §8.5) to POST to ``response_uri``, in the clear in either mode
    (§8.3.1: a wallet "MAY send an error response without encryption")."""
    form = {"error": error, "error_description": description}
    if state is not None:
        form["state"] = state
    return form


def refusal_form(request: VerifierRequest) -> dict[str, str]:
    """The learner declined (OpenID4VP §8.5): ``error=access_denied``."""
    return error_form("access_denied", "the holder declined", request.state)


def continue_to(answer: Any) -> str | None:
    """The page to send the learner's browser to after the verifier took the answer (its ``redirect_uri``, §8.2),
    or None: none given, or not such a page (:func:`~microcred.oid4vp.page_url.page_url_problem`; its fragment
    carries the response code)."""
    uri = answer.get("redirect_uri") if isinstance(answer, Mapping) else None
    if not isinstance(uri, str) or page_url_problem(uri, fragment=True) is not None:
        return None
    return uri
