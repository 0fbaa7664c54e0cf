"""Inline contexts: accepted when they only add vocabulary no check reads (VC 2.0 allows objects in
``@context``), refused when they could make the JSON say something other than what was signed."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from microcred.crypto.did_key import did_key_from_public_key
from microcred.jsonld.compacted import NOT_COMPACTED, compaction_problem
from microcred.jsonld.inline_context import inline_context_problem, pinned_vocabulary
from microcred.verification import CheckId, CheckStatus, Verdict, verify
from tests.unit.test_proof_sets import chained_proof
from tests.verifier_support import NOW, fixture_ports

V2 = "https://www.w3.org/ns/credentials/v2"
KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(7, 39)))
DID = did_key_from_public_key(KEY.public_key())

ACCEPTED = [
    {"ExampleTestCredential": "https://example.org/#ExampleTestCredential"},
    {"CredentialManagerPresentation": "https://example.org/examples#CredentialManagerPresentation"},
    {"examScore": {"@id": "https://example.org/vocab#examScore", "@type": "http://www.w3.org/2001/XMLSchema#integer"}},
    {"homepage2": {"@id": "https://example.org/vocab#homepage", "@type": "@id"}},
    {"@vocab": "https://example.org/vocab#"},
]

REFUSED = [
    ({"cs": "https://www.w3.org/2018/credentials#credentialStatus"}, "alias"),
    ({"until": {"@id": "https://www.w3.org/2018/credentials#validUntil"}}, "alias"),
    ({"sid": "@id"}, "absolute IRI"),
    ({"validUntil": "https://example.org/not-the-real-one"}, "redefine"),
    ({"x": "cred:validUntil"}, "compact IRI"),
    ({"ns": "https://example.org/", "x": "ns:thing", "y": "https://www.w3.org/2018/credentials#issuer"}, ""),
    ({"@base": "https://example.org/"}, "new terms"),
    ({"@vocab": "https://www.w3.org/2018/credentials#"}, "namespace"),
    ({"x": {"@id": "https://example.org/x", "@context": {"validUntil": "https://example.org/u"}}}, "only hold"),
    ({"x": {"@reverse": "https://example.org/x"}}, "only hold"),
    ({"@protected": True}, "new terms"),
]


@pytest.mark.parametrize("context", ACCEPTED)
def test_contexts_that_only_add_vocabulary_are_accepted(context: dict[str, Any]) -> None:
    assert inline_context_problem(context) is None
    document = {"@context": [V2, context], "type": ["VerifiableCredential"], "issuer": DID,
                "credentialSubject": {"id": "did:example:subject"}}
    assert compaction_problem(document) is None


@pytest.mark.parametrize(("context", "says"), REFUSED)
def test_contexts_that_could_hide_or_change_a_read_term_are_refused(context: dict[str, Any], says: str) -> None:
    problem = inline_context_problem(context)
    assert problem is not None and says in problem[1], problem
    document = {"@context": [V2, context], "type": ["VerifiableCredential"], "issuer": DID,
                "credentialSubject": {"id": "did:example:subject"}}
    refused = compaction_problem(document)
    assert refused is not None and refused.reason == NOT_COMPACTED and refused.path.startswith("@context[1]")


def test_an_inline_context_may_not_come_first() -> None:
    document = {"@context": [{"X": "https://example.org/#X"}, V2], "type": ["VerifiableCredential"]}
    refused = compaction_problem(document)
    assert refused is not None and refused.path == "@context[0]"


def test_the_pinned_vocabulary_holds_the_terms_checks_read() -> None:
    pinned = pinned_vocabulary()
    for term in ("credentialStatus", "validUntil", "validFrom", "issuer", "credentialSubject", "proof"):
        assert term in pinned.terms
    assert "https://www.w3.org/2018/credentials#credentialStatus" in pinned.iris


async def test_a_credential_naming_its_own_type_inline_verifies_valid() -> None:
    unsigned = {"@context": [V2, {"ExampleTestCredential": "https://example.org/#ExampleTestCredential"}],
                "type": ["VerifiableCredential", "ExampleTestCredential"], "issuer": DID,
                "validFrom": "2025-01-01T00:00:00Z", "credentialSubject": {"id": "did:example:subject"}}
    signed = chained_proof(unsigned, KEY, DID, proof_id="urn:proof:1", previous=None)
    report = await verify(signed, fixture_ports(controllers=False), NOW)
    assert report.verdict is Verdict.VALID, report.to_dict()
    fmt = report.check(CheckId.FORMAT)
    assert fmt is not None and fmt.status is CheckStatus.VALID
