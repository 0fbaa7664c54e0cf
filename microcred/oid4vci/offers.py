"""Credential offers (OpenID4VCI 1.0 §4.1) with a pre-authorized code, and the secrets around them.

Codes, access tokens and nonces are 256-bit ``secrets.token_urlsafe`` values; the store keeps only their SHA-256
(a Redis dump reveals no usable code). A ``tx_code`` is a 6-digit number, delivered out of band by the issuer,
compared in constant time against its hash (``hmac.compare_digest``); its attempts are counted by the store.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from typing import Any, Literal, get_args
from urllib.parse import quote

from microcred.oid4vci.metadata import AUTHORIZATION_CODE_GRANT, PRE_AUTHORIZED_GRANT, SD_JWT_CONFIGURATION, endpoint

__all__ = [
    "OFFER_SCHEMES", "TX_CODE_LENGTH", "OfferScheme", "credential_offer", "digest", "new_secret", "new_tx_code",
    "offer_link", "offer_uri", "tx_code_matches",
]

TX_CODE_LENGTH = 6


def new_secret() -> str:
    """An unguessable code, token, nonce or offer id (256 bits)."""
    return secrets.token_urlsafe(32)


def new_tx_code() -> str:
    """A numeric transaction code (the wallet shows a numeric keypad for ``input_mode: numeric``)."""
    return "".join(secrets.choice("0123456789") for _ in range(TX_CODE_LENGTH))


def digest(secret: str) -> str:
    """What the store keeps of a secret (hex SHA-256: the secrets have 256 bits, so no salt is needed)."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def tx_code_matches(given: str, expected_digest: str) -> bool:
    """Whether ``given`` is the tx_code whose digest is kept (constant time)."""
    return hmac.compare_digest(digest(given), expected_digest)


def credential_offer(credential_issuer: str, pre_authorized_code: str, *, tx_code: bool,
                     configurations: Sequence[str] = (SD_JWT_CONFIGURATION,), issuer_state: str = "") -> dict[str, Any]:
    """The Credential Offer object (§4.1.1) for one award, offered in each of ``configurations`` (the wallet asks
    for the one it wants); with ``issuer_state``, the authorization code grant too (the wallet picks one)."""
    grant: dict[str, Any] = {"pre-authorized_code": pre_authorized_code}
    if tx_code:
        grant["tx_code"] = {"input_mode": "numeric", "length": TX_CODE_LENGTH,
                            "description": "The code sent to you by your institution"}
    grants: dict[str, Any] = {PRE_AUTHORIZED_GRANT: grant}
    if issuer_state:
        grants[AUTHORIZATION_CODE_GRANT] = {"issuer_state": issuer_state}
    return {"credential_issuer": credential_issuer, "credential_configuration_ids": list(configurations),
            "grants": grants}


def offer_uri(credential_issuer: str, offer_id: str) -> str:
    """The ``credential_offer_uri`` the wallet fetches the offer from (by reference, §4.1.3)."""
    return endpoint(credential_issuer, "offer") + offer_id


#: The wallet-invoking schemes an issuer may give its offer links (``MICROCRED_OID4VCI_OFFER_SCHEME``): OpenID4VCI's
#: own (§4.1) and HAIP 1.0's ``haip-vci`` (§4.2, which ecosystems may choose: "Wallets register for the haip-vci://
#: custom scheme ... also used to communicate Credential Offer").
OfferScheme = Literal["openid-credential-offer", "haip-vci"]
OFFER_SCHEMES: tuple[OfferScheme, ...] = get_args(OfferScheme)


def offer_link(uri: str, scheme: str = OFFER_SCHEMES[0]) -> str:
    """The ``openid-credential-offer://`` (or ``haip-vci://``) link (and QR code content) for an offer by
    reference."""
    if scheme not in OFFER_SCHEMES:
        raise ValueError(f"offer links use one of {OFFER_SCHEMES}")
    return f"{scheme}://?credential_offer_uri={quote(uri, safe='')}"
