"""The shape key of a document (microcred.jsonld.compacted): taken by the compaction walk itself, equal to
``shape_key``'s, its string values in the template's slot order, and injective (a key that could spell another
structure leaves the document without a shape, so no template ever reads it)."""

from __future__ import annotations

import ast
import contextlib
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from microcred.credential.canon import shape_of
from microcred.credential.rdfc_template import SENTINEL, with_sentinels
from microcred.jsonld.compacted import compaction_problem, read_compacted, shape_key
from microcred.verification.canonical import Canonicalizer, InProcessRunner
from tests.verifier_support import FIXTURES, World

WORLD = World()
VC2 = "https://www.w3.org/ns/credentials/v2"


def unsecured(document: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in document.items() if k != "proof"}


def fixture_documents() -> list[dict[str, Any]]:
    documents = [WORLD.credential(), WORLD.credential(7)]
    for path in sorted(FIXTURES.rglob("*.json*")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except ValueError:
            continue
        if isinstance(data, dict):
            documents.append(data)
    return documents


def test_the_walk_takes_the_shape_key_gives_with_the_values_in_slot_order() -> None:
    shaped = 0
    for document in fixture_documents():
        refused, shape = read_compacted(document)
        assert refused == compaction_problem(document)
        own = shape_key(unsecured(document))
        assert own is not None
        # the values are the template's slots: the i-th is what with_sentinels replaces by sentinel i
        assert own[1] == shape_of(unsecured(document)).values
        sentinels = json.dumps(with_sentinels(unsecured(document), [0]))
        assert sentinels.count(SENTINEL) == len(own[1])
        if shape is not None:
            shaped += 1
            assert shape == own
    assert shaped >= 10


def test_two_credentials_of_one_cohort_share_a_shape_and_differ_in_values() -> None:
    first, second = (read_compacted(WORLD.credential(i))[1] for i in (1, 2))
    assert first is not None and second is not None
    assert first[0] == second[0] and first[1] != second[1]


def test_a_key_that_could_spell_other_keys_leaves_the_document_without_a_shape() -> None:
    plain = {"@context": [VC2], "a": 1, "b": "x"}
    spelt = {"@context": [VC2], "a\x00\x031\x00b": "x"}
    # the signer's key (canon.shape_of) does not tell these two apart; the verifier's has no shape for the second
    assert shape_key(plain) is not None
    assert shape_key(spelt) is None
    assert read_compacted(spelt) == (None, None)
    for key in ("\x01a", "\x04", "\x05", "a\x00"):
        assert shape_key({"@context": [VC2], key: "x"}) is None
        assert read_compacted({"@context": [VC2], "n": {key: "x"}})[1] is None


class CountingRunner(InProcessRunner):
    def __init__(self) -> None:
        self.calls = 0
        self.sentinels = 0

    async def run(self, document: Any, sentinel: Any) -> Any:
        self.calls += 1
        self.sentinels += sentinel is not None
        return await super().run(document, sentinel)


async def test_a_document_without_a_shape_is_always_processed_by_pyld_and_teaches_nothing() -> None:
    runner = CountingRunner()
    canon = Canonicalizer(runner)
    document = unsecured(WORLD.credential())
    document["credentialSubject"] = {**document["credentialSubject"], "odd\x00key": "x"}
    for _ in range(2):
        with contextlib.suppress(Exception):  # an undefined term: what pyld says is not what is tested here
            await canon.process(document)
    assert (runner.calls, runner.sentinels) == (2, 0)
    assert canon.templates.stats.templates == 0


_KEYS = st.sampled_from(["id", "type", "name", "a", "b", "proofPurpose", "achievement", "alignment", "@context"])
_SCALARS = st.one_of(st.text(max_size=3), st.integers(-3, 3), st.booleans(), st.none(),
                     st.sampled_from(["https://example.org/x", "did:example:1"]))
_JSON = st.recursive(_SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                         st.dictionaries(_KEYS, inner, max_size=4)), max_leaves=12)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(_KEYS, _JSON, max_size=5))
def test_whenever_the_walk_takes_a_shape_it_is_shape_keys(body: dict[str, Any]) -> None:
    document = {"@context": [VC2], **{k: v for k, v in body.items() if k != "@context"}}
    refused, shape = read_compacted(document)
    own = shape_key(unsecured(document))
    if refused is None and shape is not None:
        assert shape == own
    if own is not None:
        assert own[1] == shape_of(unsecured(document)).values


