"""The requests our wallet sends a Credential Issuer in the pre-authorized code flow and the reading of their
answers (OpenID4VCI 1.0 §6 token, §7 nonce, §8 credential, §11 notification; Appendix F.1 ``jwt`` key proof;
RFC 9449 DPoP proofs), without I/O. Refusals are :class:`~services.wallet.domain.offers.OfferError`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from microcred.sdjwt.jose import PrivateKey, algorithm_for_key, b64url_encode, public_jwk, sign_jws
from services.wallet.domain.credential_offer import CredentialOffer
from services.wallet.domain.offers import (
    ISSUER_ANSWER_INVALID,
    OPENID_CREDENTIAL,
    PRE_AUTHORIZED_GRANT,
    UNSUPPORTED,
    OfferError,
)

PROOF_TYPE = "openid4vci-proof+jwt"
MAX_DETAILS = 16  # authorization_details entries of a token response


# ------------------------------------------------------------------------------------------------ requests


def token_form(offer: CredentialOffer, tx_code: str | None) -> dict[str, str]:
    """The token request (§6.1, form-encoded)."""
    form = {"grant_type": PRE_AUTHORIZED_GRANT, "pre-authorized_code": offer.pre_authorized_code}
    if tx_code is not None:
        form["tx_code"] = tx_code
    return form


def key_proof(key: PrivateKey, audience: str, nonce: str | None, iat: int, kid: str | None = None) -> str:
    """A ``jwt`` key proof (Appendix F.1): ``typ`` openid4vci-proof+jwt, the public ``jwk`` in the header (or,
    with ``kid``, the key's DID URL instead), ``aud`` the Credential Issuer, ``iat``, ``nonce`` when the issuer
    gave one; no ``iss`` (anonymous pre-authorized access: the wallet is no registered client)."""
    claims: dict[str, Any] = {"aud": audience, "iat": iat}
    if nonce is not None:
        claims["nonce"] = nonce
    header: dict[str, Any] = {"typ": PROOF_TYPE, "alg": algorithm_for_key(key)}
    if kid is not None:
        header["kid"] = kid
    else:
        header["jwk"] = public_jwk(key)
    return sign_jws(header, claims, key)


def uses_dpop(as_metadata: Any) -> bool:
    """Whether the authorization server takes DPoP proofs by ES256 (RFC 9449 §5.1 metadata; HAIP wants wallets to
    use DPoP wherever it is offered)."""
    algs = as_metadata.get("dpop_signing_alg_values_supported") if isinstance(as_metadata, Mapping) else None
    return isinstance(algs, list) and "ES256" in algs


def dpop_proof(key: PrivateKey, method: str, url: str, *, jti: str, iat: int, access_token: str | None = None,
               nonce: str | None = None) -> str:
    """A DPoP proof (RFC 9449 §4.2): ``typ`` dpop+jwt, the public ``jwk``, ``jti``, ``htm``, ``htu`` (the URL
    without query and fragment), ``iat``, the server's ``nonce`` when it gave one (§8, §9) and, with an access
    token, ``ath`` (its SHA-256, base64url)."""
    parts = urlsplit(url)
    claims: dict[str, Any] = {"jti": jti, "htm": method, "htu": f"{parts.scheme}://{parts.netloc}{parts.path}",
                              "iat": iat}
    if nonce is not None:
        claims["nonce"] = nonce
    if access_token is not None:
        claims["ath"] = b64url_encode(hashlib.sha256(access_token.encode("ascii")).digest())
    return sign_jws({"typ": "dpop+jwt", "alg": algorithm_for_key(key), "jwk": public_jwk(key)}, claims, key)


def credential_request(configuration_id: str, proof: str | None, identifier: str | None = None) -> dict[str, Any]:
    """The credential request (§8.2): one instance, bound to the proved key (``proof`` None: the configuration
    binds none, and no ``proofs`` are sent); named by the ``credential_identifier`` the token response gave
    (:func:`credential_identifier`), else by the configuration (never both)."""
    named: dict[str, Any] = {"credential_identifier": identifier} if identifier is not None else {
        "credential_configuration_id": configuration_id}
    return {**named, "proofs": {"jwt": [proof]}} if proof is not None else named


def credential_identifier(response: Any, configuration_id: str) -> str | None:
    """The ``credential_identifier`` to ask for ``configuration_id`` by (§6.2, §8.2): the first of the
    ``credential_identifiers`` of the token response's ``authorization_details`` of type ``openid_credential``
    for that configuration; None when the response has none of that type (the request then names the
    configuration). Details of other types and unknown fields are ignored (§6.2); details of that type that give
    the configuration no identifiers, or are malformed, are ``OFFER_ISSUER_ANSWER_INVALID`` (no request could be
    right)."""
    details = response.get("authorization_details") if isinstance(response, Mapping) else None
    if details is None:
        return None
    if not isinstance(details, list) or len(details) > MAX_DETAILS or not all(isinstance(d, Mapping)
                                                                                for d in details):
        raise OfferError(ISSUER_ANSWER_INVALID, "token response: authorization_details is not a short list of "
                                                "objects")
    ours = [d for d in details if d.get("type") == OPENID_CREDENTIAL]
    if not ours:
        return None
    for detail in ours:
        if detail.get("credential_configuration_id") == configuration_id:
            ids = detail.get("credential_identifiers")
            if not isinstance(ids, list) or not ids or not isinstance(ids[0], str) or not 0 < len(ids[0]) <= 1024:
                raise OfferError(ISSUER_ANSWER_INVALID, "token response: authorization_details without "
                                                        "credential_identifiers (non-empty strings)")
            return ids[0]
    raise OfferError(ISSUER_ANSWER_INVALID, f"token response: authorization_details name no credential_identifiers "
                                            f"for {configuration_id[:100]!r}")


def access_token(response: Any, *, dpop: bool = False) -> tuple[str, str]:
    """(access token, token type) of a successful token response (§6.2): ``Bearer``, or ``DPoP`` when the wallet
    sent a DPoP proof (RFC 9449 §5)."""
    if not isinstance(response, Mapping) or not isinstance(response.get("access_token"), str):
        raise OfferError(ISSUER_ANSWER_INVALID, "token response: no access_token")
    kind = str(response.get("token_type", "Bearer"))
    if kind.lower() == "bearer" or (dpop and kind.lower() == "dpop"):
        return response["access_token"], "DPoP" if kind.lower() == "dpop" else "Bearer"
    raise OfferError(UNSUPPORTED, f"token response: token_type {kind[:20]!r} (Bearer{' or DPoP' if dpop else ''} "
                                  "expected)")


def c_nonce(response: Any) -> str:
    """The ``c_nonce`` of a nonce response (§7.2)."""
    if not isinstance(response, Mapping) or not isinstance(response.get("c_nonce"), str):
        raise OfferError(ISSUER_ANSWER_INVALID, "nonce response: no c_nonce")
    return str(response["c_nonce"])


@dataclass(frozen=True)
class Issued:
    """What the credential endpoint returned: the credentials (an SD-JWT VC compact, an ``ldp_vc`` a JSON
    object) and the id to notify with."""

    credentials: tuple[str | Mapping[str, Any], ...]
    notification_id: str | None


def issued_credentials(response: Any) -> Issued:
    """The credentials of a credential response (§8.3) or a deferred credential response (§9.2) that gives them
    (a deferred answer is read by :func:`services.wallet.domain.deferred.deferred_answer`)."""
    if not isinstance(response, Mapping):
        raise OfferError(ISSUER_ANSWER_INVALID, "credential response: not a JSON object")
    items = response.get("credentials")
    if not isinstance(items, list) or not items:
        raise OfferError(ISSUER_ANSWER_INVALID, "credential response: no credentials")
    found = tuple(i["credential"] for i in items
                  if isinstance(i, Mapping) and isinstance(i.get("credential"), str | Mapping))
    if len(found) != len(items):
        raise OfferError(ISSUER_ANSWER_INVALID, "credential response: a credential is neither a string (SD-JWT VC) "
                                                "nor an object (ldp_vc)")
    notification = response.get("notification_id")
    return Issued(found, notification if isinstance(notification, str) and notification else None)


def notification(notification_id: str, accepted: bool) -> dict[str, str]:
    """The notification request (§11.1)."""
    return {"notification_id": notification_id, "event": "credential_accepted" if accepted else "credential_failure"}


def is_deferred(status: int, response: Any) -> bool:
    """Whether a credential response defers the credential (§8.3: 202, a ``transaction_id`` and no
    ``credentials``)."""
    return status == 202 or (isinstance(response, Mapping) and "transaction_id" in response
                             and "credentials" not in response)
