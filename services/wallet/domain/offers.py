"""Our wallet as an OpenID4VCI 1.0 client (issue 20): credential offers, issuer metadata and the requests of the
pre-authorized code flow, read and built without I/O (the HTTP is :mod:`services.wallet.adapters.oid4vci_client`,
the order of the calls :mod:`services.wallet.application.offers`).

Written from the specification (OpenID4VCI 1.0 §4.1 offer, §6 token, §7 nonce, §8 credential, §11 notification,
§12.2 metadata, Appendix F.1 ``jwt`` key proof; RFC 8414 for the authorization server metadata), not from our
issuer's code: the wallet must take offers from any conformant issuer it is told to trust.

**Trust (no SSRF).** The wallet calls only Credential Issuers the operator listed
(``MICROCRED_WALLET_TRUSTED_ISSUERS``): a pasted link can make it fetch nothing else. :func:`trusted_issuer`
says which listed issuer a URL belongs to (same scheme, host and port, and a path under the issuer's path);
the offer's ``credential_issuer`` must be a listed identifier exactly, and every endpoint the metadata names must
be on that issuer's origin.

Every refusal is an :class:`OfferError` whose ``code`` the wallet page turns into plain language (English and
Polish, :mod:`services.wallet.api.offer_text`); the ``detail`` says what exactly, for a developer.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cryptography import x509

from microcred.sdjwt.jose import (
    JoseError,
    PrivateKey,
    algorithm_for_key,
    b64url_encode,
    public_jwk,
    sign_jws,
    strict_json_loads,
)
from services.wallet.domain.credential_encryption import EncryptionUnsupported, IssuerEncryption, issuer_encryption

PRE_AUTHORIZED_GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
AUTHORIZATION_CODE_GRANT = "authorization_code"
PROOF_TYPE = "openid4vci-proof+jwt"
PROOF_ALG = "ES256"  # the key proofs' algorithm: the learner's keys made for credentials are P-256
SD_JWT_FORMATS = frozenset({"dc+sd-jwt", "vc+sd-jwt"})  # vc+sd-jwt: the name before SD-JWT VC draft 06
LDP_FORMAT = "ldp_vc"  # a W3C VC with a Data Integrity proof (OpenID4VCI Appendix A.1.2), e.g. Open Badges 3.0
MAX_LINK_CHARS = 8192
MAX_TX_CODE_CHARS = 64
MAX_CONFIGURATIONS = 16
MAX_SERVERS = 8  # authorization servers one Credential Issuer may list
MAX_DETAILS = 16  # authorization_details entries of a token response
_SCOPE_TOKEN = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]{1,256}")  # RFC 6749 §3.3 scope-token, bounded
#: Client authentication methods that need a wallet provider's attestation of the wallet (OpenID4VCI Appendix E,
#: HAIP 1.0 "Wallet Attestation"), which this wallet, a public client no wallet provider attests, cannot give.
WALLET_ATTESTATION_METHODS = frozenset({"attest_jwt_client_auth"})
OPENID_CREDENTIAL = "openid_credential"  # the authorization details type of OpenID4VCI (§5.1.1)

# Codes the page explains in plain language (api/offer_text.py has one text per code and language).
LINK_INVALID = "OFFER_LINK_INVALID"
ISSUER_NOT_TRUSTED = "OFFER_ISSUER_NOT_TRUSTED"
UNSUPPORTED = "OFFER_UNSUPPORTED"
KEY_ATTESTATION_REQUIRED = "OFFER_KEY_ATTESTATION_REQUIRED"
KEY_UNSUPPORTED = "OFFER_KEY_UNSUPPORTED"
WALLET_ATTESTATION_REQUIRED = "OFFER_WALLET_ATTESTATION_REQUIRED"
GONE = "OFFER_GONE"
TX_CODE_REQUIRED = "OFFER_TX_CODE_REQUIRED"
TX_CODE_WRONG = "OFFER_TX_CODE_WRONG"
TX_CODE_FORMAT = "OFFER_TX_CODE_FORMAT"
ISSUER_REFUSED = "OFFER_ISSUER_REFUSED"
ISSUER_UNAVAILABLE = "OFFER_ISSUER_UNAVAILABLE"
ISSUER_ANSWER_INVALID = "OFFER_ISSUER_ANSWER_INVALID"
CREDENTIAL_REJECTED = "OFFER_CREDENTIAL_REJECTED"


class OfferError(ValueError):
    """A refused offer or a failed redemption: ``code`` for the learner, ``detail`` for a developer."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code, self.detail = code, detail


