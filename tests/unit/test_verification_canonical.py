"""Bounded JSON-LD processing: the child process's deadline, pyld's work bound, the look-alike pre-check, and
the templates (known shapes never reach pyld, and give exactly pyld's canonical form and expansion)."""

from __future__ import annotations

from typing import Any

import pytest

from microcred.jsonld.compacted import TOO_COMPLEX, compaction_problem
from microcred.jsonld.loader import TooComplex, canonize, canonize_and_expand
from microcred.verification.canonical import Canonicalizer, InProcessRunner, ProcessRunner
from tests.verifier_support import World

VC2, EXAMPLES = "https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"
WORLD = World()


def tree(depth: int, fanout: int) -> dict[str, Any]:
    def node(d: int) -> dict[str, Any]:
        return {"v": "x"} if d == 0 else {"c": [node(d - 1) for _ in range(fanout)]}
    return {"@context": [VC2, EXAMPLES], "type": ["VerifiableCredential"], "issuer": "did:example:1",
            "credentialSubject": node(depth)}


def unsecured(document: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in document.items() if k != "proof"}


def test_a_symmetric_tree_stops_pyld_with_too_complex() -> None:
    with pytest.raises(TooComplex):  # 10-30 s of CPU before the work bound
        canonize(tree(5, 3))


@pytest.mark.parametrize(("depth", "fanout"), [(5, 3), (4, 3), (3, 7), (7, 2)])
def test_look_alike_blank_nodes_are_refused_before_any_json_ld(depth: int, fanout: int) -> None:
    refused = compaction_problem(tree(depth, fanout))
    assert refused is not None and refused.reason == TOO_COMPLEX


def test_small_trees_and_platform_credentials_pass_the_look_alike_check() -> None:
    assert compaction_problem(tree(3, 3)) is None
    assert compaction_problem(WORLD.credential()) is None


async def test_the_child_process_deadline_answers_too_complex_and_the_next_document_is_served() -> None:
    runner = ProcessRunner(deadline_seconds=0.001)
    try:
        runner.start()
        with pytest.raises(TooComplex):
            await runner.run(unsecured(WORLD.credential()), None)
        assert runner.killed == 1
        runner.deadline = 60
        (nquads, expanded), _ = await runner.run(unsecured(WORLD.credential(2)), None)
        assert (nquads, expanded) == canonize_and_expand(unsecured(WORLD.credential(2)))
    finally:
        runner.close()


class CountingRunner(InProcessRunner):
    def __init__(self) -> None:
        self.calls = 0

    async def run(self, document: Any, sentinel: Any) -> Any:
        self.calls += 1
        return await super().run(document, sentinel)


async def test_a_known_shape_never_reaches_pyld_and_matches_it_exactly() -> None:
    runner = CountingRunner()
    canon = Canonicalizer(runner)
    first = await canon.process(unsecured(WORLD.credential(10)))
    assert runner.calls == 1 and canon.templates.stats.templates == 1
    for index in range(11, 16):
        document = unsecured(WORLD.credential(index))
        processed = await canon.process(document)
        assert (processed.nquads, processed.expanded) == canonize_and_expand(document)
    assert runner.calls == 1 and first.nquads != processed.nquads


async def test_errors_come_back_from_the_child_as_the_loaders_errors() -> None:
    from microcred.jsonld.loader import RemoteContextRefused, UnsafeJsonLdError

    canon = Canonicalizer(ProcessRunner())
    try:
        with pytest.raises(RemoteContextRefused):
            await canon.process({"@context": [VC2, "https://remote.example/context"], "type": ["VerifiableCredential"]})
        with pytest.raises(UnsafeJsonLdError):
            await canon.process({"@context": [VC2], "type": ["VerifiableCredential"], "undefinedTerm": "x"})
    finally:
        canon.close()


async def test_expansions_handed_out_are_not_changed_by_later_documents_of_the_shape() -> None:
    canon = Canonicalizer(CountingRunner())
    documents = [unsecured(WORLD.credential(index)) for index in range(30, 36)]
    documents[3]["name"] = "Another title"  # a value deep in no particular place changes too
    documents[4]["credentialSubject"]["achievement"]["name"] = "Another achievement"
    results = [await canon.process(document) for document in documents]
    for document, processed in zip(documents, results, strict=True):  # checked after every later fill
        assert (processed.nquads, processed.expanded) == canonize_and_expand(document)



async def test_a_proof_set_is_canonicalised_once_not_once_per_proof(monkeypatch: pytest.MonkeyPatch) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from microcred.crypto import data_integrity
    from microcred.crypto.data_integrity import sign_eddsa_rdfc_2022, verify_data_integrity
    from microcred.crypto.did_key import did_key_from_public_key, resolve_key, verification_method_id

    keys = [Ed25519PrivateKey.from_private_bytes(bytes([40 + i]) * 32) for i in range(3)]
    document = unsecured(WORLD.credential(50))
    for key in keys:  # a proof set: three independent proofs over the same document
        document = sign_eddsa_rdfc_2022(document, key, verification_method_id(did_key_from_public_key(
            key.public_key())), created="2026-01-01T00:00:00Z")
    calls: list[int] = []
    real = data_integrity.canonize

    def counting(doc: Any) -> str:
        calls.append(1)
        return real(doc)

    monkeypatch.setattr(data_integrity, "canonize", counting)
    outcome = verify_data_integrity(document, resolve_key)
    assert outcome.verified is True and len(outcome.proofs) == 3
    assert len(calls) == 1  # the proof-less document, once; the three proof configs go through their template
    runner = CountingRunner()
    processed = await Canonicalizer(runner).process(unsecured(document))
    calls.clear()
    again = verify_data_integrity(document, resolve_key, unsecured_nquads=processed.nquads)
    assert again.verified is True and calls == [] and runner.calls == 1


async def test_a_document_posted_again_reuses_its_result_by_digest_and_only_the_last_few() -> None:
    canon = Canonicalizer(CountingRunner(), recent=2)
    documents = [unsecured(WORLD.credential(index)) for index in range(60, 63)]
    first = await canon.process(documents[0], digest="d0")
    assert await canon.process(documents[0], digest="d0") is first  # the kept result, not a template fill
    assert await canon.process(documents[0]) is not first  # no digest: processed again
    await canon.process(documents[1], digest="d1")
    await canon.process(documents[2], digest="d2")  # d0 is the least recently used of three: dropped
    again = await canon.process(documents[0], digest="d0")
    assert again is not first and again.nquads == first.nquads
