"""What a credential request (OpenID4VCI 1.0 §8.2) asks for, and the holder keys its proofs prove.

Pure: the request body is read (the configuration, the proof type and its proofs, within ``MAX_BATCH``), a request
for an encrypted response is refused, and ``jwt`` or ``attestation`` proofs are checked into the holder keys the
credentials are bound to and the nonces the caller spends (:class:`~.offers.Offers` spends them atomically with
the token). ``di_vp`` proofs need the JSON-LD worker, so the caller checks those itself.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from microcred.oid4vci import errors as e
from microcred.oid4vci.errors import OAuthError
from microcred.oid4vci.key_attestation import KeyAttestationPolicy, check_key_attestation
from microcred.oid4vci.metadata import BATCH_SIZE, LDP_CONFIGURATION, OFFERED_CONFIGURATIONS
from microcred.oid4vci.proofs import check_key_proof

__all__ = ["MAX_BATCH", "Holder", "proven_keys", "refuse_encryption", "request_proofs", "requested_configuration"]

#: Credentials (proofs, attested keys) per request at most: the batch size the metadata announces.
MAX_BATCH = BATCH_SIZE


def refuse_encryption(body: dict[str, Any]) -> None:
    """A request asking for an encrypted response (§8.2, §10) is refused rather than answered in clear: this
    issuer's metadata offers no ``credential_response_encryption``, and a wallet that asks expects a JWE."""
    if "credential_response_encryption" in body:
        raise OAuthError(e.INVALID_ENCRYPTION_PARAMETERS, "this issuer does not encrypt credential responses (its "
                                                          "metadata has no credential_response_encryption): ask "
                                                          "without credential_response_encryption")


def requested_configuration(body: dict[str, Any]) -> str:
    """The configuration a credential request names (§8.2): by ``credential_identifier`` (the token response's
    ``credential_identifiers``, here the configuration ids) or by ``credential_configuration_id``, exactly one of
    the two (both: ``invalid_credential_request``, "When this parameter is used, the credential_configuration_id
    MUST NOT be present"); an identifier this issuer did not give is ``unknown_credential_identifier``, a
    configuration it does not offer ``unknown_credential_configuration``."""
    named = [name for name in ("credential_identifier", "credential_configuration_id") if name in body]
    if len(named) != 1:
        raise OAuthError(e.INVALID_CREDENTIAL_REQUEST, "the request must name exactly one of credential_identifier "
                                                       "(from the token response) and credential_configuration_id")
    [name] = named
    wanted = body[name]
    if not isinstance(wanted, str):
        raise OAuthError(e.INVALID_CREDENTIAL_REQUEST, f"{name} must be a string")
    if wanted not in OFFERED_CONFIGURATIONS:
        raise OAuthError(e.UNKNOWN_CREDENTIAL_IDENTIFIER if name == "credential_identifier"
                         else e.UNKNOWN_CREDENTIAL_CONFIGURATION,
                         f"{name} must be one of {list(OFFERED_CONFIGURATIONS)}")
    return wanted


def request_proofs(body: Any, attestations: bool, di_vp: bool = False) -> tuple[str, str, list[Any]]:
    """The configuration, proof type and proofs of a credential request (§8.2): ``credential_identifier`` or
    ``credential_configuration_id`` (:func:`requested_configuration`) and ``proofs: {"jwt": [...]}`` with
    1..MAX_BATCH entries (the single ``proof`` form was removed in 1.0), or, with ``attestations`` (an issuer that
    checks key attestations), ``proofs: {"attestation": [one key attestation]}`` (Appendix F.3), or, with ``di_vp``
    and for the ``ldp_vc`` configuration, ``proofs: {"di_vp": [...]}`` with 1..MAX_BATCH presentations (Appendix
    F.2)."""
    if not isinstance(body, dict):
        raise OAuthError(e.INVALID_CREDENTIAL_REQUEST, "the body must be a JSON object")
    refuse_encryption(body)
    wanted = requested_configuration(body)
    proofs = body.get("proofs")
    if attestations and isinstance(proofs, dict) and set(proofs) == {"attestation"}:
        if not isinstance(proofs["attestation"], list) or len(proofs["attestation"]) != 1:
            raise OAuthError(e.INVALID_PROOF, "proofs.attestation must hold exactly one key attestation")
        return wanted, "attestation", list(proofs["attestation"])
    if di_vp and isinstance(proofs, dict) and set(proofs) == {"di_vp"}:
        if wanted != LDP_CONFIGURATION:
            raise OAuthError(e.INVALID_PROOF, f"di_vp proofs are taken for {LDP_CONFIGURATION} only")
        if not isinstance(proofs["di_vp"], list) or not 1 <= len(proofs["di_vp"]) <= MAX_BATCH:
            raise OAuthError(e.INVALID_PROOF, f"proofs.di_vp must hold 1..{MAX_BATCH} presentations")
        return wanted, "di_vp", list(proofs["di_vp"])
    if not isinstance(proofs, dict) or set(proofs) != {"jwt"} or not isinstance(proofs["jwt"], list) \
            or not 1 <= len(proofs["jwt"]) <= MAX_BATCH:
        also = ' or {"attestation": [one key attestation]}' if attestations else ""
        raise OAuthError(e.INVALID_PROOF, f"proofs must be {{\"jwt\": [1..{MAX_BATCH} key proofs]}}{also}")
    return wanted, "jwt", list(proofs["jwt"])


#: A holder key a credential is bound to: its public JWK, and the DID a proof's ``kid`` named it by (else None).
Holder = tuple[dict[str, Any], str | None]


def proven_keys(kind: str, proofs: list[Any], credential_issuer: str, now: datetime, max_age: float,
                 attestations: KeyAttestationPolicy | None) -> tuple[list[Holder], list[str]]:
    """The holder keys the credentials are bound to (one credential each), each with the DID a proof's ``kid``
    named it by (else None), and the nonces to spend, from checked proofs: each ``jwt`` proof's key, then the keys
    its key attestation attests that are not listed yet (§F.1: the issuer "SHOULD issue a Credential for each");
    or the keys of an ``attestation`` proof. At most MAX_BATCH keys."""
    if kind == "attestation":
        assert attestations is not None
        attested = check_key_attestation(proofs[0], policy=attestations, use="attestation", now=now,
                                         max_keys=MAX_BATCH)
        assert attested.nonce is not None  # required for this use: checked
        return [(jwk, None) for jwk in attested.keys], [attested.nonce]
    checked = [check_key_proof(p, audience=credential_issuer, now=now, max_age=max_age, attestations=attestations,
                               max_keys=MAX_BATCH) for p in proofs]
    keys: list[Holder] = [(k.jwk, k.did) for k in checked]
    nonces = [k.nonce for k in checked]
    for proof in checked:
        if proof.attestation is not None:
            listed = [jwk for jwk, _ in keys]
            keys += [(jwk, None) for jwk in proof.attestation.keys if jwk not in listed]
            if proof.attestation.nonce is not None:
                nonces.append(proof.attestation.nonce)
    if len(keys) > MAX_BATCH:
        raise OAuthError(e.INVALID_PROOF, f"the proofs and their key attestations name {len(keys)} keys; at most "
                                          f"{MAX_BATCH} credentials are issued per request")
    return keys, nonces
