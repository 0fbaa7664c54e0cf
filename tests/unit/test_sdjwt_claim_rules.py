"""SD-JWT VC claim metadata (draft-ietf-oauth-sd-jwt-vc §4.6) checked from rules read once per document
(microcred.sdjwt.type_metadata.claim_rules): every kind of entry, paths of names and paths through arrays (with
elements the holder withheld), and the document's own broken entries, each reported where it stands."""

from __future__ import annotations

from typing import Any

from microcred.sdjwt.core import Disclosed, Processed
from microcred.sdjwt.type_metadata import claim_metadata_violations, claim_rules, document_claim_rules

METADATA: dict[str, Any] = {"claims": [
    {"path": ["given_name"], "sd": "always"},
    {"path": ["iss"], "sd": "never", "mandatory": True},
    {"path": ["learning_outcomes"], "sd": "never", "mandatory": True},
    {"path": ["address", "street"], "sd": "always"},
    {"path": ["grades", None, "score"], "sd": "never"},
    {"path": ["grades", 2], "sd": "always"},
    {"path": ["nickname"]},  # sd allowed: asks nothing
    {"sd": "never"},  # no path
    {"path": ["x"], "sd": "sometimes"},
]}


def processed() -> Processed:
    claims = {"given_name": "Ana", "iss": "https://u.example", "address": {"street": "Main 1"},
              "grades": [{"score": 1}, {"score": 2}, {"score": 3}], "nickname": "A"}
    disclosed = (Disclosed(("address", "street"), "street", "Main 1", "d1"),
                 Disclosed(("grades", 3, "score"), "score", 3, "d2"),  # the third element left, index 3 as issued
                 Disclosed(("grades", 3), None, {"score": 3}, "d3"))
    return Processed(claims, disclosed, frozenset({("grades", 1)}))  # the issued second element withheld


def test_every_kind_of_entry_is_reported_where_it_stands() -> None:
    assert claim_metadata_violations(METADATA, processed()) == [
        ("['given_name']", "must be selectively disclosable, but is signed in clear"),
        ("['learning_outcomes']", "mandatory claim is missing"),
        ("['grades', 3, 'score']", "must not be selectively disclosable"),
        ("['grades', 2]", "must be selectively disclosable, but is signed in clear"),
        ("None", "claim metadata without a valid path"),
        ("['x']", "unknown sd value 'sometimes'"),
    ]


def test_rules_read_once_give_the_same_answer_as_the_document() -> None:
    rules = claim_rules(METADATA)
    assert claim_metadata_violations(rules, processed()) == claim_metadata_violations(METADATA, processed())
    assert claim_metadata_violations(claim_rules({"claims": {}}), processed()) == [
        ("claims", "the Type Metadata's claims must be an array")]


def test_a_document_is_read_into_rules_once() -> None:
    document = b'{"vct":"urn:x","claims":[{"path":["given_name"],"sd":"always"}]}'
    assert document_claim_rules(document) is document_claim_rules(document)
    assert claim_metadata_violations(document_claim_rules(document), processed()) == [
        ("['given_name']", "must be selectively disclosable, but is signed in clear")]
    assert document_claim_rules(b"[1]") == ()


def test_a_path_that_meets_a_value_of_the_wrong_type_fails_the_claim_metadata() -> None:
    """SD-JWT VC, processing of ``path``: a string component over a non-object, or null or an index over a
    non-array, aborts with an error, and claim metadata that fails to process rejects the credential."""
    claims = {"iss": "https://u.example", "learner": "Ana", "grades": {"score": 1}}
    wrong = Processed(claims, (), frozenset())
    metadata = {"claims": [
        {"path": ["learner", "email"], "sd": "always"},  # names only: the fast path
        {"path": ["grades", None], "sd": "never"},
        {"path": ["grades", 0], "sd": "never"},
        {"path": ["learner", None, "x"], "sd": "never"},
        {"path": ["absent", "deeper"], "sd": "always"},  # a missing key selects nothing: no error
    ]}
    problems = claim_metadata_violations(metadata, wrong)
    assert [path for path, _ in problems] == [
        "['learner', 'email']", "['grades', None]", "['grades', 0]", "['learner', None, 'x']"]
    assert problems[0][1] == "the path meets ['learner'], which is not an object"
    assert problems[1][1] == "the path meets ['grades'], which is not an array"
