"""DCQL (OpenID4VP 1.0 §6, §7): parsing with named errors, claims path pointers, and evaluation."""

from __future__ import annotations

from typing import Any

import pytest

from microcred.oid4vp.dcql import DcqlError, Presented, aka_vcts_of, evaluate, parse_query, select

VCT = "urn:eu.europa.ec.eudi:learning:credential:1"


def sd_query(**extra: Any) -> dict[str, Any]:
    return {"credentials": [{"id": "mc", "format": "dc+sd-jwt", "meta": {"vct_values": [VCT]},
                             "claims": [{"path": ["achievement_title"]},
                                        {"path": ["level_of_learning_experience", "eqf_level"],
                                         "values": [6, 7, 8]}], **extra}]}


CLAIMS = {"vct": VCT, "achievement_title": "Data", "level_of_learning_experience": {"eqf_level": 6},
          "learning_outcomes": [{"title": "a"}, {"title": "b"}]}


def test_the_spec_example_parses() -> None:
    # OpenID4VP 1.0 §6.4.1 (first example), as published.
    query = parse_query({"credentials": [{"id": "my_credential", "format": "dc+sd-jwt",
                                          "meta": {"vct_values": ["https://credentials.example.com/identity_credential"]},
                                          "claims": [{"path": ["last_name"]}, {"path": ["first_name"]},
                                                     {"path": ["address", "street_address"]}]}]})
    assert query.credentials[0].claims[2].path == ("address", "street_address")
    assert query.credentials[0].require_cryptographic_holder_binding


@pytest.mark.parametrize(("query", "field"), [
    ({}, "credentials"),
    ({"credentials": [{"id": "a b", "format": "dc+sd-jwt", "meta": {"vct_values": ["x"]}}]}, "credentials[0].id"),
    ({"credentials": [{"id": "a", "format": "mso_mdoc", "meta": {}}]}, "credentials[0].format"),
    ({"credentials": [{"id": "a", "format": "dc+sd-jwt", "meta": {}}]}, "credentials[0].meta.vct_values"),
    ({"credentials": [{"id": "a", "format": "ldp_vc", "meta": {"type_values": ["x"]}}]},
     "credentials[0].meta.type_values[0]"),
    ({"credentials": [{"id": "a", "format": "dc+sd-jwt", "meta": {"vct_values": ["x"]},
                       "claims": [{"path": ["a", -1]}]}]}, "credentials[0].claims[0].path[1]"),
    ({"credentials": [{"id": "a", "format": "dc+sd-jwt", "meta": {"vct_values": ["x"]},
                       "claims": [{"path": ["a"], "values": [1.5]}]}]}, "credentials[0].claims[0].values[0]"),
    ({"credentials": [{"id": "a", "format": "dc+sd-jwt", "meta": {"vct_values": ["x"]},
                       "claims": [{"path": ["a"]}], "claim_sets": [["x"]]}]}, "credentials[0].claims[0].id"),
    ({"credentials": [{"id": "a", "format": "dc+sd-jwt", "meta": {"vct_values": ["x"]},
                       "claims": [{"id": "p", "path": ["a"]}], "claim_sets": [["q"]]}]},
     "credentials[0].claim_sets[0]"),
    ({"credentials": [{"id": "a", "format": "dc+sd-jwt", "meta": {"vct_values": ["x"]}}],
      "credential_sets": [{"options": [["b"]]}]}, "credential_sets[0].options[0]"),
    ({"credentials": [{"id": "a", "format": "dc+sd-jwt", "meta": {"vct_values": ["x"]}}] * 2}, "credentials"),
    ({"credentials": [{"id": "a", "format": "dc+sd-jwt", "meta": {"vct_values": ["x"]}}], "extra": 1},
     "dcql_query.extra"),
    ({"credentials": [{"id": str(i), "format": "dc+sd-jwt", "meta": {"vct_values": ["x"]}} for i in range(17)]},
     "credentials"),
    (sd_query(trusted_authorities=[]), "credentials[0].trusted_authorities"),
    # not Unicode text: it could not be signed into the request object
    ({"credentials": [{"id": "a", "format": "dc+sd-jwt", "meta": {"vct_values": ["x\ud800"]}}]},
     "credentials[0].meta.vct_values[0]"),
    (sd_query(claims=[{"path": ["a", "\udfff"]}]), "credentials[0].claims[0].path[1]"),
    (sd_query(trusted_authorities=["aki"]), "credentials[0].trusted_authorities[0]"),
    (sd_query(trusted_authorities=[{"values": ["s9tIpPmhxdiuNkHMEWNpYim8S8Y"]}]),
     "credentials[0].trusted_authorities[0].type"),
    (sd_query(trusted_authorities=[{"type": "aki", "values": []}]), "credentials[0].trusted_authorities[0].values"),
    (sd_query(trusted_authorities=[{"type": "aki", "values": ["not base64url!"]}]),
     "credentials[0].trusted_authorities[0].values[0]"),
    (sd_query(trusted_authorities=[{"type": "aki", "values": ["padded=="]}]),
     "credentials[0].trusted_authorities[0].values[0]"),
])
def test_bad_queries_name_the_field(query: dict[str, Any], field: str) -> None:
    with pytest.raises(DcqlError) as caught:
        parse_query(query)
    assert caught.value.field == field


