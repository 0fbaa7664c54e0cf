"""A Credential Issuer's metadata as our wallet reads it (OpenID4VCI 1.0 §12.2; RFC 8414 for the authorization
server's), without I/O: the endpoints (each on the issuer's own origin), the offered configurations and whether
this wallet can hold them (format, key binding, key proofs) before any code is redeemed, the authorization server
to redeem at and its token endpoint, the client authentication it requires, and the name to show.
Refusals are :class:`~services.wallet.domain.offers.OfferError`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from services.wallet.domain.credential_encryption import EncryptionUnsupported, IssuerEncryption, issuer_encryption
from services.wallet.domain.credential_offer import CredentialOffer
from services.wallet.domain.offers import (
    ISSUER_ANSWER_INVALID,
    KEY_ATTESTATION_REQUIRED,
    KEY_UNSUPPORTED,
    PRE_AUTHORIZED_GRANT,
    UNSUPPORTED,
    WALLET_ATTESTATION_REQUIRED,
    OfferError,
    normalize_issuer,
    same_origin,
)

PROOF_ALG = "ES256"  # the key proofs' algorithm: the learner's keys made for credentials are P-256
SD_JWT_FORMATS = frozenset({"dc+sd-jwt", "vc+sd-jwt"})  # vc+sd-jwt: the name before SD-JWT VC draft 06
LDP_FORMAT = "ldp_vc"  # a W3C VC with a Data Integrity proof (OpenID4VCI Appendix A.1.2), e.g. Open Badges 3.0
MAX_SERVERS = 8  # authorization servers one Credential Issuer may list
_SCOPE_TOKEN = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]{1,256}")  # RFC 6749 §3.3 scope-token, bounded
#: Client authentication methods that need a wallet provider's attestation of the wallet (OpenID4VCI Appendix E,
#: HAIP 1.0 "Wallet Attestation"), which this wallet, a public client no wallet provider attests, cannot give.
WALLET_ATTESTATION_METHODS = frozenset({"attest_jwt_client_auth"})


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
