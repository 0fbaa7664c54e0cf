"""The DCQL queries of OpenID4VP 1.0's own examples (tests/fixtures/dcql/SOURCES.md) parse, and evaluate as the
specification describes them against credentials that do and do not meet them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from microcred.oid4vp.dcql import DcqlError, Presented, evaluate, parse_query

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "dcql"
PID = "https://credentials.example.com/identity_credential"
PERSON = {"family_name": "Doe", "given_name": "John", "address": {"street_address": "123 Main St"},
          "postal_code": "90210", "locality": "Anytown", "region": "Anystate", "date_of_birth": "1990-01-01"}


def query(name: str) -> Any:
    return parse_query(json.loads((FIXTURES / f"{name}.json").read_text()))


def sd(vct: str, **claims: Any) -> Presented:
    return Presented("dc+sd-jwt", claims, vct)


def test_every_json_example_parses_and_mdoc_is_refused_by_field() -> None:
    for name in ("simple", "claims_alternatives", "credentials_alternatives", "value_matching_simple"):
        assert query(name).credentials
    for name, field in (("simple_mdoc", "credentials[0].format"), ("complex_mdoc", "credentials[0].format"),
                        ("multi_credentials", "credentials[1].format")):
        with pytest.raises(DcqlError) as caught:
            query(name)
        assert caught.value.field == field


def test_simple_needs_every_claim_it_lists() -> None:
    assert evaluate(query("simple"), {"my_credential": [sd(PID, **PERSON)]}).satisfied
    lacking = {k: v for k, v in PERSON.items() if k != "address"}
    result = evaluate(query("simple"), {"my_credential": [sd(PID, **lacking)]})
    assert not result.satisfied and result.outcomes[0].missing == ("address.street_address: not disclosed",)
    assert not evaluate(query("simple"), {"my_credential": [sd("https://other.example/vct", **PERSON)]}).satisfied


def test_claims_alternatives_are_met_by_either_claim_set() -> None:
    first = {k: PERSON[k] for k in ("family_name", "locality", "region", "date_of_birth")}
    second = {k: PERSON[k] for k in ("family_name", "postal_code", "date_of_birth")}
    for claims in (first, second):
        assert evaluate(query("claims_alternatives"), {"pid": [sd(PID, **claims)]}).satisfied
    result = evaluate(query("claims_alternatives"), {"pid": [sd(PID, family_name="Doe", date_of_birth="1990")]})
    assert not result.satisfied
    assert result.outcomes[0].missing == ("postal_code: not disclosed",)  # the closest option's gap


def test_credentials_alternatives_need_one_required_option_whole() -> None:
    q = query("credentials_alternatives")
    reduced_1 = sd("https://credentials.example.com/reduced_identity_credential", family_name="Doe", given_name="J")
    reduced_2 = sd("https://cred.example/residence_credential", postal_code="90210", locality="A", region="R")
    assert evaluate(q, {"pid": [sd(PID, **PERSON)]}).satisfied
    assert evaluate(q, {"pid_reduced_cred_1": [reduced_1], "pid_reduced_cred_2": [reduced_2]}).satisfied
    half = evaluate(q, {"pid_reduced_cred_1": [reduced_1]})
    assert not half.satisfied
    assert half.missing == ("credential set 1: none of the options pid | other_pid | "
                            "pid_reduced_cred_1+pid_reduced_cred_2 was met",)
    # the optional set may be left out, and may come along
    rewards = sd("https://company.example/company_rewards", rewards_number="RN-1")
    assert evaluate(q, {"pid": [sd(PID, **PERSON)], "nice_to_have": [rewards]}).satisfied


@pytest.mark.parametrize(("family_name", "postal_code", "met"), [
    ("Doe", "90210", True), ("Doe", "90211", True), ("Doe", "90212", False), ("Roe", "90210", False),
    ("Doe", 90210, False),  # "the type and value of the claim both match exactly"
])
def test_value_matching_compares_type_and_value(family_name: str, postal_code: Any, met: bool) -> None:
    claims = {**PERSON, "family_name": family_name, "postal_code": postal_code}
    assert evaluate(query("value_matching_simple"), {"my_credential": [sd(PID, **claims)]}).satisfied is met


def test_a_wallet_reads_every_example_keeping_mdoc_queries_unmet() -> None:
    """OpenID4VP 1.0 §6, §6.4.2: a wallet (``lenient``) ignores unknown members and keeps a credential query of a
    format it does not hold, which nothing meets; the verifier's strict reading above refuses them."""
    for name in ("simple_mdoc", "complex_mdoc", "multi_credentials"):
        raw = json.loads((FIXTURES / f"{name}.json").read_text())
        read = parse_query({**raw, "future_extension": {"x": 1}}, lenient=True)
        mdoc = [c for c in read.credentials if c.format == "mso_mdoc"]
        assert mdoc and not any(c.supported for c in mdoc) and not any(c.claims for c in mdoc), name
    multi = parse_query(json.loads((FIXTURES / "multi_credentials.json").read_text()), lenient=True)
    pid = sd(PID, **PERSON)
    result = evaluate(multi, {"pid": [pid], "mdl": [Presented("mso_mdoc", PERSON)]})
    assert not result.satisfied and result.outcomes[1].missing == ("format mso_mdoc is not supported",)
