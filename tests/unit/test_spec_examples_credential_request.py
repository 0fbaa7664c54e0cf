"""OpenID4VCI 1.0's Credential Request examples (§8.2) as our issuer reads them, and its token, Credential and
deferred response examples (§6.2, §8.3) as our wallet reads them. Fixtures: tests/fixtures/spec_examples/README.md.

The request examples name configurations and identifiers of another issuer and carry truncated proofs (a JOSE
header alone): our issuer refuses each with the error §8.3.1.2 names; with only the name changed to one of ours,
the request's shape is taken and the proofs themselves are refused as ``invalid_proof``."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from microcred.oid4vci.errors import OAuthError
from microcred.oid4vci.metadata import LDP_CONFIGURATION, SD_JWT_CONFIGURATION
from services.issuer.application.credential_request import proven_keys, request_proofs
from services.wallet.domain import issuer_requests as ir
from services.wallet.domain.deferred import deferred_answer
from services.wallet.domain.oid4vp_matching import parse_holding
from tests.spec_examples import example_json

ISSUER = "https://server.example.com"
NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def refused(body: Any, *, di_vp: bool = False) -> tuple[str, str]:
    with pytest.raises(OAuthError) as caught:
        request_proofs(body, False, di_vp)
    return caught.value.error, caught.value.description


def test_the_mdl_request_names_a_configuration_this_issuer_does_not_offer() -> None:
    body = example_json("openid4vci", "credential_request_mdl.txt")
    assert refused(body)[0] == "unknown_credential_configuration"
    kind_and_proofs = request_proofs({**body, "credential_configuration_id": SD_JWT_CONFIGURATION}, False)
    assert kind_and_proofs == (SD_JWT_CONFIGURATION, "jwt", body["proofs"]["jwt"])
    with pytest.raises(OAuthError) as caught:  # a JOSE header alone is no key proof
        proven_keys("jwt", body["proofs"]["jwt"], ISSUER, NOW, 300, None)
    assert caught.value.error == "invalid_proof"


def test_the_request_by_credential_identifier_for_two_instances() -> None:
    body = example_json("openid4vci", "credential_request_identifier.txt")
    assert refused(body)[0] == "unknown_credential_identifier"  # not an identifier this issuer's token gave
    ours = {**body, "credential_identifier": SD_JWT_CONFIGURATION}  # ours equal the configuration ids
    assert request_proofs(ours, False) == (SD_JWT_CONFIGURATION, "jwt", body["proofs"]["jwt"])
    assert len(body["proofs"]["jwt"]) == 2  # a batch of two, within the batch size
    with pytest.raises(OAuthError) as caught:
        proven_keys("jwt", body["proofs"]["jwt"], ISSUER, NOW, 300, None)
    assert caught.value.error == "invalid_proof"


def test_the_di_vp_request() -> None:
    body = example_json("openid4vci", "credential_request_di_vp.txt")
    assert refused(body, di_vp=True)[0] == "unknown_credential_identifier"
    ours = {**body, "credential_identifier": LDP_CONFIGURATION}
    configuration, kind, proofs = request_proofs(ours, False, di_vp=True)
    assert (configuration, kind) == (LDP_CONFIGURATION, "di_vp")
    assert proofs[0]["holder"] == "did:key:z6MkvrFpBNCoYewiaeBLgjUDvLxUtnK5R6mqh5XPvLsrPsro"
    # an issuer not taking di_vp proofs names the proof type it takes
    assert refused(ours) == ("invalid_proof", 'proofs must be {"jwt": [1..10 key proofs]}')


def test_haips_stale_request_example_is_refused_for_its_pre_final_members() -> None:
    """HAIP 1.0's examples/ keeps a draft-era request (``format``/``vct`` and one ``proof``), not in its text."""
    error, description = refused(example_json("haip", "credential_request_sd_jwt_vc.json"))
    assert error == "invalid_credential_request" and "credential_configuration_id" in description


def test_the_token_response_gives_the_first_credential_identifier() -> None:
    response = example_json("openid4vci", "token_response_authorization_details.txt")
    assert ir.access_token(response) == ("eyJhbGciOiJSUzI1NiIsInR5cCI6Ikp..sHQ", "Bearer")
    assert ir.credential_identifier(response, "UniversityDegreeCredential") == "CivilEngineeringDegree-2023"
    assert ir.credential_request("UniversityDegreeCredential", "proof", "CivilEngineeringDegree-2023") == {
        "credential_identifier": "CivilEngineeringDegree-2023", "proofs": {"jwt": ["proof"]}}


def test_the_sd_jwt_vc_credential_response_gives_an_sd_jwt_vc_bound_to_a_key() -> None:
    issued = ir.issued_credentials(example_json("openid4vci", "credential_response_sd_jwt_vc.txt"))
    assert issued.notification_id is None and len(issued.credentials) == 1
    compact = issued.credentials[0]
    assert isinstance(compact, str)
    held = parse_holding("spec", compact)  # its structure: every Disclosure, the cnf key
    assert held.vct == "https://credentials.example.com/identity_credential" and held.kb_alg == "ES256"
    assert held.claims["address"]["locality"] == "Anytown" and held.claims["is_over_65"] is True
    assert len(held.disclosures) == 9


def test_the_ldp_vc_credential_response_gives_a_json_object() -> None:
    issued = ir.issued_credentials(example_json("openid4vci", "credential_response_ldp_vc.txt"))
    (credential,) = issued.credentials
    assert isinstance(credential, dict) and credential["id"] == "http://example.edu/credentials/3732"
    assert credential["proof"]["proofValue"].startswith("zeEdUoM7m9cY8ZyTpey83yBKeBcmcvbyrEQzJ19rD2UXArU2U1jPGo")


def test_two_credentials_with_a_notification_id_and_the_deferred_answer() -> None:
    response = example_json("openid4vci", "credential_response_multiple.txt")
    assert not ir.is_deferred(200, response)
    issued = ir.issued_credentials(response)
    assert issued == ir.Issued(("LUpixVCWJk0eOt4CXQe1NXK....WZwmhmn9OQp6YxX0a2L",
                                "YXNkZnNhZGZkamZqZGFza23....29tZTIzMjMyMzIzMjMy"), "3fwe98js")
    deferred = example_json("openid4vci", "credential_response_deferred.txt")
    assert ir.is_deferred(202, deferred) and deferred_answer(deferred) == ("8xLOxBtZp8", 3600)