def test_claims_path_pointers() -> None:
    doc = {"a": [{"b": 1}, {"b": 2}, {"c": 3}], "d": {"e": None}}
    assert select(doc, ["a", None, "b"]) == [1, 2]
    assert select(doc, ["a", 1, "b"]) == [2]
    assert select(doc, ["a", 5]) == []
    assert select(doc, ["d", "e"]) == [None]
    assert select(doc, ["d", "x"]) == []
    assert select(doc, ["d", None]) == []  # null needs an array


@pytest.mark.parametrize(("doc", "path"), [
    ({"a": [{"b": 1}, "x"]}, ["a", None, "b"]),  # a string meets a selected element that is not an object
    ({"a": [[1], {"b": 2}]}, ["a", None, 0]),  # an index meets one that is not an array
    ({"a": [[1], 2]}, ["a", None, None]),  # null meets one that is not an array
    ({"a": "text"}, ["a", "b"]),
])
def test_claims_path_processing_aborts_where_openid4vp_says_so(doc: dict[str, Any], path: list[Any]) -> None:
    """OpenID4VP 1.0 §7.1: "If any of the currently selected element(s) is not an object [an array], abort
    processing and return an error": nothing is selected, even where other elements would have matched."""
    assert select(doc, path) == []


def test_an_index_names_the_element_as_issued_when_the_holder_withheld_others() -> None:
    """An SD-JWT's withheld array elements are gone from the processed claims: index 2 as issued is the first
    element left when elements 0 and 1 were withheld."""
    claims = {"langs": ["fr"], "deep": [{"v": ["z"]}]}
    hidden = frozenset({("langs", 0), ("langs", 1), ("deep", 0, "v", 0)})
    assert select(claims, ["langs", 2], hidden) == ["fr"]
    assert select(claims, ["langs", 0], hidden) == []
    assert select(claims, ["langs", None], hidden) == ["fr"]
    assert select(claims, ["deep", 0, "v", 1], hidden) == ["z"]
    assert select(claims, ["langs", 0]) == ["fr"]  # without them, as processed
    query = parse_query({"credentials": [{"id": "q", "format": "dc+sd-jwt", "meta": {"vct_values": [VCT]},
                                          "claims": [{"path": ["langs", 2], "values": ["fr"]}]}]})
    assert evaluate(query, {"q": [Presented("dc+sd-jwt", claims, VCT, hidden=hidden)]}).satisfied
    assert not evaluate(query, {"q": [Presented("dc+sd-jwt", {"langs": ["fr"]}, VCT)]}).satisfied


def test_a_credential_meeting_the_query_satisfies_it() -> None:
    result = evaluate(parse_query(sd_query()), {"mc": [Presented("dc+sd-jwt", CLAIMS, VCT)]})
    assert result.satisfied and result.outcomes[0].satisfied and not result.missing


def test_a_credential_whose_aka_vcts_names_the_type_asked_for_meets_vct_values() -> None:
    """SD-JWT VC draft -18 §2.2.2.2: a verifier asking for type X may take a credential of vct Y whose issuer says
    (aka_vcts) it is also of type X; no other type does."""
    own = "https://microcred.eu/vct/eu-micro-credential/v1"
    aka = Presented("dc+sd-jwt", {**CLAIMS, "vct": own}, own, aka_vcts=(VCT,))
    assert evaluate(parse_query(sd_query()), {"mc": [aka]}).satisfied
    other = Presented("dc+sd-jwt", {**CLAIMS, "vct": own}, own, aka_vcts=("urn:example:other",))
    result = evaluate(parse_query(sd_query()), {"mc": [other]})
    assert not result.satisfied and "aka_vcts urn:example:other" in result.outcomes[0].missing[0]
    assert aka_vcts_of({"aka_vcts": ["a", 1, "b"]}) == ("a", "b") and aka_vcts_of({"aka_vcts": "a"}) == ()


