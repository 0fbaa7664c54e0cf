"""Reading a credential request (OpenID4VCI 1.0 §8.2) and the holder keys its proofs prove, without I/O."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from microcred.oid4vci.errors import OAuthError
from microcred.oid4vci.metadata import LDP_CONFIGURATION, SD_JWT_CONFIGURATION, credential_issuer_metadata
from services.issuer.application.credential_request import MAX_BATCH, proven_keys, refuse_encryption, request_proofs
from tests.harness.oid4vci_wallet import key_proof, public_jwk_of

ISSUER = "https://issuer.example"


def refused(body: Any, *, attestations: bool = False, di_vp: bool = False) -> tuple[str, str]:
    with pytest.raises(OAuthError) as caught:
        request_proofs(body, attestations, di_vp)
    return caught.value.error, caught.value.description


def test_a_request_gives_its_configuration_proof_type_and_proofs() -> None:
    body = {"credential_configuration_id": SD_JWT_CONFIGURATION, "proofs": {"jwt": ["a", "b"]}}
    assert request_proofs(body, False) == (SD_JWT_CONFIGURATION, "jwt", ["a", "b"])
    by_identifier = {"credential_identifier": LDP_CONFIGURATION, "proofs": {"jwt": ["a"]}}
    assert request_proofs(by_identifier, False) == (LDP_CONFIGURATION, "jwt", ["a"])
    vp = {"credential_configuration_id": LDP_CONFIGURATION, "proofs": {"di_vp": [{"type": "VerifiablePresentation"}]}}
    assert request_proofs(vp, False, di_vp=True)[1:] == ("di_vp", [{"type": "VerifiablePresentation"}])
    attested = {"credential_configuration_id": SD_JWT_CONFIGURATION, "proofs": {"attestation": ["x"]}}
    assert request_proofs(attested, True) == (SD_JWT_CONFIGURATION, "attestation", ["x"])


def test_the_batch_limit_is_the_batch_size_the_metadata_announces() -> None:
    assert credential_issuer_metadata(ISSUER)["batch_credential_issuance"]["batch_size"] == MAX_BATCH
    too_many = {"credential_configuration_id": SD_JWT_CONFIGURATION, "proofs": {"jwt": ["p"] * (MAX_BATCH + 1)}}
    assert refused(too_many)[0] == "invalid_proof"


@pytest.mark.parametrize(("body", "error", "named"), [
    ([], "invalid_credential_request", "JSON object"),
    ({"credential_configuration_id": "other", "proofs": {"jwt": ["p"]}}, "unknown_credential_configuration",
     "credential_configuration_id"),
    ({"credential_identifier": "other", "proofs": {"jwt": ["p"]}}, "unknown_credential_identifier",
     "credential_identifier"),
    # §8.2: "When this parameter is used, the credential_configuration_id MUST NOT be present"
    ({"credential_identifier": SD_JWT_CONFIGURATION, "credential_configuration_id": SD_JWT_CONFIGURATION,
      "proofs": {"jwt": ["p"]}}, "invalid_credential_request", "exactly one"),
    ({"proofs": {"jwt": ["p"]}}, "invalid_credential_request", "exactly one"),
    ({"credential_identifier": ["x"], "proofs": {"jwt": ["p"]}}, "invalid_credential_request", "a string"),
    ({"credential_configuration_id": None, "proofs": {"jwt": ["p"]}}, "invalid_credential_request", "a string"),
    ({"credential_configuration_id": SD_JWT_CONFIGURATION, "proof": {"proof_type": "jwt", "jwt": "p"}},
     "invalid_proof", "proofs must be"),
    ({"credential_configuration_id": SD_JWT_CONFIGURATION, "proofs": {"jwt": []}}, "invalid_proof", "proofs must be"),
    ({"credential_configuration_id": SD_JWT_CONFIGURATION, "proofs": {"jwt": "p"}}, "invalid_proof", "proofs must be"),
    ({"credential_configuration_id": SD_JWT_CONFIGURATION, "proofs": {"jwt": ["p"], "di_vp": [{}]}},
     "invalid_proof", "proofs must be"),
    ({"credential_configuration_id": SD_JWT_CONFIGURATION, "proofs": {"attestation": ["x"]}}, "invalid_proof",
     "proofs must be"),
    ({"credential_configuration_id": SD_JWT_CONFIGURATION, "proofs": {"jwt": ["p"]},
      "credential_response_encryption": {"enc": "A256GCM"}}, "invalid_encryption_parameters", "encrypt"),
])
def test_a_malformed_request_is_named_with_its_error_code(body: Any, error: str, named: str) -> None:
    code, description = refused(body)
    assert code == error and named in description


def test_proof_types_the_issuer_does_not_take_are_refused_by_name() -> None:
    vp_for_sd_jwt = {"credential_configuration_id": SD_JWT_CONFIGURATION, "proofs": {"di_vp": [{}]}}
    assert "ob3_achievement_credential_ldp only" in refused(vp_for_sd_jwt, di_vp=True)[1]
    two_attestations = {"credential_configuration_id": SD_JWT_CONFIGURATION, "proofs": {"attestation": ["x", "y"]}}
    assert "exactly one key attestation" in refused(two_attestations, attestations=True)[1]
    no_vps = {"credential_configuration_id": LDP_CONFIGURATION, "proofs": {"di_vp": []}}
    assert "1..10 presentations" in refused(no_vps, di_vp=True)[1]
    with pytest.raises(OAuthError):
        refuse_encryption({"credential_response_encryption": None})
    refuse_encryption({"proofs": {}})  # no encryption asked: nothing to refuse


def test_each_jwt_proof_proves_its_key_and_gives_its_nonce() -> None:
    keys = [ec.generate_private_key(ec.SECP256R1()) for _ in range(3)]
    proofs = [key_proof(k, ISSUER, f"nonce-{n}") for n, k in enumerate(keys)]
    holders, nonces = proven_keys("jwt", proofs, ISSUER, datetime.now(UTC), 300, None)
    assert holders == [(public_jwk_of(k), None) for k in keys]
    assert nonces == ["nonce-0", "nonce-1", "nonce-2"]


def test_a_proof_for_another_audience_or_too_old_is_invalid() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(OAuthError) as caught:
        proven_keys("jwt", [key_proof(key, "https://other.example", "n")], ISSUER, datetime.now(UTC), 300, None)
    assert caught.value.error == "invalid_proof"
    old = key_proof(key, ISSUER, "n", iat=time.time() - 3600)
    with pytest.raises(OAuthError) as caught:
        proven_keys("jwt", [old], ISSUER, datetime.now(UTC), 300, None)
    assert caught.value.error == "invalid_proof"
