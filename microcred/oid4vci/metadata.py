"""Credential Issuer metadata (OpenID4VCI 1.0 §12.2) and OAuth authorization-server metadata (RFC 8414).

One Credential Issuer per issuer service: its identifier is the service's public ``https`` base URL, which is
also the authorization server: the pre-authorized code grant, and the authorization code grant with PKCE S256 and
pushed authorization requests required (HAIP 1.0; :mod:`~.authorization`). Two configurations:

* ``eu_micro_credential_sd_jwt``: ``dc+sd-jwt`` with our ``vct`` (the display comes from the shipped Type
  Metadata document, en/pl/de/fr), holder binding by ``jwk``, ``jwt`` key proofs in ES256, signed ES256;
* ``ob3_achievement_credential_ldp``: ``ldp_vc`` Open Badges 3.0 ``AchievementCredential`` (Data Integrity
  ``eddsa-rdfc-2022``), bound to the holder by ``credentialSubject.id``: the ``did:key`` of the proof's key.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from typing import Any

from microcred.credential.layout import CONTEXTS, CREDENTIAL_TYPES
from microcred.oid4vci.di_vp_proof import DI_VP_CRYPTOSUITES
from microcred.oid4vci.encryption import request_encryption_metadata, response_encryption_metadata
from microcred.oid4vci.holder_did import HOLDER_DID_METHODS
from microcred.oid4vci.key_attestation import KeyAttestationPolicy
from microcred.oid4vci.proofs import KEY_PROOF_ALGORITHMS
from microcred.sdjwt.type_metadata import VCT, type_metadata_bytes

__all__ = [
    "AUTHORIZATION_CODE_GRANT", "BATCH_SIZE", "LANGUAGES",
    "LDP_CONFIGURATION", "OFFERED_CONFIGURATIONS", "PRE_AUTHORIZED_GRANT", "SD_JWT_CONFIGURATION",
    "authorization_server_metadata",
    "credential_issuer_metadata", "endpoint",
]

PRE_AUTHORIZED_GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
AUTHORIZATION_CODE_GRANT = "authorization_code"
SD_JWT_CONFIGURATION = "eu_micro_credential_sd_jwt"
LDP_CONFIGURATION = "ob3_achievement_credential_ldp"
#: What every offer is for, and the credential endpoint delivers (the SD-JWT VC first: a wallet's default).
OFFERED_CONFIGURATIONS = (SD_JWT_CONFIGURATION, LDP_CONFIGURATION)
LANGUAGES = ("en", "pl", "de", "fr")
#: Credentials issued for one credential request at most (§12.2.4 ``batch_credential_issuance.batch_size``).
BATCH_SIZE = 10
#: Paths below the Credential Issuer identifier.
PATHS = {"credential": "/oid4vci/credential", "nonce": "/oid4vci/nonce", "token": "/oid4vci/token",
         "notification": "/oid4vci/notification", "offer": "/oid4vci/offers/", "par": "/oid4vci/par",
         "authorize": "/oid4vci/authorize", "deferred": "/oid4vci/deferred-credential"}
_OB3_NAMES = {"en": "Open Badge (micro-credential)", "pl": "Open Badge (mikropoświadczenie)",
              "de": "Open Badge (Microcredential)", "fr": "Open Badge (microcertificat)"}


def endpoint(credential_issuer: str, name: str) -> str:
    """The absolute URL of one endpoint (``name`` a key of :data:`PATHS`)."""
    return credential_issuer.rstrip("/") + PATHS[name]


@cache
def _type_display() -> tuple[dict[str, str], ...]:
    document = json.loads(type_metadata_bytes())
    return tuple({"locale": d["locale"], "name": d["name"], "description": d["description"]}
                 for d in document["display"] if d.get("locale") in LANGUAGES)


def _proof_types(key_attestations: KeyAttestationPolicy | None) -> dict[str, Any]:
    """``proof_types_supported`` (§12.2.4): ``jwt`` key proofs (ES256, EdDSA: microcred.oid4vci.proofs) and, for
    an issuer that checks key attestations, the ``attestation`` proof type (HAIP 1.0 requires both). Each names
    ``key_attestations_required`` only where one is required, as the parameter must be absent otherwise."""
    jwt: dict[str, Any] = {"proof_signing_alg_values_supported": list(KEY_PROOF_ALGORITHMS)}
    if key_attestations is None:
        return {"jwt": jwt}
    attestation: dict[str, Any] = {"proof_signing_alg_values_supported": list(KEY_PROOF_ALGORITHMS),
                                   "key_attestations_required": key_attestations.requirements()}
    if key_attestations.required:
        jwt["key_attestations_required"] = key_attestations.requirements()
    return {"jwt": jwt, "attestation": attestation}


def _ldp_proof_types(key_attestations: KeyAttestationPolicy | None, di_vp: bool) -> dict[str, Any]:
    """The ``ldp_vc`` configuration's proof types: those of :func:`_proof_types`, and with ``di_vp`` (an issuer
    that takes them, :mod:`microcred.oid4vci.di_vp_proof`; never one that requires key attestations, which a
    presentation does not carry) the ``di_vp`` type (Appendix F.2), its algorithms being cryptosuites."""
    types = _proof_types(key_attestations)
    if di_vp:
        types["di_vp"] = {"proof_signing_alg_values_supported": list(DI_VP_CRYPTOSUITES)}
    return types


def credential_issuer_metadata(credential_issuer: str, key_attestations: KeyAttestationPolicy | None = None,
                               di_vp: bool = False, encryption_jwk: Mapping[str, Any] | None = None,
                               encryption_required: bool = False) -> dict[str, Any]:
    """The document served at ``/.well-known/openid-credential-issuer`` (§12.2.4); ``key_attestations``: what
    key attestations this issuer checks (None: none); ``di_vp``: whether the ``ldp_vc`` configuration takes
    ``di_vp`` key proofs; ``encryption_jwk``: the key wallets encrypt credential requests to (§10; None: no
    encryption offered), with ``encryption_required`` for both directions."""
    display = [dict(d) for d in _type_display()]
    encryption: dict[str, Any] = {}
    if encryption_jwk is not None:
        encryption = {"credential_request_encryption": request_encryption_metadata(encryption_jwk,
                                                                                   encryption_required),
                      "credential_response_encryption": response_encryption_metadata(encryption_required)}
    return {
        "credential_issuer": credential_issuer,
        "credential_endpoint": endpoint(credential_issuer, "credential"),
        "nonce_endpoint": endpoint(credential_issuer, "nonce"),
        "notification_endpoint": endpoint(credential_issuer, "notification"),
        "deferred_credential_endpoint": endpoint(credential_issuer, "deferred"),
        **encryption,
        "batch_credential_issuance": {"batch_size": BATCH_SIZE},
        "display": [{"name": "microcred", "locale": lang} for lang in LANGUAGES],
        "credential_configurations_supported": {
            SD_JWT_CONFIGURATION: {
                "format": "dc+sd-jwt",
                "vct": VCT,
                "scope": SD_JWT_CONFIGURATION,
                "cryptographic_binding_methods_supported": ["jwk"],
                "credential_signing_alg_values_supported": ["ES256"],
                "proof_types_supported": _proof_types(key_attestations),
                "credential_metadata": {"display": display},
            },
            LDP_CONFIGURATION: {
                "format": "ldp_vc",
                "scope": LDP_CONFIGURATION,
                "cryptographic_binding_methods_supported": list(HOLDER_DID_METHODS),
                "credential_signing_alg_values_supported": ["eddsa-rdfc-2022"],
                # as for the SD-JWT VC; the subject is the DID a proof's kid names (did:key or did:jwk), else its
                # key's did:key: z6Mk for Ed25519, zDn for P-256 (microcred.oid4vci.holder_did); di_vp binds to
                # the DID of its verification method
                "proof_types_supported": _ldp_proof_types(key_attestations, di_vp),
                # exactly what the issuer signs (microcred.credential.ob3)
                "credential_definition": {"@context": list(CONTEXTS), "type": list(CREDENTIAL_TYPES)},
                "credential_metadata": {"display": [{"name": _OB3_NAMES[lang], "locale": lang}
                                                    for lang in LANGUAGES]},
            },
        },
    }


def authorization_server_metadata(credential_issuer: str, client_auth: tuple[str, ...] = ("none",)
                                  ) -> dict[str, Any]:
    """RFC 8414 metadata at ``/.well-known/oauth-authorization-server`` (the issuer is its own AS).
    ``client_auth``: how wallets may authenticate at PAR and token endpoints: ``none`` (public clients) and/or
    ``attest_jwt_client_auth`` (wallet attestation, :mod:`~microcred.oid4vci.client_attestation`); without
    ``none`` a pre-authorized code needs an authenticated wallet too."""
    document: dict[str, Any] = {
        "issuer": credential_issuer,
        "token_endpoint": endpoint(credential_issuer, "token"),
        "authorization_endpoint": endpoint(credential_issuer, "authorize"),
        "pushed_authorization_request_endpoint": endpoint(credential_issuer, "par"),
        "require_pushed_authorization_requests": True,
        "code_challenge_methods_supported": ["S256"],
        "grant_types_supported": [AUTHORIZATION_CODE_GRANT, PRE_AUTHORIZED_GRANT],
        "pre-authorized_grant_anonymous_access_supported": "none" in client_auth,
        "token_endpoint_auth_methods_supported": list(client_auth),
        "dpop_signing_alg_values_supported": ["ES256"],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "authorization_response_iss_parameter_supported": True,
        "authorization_details_types_supported": ["openid_credential"],
        "scopes_supported": [SD_JWT_CONFIGURATION, LDP_CONFIGURATION],
    }
    if "attest_jwt_client_auth" in client_auth:
        document["client_attestation_signing_alg_values_supported"] = ["ES256"]
        document["client_attestation_pop_signing_alg_values_supported"] = ["ES256"]
    return document