def test_a_value_outside_the_list_is_named() -> None:
    low = {**CLAIMS, "level_of_learning_experience": {"eqf_level": 5}}
    result = evaluate(parse_query(sd_query()), {"mc": [Presented("dc+sd-jwt", low, VCT)]})
    assert not result.satisfied
    assert result.outcomes[0].missing == ("level_of_learning_experience.eqf_level: value not among 6, 7, 8",)
    assert result.to_dict()["credentials"][0]["satisfied"] is False


def test_withheld_claims_wrong_type_and_no_binding_are_named() -> None:
    query = parse_query(sd_query())
    withheld = {k: v for k, v in CLAIMS.items() if k != "achievement_title"}
    assert evaluate(query, {"mc": [Presented("dc+sd-jwt", withheld, VCT)]}).outcomes[0].missing == (
        "achievement_title: not disclosed",)
    assert "vct other is not one of" in evaluate(query, {"mc": [Presented("dc+sd-jwt", CLAIMS, "other")]}
                                                 ).outcomes[0].missing[0]
    assert evaluate(query, {"mc": [Presented("dc+sd-jwt", CLAIMS, VCT, holder_bound=False)]}).outcomes[0].missing == (
        "no proof of possession (holder binding)",)
    assert evaluate(query, {"mc": [Presented("dc+sd-jwt", CLAIMS, VCT, verified=False)]}).outcomes[0].missing == (
        "the credential did not verify, so its claims cannot count",)
    assert evaluate(query, {}).outcomes[0].missing == ("no credential presented",)
    two = evaluate(query, {"mc": [Presented("dc+sd-jwt", CLAIMS, VCT)] * 2})
    assert not two.satisfied and "multiple is false" in two.outcomes[0].missing[0]
    extra = evaluate(query, {"mc": [Presented("dc+sd-jwt", CLAIMS, VCT)], "zz": []})
    assert not extra.satisfied and extra.missing == ("zz: not requested",)


def test_a_boolean_is_not_a_number() -> None:
    query = parse_query({"credentials": [{"id": "a", "format": "dc+sd-jwt", "meta": {"vct_values": ["x"]},
                                          "claims": [{"path": ["n"], "values": [1]}]}]})
    assert not evaluate(query, {"a": [Presented("dc+sd-jwt", {"n": True}, "x")]}).satisfied
    assert evaluate(query, {"a": [Presented("dc+sd-jwt", {"n": 1}, "x")]}).satisfied


def test_claim_sets_take_the_first_option_met_and_name_the_closest_otherwise() -> None:
    query = parse_query(sd_query(claims=[{"id": "t", "path": ["achievement_title"]},
                                         {"id": "o", "path": ["learning_outcomes", None, "title"]},
                                         {"id": "g", "path": ["assessment_grade"]}],
                                 claim_sets=[["t", "g"], ["t", "o"]]))
    assert evaluate(query, {"mc": [Presented("dc+sd-jwt", CLAIMS, VCT)]}).satisfied
    bare = {"vct": VCT, "achievement_title": "Data"}
    result = evaluate(query, {"mc": [Presented("dc+sd-jwt", bare, VCT)]})
    assert not result.satisfied and result.outcomes[0].missing == ("assessment_grade: not disclosed",)


def test_credential_sets_and_ldp_type_values() -> None:
    query = parse_query({
        "credentials": [
            {"id": "sd", "format": "dc+sd-jwt", "meta": {"vct_values": [VCT]}},
            {"id": "ldp", "format": "ldp_vc",
             "meta": {"type_values": [["VerifiableCredential", "AchievementCredential"]]},
             "claims": [{"path": ["credentialSubject", "achievement", "name"]}]},
            {"id": "extra", "format": "ldp_vc", "meta": {"type_values": [["Other"]]}}],
        "credential_sets": [{"options": [["sd"], ["ldp"]]}, {"options": [["extra"]], "required": False}]})
    vc = {"type": ["VerifiableCredential", "AchievementCredential"],
          "credentialSubject": {"achievement": {"name": "Data"}}}
    ok = evaluate(query, {"ldp": [Presented("ldp_vc", vc, types=tuple(vc["type"]))]})
    assert ok.satisfied, ok.to_dict()
    wrong = evaluate(query, {"ldp": [Presented("ldp_vc", vc, types=("VerifiableCredential",))]})
    assert not wrong.satisfied
    assert wrong.missing == ("credential set 1: none of the options sd | ldp was met",)
    assert wrong.outcomes[1].missing[0].startswith("type is not one of")


