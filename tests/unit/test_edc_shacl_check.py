"""The optional SHACL check of EDCs at issuance (issue 22, ``MICROCRED_EDC_SHACL_CHECK``): ``off`` checks nothing,
``sample`` N sealed payloads per chunk, ``all`` every one; a document with a violation is refused INTERNAL naming
the first violated shape path (no value of the document) and nothing is published for it, the others are issued;
in ``sample`` mode a failing sample refuses every EDC item of its chunk; a check that times out or fails to run
issues nothing (UNAVAILABLE / INTERNAL), and a retry once it passes issues the credential. Fake validators behind
the port, then the real pyshacl validator on one real rendered document."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from google.rpc import code_pb2  # type: ignore[import-untyped, unused-ignore]
from prometheus_client import REGISTRY
from pydantic import ValidationError

from microcred.credential.ids import credential_id_for
from services.issuer.application.edc import EdcCheck, ShaclMode, shacl_paths
from services.issuer.application.issuance import IssueItem
from services.issuer.config import Settings
from tests.unit.test_elm_issuance import _mc
from tests.unit.test_elm_shacl import DATA
from tests.unit.test_issuer_issuance import UNI_A, Rig, issued, refusal, rig
from tests.unit.test_issuer_sd_jwt import with_documents

PATH = "http://data.europa.eu/snb/model/elm/learningAchievement"


class FakeValidator:
    """Records the credential id of each payload it is given; reports ``PATH`` for the ids in ``failing``."""

    def __init__(self, failing: Sequence[str] = (), fail_all: bool = False) -> None:
        self.failing, self.fail_all = set(failing), fail_all
        self.seen: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, document: Mapping[str, Any]) -> Sequence[str]:
        with self._lock:
            self.seen.append(document["id"])
        return [PATH, "https://www.w3.org/2018/credentials#issuer"] if (
            self.fail_all or document["id"] in self.failing) else []


def checked(mode: ShaclMode, validator: Any, sample: int = 1, timeout: float = 20.0) -> Rig:
    r = with_documents(rig())
    r.issuance._edc_check = EdcCheck(mode, sample, timeout, validator)
    return r


def cid(key: str) -> str:
    return credential_id_for(UNI_A.issuer_id, key)


def edc_items(*keys: str) -> list[IssueItem]:
    return [IssueItem(k, _mc(), edc=True) for k in keys]


def count(outcome: str) -> float:
    return REGISTRY.get_sample_value("microcred_edc_shacl_checks_total", {"outcome": outcome}) or 0.0


async def test_off_checks_nothing() -> None:
    fake = FakeValidator(fail_all=True)
    r = checked("off", fake)
    outcomes = await r.issuance.issue(UNI_A, edc_items("a", "b"))
    assert all(issued(o).edc_jsonld for o in outcomes) and fake.seen == []


async def test_all_checks_every_sealed_payload_and_issues_the_conforming() -> None:
    fake = FakeValidator()
    r = checked("all", fake)
    before = count("conforms")
    outcomes = await r.issuance.issue(UNI_A, [*edc_items("a", "b", "c"), IssueItem("plain", _mc())])
    assert sorted(fake.seen) == sorted(cid(k) for k in "abc")  # the sealed payloads, not the plain credential
    assert all(issued(o).credential_json for o in outcomes) and all(issued(o).edc_jsonld for o in outcomes[:3])
    assert count("conforms") - before == 3
    assert len(r.published()) == 4


@pytest.mark.parametrize("sample", [1, 2])
async def test_sample_checks_n_documents_per_chunk(sample: int) -> None:
    fake = FakeValidator()
    r = checked("sample", fake, sample=sample)
    outcomes = await r.issuance.issue(UNI_A, edc_items("a", "b", "c", "d"))
    assert len(fake.seen) == sample and len(set(fake.seen)) == sample
    assert set(fake.seen) <= {cid(k) for k in "abcd"}
    assert all(issued(o).edc_jsonld for o in outcomes)


async def test_sample_larger_than_the_chunk_checks_each_once() -> None:
    fake = FakeValidator()
    r = checked("sample", fake, sample=5)
    await r.issuance.issue(UNI_A, edc_items("a", "b"))
    assert sorted(fake.seen) == sorted([cid("a"), cid("b")])


async def test_a_document_with_a_violation_is_refused_internal_and_not_published(
        caplog: pytest.LogCaptureFixture) -> None:
    fake = FakeValidator(failing=[cid("bad")])
    r = checked("all", fake)
    before = count("violation")
    with caplog.at_level(logging.WARNING):
        [good, bad, plain] = await r.issuance.issue(UNI_A, [*edc_items("good", "bad"), IssueItem("plain", _mc())])
    failed = refusal(bad)
    assert failed.code == code_pb2.INTERNAL and failed.reason == "EDC_SHACL_VIOLATION"
    assert PATH in failed.message and "2 violation" in failed.message and not failed.violations
    assert "Andromeda" not in failed.message  # the learner is named in the document, never in the refusal
    assert issued(good).edc_jsonld and issued(plain).credential_json
    assert sorted(e.credential_id for e in r.published()) == sorted([cid("good"), cid("plain")])
    assert count("violation") - before == 1
    [warning] = [rec for rec in caplog.records if rec.getMessage().startswith("EDC refused by the SHACL check")]
    assert warning.__dict__["credential_id"] == cid("bad") and "Andromeda" not in str(warning.__dict__)
    # nothing pending for it: once the renderer conforms, a retry under the same key issues it
    r.issuance._edc_check = EdcCheck("all", 1, 20.0, FakeValidator())
    [retried] = await r.issuance.issue(UNI_A, edc_items("bad"))
    assert issued(retried).edc_jsonld and not issued(retried).already_issued


async def test_a_failing_sample_refuses_every_edc_of_its_chunk() -> None:
    fake = FakeValidator(fail_all=True)
    r = checked("sample", fake, sample=1)
    outcomes = await r.issuance.issue(UNI_A, [*edc_items("a", "b", "c"), IssueItem("plain", _mc())])
    [sampled] = fake.seen
    refusals = {cid(k): refusal(o) for k, o in zip("abc", outcomes[:3], strict=True)}
    assert all(f.code == code_pb2.INTERNAL and f.reason == "EDC_SHACL_VIOLATION" for f in refusals.values())
    assert PATH in refusals[sampled].message
    assert all("sampled for the SHACL check" in f.message and PATH in f.message
               for c, f in refusals.items() if c != sampled)
    assert issued(outcomes[3]).credential_json and not issued(outcomes[3]).edc_jsonld  # not an EDC item
    assert [e.credential_id for e in r.published()] == [cid("plain")]


async def test_a_check_past_its_time_bound_issues_nothing_retriably() -> None:
    release = threading.Event()

    def stuck(document: Mapping[str, Any]) -> Sequence[str]:
        release.wait(10)
        return []

    r = checked("all", stuck, timeout=0.05)
    before = count("timeout")
    try:
        [outcome] = await r.issuance.issue(UNI_A, edc_items("slow"))
    finally:
        release.set()
    failed = refusal(outcome)
    assert failed.code == code_pb2.UNAVAILABLE and failed.reason == "EDC_SHACL_TIMEOUT" and "retry" in failed.message
    assert r.published() == [] and count("timeout") - before == 1


async def test_a_check_that_cannot_run_is_never_a_pass() -> None:
    def broken(document: Mapping[str, Any]) -> Sequence[str]:
        raise RuntimeError("no shapes")

    r = checked("all", broken)
    [outcome] = await r.issuance.issue(UNI_A, edc_items("x"))
    failed = refusal(outcome)
    assert failed.code == code_pb2.INTERNAL and failed.reason == "EDC_SHACL_ERROR" and r.published() == []


async def test_the_real_validator_passes_a_real_rendered_document() -> None:
    seen: list[Sequence[str]] = []

    def real(document: Mapping[str, Any]) -> Sequence[str]:
        seen.append(shacl_paths(document))
        return seen[-1]

    r = checked("all", real)
    [outcome] = await r.issuance.issue(UNI_A, edc_items("real"))
    assert issued(outcome).edc_jsonld and seen == [()]  # one document checked, 0 violations


def test_the_real_validator_names_shape_paths_only() -> None:
    document = json.loads((DATA / "Sample-MC-Annex1-unsigned.jsonld").read_text("utf-8"))
    assert sorted(shacl_paths(document)) == ["http://data.europa.eu/snb/model/elm/eidasLegalIdentifier",
                                             "https://www.w3.org/2018/credentials#issued",
                                             "https://www.w3.org/2018/credentials#issuer"]


def test_the_setting_is_off_by_default_and_refuses_other_modes(tmp_path: Path) -> None:
    required = {"kafka_bootstrap": "127.0.0.1:1", "redis_url": "redis://127.0.0.1:1", "tls_dir": tmp_path,
                "revocation_target": "127.0.0.1:1", "did_web_host": "trust.example.test"}
    settings = Settings(**required)  # type: ignore[arg-type]
    assert (settings.edc_shacl_check, settings.edc_shacl_sample) == ("off", 1)
    with pytest.raises(ValidationError, match="edc_shacl_check"):
        Settings(**required, edc_shacl_check="sometimes")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="edc_shacl_sample"):
        Settings(**required, edc_shacl_sample=0)  # type: ignore[arg-type]
