"""The Credential Offer our wallet takes (OpenID4VCI 1.0 §4.1), read without I/O: the link that carries it
(by value or by reference), the offer's grants (a pre-authorized code with its ``tx_code``, or the authorization
code grant), the grant an offer without ``grants`` takes from its authorization server, and the ``tx_code`` the
learner typed. Refusals are :class:`~services.wallet.domain.offers.OfferError`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import parse_qs, urlsplit

from microcred.sdjwt.jose import JoseError, strict_json_loads
from services.wallet.domain.offers import (
    AUTHORIZATION_CODE_GRANT,
    LINK_INVALID,
    PRE_AUTHORIZED_GRANT,
    TX_CODE_FORMAT,
    TX_CODE_REQUIRED,
    UNSUPPORTED,
    OfferError,
    normalize_issuer,
)

MAX_LINK_CHARS = 8192
MAX_TX_CODE_CHARS = 64
MAX_CONFIGURATIONS = 16


# ------------------------------------------------------------------------------------------------- the link


@dataclass(frozen=True)
class OfferLink:
    """What a link carries: the offer by reference (``credential_offer_uri``) or by value (``credential_offer``)."""

    offer_uri: str | None = None
    offer: Mapping[str, Any] | None = None


def parse_offer_link(text: str) -> OfferLink:
    """An ``openid-credential-offer://?...`` link (§4.1), or any URL with the same query parameters (our wallet's
    own ``/?credential_offer_uri=...`` link, an issuer's ``https`` link): exactly one of ``credential_offer`` and
    ``credential_offer_uri``."""
    text = text.strip()
    if not text or len(text) > MAX_LINK_CHARS:
        raise OfferError(LINK_INVALID, f"link: empty or longer than {MAX_LINK_CHARS} characters")
    try:
        query = parse_qs(urlsplit(text).query, keep_blank_values=True, max_num_fields=20)
    except ValueError:  # an unbalanced IPv6 bracket, too many parameters
        raise OfferError(LINK_INVALID, "link: not a URL with a query") from None
    by_value, by_reference = query.get("credential_offer", []), query.get("credential_offer_uri", [])
    if len(by_value) + len(by_reference) != 1:
        raise OfferError(LINK_INVALID, "link: exactly one credential_offer or credential_offer_uri is needed")
    if by_reference:
        return OfferLink(offer_uri=by_reference[0])
    try:  # bounded depth, no duplicate names: hostile JSON costs bounded work
        offer = strict_json_loads(by_value[0])
    except (JoseError, ValueError):
        raise OfferError(LINK_INVALID, "link: credential_offer is not JSON") from None
    if not isinstance(offer, dict):
        raise OfferError(LINK_INVALID, "link: credential_offer is not a JSON object")
    return OfferLink(offer=offer)


# ------------------------------------------------------------------------------------------------ the offer


@dataclass(frozen=True)
class TxCode:
    """The transaction code the issuer sent the learner another way (§4.1.1 ``tx_code``)."""

    length: int | None = None
    input_mode: str = "numeric"
    description: str | None = None

    def to_json(self) -> dict[str, Any]:
        """For the page."""
        return {"length": self.length, "input_mode": self.input_mode, "description": self.description}


@dataclass(frozen=True)
class CredentialOffer:
    """A Credential Offer with a pre-authorized code ('' for none) and/or the authorization code grant (its
    ``issuer_state``, '' when the grant names none); at least one of the two once read with the authorization
    server's metadata (an offer without ``grants``: :func:`with_server_grants`)."""

    credential_issuer: str
    configuration_ids: tuple[str, ...]
    pre_authorized_code: str
    tx_code: TxCode | None
    authorization_code: bool = False
    issuer_state: str = ""
    authorization_server: str = ""  # the grant's, when the issuer lists several (§4.1.1); '' for none named
    #: no ``grants`` (or an empty object): the grant is the authorization server's to say (§4.1.1)
    grants_from_server: bool = False

    @property
    def grant(self) -> str:
        """The grant the wallet takes: the pre-authorized code when offered (no trip to the issuer's pages),
        else the authorization code grant (the learner goes to the issuer, which may ask them to sign in)."""
        return PRE_AUTHORIZED_GRANT if self.pre_authorized_code else AUTHORIZATION_CODE_GRANT


def _string(value: Any, field: str, limit: int = 2048) -> str:
    if not isinstance(value, str) or not value or len(value) > limit:
        raise OfferError(LINK_INVALID, f"{field}: a non-empty string of at most {limit} characters is needed")
    return value