def test_every_template_is_a_valid_query_and_eqf6_means_six_to_eight() -> None:
    from microcred.oid4vp.templates import TEMPLATES, template

    for name, query in TEMPLATES.items():
        assert parse_query(query).credentials, name
    eqf = parse_query(template("micro-credential-eqf6")).credentials[0].claims[-1]
    assert eqf.values == (6, 7, 8) and template("nope") is None


# After the credential_sets and claim_sets examples of OpenID4VP 1.0 §6.4.2 / §6.4.3 (written from the spec's
# text; the spec is not in the repository).
SPEC_SETS = {
    "credentials": [
        {"id": "pid", "format": "dc+sd-jwt",
         "meta": {"vct_values": ["https://credentials.example.com/identity_credential"]},
         "claims": [{"path": ["given_name"]}, {"path": ["family_name"]}, {"path": ["address", "street_address"]}]},
        {"id": "other_pid", "format": "dc+sd-jwt", "meta": {"vct_values": ["https://othercredentials.example/pid"]},
         "claims": [{"path": ["given_name"]}, {"path": ["family_name"]}, {"path": ["address", "street_address"]}]},
        {"id": "pid_reduced_cred_1", "format": "dc+sd-jwt",
         "meta": {"vct_values": ["https://credentials.example.com/reduced_identity_credential"]},
         "claims": [{"path": ["family_name"]}, {"path": ["given_name"]}]},
        {"id": "pid_reduced_cred_2", "format": "dc+sd-jwt",
         "meta": {"vct_values": ["https://cred.example/residence_credential"]},
         "claims": [{"path": ["postal_code"]}, {"path": ["locality"]}, {"path": ["region"]}]},
        {"id": "nice_to_have", "format": "dc+sd-jwt", "meta": {"vct_values": ["https://company.example/company_rewards"]},
         "claims": [{"path": ["rewards_number"]}]},
    ],
    "credential_sets": [
        {"options": [["pid"], ["other_pid"], ["pid_reduced_cred_1", "pid_reduced_cred_2"]]},
        {"required": False, "options": [["nice_to_have"]]},
    ],
}
SPEC_CLAIM_SETS = {"credentials": [{
    "id": "pid", "format": "dc+sd-jwt", "meta": {"vct_values": ["https://credentials.example.com/identity_credential"]},
    "claims": [{"id": "a", "path": ["last_name"]}, {"id": "b", "path": ["postal_code"]},
               {"id": "c", "path": ["locality"]}, {"id": "d", "path": ["region"]},
               {"id": "e", "path": ["date_of_birth"]}],
    "claim_sets": [["a", "c", "d", "e"], ["a", "b", "e"]]}]}


def test_the_spec_credential_sets_example() -> None:
    query = parse_query(SPEC_SETS)
    reduced_1 = Presented("dc+sd-jwt", {"family_name": "D", "given_name": "J"},
                          "https://credentials.example.com/reduced_identity_credential")
    reduced_2 = Presented("dc+sd-jwt", {"postal_code": "1", "locality": "L", "region": "R"},
                          "https://cred.example/residence_credential")
    both = evaluate(query, {"pid_reduced_cred_1": [reduced_1], "pid_reduced_cred_2": [reduced_2]})
    assert both.satisfied, both.to_dict()  # the optional nice_to_have is not needed
    one = evaluate(query, {"pid_reduced_cred_1": [reduced_1]})
    assert not one.satisfied and one.missing[0].startswith("credential set 1: none of the options")
    pid = Presented("dc+sd-jwt", {"given_name": "J", "family_name": "D", "address": {"street_address": "S"}},
                    "https://credentials.example.com/identity_credential")
    assert evaluate(query, {"pid": [pid]}).satisfied


def test_the_spec_claim_sets_example() -> None:
    query = parse_query(SPEC_CLAIM_SETS)
    vct = "https://credentials.example.com/identity_credential"
    second = {"last_name": "D", "postal_code": "1", "date_of_birth": "2000-01-01"}
    assert evaluate(query, {"pid": [Presented("dc+sd-jwt", second, vct)]}).satisfied
    lacking = evaluate(query, {"pid": [Presented("dc+sd-jwt", {"last_name": "D", "locality": "L"}, vct)]})
    assert not lacking.satisfied and len(lacking.outcomes[0].missing) == 2  # the closest option's two gaps


