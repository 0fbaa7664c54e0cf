"""EDC end to end (issue 22): issued over gRPC (TLS) by the running issuer with CREDENTIAL_FORMAT_EDC, published
to real Kafka with the sealed EDC inside the learner-sealed personal part (never in clear), answered again by
GetCredential from the store, and verified by the gateway over a socket: valid with the platform's
document-signing CA as anchor (SHACL FORMAT, JAdES signature, issuer identity, accreditation in the registry,
revocation and suspension from the Token Status List its sealed ``credentialStatus`` names), undetermined without
it; then suspended and revoked over gRPC, which the gateway and ``mcred verify`` report."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY
from typer.testing import CliRunner

from microcred import pki
from microcred.cli.main import app
from microcred.elm.jades import verify_jades
from microcred.elm.status import read_status_reference
from microcred.gen.microcred.v1 import issuer_pb2, revocation_pb2
from microcred.sdjwt.x5c import load_certificates
from microcred.verification import VerificationPorts
from microcred.verification.keys import ChainKeyResolver, DidKeyResolver
from services.verifier.adapters.sources import PlatformUrls
from services.verifier.adapters.token_status import TokenStatusHttpSource
from services.verifier.api.routes import create_gateway_app
from services.verifier.application import Gateway
from tests.conftest import Infrastructure
from tests.harness.factories import valid_micro_credential
from tests.harness.issuer import IssuerHarness, start_issuer_harness
from tests.verifier_support import DictStatusSource, Limits, RunningServer

pytestmark = pytest.mark.integration

AGENCY = "agency-edc"
TEMPLATE = Path(__file__).resolve().parents[1] / "fixtures" / "issuer" / "achievement.yaml"


@pytest.fixture
async def platform(infrastructure: Infrastructure, tmp_path: Path) -> AsyncIterator[tuple[IssuerHarness, bytes]]:
    document_ca = pki.create_ca("Platform document-signing CA", agency=AGENCY)
    cert_file, key_file = document_ca.write(tmp_path / "document-ca", "ca")
    harness = await start_issuer_harness(infrastructure.kafka_bootstrap, infrastructure.redis_url, tmp_path,
                                         document_signing_ca_cert_file=cert_file,
                                         document_signing_ca_key_file=key_file,
                                         edc_shacl_check="all")  # every EDC here is SHACL-checked at issuance
    try:
        yield harness, document_ca.cert_pem
    finally:
        await harness.close()


@contextlib.asynccontextmanager
async def gateway_for(harness: IssuerHarness, document_ca: bytes) -> AsyncIterator[httpx.AsyncClient]:
    """A client of a gateway wired as the verifier service wires it: the document-signing CA and the platform CA
    (which certifies the revocation service's list signer) as X.509 anchors, Token Status Lists fetched over HTTP
    only under the revocation service's ``/token-status/`` prefix."""
    assert harness.revocation is not None
    prefix = f"{harness.revocation.app.base_url}/token-status/"
    async with httpx.AsyncClient(timeout=10) as fetcher:
        ports = VerificationPorts(
            keys=ChainKeyResolver(DidKeyResolver()), status=DictStatusSource(), trust=harness.app_registry(),
            x509_anchors=(*load_certificates(document_ca), *load_certificates(harness.ca.cert_pem)),
            token_status=TokenStatusHttpSource(fetcher, PlatformUrls([prefix]), max_age=0.1))
        gateway = create_gateway_app(Limits())
        gateway.state.gateway = Gateway(ports)
        async with RunningServer(gateway) as server, httpx.AsyncClient(base_url=server.url, timeout=120) as http:
            yield http


async def test_an_edc_is_issued_stored_and_verified_with_the_platform_ca(
        platform: tuple[IssuerHarness, bytes]) -> None:
    harness, document_ca = platform
    issuer_id = f"uni-{uuid.uuid4().hex[:8]}"
    await harness.onboard(AGENCY, {issuer_id: 7})
    mc = valid_micro_credential()
    mc.quality_assurance.qa_body.id = "https://qqi.example"  # the factory's QA body reuses the university's id
    stub = harness.issuer_stub(issuer_id, AGENCY)
    checks = {o: REGISTRY.get_sample_value("microcred_edc_shacl_checks_total", {"outcome": o}) or 0.0
              for o in ("conforms", "violation")}
    response = await stub.IssueCredential(issuer_pb2.IssueCredentialRequest(
        idempotency_key="edc-1", credential=mc, formats=[issuer_pb2.CREDENTIAL_FORMAT_EDC]))
    credential = response.credential
    assert credential.credential_json and credential.edc_jsonld and not credential.sd_jwt_vc
    sealed = json.loads(credential.edc_jsonld)
    assert json.loads(sealed["payload"])["id"] == credential.credential_id

    got = await stub.GetCredential(issuer_pb2.GetCredentialRequest(credential_id=credential.credential_id))
    assert got.credential.edc_jsonld == credential.edc_jsonld
    batch = [r async for r in stub.IssueCredentials(iter([issuer_pb2.IssueCredentialsRequest(
        idempotency_key=f"edc-b{i}", credential=mc, formats=[issuer_pb2.CREDENTIAL_FORMAT_EDC])
        for i in range(3)]))]
    assert all(r.issued.edc_jsonld for r in batch)
    # MICROCRED_EDC_SHACL_CHECK=all: the running issuer SHACL-checked each of the four before answering it
    assert {o: (REGISTRY.get_sample_value("microcred_edc_shacl_checks_total", {"outcome": o}) or 0.0) - n
            for o, n in checks.items()} == {"conforms": 4, "violation": 0}

    async def report(anchors: bytes) -> dict[str, Any]:
        async with gateway_for(harness, anchors) as http:
            answer: dict[str, Any] = (await http.post("/v1/verify", json=sealed)).json()
        return answer

    trusted = await report(document_ca)
    checks = {c["id"]: (c["status"], c["reason_code"]) for c in trusted["checks"]}
    assert trusted["verdict"] == "valid", trusted["checks"]
    assert checks["revocation"] == ("valid", "NOT_REVOKED") and checks["suspension"] == ("valid", "NOT_SUSPENDED")
    assert checks["format"] == ("valid", "FORMAT_OK") and checks["issuer_identity"][0] == "valid"
    assert checks["accreditation"] == ("valid", "ACCREDITED") and trusted["micro_credential"]
    other = pki.create_ca("Some other CA").cert_pem
    untrusted = await report(other)
    assert untrusted["verdict"] == "undetermined"
    assert next(c for c in untrusted["checks"] if c["id"] == "issuer_identity")["status"] == "unknown"


async def test_an_agency_exports_a_cohorts_edc_documents(platform: tuple[IssuerHarness, bytes],
                                                         tmp_path: Path) -> None:
    harness, document_ca = platform
    issuer_id = f"uni-{uuid.uuid4().hex[:8]}"
    await harness.onboard(AGENCY, {issuer_id: 7})
    mc = valid_micro_credential()
    mc.quality_assurance.qa_body.id = "https://qqi.example"
    stub = harness.issuer_stub(issuer_id, AGENCY)
    issued = {}
    for key, formats in (("c-1", [issuer_pb2.CREDENTIAL_FORMAT_EDC]), ("c-2", [issuer_pb2.CREDENTIAL_FORMAT_EDC]),
                         ("c-3", [])):
        answer = await stub.IssueCredential(issuer_pb2.IssueCredentialRequest(idempotency_key=key, credential=mc,
                                                                              formats=formats))
        issued[key] = answer.credential
    tls = tmp_path / "issuer-tls"
    pki.create_client_cert(harness.ca, issuer_id, AGENCY, pki.ROLE_ISSUER).write(tls, issuer_id)
    harness.ca.write(tls, "ca")
    out = tmp_path / "cohort"
    done = await asyncio.to_thread(CliRunner().invoke, app, [
        "credential", "export-edc", "--out", str(out), "--server", harness.target, "--tls-dir", str(tls), "--json"])
    assert done.exit_code == 0, done.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["without_edc"] == [issued["c-3"].credential_id]
    files = {e["credential_id"]: out / e["file"] for e in manifest["exported"]}
    assert set(files) == {issued["c-1"].credential_id, issued["c-2"].credential_id}
    anchors = tuple(load_certificates(document_ca))
    for credential_id, path in files.items():
        text = path.read_text(encoding="utf-8")
        assert text == next(c.edc_jsonld for c in issued.values() if c.credential_id == credential_id)
        assert verify_jades(text, anchors=anchors).trust == "trusted"
    archive = tmp_path / "cohort.zip"
    done = await asyncio.to_thread(CliRunner().invoke, app, [
        "credential", "export-edc", "--out", str(archive), "--ids", str(_ids(tmp_path, issued["c-1"])),
        "--server", harness.target, "--tls-dir", str(tls)])
    assert done.exit_code == 0, done.output
    with zipfile.ZipFile(archive) as zipped:
        assert sorted(zipped.namelist()) == sorted(["manifest.json", files[issued["c-1"].credential_id].name])


def _ids(tmp_path: Path, credential: issuer_pb2.IssuedCredential) -> Path:
    path = tmp_path / "ids.txt"
    path.write_text(f"# the cohort\n{credential.credential_id}\n")
    return path


async def test_a_cohort_is_issued_in_the_edc_format_with_mcred_issue(platform: tuple[IssuerHarness, bytes],
                                                                     tmp_path: Path) -> None:
    harness, document_ca = platform
    issuer_id = f"uni-{uuid.uuid4().hex[:8]}"
    await harness.onboard(AGENCY, {issuer_id: 7})
    tls = tmp_path / "issuer-tls"
    pki.create_client_cert(harness.ca, issuer_id, AGENCY, pki.ROLE_ISSUER).write(tls, issuer_id)
    harness.ca.write(tls, "ca")
    cohort = tmp_path / "cohort.csv"
    cohort.write_text("key,full_name,email,date_of_birth,grade,grade_status\n" + "".join(
        f"s-{n},Learner {n},learner{n}@example.org,2001-02-03,Pass,passed\n" for n in range(3)))
    template = TEMPLATE
    common = ["--server", harness.target, "--tls-dir", str(tls)]
    done = await asyncio.to_thread(CliRunner().invoke, app, [
        "issue", "--csv", str(cohort), "--template", str(template), "--format", "bogus", *common, "--quiet"])
    assert done.exit_code == 2 and "bogus" in done.output
    done = await asyncio.to_thread(CliRunner().invoke, app, [
        "issue", "--csv", str(cohort), "--template", str(template), "--format", "edc", *common, "--quiet",
        "--results", str(tmp_path / "results.csv")])
    assert done.exit_code == 0, done.output
    out = tmp_path / "out"
    done = await asyncio.to_thread(CliRunner().invoke, app, [
        "credential", "export-edc", "--out", str(out), *common])
    assert done.exit_code == 0, done.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert len(manifest["exported"]) == 3 and manifest["without_edc"] == []
    anchors = tuple(load_certificates(document_ca))
    assert all(verify_jades((out / e["file"]).read_text(), anchors=anchors).trust == "trusted"
               for e in manifest["exported"])


async def test_an_edc_suspended_then_revoked_over_grpc_is_reported_so(platform: tuple[IssuerHarness, bytes],
                                                                      tmp_path: Path) -> None:
    harness, document_ca = platform
    assert harness.revocation is not None
    issuer_id = f"uni-{uuid.uuid4().hex[:8]}"
    await harness.onboard(AGENCY, {issuer_id: 7})
    mc = valid_micro_credential()
    mc.quality_assurance.qa_body.id = "https://qqi.example"
    stub = harness.issuer_stub(issuer_id, AGENCY)
    credential = (await stub.IssueCredential(issuer_pb2.IssueCredentialRequest(
        idempotency_key="edc-status", credential=mc, formats=[issuer_pb2.CREDENTIAL_FORMAT_EDC]))).credential
    sealed = json.loads(credential.edc_jsonld)
    reference = read_status_reference(json.loads(sealed["payload"]))
    assert reference is not None and reference.uri.startswith(harness.revocation.app.base_url + "/token-status/")
    revoker = harness.revocation.stub(issuer_id, AGENCY, pki.ROLE_ISSUER)

    async with gateway_for(harness, document_ca) as http:
        async def checks() -> tuple[str, dict[str, tuple[str, str]]]:
            answer = (await http.post("/v1/verify", json=sealed)).json()
            return answer["verdict"], {c["id"]: (c["status"], c["reason_code"]) for c in answer["checks"]}

        async def until(wanted: dict[str, tuple[str, str]]) -> str:
            """The verdict once the gateway reports ``wanted`` (generous deadline: a loaded 2-core CI machine)."""
            deadline = time.monotonic() + 60
            while True:
                verdict, got = await checks()
                if all(got.get(k) == v for k, v in wanted.items()):
                    return verdict
                assert time.monotonic() < deadline, f"still {got} after 60 s, waiting for {wanted}"
                await asyncio.sleep(0.1)

        assert await until({"revocation": ("valid", "NOT_REVOKED"), "suspension": ("valid", "NOT_SUSPENDED")}) == \
            "valid"
        await revoker.SuspendCredential(revocation_pb2.SuspendCredentialRequest(
            credential_id=credential.credential_id, reason="under investigation"))
        assert await until({"suspension": ("invalid", "SUSPENDED"), "revocation": ("valid", "NOT_REVOKED")}) == \
            "invalid"
        await revoker.ReinstateCredential(revocation_pb2.ReinstateCredentialRequest(
            credential_id=credential.credential_id, reason="investigation closed"))
        assert await until({"suspension": ("valid", "NOT_SUSPENDED")}) == "valid"
        await revoker.RevokeCredential(revocation_pb2.RevokeCredentialRequest(
            credential_id=credential.credential_id, reason="issued in error"))
        assert await until({"revocation": ("invalid", "REVOKED")}) == "invalid"

    # mcred verify, online, with the same anchors: it fetches the list the sealed payload names
    edc, anchors = tmp_path / "revoked.jsonld", tmp_path / "anchors.pem"
    edc.write_text(credential.edc_jsonld, encoding="utf-8")
    anchors.write_bytes(document_ca + harness.ca.cert_pem)
    done = await asyncio.to_thread(CliRunner().invoke, app, ["verify", "--x509-anchors", str(anchors), str(edc)])
    assert done.exit_code == 1, done.output  # invalid
    report = json.loads(done.stdout)
    revocation = next(c for c in report["checks"] if c["id"] == "revocation")
    assert (revocation["status"], revocation["reason_code"]) == ("invalid", "REVOKED"), report["checks"]
    # offline it cannot know: never valid
    done = await asyncio.to_thread(CliRunner().invoke, app, ["verify", "--offline", "--x509-anchors", str(anchors),
                                                              str(edc)])
    assert done.exit_code == 3, done.output
    assert next(c for c in json.loads(done.stdout)["checks"] if c["id"] == "revocation")["status"] == "unknown"
