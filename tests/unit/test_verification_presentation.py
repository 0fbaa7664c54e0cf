"""Presentations: the holder's signature, challenge and domain, and the holder being each credential's subject."""

from __future__ import annotations

import dataclasses
from typing import Any

from microcred.crypto.data_integrity import sign_eddsa_rdfc_2022
from microcred.crypto.did_key import verification_method_id
from microcred.crypto.multikey import decode_ed25519_secret_key
from microcred.verification import CheckId, CheckStatus, Reason, Verdict, verify
from tests.harness.factories import ISSUED_AT, LEARNER_DID
from tests.verifier_support import NOW, World

C, S, R, V = CheckId, CheckStatus, Reason, Verdict
HOLDER_KEY = decode_ed25519_secret_key("z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq")  # W3C keyPair.json


def presentation(credentials: list[dict[str, Any]], *, challenge: str | None = "c-123",
                 domain: str | None = "employer.example", holder: str = LEARNER_DID) -> dict[str, Any]:
    vp = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiablePresentation"],
          "holder": holder, "verifiableCredential": credentials}
    return sign_eddsa_rdfc_2022(vp, HOLDER_KEY, verification_method_id(LEARNER_DID), proof_purpose="authentication",
                                challenge=challenge, domain=domain)


async def test_bound_presentation_is_valid() -> None:
    world = World()
    report = await verify(presentation([world.credential()]), world.ports(), NOW, challenge="c-123",
                          domain="employer.example")
    assert report.kind == "presentation"
    assert report.verdict is V.VALID, report.to_dict()
    binding = report.check(C.HOLDER_BINDING)
    assert binding is not None and (binding.status, binding.reason_code) == (S.VALID, R.HOLDER_BOUND)
    assert len(report.credentials) == 1 and report.credentials[0].verdict is V.VALID
    assert report.to_dict()["credentials"][0]["verdict"] == "valid"


async def test_wrong_challenge_or_domain_is_invalid() -> None:
    world = World()
    vp = presentation([world.credential()])
    report = await verify(vp, world.ports(), NOW, challenge="other", domain="employer.example")
    binding = report.check(C.HOLDER_BINDING)
    assert binding is not None and (binding.status, binding.reason_code) == (S.INVALID, R.CHALLENGE_MISMATCH)
    assert report.verdict is V.INVALID
    report = await verify(vp, world.ports(), NOW, challenge="c-123", domain="evil.example")
    binding = report.check(C.HOLDER_BINDING)
    assert binding is not None and binding.reason_code is R.DOMAIN_MISMATCH


async def test_no_challenge_means_holder_binding_unknown() -> None:
    world = World()
    report = await verify(presentation([world.credential()], challenge=None), world.ports(), NOW)
    binding = report.check(C.HOLDER_BINDING)
    assert binding is not None and (binding.status, binding.reason_code) == (S.UNKNOWN, R.NO_CHALLENGE)
    assert report.verdict is V.UNDETERMINED


async def test_holder_who_is_not_the_subject_is_invalid_when_the_policy_requires_it() -> None:
    world = World()
    changed = world.credential()
    changed["credentialSubject"] = {**changed["credentialSubject"], "id": "did:example:someone-else"}
    ports = dataclasses.replace(world.ports(), holder_must_be_subject=True)
    report = await verify(presentation([changed]), ports, NOW, challenge="c-123")
    binding = report.check(C.HOLDER_BINDING)
    assert binding is not None and (binding.status, binding.reason_code) == (S.INVALID, R.HOLDER_NOT_SUBJECT)
    assert report.verdict is V.INVALID