@dataclass(frozen=True)
class IssuerReply:
    """An issuer's answer as the HTTP adapter read it: status and JSON body (None when the body is not JSON), and
    the two headers DPoP servers speak through (RFC 9449 §8, §9): ``DPoP-Nonce`` and ``WWW-Authenticate``."""

    status: int
    body: Any
    dpop_nonce: str = ""
    www_authenticate: str = ""
    #: ``application/jwt`` (signed metadata: ``body`` is the token's text), else the JSON reading above.
    media_type: str = ""


@dataclass(frozen=True)
class MetadataTrust:
    """How the wallet takes an issuer's metadata (OpenID4VCI §12.2.3, HAIP 1.0 §4.1): with ``anchors`` it asks
    for the signed form and checks it against them (the agencies' document-signing CAs); ``required``: an
    unsigned answer is refused."""

    anchors: tuple[x509.Certificate, ...] = ()
    required: bool = False


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


# ------------------------------------------------------------------------------------------------ the trust


def normalize_issuer(url: str) -> str:
    """A Credential Issuer identifier without a trailing slash (identifiers are compared as strings, §12.2.1)."""
    return url.rstrip("/")


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = -1
    default = {"https": 443, "http": 80}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), port if port is not None else default


def trusted_issuer(url: str, trusted: Sequence[str]) -> str | None:
    """The listed issuer ``url`` belongs to (same origin, path at or under the issuer's path), else None. A URL
    with user information, a fragment or no host never belongs to one."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises ValueError for a port out of range or not a number)
    except ValueError:
        return None
    if not parts.hostname or parts.username or parts.password or parts.fragment or "\\" in url:
        return None
    for issuer in trusted:
        base = urlsplit(issuer)
        path = base.path.rstrip("/")
        if _origin(url) == _origin(issuer) and (parts.path == path or parts.path.startswith(path + "/")):
            return normalize_issuer(issuer)
    return None


def require_trusted(url: str, field: str, trusted: Sequence[str]) -> str:
    """``url`` if it belongs to a listed issuer, else ``OFFER_ISSUER_NOT_TRUSTED`` naming ``field``."""
    if not isinstance(url, str) or trusted_issuer(url, trusted) is None:
        raise OfferError(ISSUER_NOT_TRUSTED, f"{field}: {str(url)[:200]!r} is not one of this wallet's trusted "
                                             "credential issuers")
    return url


def same_origin(url: str, issuer: str) -> bool:
    """Whether ``url`` is on the issuer's origin (where its endpoints must be)."""
    try:
        parts = urlsplit(url)
        return bool(parts.hostname) and not parts.username and _origin(url) == _origin(issuer)
    except ValueError:
        return False


def well_known(issuer: str, name: str) -> str:
    """``/.well-known/{name}`` inserted between the host and the issuer's path (§12.2.2, RFC 8414 §3.1)."""
    parts = urlsplit(issuer)
    path = parts.path.rstrip("/")
    return f"{parts.scheme}://{parts.netloc}/.well-known/{name}{path}"


def server_metadata_urls(server: str) -> list[str]:
    """Where an authorization server's metadata may be, in the order asked: RFC 8414 §3.1 (well-known path
    inserted), then appended as many servers (Keycloak realms) publish it, then OpenID Connect Discovery
    (``openid-configuration`` appended). Each answer's ``issuer`` must still be ``server``."""
    base = server.rstrip("/")
    found = [well_known(server, "oauth-authorization-server"), f"{base}/.well-known/oauth-authorization-server",
             f"{base}/.well-known/openid-configuration"]
    return list(dict.fromkeys(found))


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


