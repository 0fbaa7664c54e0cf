"""The per-shape template canonicaliser and the fast signer are byte-identical to pyld and the reference signer."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from microcred.credential.canon import TemplateCanonicalizer
from microcred.credential.signing import FastSigner, IssueJob, render_and_sign
from microcred.crypto.data_integrity import sign_eddsa_rdfc_2022, verify_data_integrity
from microcred.jsonld import loader
from microcred.jsonld.loader import UnsafeJsonLdError
from tests.harness.factories import valid_micro_credential
from tests.unit.test_ob3_render import ENTRIES, ISSUER, VALID_FROM, render, variants

VECTORS = Path(__file__).resolve().parents[1] / "fixtures" / "vectors"
KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
VM = "did:web:trust.example.test:issuers:uni-a#key-1"
CREATED = "2025-06-01T12:00:00Z"


@pytest.mark.parametrize("name", list(variants()))
def test_every_variant_matches_pyld(name: str) -> None:
    canon = TemplateCanonicalizer()
    doc = render(variants()[name])
    assert canon.canonize(doc) == loader.canonize(doc)  # first use: template built and checked against pyld
    other = render(variants()[name], credential_id="urn:uuid:00000000-0000-4000-8000-00000000abcd", salt="s2")
    assert canon.canonize(other) == loader.canonize(other)
    assert canon.stats.templates == 1 and canon.stats.fast == 1 and canon.stats.checks == 1


@pytest.mark.parametrize("path", ["ob3/linked-data-proof-ob-signed.json", "ob3/1edtech/simple-did-key-method.json",
                                  "vc-di-eddsa/eddsa-rdfc-2022/signedDataInt.json",
                                  "bitstring/section-A.1-credential-eddsa-rdfc-2022.json"])
def test_published_vectors_match_pyld(path: str) -> None:
    doc = json.loads((VECTORS / path).read_text())
    doc.pop("proof", None)
    canon = TemplateCanonicalizer()
    for _ in range(2):
        assert canon.canonize(doc) == loader.canonize(doc)


# Values an issuer may send: quotes, backslashes, line breaks, non-Latin scripts, emoji.
value = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",), exclude_characters="\x00"), max_size=30)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=value, outcome=value, grade=value, description=value, index=st.integers(0, 131071))
def test_any_text_canonicalises_exactly_like_pyld(name: str, outcome: str, grade: str, description: str,
                                                  index: int) -> None:
    mc = valid_micro_credential()
    mc.learner.full_name = name or "x"
    mc.learning_outcomes[1].text.values["en"] = outcome or "y"
    mc.grade.value = grade or "z"
    mc.description.values["en"] = description or "d"
    doc = render(mc)
    doc["credentialStatus"][0]["statusListIndex"] = str(index)
    assert CANON.canonize(doc) == loader.canonize(doc)


CANON = TemplateCanonicalizer()


@pytest.mark.parametrize("iri", ["relative/id", "xsd:string", "_:b0", "urn:with space", ""])
def test_iri_values_pyld_would_change_fall_back_to_pyld(iri: str) -> None:
    canon = TemplateCanonicalizer()
    doc = render(valid_micro_credential())
    canon.canonize(doc)
    changed = copy.deepcopy(doc)
    changed["credentialSubject"]["achievement"]["id"] = iri
    try:
        expected: Any = loader.canonize(changed)
    except UnsafeJsonLdError as exc:
        expected = type(exc)
    try:
        got: Any = canon.canonize(changed)
    except UnsafeJsonLdError as exc:
        got = type(exc)
    assert got == expected
    assert canon.stats.fallback == 1


def test_identical_blank_nodes_need_n_degree_hashing_and_fall_back() -> None:
    doc = render(valid_micro_credential())
    alignments = doc["credentialSubject"]["achievement"]["alignment"]
    alignments.append(copy.deepcopy(alignments[-1]))
    canon = TemplateCanonicalizer()
    assert canon.canonize(doc) == loader.canonize(doc)
    assert canon.canonize(doc) == loader.canonize(doc)
    assert canon.stats.fast == 0


def test_duplicate_values_collapse_like_pyld() -> None:
    mc = valid_micro_credential()
    mc.integration.related_credential_ids.append(mc.integration.related_credential_ids[0])
    doc = render(mc)
    canon = TemplateCanonicalizer()
    canon.canonize(doc)
    doc2 = copy.deepcopy(doc)
    doc2["credentialSubject"]["achievement"]["related"][1]["id"] = "https://uniz.example/other"
    assert canon.canonize(doc2) == loader.canonize(doc2)


def test_the_template_cache_is_bounded() -> None:
    canon = TemplateCanonicalizer(max_templates=2)
    for name in list(variants())[:4]:
        canon.canonize(render(variants()[name]))
    assert len(canon._templates) == 2


def test_a_template_that_disagrees_with_pyld_is_disabled() -> None:
    canon = TemplateCanonicalizer(fallback=lambda doc: "pyld says otherwise\n")
    doc = render(valid_micro_credential())
    assert canon.canonize(doc) == "pyld says otherwise\n"
    assert canon.stats.unsafe_shapes == 1
    assert canon.canonize(doc) == "pyld says otherwise\n" and canon.stats.fast == 0


def test_the_fast_signer_is_byte_identical_to_the_reference_signer() -> None:
    doc = render(valid_micro_credential())
    fast = FastSigner().sign(doc, KEY, VM, CREATED)
    assert fast == sign_eddsa_rdfc_2022(doc, KEY, VM, created=CREATED)
    assert verify_data_integrity(fast, lambda vm: KEY.public_key() if vm == VM else None).verified is True
    with pytest.raises(ValueError, match="already signed"):
        FastSigner().sign(fast, KEY, VM, CREATED)


def test_render_and_sign_isolates_a_failing_job() -> None:
    good = IssueJob(valid_micro_credential().SerializeToString(), "urn:uuid:00000000-0000-4000-8000-000000000001",
                    ENTRIES, VALID_FROM, "salt")
    bad_mc = valid_micro_credential()
    bad_mc.achievement_id = "not-absolute"  # JSON-LD safe mode refuses a relative IRI
    bad = IssueJob(bad_mc.SerializeToString(), "urn:uuid:00000000-0000-4000-8000-000000000002", ENTRIES,
                   VALID_FROM, "salt")
    results = render_and_sign([good, bad, good], ISSUER, KEY.private_bytes_raw(), VM, CREATED)
    assert results[0][1] == "" and results[2] == results[0]
    assert results[1][0] == "" and "UnsafeJsonLdError" in results[1][1]
    signed = json.loads(results[0][0])
    assert verify_data_integrity(signed, lambda vm: KEY.public_key()).verified is True
    assert datetime.fromisoformat(signed["proof"]["created"]) == datetime(2025, 6, 1, 12, tzinfo=UTC)


@pytest.mark.parametrize("text", ["line\u2028separator", "next\x85line", "para\u2029graph", "file\x1csep",
                                  "quote\"back\\slash\nnew\rline\ttab"])
def test_characters_python_treats_as_line_breaks_stay_inside_their_quad(text: str) -> None:
    canon = TemplateCanonicalizer()
    doc = render(valid_micro_credential())
    canon.canonize(doc)
    doc["name"] = text  # straight into the document (the renderer would have replaced the C0 controls)
    assert canon.canonize(doc) == loader.canonize(doc)
    assert canon.stats.fast == 1


def test_a_template_reused_across_changing_values_matches_pyld_every_time() -> None:
    # The template keeps its last fill (terms, blank-node hashes) and redoes only what changed values reach:
    # change one value at a time, change several, and go back, each compared with pyld.
    canon = TemplateCanonicalizer()
    base = valid_micro_credential()
    steps: list[dict[str, str]] = [{}, {"name": "Ada"}, {"grade": "B"}, {"name": "Ada", "grade": "B"},
                                   {"outcome": "Writes SQL"}, {}, {"name": "Ada", "outcome": "x\ny", "grade": "C"},
                                   {"name": "Ada"}, {}]
    for index, change in enumerate(steps):
        mc = copy.deepcopy(base)
        mc.learner.full_name = change.get("name", mc.learner.full_name)
        mc.grade.value = change.get("grade", mc.grade.value)
        mc.learning_outcomes[1].text.values["en"] = change.get("outcome", mc.learning_outcomes[1].text.values["en"])
        doc = render(mc)
        doc["credentialStatus"][0]["statusListIndex"] = str(index % 3)
        assert canon.canonize(doc) == loader.canonize(doc), change
    assert canon.stats.templates == 1 and canon.stats.fast == len(steps) - 1