def decode(key: str) -> Any:
    """The document a shape key was taken from, its string values replaced by sentinels (as with_sentinels does):
    a key that can be read back this way names exactly one structure."""
    tokens = iter(key.split("\x00"))
    counter = [0]

    def value(token: str) -> Any:
        if token == "\x01":
            counter[0] += 1
            return f"{SENTINEL}{counter[0] - 1}"
        if token[0] == "\x02":
            return ast.literal_eval(token[1:])
        if token[0] == "\x03":
            return ast.literal_eval(token.split(":", 1)[1])
        if token == "\x04":
            out = {}
            for name in tokens:
                if name == "\x05":
                    return out
                assert name[0] >= " "  # a key, never a marker
                out[name] = value(next(tokens))
            raise AssertionError("unterminated object")
        assert token == "\x06", repr(token)
        items = []
        for item in tokens:
            if item == "\x07":
                return items
            items.append(value(item))
        raise AssertionError("unterminated list")

    document = value(next(tokens))
    assert next(tokens, None) is None
    return document


_ODD_KEYS = st.one_of(_KEYS, st.text(alphabet="ab\x00\x01\x02\x03\x04\x05{}[]:", min_size=1, max_size=4))
_ODD_JSON = st.recursive(_SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                             st.dictionaries(_ODD_KEYS, inner, max_size=4)),
                         max_leaves=12)


@settings(max_examples=500, deadline=None)
@given(st.dictionaries(_ODD_KEYS, _ODD_JSON, max_size=5))
def test_a_shape_key_names_one_structure(document: dict[str, Any]) -> None:
    found = shape_key(document)
    if found is not None:
        assert decode(found[0]) == with_sentinels(document, [0])
    walked = read_compacted({"@context": [VC2], "n": document})
    if walked[0] is None and walked[1] is not None:
        assert decode(walked[1][0]) == with_sentinels({"@context": [VC2], "n": document}, [0])


def test_the_platform_credential_key_reads_back() -> None:
    document = unsecured(WORLD.credential())
    found = shape_key(document)
    assert found is not None and decode(found[0]) == with_sentinels(document, [0])


_IDS = st.sampled_from(["urn:uuid:1", "https://example.org/a", "_:b0", "did:example:1", "xsd:string",
                        "not an iri", "", "https://status.trust.example/status/rev-1#4242"])


def _with_ids(document: dict[str, Any], choose: Any) -> dict[str, Any]:
    """``document`` with every ``id`` string replaced by ``choose(old)`` (its shape unchanged)."""
    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: (choose(v) if k == "id" and isinstance(v, str) else walk(v)) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(item) for item in node]
        return node
    return dict(walk(document))


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_a_known_shape_is_judged_as_the_walk_judges_it(data: st.DataObject) -> None:
    # the first credential of the shape is walked (and teaches the plan); every later one, whatever its ids and
    # proofs, gets exactly the walk's answer
    assert read_compacted(WORLD.credential(11)) == (None, read_compacted(WORLD.credential(11))[1])
    document = _with_ids(WORLD.credential(12), lambda old: data.draw(st.one_of(st.just(old), _IDS)))
    if data.draw(st.booleans()):
        document["proof"] = {**document["proof"], data.draw(st.sampled_from(["nonce", "extra", "@context"])):
                             data.draw(st.one_of(st.text(max_size=2), st.integers(), st.lists(st.text(max_size=2))))}
    if data.draw(st.booleans()):
        document["proof"] = [document["proof"]] * data.draw(st.integers(1, 6))
    refused, shape = read_compacted(document)
    assert refused == compaction_problem(document)
    if refused is None:
        assert shape == shape_key(unsecured(document))


def test_a_document_listing_more_contexts_than_the_limit_is_too_complex_before_any_json_ld() -> None:
    """Each context costs the JSON-LD processor about 1.4 ms to apply: a thousand copies of one URL kept the one
    worker past its deadline. Sixteen are allowed, the limit is counted before anything is expanded."""
    document = unsecured(WORLD.credential())
    document["@context"] = [VC2] + [VC2] * 15
    allowed = compaction_problem(document)
    assert allowed is None or allowed.reason != "TOO_COMPLEX"
    document["@context"] = [VC2] * 17
    refusal = compaction_problem(document)
    assert refusal is not None and (refusal.reason, refusal.path) == ("TOO_COMPLEX", "@context")


def test_the_object_limit_is_counted_over_the_document() -> None:
    document = unsecured(WORLD.credential())
    document["evidence"] = [{"id": f"https://e.example/{n}", "name": f"n{n}"} for n in range(1_501)]
    refusal = compaction_problem(document)
    assert refusal is not None and refusal.reason == "TOO_COMPLEX"