async def test_holder_who_is_not_the_subject_is_reported_by_default() -> None:
    # The data model lets holder and subject differ: the binding says so, the verdict follows the other checks.
    world = World()
    unsigned = {k: v for k, v in world.credential().items() if k != "proof"}
    unsigned["credentialSubject"] = {**unsigned["credentialSubject"], "id": "did:example:someone-else"}
    other = sign_eddsa_rdfc_2022(unsigned, world.issuer_key, world.vm, created=ISSUED_AT)
    report = await verify(presentation([other]), world.ports(), NOW, challenge="c-123")
    binding = report.check(C.HOLDER_BINDING)
    assert binding is not None and (binding.status, binding.reason_code) == (S.VALID, R.HOLDER_BOUND_NOT_SUBJECT)
    assert binding.details["credentials"] == [other["id"]]
    assert report.verdict is V.VALID, report.to_dict()


async def test_presentation_without_credentials_stands_on_its_own_checks() -> None:
    vp = sign_eddsa_rdfc_2022(
        {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiablePresentation"],
         "holder": LEARNER_DID}, HOLDER_KEY, verification_method_id(LEARNER_DID), proof_purpose="authentication",
        challenge="c-123")
    report = await verify(vp, World().ports(), NOW, challenge="c-123")
    assert report.verdict is V.VALID, report.to_dict()
    assert report.credentials == ()


async def test_presentation_signed_by_someone_other_than_the_holder_is_invalid() -> None:
    world = World()
    vp = presentation([world.credential()], holder="did:key:z6MkeVw6bAm59CopQquZcVLUpapvEEELqfpdWfHkSont8HR6")
    report = await verify(vp, world.ports(), NOW, challenge="c-123")
    binding = report.check(C.HOLDER_BINDING)
    assert binding is not None and (binding.status, binding.reason_code) == (S.INVALID, R.HOLDER_NOT_SIGNER)


async def test_tampered_presentation_is_invalid() -> None:
    world = World()
    vp = presentation([world.credential()])
    vp["holder"] = LEARNER_DID + "x"
    report = await verify(vp, world.ports(), NOW, challenge="c-123")
    signature = report.check(C.SIGNATURE)
    assert signature is not None and signature.status is not S.VALID
    assert report.verdict is not V.VALID


async def test_revoked_credential_makes_the_presentation_invalid() -> None:
    world = World()
    doc = world.credential(index=3)
    world.revocation.set(3)
    world.publish()
    report = await verify(presentation([doc]), world.ports(), NOW, challenge="c-123", domain="employer.example")
    assert report.check(C.HOLDER_BINDING) is not None
    assert report.verdict is V.INVALID


async def test_embedded_credentials_are_walked_once_with_the_presentation(monkeypatch: Any) -> None:
    from microcred.verification import table as pipeline  # where the compaction walk (refusal) is called

    walked: list[Any] = []
    real = pipeline.refusal

    def counting(document: Any) -> Any:
        walked.append(document.get("type"))
        return real(document)

    monkeypatch.setattr(pipeline, "refusal", counting)
    world = World()
    report = await verify(presentation([world.credential()]), world.ports(), NOW,
                          challenge="c-123", domain="employer.example")
    assert report.verdict is V.VALID, report.to_dict()
    assert walked == [["VerifiablePresentation"]]  # the compaction rule judged the credential in that walk
    walked.clear()
    assert (await verify(world.credential(4244), world.ports(), NOW)).verdict is V.VALID
    assert len(walked) == 1  # a credential on its own is walked by itself


async def test_two_credentials_of_one_cohort_in_a_presentation_are_not_too_complex() -> None:
    # Their achievements' blank nodes look alike to RDFC-1.0, but each credential is a graph of its own, where
    # N-degree hashing stays: the look-alike limit is per graph, as the cost is.
    world = World()
    report = await verify(presentation([world.credential(4242), world.credential(4243)]), world.ports(), NOW,
                          challenge="c-123", domain="employer.example")
    fmt = report.check(C.FORMAT)
    assert fmt is not None and fmt.reason_code != "TOO_COMPLEX", fmt
    assert report.verdict is V.VALID, report.to_dict()
