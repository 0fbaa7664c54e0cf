"""OpenID4VP 1.0's DCQL examples beyond test_oid4vp_dcql_spec_examples.py (which parses and evaluates the §6.4
and appendix queries): the W3C format queries of Appendix B (``jwt_vc_json``, ``ldp_vc`` with ``type_values``),
the trusted authorities entries of §6.1.1, the claims path pointer example of §7.4, and the wallet's matcher
answering (or refusing by name) every example query with the specification's own SD-JWT VC (OpenID4VCI 1.0
Appendix A.3.4's credential response). Fixtures: tests/fixtures/spec_examples/README.md, tests/fixtures/dcql."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from microcred.oid4vp.dcql import DcqlError, DcqlQuery, Presented, evaluate, parse_query, select
from services.wallet.domain.oid4vp_matching import (
    INCOMPLETE,
    NO_MATCH,
    AnswerError,
    Choice,
    answerable,
    match,
    parse_holding,
    plan_answer,
)
from services.wallet.domain.presentations_oid4vp import VerifierRequest
from tests.spec_examples import example_json

DCQL = Path(__file__).resolve().parents[1] / "fixtures" / "dcql"
SPEC_SD_JWT_VC = example_json("openid4vci", "credential_response_sd_jwt_vc.txt")["credentials"][0]["credential"]


def wallet_request(query: DcqlQuery) -> VerifierRequest:
    return VerifierRequest("x509_san_dns:client.example.org", True,
                           {"nonce": "n-0S6_WzA2Mj", "response_uri": "https://client.example.org/post",
                            "response_mode": "direct_post"}, query)


def test_the_jwt_vc_json_query_is_refused_by_the_verifier_and_kept_unmet_by_the_wallet() -> None:
    raw = example_json("openid4vp", "dcql_jwt_vc.json")
    with pytest.raises(DcqlError) as caught:
        parse_query(raw)
    assert caught.value.field == "credentials[0].format"
    (query,) = parse_query(raw, lenient=True).credentials
    assert (query.id, query.format, query.supported) == ("example_jwt_vc", "jwt_vc_json", False)


def test_the_ldp_vc_query_reads_its_type_values_and_claims() -> None:
    raw = example_json("openid4vp", "dcql_ldp_vc.json")
    for lenient in (False, True):
        (query,) = parse_query(raw, lenient=lenient).credentials
        assert query.format == "ldp_vc" and query.type_values == (("IDCredential",),)
        assert query.claims[3].path == ("credentialSubject", "address", "street_address")
    subject = {"family_name": "Doe", "given_name": "John", "birthdate": "1990-01-01",
               "address": {"street_address": "1 Main St", "locality": "Anytown", "postal_code": "90210",
                           "country": "US"}}
    document = {"type": ["VerifiableCredential", "IDCredential"], "credentialSubject": subject}
    parsed = parse_query(raw)
    assert evaluate(parsed, {"example_ldp_vc": [Presented("ldp_vc", document,
                                                          types=tuple(document["type"]))]}).satisfied
    other = ("VerifiableCredential", "OpenBadgeCredential")
    assert not evaluate(parsed, {"example_ldp_vc": [Presented("ldp_vc", document, types=other)]}).satisfied


@pytest.mark.parametrize("name", ["trusted_authorities_aki.json", "trusted_authorities_etsi_tl.json",
                                  "trusted_authorities_openid_federation.json"])
def test_each_trusted_authorities_entry_is_read(name: str) -> None:
    entry = example_json("openid4vp", name)
    query = {"credentials": [{"id": "pid", "format": "dc+sd-jwt",
                              "meta": {"vct_values": ["https://credentials.example.com/identity_credential"]},
                              "trusted_authorities": [entry]}]}
    (authority,) = parse_query(query, lenient=True).credentials[0].trusted_authorities
    assert (authority.type, authority.values) == (entry["type"], tuple(entry["values"]))
    # only aki can be checked here: another type is never met, so nothing is offered under it
    held = parse_holding("spec", SPEC_SD_JWT_VC)
    assert match(wallet_request(parse_query(query, lenient=True)), [held]) == []


@pytest.mark.parametrize(("path", "selected"), [
    (["name"], ["Arthur Dent"]),
    (["address"], [{"street_address": "42 Market Street", "locality": "Milliways", "postal_code": "12345"}]),
    (["address", "street_address"], ["42 Market Street"]),
    (["degrees", None, "type"], ["Bachelor of Science", "Master of Science"]),
    (["nationalities", 1], ["Betelgeusian"]),
])
def test_the_claims_path_pointer_example(path: list[Any], selected: list[Any]) -> None:
    assert select(example_json("openid4vp", "claims_path_pointer_credential.json"), path) == selected


@pytest.mark.parametrize(("name", "met", "refusal"), [
    ("simple", ("my_credential",), None),
    ("credentials_alternatives", ("pid",), None),  # the first option of the required set, alone
    ("claims_alternatives", (), NO_MATCH),  # the credential lacks postal_code / locality+region
    ("value_matching_simple", (), NO_MATCH),  # no postal_code to match a value
    ("multi_credentials", ("pid",), INCOMPLETE),  # the mdoc it also needs is not held
    ("simple_mdoc", (), NO_MATCH),
    ("complex_mdoc", (), NO_MATCH),
])
def test_the_wallet_answers_each_example_query_with_the_specs_credential_or_names_why_not(
        name: str, met: tuple[str, ...], refusal: str | None) -> None:
    query = parse_query(json.loads((DCQL / f"{name}.json").read_text()), lenient=True)
    request = wallet_request(query)
    held = parse_holding("spec", SPEC_SD_JWT_VC)
    found = match(request, [held])
    assert tuple(c.query_id for c in found) == met
    choices = [Choice(c.query_id, "spec") for c in found] or [Choice(query.credentials[0].id, "spec")]
    if refusal is None:
        assert answerable(query, met)
        planned = plan_answer(request, {"spec": held}, choices)
        assert [p.query.id for p in planned] == list(met)
        assert set(planned[0].option.labels) == {"family_name", "given_name", "address.street_address"}
        return
    with pytest.raises(AnswerError) as caught:
        plan_answer(request, {"spec": held}, choices)
    assert caught.value.code == refusal