# --------------------------------------------------------------------------------------------- the metadata


@dataclass(frozen=True)
class Configuration:
    """One offered credential configuration, as the metadata describes it."""

    configuration_id: str
    format: str
    display: tuple[Mapping[str, Any], ...]
    binding: tuple[str, ...] = ()  # cryptographic_binding_methods_supported
    #: whether the issuer takes a ``jwt`` key proof without a key attestation (Appendix D), as this wallet sends:
    #: its keys sit in the platform's encrypted key store, and no wallet provider attests them
    plain_proofs: bool = True
    #: whether a proof type requires key attestations (then that is why ``plain_proofs`` is False)
    attestations_required: bool = False
    #: the ``jwt`` proof type's ``proof_signing_alg_values_supported`` (None: not listed, nothing to meet)
    proof_algs: tuple[str, ...] | None = None
    #: the ``scope`` an authorization request asks for it by (§5.1.2; None: none, or not one RFC 6749 scope token)
    scope: str | None = None

    @property
    def supported(self) -> bool:
        """Whether this wallet can hold it (:meth:`refusal`)."""
        return self.refusal() is None

    def refusal(self) -> OfferError | None:
        """Why this wallet cannot hold it, None when it can: an SD-JWT VC bound to a ``jwk`` (or not bound), or an
        ``ldp_vc`` bound to a did:key or a jwk (or not bound), each by a ``jwt`` key proof signed ES256 with a
        P-256 key, which the issuer takes without a key attestation. Said from the metadata, before any code is
        redeemed, so that the offer stays open for a wallet that can (Appendix F.1: the proof's ``alg`` MUST be
        one the issuer lists)."""
        if self.format not in SD_JWT_FORMATS and self.format != LDP_FORMAT:
            return OfferError(UNSUPPORTED, f"format {self.format[:40]!r}: not an SD-JWT VC or an ldp_vc")
        if not self.plain_proofs:
            if self.attestations_required:
                return OfferError(KEY_ATTESTATION_REQUIRED, "proof_types_supported: the issuer requires key "
                                                            "attestations (a wallet provider's statement of how the "
                                                            "key is kept), which this wallet cannot give; the offer "
                                                            "is still open for a wallet that can")
            return OfferError(KEY_UNSUPPORTED, "proof_types_supported: no jwt proof type, the only one this wallet "
                                               "signs; the offer is still open for a wallet that can")
        held = {"jwk"} if self.format in SD_JWT_FORMATS else {"did:key", "jwk"}
        if self.binding and not held & set(self.binding):
            return OfferError(KEY_UNSUPPORTED, f"cryptographic_binding_methods_supported: none of "
                                               f"{', '.join(sorted(held))}, the only ones this wallet binds to; the "
                                               f"offer is still open for a wallet that can")
        if self.proof_algs is not None and PROOF_ALG not in self.proof_algs:
            return OfferError(KEY_UNSUPPORTED, f"proof_types_supported.jwt.proof_signing_alg_values_supported: no "
                                               f"{PROOF_ALG}, the only algorithm this wallet's keys sign with; the "
                                               f"offer is still open for a wallet that can")
        return None

    @property
    def bound(self) -> bool:
        """Whether the credential is bound to a key the wallet proves (§12.2.4: binding methods or proof types
        listed; with neither, no key binding is required and no proof is sent, §8.2)."""
        return bool(self.binding) or self.proof_algs is not None or not self.plain_proofs

    @property
    def names_key_by_did(self) -> bool:
        """Whether the key proof names the key by its did:key (``kid``) rather than showing it (``jwk``): for an
        ``ldp_vc`` bound to a did:key (Appendix F.1: a DID-bound key is named by a DID URL)."""
        return self.format == LDP_FORMAT and "did:key" in self.binding