def test_the_spec_trusted_authorities_example_and_its_evaluation() -> None:
    # OpenID4VP 1.0 §6.1.1.1: the aki value is the base64url keyIdentifier, as in the spec's example
    query = parse_query(sd_query(trusted_authorities=[{"type": "aki", "values": ["s9tIpPmhxdiuNkHMEWNpYim8S8Y"]}]))
    [authority] = query.credentials[0].trusted_authorities
    assert authority.type == "aki" and len(authority.key_ids[0]) == 20  # a SHA-1 sized key identifier
    under = Presented("dc+sd-jwt", CLAIMS, VCT, authority_key_ids=(b"other", authority.key_ids[0]))
    assert evaluate(query, {"mc": [under]}).satisfied
    elsewhere = Presented("dc+sd-jwt", CLAIMS, VCT, authority_key_ids=(b"other",))
    [why] = evaluate(query, {"mc": [elsewhere]}).outcomes[0].missing
    assert why == "the issuer is not under one of the trusted authorities (aki: s9tIpPmhxdiuNkHMEWNpYim8S8Y)"
    unknown = Presented("dc+sd-jwt", CLAIMS, VCT)  # a chain not validated: no authority counts
    assert evaluate(query, {"mc": [unknown]}).outcomes[0].missing[0].endswith(
        "its certificate chain was not established")
    # a type this code cannot check is read, and never met
    federation = parse_query(sd_query(trusted_authorities=[{"type": "openid_federation",
                                                            "values": ["https://trustanchor.example.com"]}]))
    assert not evaluate(federation, {"mc": [under]}).satisfied
    assert not parse_query(sd_query()).credentials[0].trusted_authorities  # absent: no constraint
    assert evaluate(parse_query(sd_query()), {"mc": [unknown]}).satisfied


def test_a_wallet_reads_leniently_what_the_verifier_refuses() -> None:
    """§6: "Implementations MUST ignore any unknown properties"; §6.1/§6.3 set no length on ids. The verifier
    keeps its strict reading (its own API's bounds); a wallet's reading takes both and keeps unknown formats."""
    long_id = "pid_" + "x" * 96
    raw = {"credentials": [{"id": long_id, "format": "dc+sd-jwt", "meta": {"vct_values": [VCT]}, "new_member": 1,
                            "claims": [{"id": "c" * 80, "path": ["achievement_title"]}],
                            "claim_sets": [["c" * 80]]},
                           {"id": "pid_mdoc", "format": "mso_mdoc",
                            "meta": {"doctype_value": "eu.europa.ec.eudi.pid.1"},
                            "claims": [{"path": ["eu.europa.ec.eudi.pid.1", "family_name"],
                                        "intent_to_retain": False}]}],
           "credential_sets": [{"options": [[long_id], ["pid_mdoc"]], "purpose": "x"}], "future": True}
    for strict_refusal in (raw, {**raw, "credentials": raw["credentials"][:1],
                                 "credential_sets": [{"options": [[long_id]]}]}):
        with pytest.raises(DcqlError):
            parse_query(strict_refusal)
    read = parse_query(raw, lenient=True)
    assert [c.id for c in read.credentials] == [long_id, "pid_mdoc"]
    assert [c.supported for c in read.credentials] == [True, False]
    assert read.credential_sets[0].options == ((long_id,), ("pid_mdoc",))
    met = evaluate(read, {long_id: [Presented("dc+sd-jwt", CLAIMS, VCT)]})
    assert met.satisfied, met.to_dict()  # the option this wallet can meet answers the set
    for bad, field in (({"credentials": [{"id": "", "format": "mso_mdoc"}]}, "credentials[0].id"),
                       ({"credentials": [{"id": "a b", "format": "mso_mdoc"}]}, "credentials[0].id"),
                       ({"credentials": [{"id": "a", "format": 5}]}, "credentials[0].format"),
                       ({"credentials": [{"id": "a", "format": "dc+sd-jwt", "meta": {}}]},
                        "credentials[0].meta.vct_values")):
        with pytest.raises(DcqlError) as caught:  # what the spec itself requires is still required
            parse_query(bad, lenient=True)
        assert caught.value.field == field