def parse_offer(offer: Mapping[str, Any]) -> CredentialOffer:
    """The Credential Offer object (§4.1.1); an offer whose ``grants`` name neither a pre-authorized code nor the
    authorization code grant is ``OFFER_UNSUPPORTED``; one without ``grants`` (or with ``{}``) leaves the grant to
    the authorization server's metadata (:func:`with_server_grants`)."""
    if not isinstance(offer, Mapping):
        raise OfferError(LINK_INVALID, "credential_offer: not a JSON object")
    issuer = _string(offer.get("credential_issuer"), "credential_offer.credential_issuer")
    ids = offer.get("credential_configuration_ids")
    if not isinstance(ids, list) or not ids or len(ids) > MAX_CONFIGURATIONS:
        raise OfferError(LINK_INVALID, "credential_offer.credential_configuration_ids: a non-empty list is needed")
    configuration_ids = tuple(_string(i, "credential_offer.credential_configuration_ids[]", 256) for i in ids)
    grants = offer.get("grants")
    if grants is not None and not isinstance(grants, Mapping):
        raise OfferError(LINK_INVALID, "credential_offer.grants: not an object")
    grants = grants or {}
    grant, by_login = grants.get(PRE_AUTHORIZED_GRANT), grants.get(AUTHORIZATION_CODE_GRANT)
    issuer_state = ""
    if isinstance(by_login, Mapping) and by_login.get("issuer_state") is not None:
        issuer_state = _string(by_login.get("issuer_state"), "credential_offer.grants.authorization_code."
                                                              "issuer_state", 4096)
    if not isinstance(grant, Mapping):
        if not grants:  # §4.1.1: "the Wallet MUST determine the Grant Types ... using the respective metadata"
            return CredentialOffer(normalize_issuer(issuer), configuration_ids, "", None, grants_from_server=True)
        if not isinstance(by_login, Mapping):
            raise OfferError(UNSUPPORTED, "credential_offer.grants: neither a pre-authorized code nor the "
                                          "authorization code grant")
        return CredentialOffer(normalize_issuer(issuer), configuration_ids, "", None, True, issuer_state,
                               _named_server(by_login, AUTHORIZATION_CODE_GRANT))
    code = _string(grant.get("pre-authorized_code"), "credential_offer.grants.pre-authorized_code", 4096)
    raw = grant.get("tx_code")
    tx_code = None
    if raw is not None:
        if not isinstance(raw, Mapping):
            raise OfferError(LINK_INVALID, "credential_offer.grants.tx_code: not an object")
        length, mode, description = raw.get("length"), raw.get("input_mode", "numeric"), raw.get("description")
        if length is not None and (not isinstance(length, int) or isinstance(length, bool)
                                   or not 1 <= length <= MAX_TX_CODE_CHARS):
            raise OfferError(LINK_INVALID, "credential_offer.grants.tx_code.length: not a small positive integer")
        if mode not in ("numeric", "text"):
            raise OfferError(LINK_INVALID, "credential_offer.grants.tx_code.input_mode: numeric or text")
        tx_code = TxCode(length, mode, description[:300] if isinstance(description, str) else None)
    return CredentialOffer(normalize_issuer(issuer), configuration_ids, code, tx_code,
                           isinstance(by_login, Mapping), issuer_state, _named_server(grant, PRE_AUTHORIZED_GRANT))


def with_server_grants(offer: CredentialOffer, as_metadata: Mapping[str, Any]) -> CredentialOffer:
    """An offer without ``grants`` with the grant its authorization server supports (§4.1.1): the authorization
    code grant when ``grant_types_supported`` lists it or is absent (RFC 8414 §2: then ``["authorization_code",
    "implicit"]``); a pre-authorized code comes only in an offer, so a server without the authorization code grant
    leaves nothing to take: ``OFFER_UNSUPPORTED``. An offer with ``grants`` is returned as it is."""
    if not offer.grants_from_server:
        return offer
    grants = as_metadata.get("grant_types_supported")
    if grants is None or (isinstance(grants, list) and AUTHORIZATION_CODE_GRANT in grants):
        return replace(offer, authorization_code=True)
    raise OfferError(UNSUPPORTED, "credential_offer: no grants, and the authorization server's "
                                  "grant_types_supported lacks the authorization code grant")


def _named_server(grant: Mapping[str, Any], name: str) -> str:
    """The grant's ``authorization_server`` (§4.1.1), '' when it names none."""
    value = grant.get("authorization_server")
    return "" if value is None else normalize_issuer(_string(value, f"credential_offer.grants.{name}."
                                                                     "authorization_server"))


def check_tx_code(offer: CredentialOffer, tx_code: str | None) -> str | None:
    """The code to send: None when the offer asks for none; ``OFFER_TX_CODE_REQUIRED`` when it asks for one and
    none (or one of the wrong shape: the length or the digits the offer announced) was given."""
    if offer.tx_code is None:
        return None
    code = (tx_code or "").strip()
    wanted = offer.tx_code
    if not code or len(code) > MAX_TX_CODE_CHARS:
        raise OfferError(TX_CODE_REQUIRED, "tx_code: the issuer asks for the code it sent you")
    numeric = wanted.input_mode != "numeric" or (code.isascii() and code.isdigit())
    if not numeric or (wanted.length is not None and len(code) != wanted.length):
        raise OfferError(TX_CODE_FORMAT, f"tx_code: {wanted.length or 'some'} "
                                         f"{'digits' if wanted.input_mode == 'numeric' else 'characters'} expected")
    return code

