"""Offers are for both configurations (SD-JWT VC and ldp_vc): the offer document, the pushed authorization
request's choice among them, and the metadata's truthful ldp_vc entry."""

from __future__ import annotations

import json

import pytest

from microcred.oid4vci import authorization as az
from microcred.oid4vci.errors import OAuthError
from microcred.oid4vci.metadata import (
    LDP_CONFIGURATION,
    OFFERED_CONFIGURATIONS,
    SD_JWT_CONFIGURATION,
    authorization_server_metadata,
    credential_issuer_metadata,
)
from microcred.oid4vci.offers import credential_offer

ISSUER = "https://issuer.example.eu"
CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"  # RFC 7636 Appendix B


def form(**extra: str) -> dict[str, str]:
    return {"response_type": "code", "client_id": "wallet", "redirect_uri": "https://wallet.example/cb",
            "code_challenge": CHALLENGE, "code_challenge_method": "S256", "issuer_state": "st", **extra}


def details(*ids: str) -> str:
    return json.dumps([{"type": "openid_credential", "credential_configuration_id": i} for i in ids])


def test_the_offer_lists_both_configurations_sd_jwt_first() -> None:
    offer = credential_offer(ISSUER, "code", tx_code=False, configurations=OFFERED_CONFIGURATIONS)
    assert offer["credential_configuration_ids"] == [SD_JWT_CONFIGURATION, LDP_CONFIGURATION]
    metadata = credential_issuer_metadata(ISSUER)["credential_configurations_supported"]
    assert set(offer["credential_configuration_ids"]) <= set(metadata)


@pytest.mark.parametrize(("asked", "chosen"), [
    ({"authorization_details": details(LDP_CONFIGURATION)}, LDP_CONFIGURATION),
    ({"authorization_details": details(SD_JWT_CONFIGURATION)}, SD_JWT_CONFIGURATION),
    ({"scope": f"openid {LDP_CONFIGURATION}"}, LDP_CONFIGURATION),
    ({}, SD_JWT_CONFIGURATION),
])
def test_a_pushed_request_may_ask_for_either_configuration(asked: dict[str, str], chosen: str) -> None:
    request = az.check_pushed_request(form(**asked), OFFERED_CONFIGURATIONS, OFFERED_CONFIGURATIONS)
    assert request.configuration == chosen


def test_a_configuration_the_offer_does_not_list_is_refused() -> None:
    with pytest.raises(OAuthError) as caught:
        az.check_pushed_request(form(authorization_details=details("other")), OFFERED_CONFIGURATIONS,
                                OFFERED_CONFIGURATIONS)
    assert caught.value.error == "invalid_authorization_details"
    with pytest.raises(OAuthError) as caught:  # an offer of one configuration only still refuses the other
        az.check_pushed_request(form(scope=LDP_CONFIGURATION), SD_JWT_CONFIGURATION, OFFERED_CONFIGURATIONS)
    assert caught.value.error == "invalid_scope"


def test_the_ldp_vc_metadata_says_what_is_delivered() -> None:
    ldp = credential_issuer_metadata(ISSUER)["credential_configurations_supported"][LDP_CONFIGURATION]
    assert ldp["format"] == "ldp_vc" and ldp["cryptographic_binding_methods_supported"] == ["did:key", "did:jwk"]
    # the key proofs checked by microcred.oid4vci.proofs: ES256, and Ed25519 keys under either name
    assert ldp["proof_types_supported"] == {"jwt": {"proof_signing_alg_values_supported": ["ES256", "EdDSA",
                                                                                           "Ed25519"]}}
    assert authorization_server_metadata(ISSUER)["scopes_supported"] == list(OFFERED_CONFIGURATIONS)