@dataclass(frozen=True)
class IssuerMetadata:
    """The Credential Issuer metadata this wallet uses (§12.2.4)."""

    credential_issuer: str
    credential_endpoint: str
    nonce_endpoint: str | None
    notification_endpoint: str | None
    authorization_servers: tuple[str, ...]  # empty: the Credential Issuer is its own (§12.2.4)
    display: tuple[Mapping[str, Any], ...]
    configurations: Mapping[str, Configuration]
    deferred_credential_endpoint: str | None = None
    #: How (deferred) credential requests and responses are encrypted (§10; None: in clear).
    encryption: IssuerEncryption | None = None
    #: The identifier exactly as the metadata spells it, a trailing '/' included ('': ``credential_issuer``):
    #: ``credential_issuer`` above is normalised for comparing with the operator's list, this is what the
    #: issuer compares with (§12.2.4: "no normalization"; the key proof's ``aud``, the ``locations`` of an
    #: authorization detail).
    identifier: str = ""

    @property
    def audience(self) -> str:
        """The Credential Issuer Identifier as the issuer itself writes it (see ``identifier``)."""
        return self.identifier or self.credential_issuer


def _displays(value: Any) -> tuple[Mapping[str, Any], ...]:
    return tuple(d for d in value if isinstance(d, Mapping))[:32] if isinstance(value, list) else ()


def _endpoint(metadata: Mapping[str, Any], name: str, issuer: str, required: bool) -> str | None:
    value = metadata.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not same_origin(value, issuer):
        raise OfferError(ISSUER_ANSWER_INVALID, f"metadata.{name}: missing or not on the issuer's own origin")
    return value


def parse_issuer_metadata(metadata: Any, issuer: str) -> IssuerMetadata:
    """The metadata of ``issuer``; its ``credential_issuer`` must be ``issuer`` (§12.2.4) and its endpoints on
    the issuer's origin (the wallet calls nothing else)."""
    if not isinstance(metadata, Mapping):
        raise OfferError(ISSUER_ANSWER_INVALID, "metadata: not a JSON object")
    identifier = metadata.get("credential_issuer")
    if not isinstance(identifier, str) or normalize_issuer(identifier) != issuer:
        raise OfferError(ISSUER_ANSWER_INVALID, "metadata.credential_issuer: not the offer's credential issuer")
    servers = metadata.get("authorization_servers")
    if servers is not None and (not isinstance(servers, list) or not servers or len(servers) > MAX_SERVERS
                                or not all(isinstance(s, str) and _https_identifier(s) for s in servers)):
        raise OfferError(ISSUER_ANSWER_INVALID, "metadata.authorization_servers: not a short list of https "
                                                "identifiers")
    server = tuple(normalize_issuer(s) for s in servers) if servers else ()
    configurations: dict[str, Configuration] = {}
    raw = metadata.get("credential_configurations_supported")
    if isinstance(raw, Mapping):
        for cid, value in list(raw.items())[:64]:
            if isinstance(cid, str) and isinstance(value, Mapping):
                inner = value.get("credential_metadata")
                display = inner.get("display") if isinstance(inner, Mapping) else value.get("display")
                methods = value.get("cryptographic_binding_methods_supported")
                binding = tuple(m for m in methods if isinstance(m, str))[:16] if isinstance(methods, list) else ()
                types = value.get("proof_types_supported")
                configurations[cid] = Configuration(cid, str(value.get("format", "")), _displays(display), binding,
                                                    _plain_proofs(types), _attestations_required(types),
                                                    _jwt_algs(types), _scope(value.get("scope")))
    try:
        encryption = issuer_encryption(metadata)
    except EncryptionUnsupported as exc:
        raise OfferError(UNSUPPORTED, f"metadata: {exc}") from None
    return IssuerMetadata(
        issuer, str(_endpoint(metadata, "credential_endpoint", issuer, True)),
        _endpoint(metadata, "nonce_endpoint", issuer, False),
        _endpoint(metadata, "notification_endpoint", issuer, False), server, _displays(metadata.get("display")),
        configurations, _endpoint(metadata, "deferred_credential_endpoint", issuer, False), encryption, identifier)


def _plain_proofs(types: Any) -> bool:
    """Whether ``proof_types_supported`` (§12.2.4; absent: no proof needed) takes a ``jwt`` proof that carries no
    key attestation: ``jwt`` is listed without ``key_attestations_required``."""
    if types is None:
        return True
    jwt = types.get("jwt") if isinstance(types, Mapping) else None
    return isinstance(jwt, Mapping) and "key_attestations_required" not in jwt


def _scope(value: Any) -> str | None:
    """A configuration's ``scope`` if it is one scope token (RFC 6749 §3.3: no space, no quote or backslash;
    bounded), else None: a value that would ask for more than one scope is never sent."""
    return value if isinstance(value, str) and _SCOPE_TOKEN.fullmatch(value) else None


def _attestations_required(types: Any) -> bool:
    """Whether a proof type of ``proof_types_supported`` requires key attestations (Appendix D)."""
    return isinstance(types, Mapping) and any(isinstance(t, Mapping) and "key_attestations_required" in t
                                              for t in types.values())


def _jwt_algs(types: Any) -> tuple[str, ...] | None:
    """The ``jwt`` proof type's ``proof_signing_alg_values_supported`` (REQUIRED, §12.2.4; a list that is not one
    of strings is taken as listing nothing this wallet signs with), None when the ``jwt`` type is not listed."""
    jwt = types.get("jwt") if isinstance(types, Mapping) else None
    if not isinstance(jwt, Mapping):
        return None
    algs = jwt.get("proof_signing_alg_values_supported")
    return tuple(a for a in algs if isinstance(a, str))[:32] if isinstance(algs, list) else ()


def _https_identifier(url: str) -> bool:
    """Whether ``url`` can identify an authorization server (RFC 8414 §2: https, no query or fragment)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises ValueError for a port out of range or not a number)
    except ValueError:
        return False
    return (parts.scheme == "https" and bool(parts.hostname) and not parts.username and not parts.password
            and not parts.query and not parts.fragment and "\\" not in url and len(url) <= 2048)


def chosen_authorization_server(metadata: IssuerMetadata, named: str = "") -> str:
    """The authorization server to redeem at (§12.2.4, §4.1.1): the Credential Issuer itself when it lists none;
    the one the offer's grant names, which must be listed; else the first listed."""
    if not metadata.authorization_servers:
        if named and named != metadata.credential_issuer:
            raise OfferError(ISSUER_ANSWER_INVALID, "credential_offer: names an authorization server the issuer "
                                                    "does not list")
        return metadata.credential_issuer
    if named:
        if named not in metadata.authorization_servers:
            raise OfferError(ISSUER_ANSWER_INVALID, "credential_offer: names an authorization server the issuer "
                                                    "does not list")
        return named
    return metadata.authorization_servers[0]


def token_endpoint(as_metadata: Any, issuer: str) -> str:
    """The token endpoint from the authorization server metadata (RFC 8414: its ``issuer`` must be ``issuer``)."""
    if not isinstance(as_metadata, Mapping) or normalize_issuer(str(as_metadata.get("issuer", ""))) != issuer:
        raise OfferError(ISSUER_ANSWER_INVALID, "authorization server metadata: missing, or another issuer")
    return str(_endpoint(as_metadata, "token_endpoint", issuer, True))


def check_client_authentication(as_metadata: Mapping[str, Any], grant: str) -> None:
    """Refuse, before any code is spent or request pushed, an authorization server whose metadata clearly requires
    a client authentication this wallet cannot do (``OFFER_WALLET_ATTESTATION_REQUIRED``): its
    ``token_endpoint_auth_methods_supported`` are all wallet attestations (HAIP 1.0: issuers MUST require client
    authentication, at the PAR and token endpoints) and, for a pre-authorized code, it does not say it takes
    token requests without a client (``pre-authorized_grant_anonymous_access_supported``, default false, §12.3).
    Any other list is not taken as a requirement (many servers that list only confidential clients' methods, e.g.
    Keycloak realms, take public clients too): the wallet proceeds, and a refusal comes from the server."""
    if grant == PRE_AUTHORIZED_GRANT and as_metadata.get("pre-authorized_grant_anonymous_access_supported") is True:
        return
    methods = as_metadata.get("token_endpoint_auth_methods_supported")
    if isinstance(methods, list) and methods and all(m in WALLET_ATTESTATION_METHODS for m in methods):
        raise OfferError(WALLET_ATTESTATION_REQUIRED, "authorization server metadata: "
                                                      "token_endpoint_auth_methods_supported lists only wallet "
                                                      "attestations (attest_jwt_client_auth), which this wallet "
                                                      "cannot give; the offer is still open for a wallet that can")


def display_name(displays: Sequence[Mapping[str, Any]], lang: str) -> str | None:
    """The ``name`` of the display for ``lang`` (its primary subtag), else the first one without a locale,
    else the first one."""
    named = [d for d in displays if isinstance(d.get("name"), str) and d["name"]]
    primary = [d for d in named if str(d.get("locale", "")).lower().split("-")[0] == lang]
    unmarked = [d for d in named if not d.get("locale")]
    for found in (primary, unmarked, named):
        if found:
            return str(found[0]["name"])[:300]
    return None


def chosen_configuration(offer: CredentialOffer, metadata: IssuerMetadata) -> Configuration:
    """The first offered configuration this wallet can hold; else why not, from the metadata and before any code
    is redeemed: the first offered configuration's reason that is about keys or proofs
    (``OFFER_KEY_ATTESTATION_REQUIRED``, ``OFFER_KEY_UNSUPPORTED``: the learner can take the offer with another
    wallet), else ``OFFER_UNSUPPORTED``."""
    refusals = []
    for cid in offer.configuration_ids:
        configuration = metadata.configurations.get(cid)
        if configuration is not None:
            refusal = configuration.refusal()
            if refusal is None:
                return configuration
            refusals.append(refusal)
    for refusal in refusals:
        if refusal.code != UNSUPPORTED:
            raise refusal
    raise OfferError(UNSUPPORTED, "credential_configuration_ids: none is an SD-JWT VC or an ldp_vc this wallet can "
                                  "hold")


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


# -------------------------------------------------------------------------------------------- issuer errors


def is_deferred(status: int, response: Any) -> bool:
    """Whether a credential response defers the credential (§8.3: 202, a ``transaction_id`` and no
    ``credentials``)."""
    return status == 202 or (isinstance(response, Mapping) and "transaction_id" in response
                             and "credentials" not in response)


def issuer_error(stage: str, status: int, body: Any, *, tx_code_sent: bool = False) -> OfferError:
    """An issuer's error answer at ``stage`` (offer, metadata, token, nonce, credential, deferred) as the learner's
    plain-language code. The OAuth ``error`` decides (§6.3, §8.3.1); its ``error_description`` is kept for the
    detail only (issuers word it freely)."""
    error = body.get("error") if isinstance(body, Mapping) else None
    said = body.get("error_description") if isinstance(body, Mapping) else None
    detail = f"{stage}: the issuer answered {status}" + (f" {error}" if isinstance(error, str) else "") + (
        f" ({said[:200]})" if isinstance(said, str) else "")
    if status >= 500 or status in (408, 429):
        return OfferError(ISSUER_UNAVAILABLE, detail)
    if stage == "offer" and status in (404, 410):
        return OfferError(GONE, detail)
    if stage == "token" and error == "invalid_grant":
        return OfferError(TX_CODE_WRONG if tx_code_sent else GONE, detail)
    return OfferError(ISSUER_REFUSED, detail)
