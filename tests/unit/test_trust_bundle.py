"""Trust bundles (``mcred trust export`` / ``mcred verify --trust-bundle``), the pure parts: the file format and its
digest, the freshness rules, and verification through the bundle-backed ports (same checks and policy as the
gateway) with the in-memory platform world of ``tests.verifier_support``."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import typer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

from microcred import pki
from microcred.cli.main import app
from microcred.cli.trust import issuer_slug, parse_duration
from microcred.verification import verify
from microcred.verification.bundle_sources import bundle_ports, freshness
from microcred.verification.trust_bundle import (
    BundleRefusal,
    FetchedList,
    TrustBundleError,
    build_bundle,
    digest_of,
    freshness_problem,
    human_duration,
    list_max_age,
    parse_bundle,
)
from tests.verifier_support import LIST_SIGNER_DID, NOW, World

HOUR = timedelta(hours=1)


CA = pki.create_ca("trust bundle test CA")
OPERATOR = pki.create_client_cert(CA, "ie-operator", "ie", pki.ROLE_AGENCY)
# Certificates are valid from their creation on: a sealed bundle is made now, its lists signed around now.
TODAY = datetime.now(UTC).replace(microsecond=0)


def world_today() -> World:
    world = World()
    world.publish(TODAY)
    return world


async def bundle_of(world: World, *, fetched_at: datetime = NOW, registry_max_age: timedelta = 24 * HOUR,
                    status_max_age: timedelta | None = None, issuers: bool = True,
                    signers: tuple[str, ...] = (LIST_SIGNER_DID,),
                    seal: pki.CertifiedKey | None = None) -> dict[str, Any]:
    """What ``mcred trust export`` would write for ``world``, fetched at ``fetched_at``."""
    lists = [FetchedList(url, fetched_at, list_max_age(c, fetched_at, status_max_age), c)
             for url, c in world.status.lists.items()]
    return build_bundle(created_at=fetched_at, registry_fetched_at=fetched_at,
                        agencies=await world.registry.list_agencies(),
                        issuers=await world.registry.list_issuers() if issuers else [], status_lists=lists,
                        status_signers=signers, registry_max_age=registry_max_age, status_max_age=status_max_age,
                        seal_with=(seal.cert_pem, seal.key_pem) if seal is not None else None)


def raw(content: dict[str, Any]) -> bytes:
    return json.dumps(content).encode()


async def verified(world: World, content: dict[str, Any], at: datetime, document: Any = None) -> dict[str, Any]:
    used = bundle_ports(parse_bundle(raw(content)), at)
    report = (await verify(document or world.credential(), used.ports, at)).to_dict()
    report["trust_bundle"] = freshness(used)
    return report


def check(report: dict[str, Any], check_id: str) -> dict[str, Any]:
    found: dict[str, Any] = next(c for c in report["checks"] if c["id"] == check_id)
    return found


# ------------------------------------------------------------------------------------------------------ format


async def test_a_fresh_bundle_verifies_a_platform_credential_as_the_gateway_does() -> None:
    world = World()
    content = await bundle_of(world)
    bundle = parse_bundle(raw(content))
    assert [i.issuer_id for i in bundle.issuers] == [world.issuer_id]
    assert content["registry"]["did_documents"][world.did]["assertionMethod"] == [world.vm]
    at = NOW + timedelta(minutes=10)
    report = await verified(world, content, at)
    gateway = (await verify(world.credential(), world.ports(), at)).to_dict()
    assert report["verdict"] == gateway["verdict"] == "valid"
    assert [(c["id"], c["status"], c["reason_code"]) for c in report["checks"]] == \
           [(c["id"], c["status"], c["reason_code"]) for c in gateway["checks"]]
    assert check(report, "accreditation")["reason_code"] == "ACCREDITED"
    fresh = report["trust_bundle"]
    assert fresh["registry"]["age_seconds"] == 600 and fresh["registry"]["limit_seconds"] == 86_400
    assert fresh["registry"]["usable"] and fresh["registry"]["used"]
    assert sorted(u["url"] for u in fresh["status_lists"]) == sorted([world.revocation_url, world.suspension_url])
    assert all(u["usable"] and u["age_seconds"] == 600 and u["limit_seconds"] == 3600 for u in fresh["status_lists"])


async def test_a_revoked_credential_is_invalid_with_the_bundle() -> None:
    world = World()
    world.revocation.set(4242)
    world.publish()
    report = await verified(world, await bundle_of(world), NOW)
    assert report["verdict"] == "invalid" and check(report, "revocation")["reason_code"] == "REVOKED"


async def test_a_tampered_bundle_is_refused_by_name() -> None:
    world = World()
    content = await bundle_of(world)
    other = World(issuer_key=Ed25519PrivateKey.generate())
    forged = json.loads(raw(content))
    forged["registry"]["issuers"][0]["verification_methods"][0]["public_key_multibase"] = \
        other.registry.state.issuers[other.issuer_id].verification_methods[0].public_key_multibase
    with pytest.raises(TrustBundleError) as refused:
        parse_bundle(raw(forged))
    assert refused.value.reason is BundleRefusal.DIGEST_MISMATCH and "changed after export" in str(refused.value)
    extended = json.loads(raw(content))
    extended["limits"]["registry_max_age_seconds"] = 10 * 365 * 86_400  # a longer life, without resealing
    with pytest.raises(TrustBundleError) as refused:
        parse_bundle(raw(extended))
    assert refused.value.reason is BundleRefusal.DIGEST_MISMATCH


async def test_a_sealed_bundle_names_its_sealer_and_a_forged_one_is_refused_given_the_ca() -> None:
    world = world_today()
    content = await bundle_of(world, seal=OPERATOR, fetched_at=TODAY)
    bundle = parse_bundle(raw(content), CA.cert_pem)
    assert bundle.seal is not None and bundle.seal.checked and bundle.seal.sealed_by == "agency:ie-operator@ie"
    unchecked = parse_bundle(raw(content))
    assert unchecked.seal is not None and not unchecked.seal.checked
    report = await verified(world, content, TODAY)
    seal = report["trust_bundle"]["seal"]
    assert report["verdict"] == "valid" and seal["checked"] is False and "--trust-ca" in seal["note"]
    forged = json.loads(raw(content))  # a forger edits the content and recomputes the digest, not the seal
    forged["limits"]["registry_max_age_seconds"] = 10 * 365 * 86_400
    forged["digest"] = digest_of(forged)
    parse_bundle(raw(forged))  # the digest alone cannot tell
    with pytest.raises(TrustBundleError) as refused:
        parse_bundle(raw(forged), CA.cert_pem)
    assert refused.value.reason is BundleRefusal.SEAL_INVALID and "agency:ie-operator@ie" in str(refused.value)


@pytest.mark.parametrize(("sealer", "reason"), [
    (None, BundleRefusal.NOT_SEALED),
    (pki.create_client_cert(pki.create_ca("another CA"), "ie-operator", "ie", pki.ROLE_AGENCY),
     BundleRefusal.SEAL_UNTRUSTED),
    (pki.create_server_cert(CA, "microcred-services"), BundleRefusal.SEAL_UNTRUSTED),
])
async def test_given_the_ca_an_unsealed_or_foreign_sealed_bundle_is_refused(sealer: pki.CertifiedKey | None,
                                                                           reason: BundleRefusal) -> None:
    content = await bundle_of(world_today(), seal=sealer, fetched_at=TODAY)
    with pytest.raises(TrustBundleError) as refused:
        parse_bundle(raw(content), CA.cert_pem)
    assert refused.value.reason is reason


async def test_a_seal_by_a_certificate_not_valid_at_creation_is_untrusted() -> None:
    content = await bundle_of(World(), seal=OPERATOR, fetched_at=datetime(2001, 1, 1, tzinfo=UTC))
    with pytest.raises(TrustBundleError) as refused:
        parse_bundle(raw(content), CA.cert_pem)
    assert refused.value.reason is BundleRefusal.SEAL_UNTRUSTED and "not valid when" in str(refused.value)


@pytest.mark.parametrize(("data", "reason"), [
    (b"{not json", BundleRefusal.NOT_JSON),
    (b"[1, 2]", BundleRefusal.NOT_A_BUNDLE),
    (b'{"type": "microcred-trust-bundle", "version": 99}', BundleRefusal.UNSUPPORTED_VERSION),
    (b'{"type": "microcred-trust-bundle", "version": 1}', BundleRefusal.NOT_SEALED),
])
def test_what_is_not_a_bundle_is_refused_by_name(data: bytes, reason: BundleRefusal) -> None:
    with pytest.raises(TrustBundleError) as refused:
        parse_bundle(data)
    assert refused.value.reason is reason


async def test_a_sealed_but_malformed_bundle_names_the_field() -> None:
    content = await bundle_of(World())
    content["status_lists"][0]["fetched_at"] = "yesterday"
    content["digest"] = digest_of(content)
    with pytest.raises(TrustBundleError) as refused:
        parse_bundle(raw(content))
    assert refused.value.reason is BundleRefusal.MALFORMED and "status_lists[0].fetched_at" in str(refused.value)
    content = await bundle_of(World())
    content["registry"]["issuers"][0]["no_such_field"] = 1
    content["digest"] = digest_of(content)
    with pytest.raises(TrustBundleError) as refused:
        parse_bundle(raw(content))
    assert refused.value.reason is BundleRefusal.MALFORMED and "registry.issuers[0]" in str(refused.value)


@pytest.mark.parametrize(("path", "value"), [
    (("limits", "registry_max_age_seconds"), 2**52),
    (("limits", "registry_max_age_seconds"), -1),
    (("registry", "fetched_at"), "0001-01-01T00:00:00+14:00"),
    (("token_status_lists",), "x"),
])
async def test_sealed_values_out_of_range_are_refused(path: tuple[str, ...], value: Any) -> None:
    content = await bundle_of(World())
    target = content
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    content["digest"] = digest_of(content)
    with pytest.raises(TrustBundleError) as refused:
        parse_bundle(raw(content))
    assert refused.value.reason is BundleRefusal.MALFORMED and path[-1] in str(refused.value)


async def test_a_registry_limit_of_zero_is_kept_not_replaced_by_the_default() -> None:
    world = World()
    content = await bundle_of(world, registry_max_age=timedelta(0))
    assert parse_bundle(raw(content)).registry_max_age == timedelta(0)
    report = await verified(world, content, NOW + timedelta(seconds=1))
    assert report["verdict"] == "undetermined" and report["trust_bundle"]["registry"]["usable"] is False


def test_an_oversized_file_is_refused_before_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("microcred.verification.trust_bundle.MAX_BUNDLE_BYTES", 10)
    with pytest.raises(TrustBundleError) as refused:
        parse_bundle(b"{" + b" " * 20 + b"}")
    assert refused.value.reason is BundleRefusal.TOO_LARGE


# --------------------------------------------------------------------------------------------------- freshness


def test_freshness_rules() -> None:
    assert freshness_problem(NOW, HOUR, NOW + HOUR) is None  # at the limit: still usable
    assert freshness_problem(NOW, HOUR, NOW + HOUR + timedelta(seconds=1)) == \
        "trust bundle too old (age 1h00m01s > limit 1h00m00s)"
    assert freshness_problem(NOW, None, NOW + 1000 * HOUR) is None
    assert freshness_problem(NOW, HOUR, NOW - timedelta(seconds=30)) is None  # clock skew tolerated
    problem = freshness_problem(NOW, HOUR, NOW - HOUR)
    assert problem is not None and problem.startswith("trust bundle fetched after the verification time")
    assert human_duration(timedelta(days=1, hours=2, minutes=3, seconds=4)) == "1d02h03m04s"
    assert human_duration(timedelta(seconds=42)) == "42s"


def test_a_list_may_be_used_until_its_own_valid_until_unless_told_less() -> None:
    credential = {"validUntil": (NOW + timedelta(minutes=5)).isoformat(), "credentialSubject": {"ttl": 60_000}}
    assert list_max_age(credential, NOW, None) == timedelta(minutes=5)
    assert list_max_age(credential, NOW, timedelta(seconds=30)) == timedelta(seconds=30)
    assert list_max_age({"credentialSubject": {"ttl": 60_000}}, NOW, None) == timedelta(seconds=60)
    assert list_max_age({}, NOW, None) is None


async def test_a_status_list_older_than_the_bundle_allows_is_unknown_never_valid() -> None:
    world = World()
    content = await bundle_of(world, status_max_age=timedelta(minutes=10))
    report = await verified(world, content, NOW + timedelta(minutes=11))
    assert report["verdict"] == "undetermined"
    for check_id in ("revocation", "suspension"):
        result = check(report, check_id)
        assert (result["status"], result["reason_code"]) == ("unknown", "STATUS_RETRIEVAL_ERROR")
        assert "trust bundle too old (age 11m00s > limit 10m00s)" in result["message"]
    assert check(report, "signature")["status"] == "valid"  # the registry (24 h) is still usable
    lists = report["trust_bundle"]["status_lists"]
    assert lists and all(not u["usable"] and u["problem"].startswith("trust bundle too old") for u in lists)


async def test_a_registry_snapshot_older_than_the_bundle_allows_is_unknown_never_valid() -> None:
    world = World()
    content = await bundle_of(world, registry_max_age=timedelta(minutes=30))
    report = await verified(world, content, NOW + timedelta(minutes=31))
    assert report["verdict"] == "undetermined"
    assert (check(report, "signature")["status"], check(report, "issuer_identity")["status"]) == ("unknown", "unknown")
    for check_id in ("signature", "issuer_identity"):
        assert check(report, check_id)["details"]["problem"] == "trust bundle too old (age 31m00s > limit 30m00s)"
    accreditation = check(report, "accreditation")
    assert (accreditation["status"], accreditation["reason_code"]) == ("unknown", "REGISTRY_UNAVAILABLE")
    assert report["trust_bundle"]["registry"]["usable"] is False


async def test_a_bundle_taken_after_the_verification_time_is_not_used() -> None:
    world = World()
    report = await verified(world, await bundle_of(world), NOW - timedelta(hours=2))
    assert report["verdict"] == "undetermined"
    assert "fetched after the verification time" in check(report, "revocation")["message"]


async def test_an_issuer_missing_from_the_bundle_is_unresolvable_not_invalid() -> None:
    world = World()
    report = await verified(world, await bundle_of(world, issuers=False), NOW)
    assert report["verdict"] == "undetermined"
    assert (check(report, "issuer_identity")["status"], check(report, "issuer_identity")["reason_code"]) == \
        ("unknown", "ISSUER_UNRESOLVABLE")
    assert (check(report, "signature")["status"], check(report, "signature")["reason_code"]) == \
        ("unknown", "KEY_NOT_FOUND")
    assert check(report, "accreditation")["reason_code"] == "ISSUER_NOT_IN_REGISTRY"


async def test_a_list_the_bundle_lacks_or_signed_by_another_signer_is_unknown() -> None:
    world = World()
    content = await bundle_of(world)
    content["status_lists"] = [e for e in content["status_lists"] if e["url"] != world.suspension_url]
    content["digest"] = digest_of(content)
    report = await verified(world, content, NOW)
    assert check(report, "suspension")["reason_code"] == "STATUS_RETRIEVAL_ERROR"
    assert check(report, "revocation")["reason_code"] == "NOT_REVOKED" and report["verdict"] == "undetermined"
    report = await verified(world, await bundle_of(world, signers=("did:key:z6MkOther",)), NOW)
    assert check(report, "revocation")["reason_code"] == "STATUS_VERIFICATION_ERROR"


# --------------------------------------------------------------------------------------------------------- CLI


def test_durations_and_list_ids() -> None:
    assert parse_duration("24h", "--x") == timedelta(hours=24)
    assert parse_duration("90", "--x") == timedelta(seconds=90)
    assert parse_duration("7d", "--x") == timedelta(days=7)
    for bad in ("a day", "-5m", "99999999999999999999d", "40000d"):
        with pytest.raises(typer.BadParameter):
            parse_duration(bad, "--x")
    from services.revocation.domain import issuer_slug as service_rule

    for issuer_id in ("uni-a", "uni a/b", "x" * 65, "ünï", "a.b_c-1"):
        assert issuer_slug(issuer_id) == service_rule(issuer_id)  # the CLI's copy keeps to the service's rule


def test_mcred_verify_with_a_trust_bundle(tmp_path: Path) -> None:
    world = world_today()
    bundle_file, credential_file = tmp_path / "trust.json", tmp_path / "vc.json"
    content = asyncio.run(bundle_of(world, seal=OPERATOR, fetched_at=TODAY))
    bundle_file.write_text(json.dumps(content))
    ca_file = tmp_path / "ca.crt"
    ca_file.write_bytes(CA.cert_pem)
    credential_file.write_text(json.dumps(world.credential()))
    runner = CliRunner()
    at = (TODAY + timedelta(minutes=5)).isoformat()
    done = runner.invoke(app, ["verify", "--trust-bundle", str(bundle_file), "--trust-ca", str(ca_file), "--at", at,
                               str(credential_file)])
    assert done.exit_code == 0, done.output
    report = json.loads(done.stdout)
    assert report["verdict"] == "valid" and report["trust_bundle"]["registry"]["age"] == "5m00s"
    assert report["trust_bundle"]["seal"] == {"sealed": True, "checked": True, "sealed_by": "agency:ie-operator@ie",
                                              "certificate_sha256": pki.certificate_sha256(OPERATOR.cert_pem)}
    other_ca = tmp_path / "other-ca.crt"
    other_ca.write_bytes(pki.create_ca("another CA").cert_pem)
    done = runner.invoke(app, ["verify", "--trust-bundle", str(bundle_file), "--trust-ca", str(other_ca), "--at", at,
                               str(credential_file)])
    assert done.exit_code == 2 and "SEAL_UNTRUSTED" in done.output
    late = (TODAY + timedelta(hours=2)).isoformat()  # past the lists' own validUntil (one hour)
    done = runner.invoke(app, ["verify", "--trust-bundle", str(bundle_file), "--at", late, str(credential_file)])
    assert done.exit_code == 3 and json.loads(done.stdout)["verdict"] == "undetermined"
    content["created_at"] = (TODAY - timedelta(days=1)).isoformat()
    bundle_file.write_text(json.dumps(content))
    done = runner.invoke(app, ["verify", "--trust-bundle", str(bundle_file), "--at", at, str(credential_file)])
    assert done.exit_code == 2 and "DIGEST_MISMATCH" in done.output and '"verdict"' not in done.output
    done = runner.invoke(app, ["verify", "--trust-bundle", str(bundle_file), "--gateway", "http://x",
                               str(credential_file)])
    assert done.exit_code == 2


def test_export_reads_every_list_of_each_issuer_across_gaps(monkeypatch: pytest.MonkeyPatch) -> None:
    """``trust export`` walks ``{issuer}-{purpose}-{n}`` until three numbers in a row are absent, waits out a 503
    (lists being rebuilt), and takes the Token Status List of each revocation list when it is served."""
    from microcred.cli import trust
    from microcred.gen.microcred.v1 import registry_pb2

    served = {"/status/uni-a-revocation-0", "/status/uni-a-revocation-2", "/status/uni-a-suspension-0",
              "/token-status/uni-a-revocation-0"}
    busy = {"/status/uni-a-suspension-0": 1}
    asked: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        asked.append(path)
        if busy.get(path, 0) > 0:
            busy[path] -= 1
            return httpx.Response(503, headers={"retry-after": "0"})
        if path not in served:
            return httpx.Response(404)
        if path.startswith("/token-status/"):
            return httpx.Response(200, text="eyJ.token.sig\n")
        return httpx.Response(200, json={"id": f"https://status.example{path}", "validUntil": "2030-01-01T00:00:00Z"})

    monkeypatch.setattr(trust.time, "sleep", lambda seconds: None)
    with httpx.Client(transport=httpx.MockTransport(answer), base_url="https://status.example") as http:
        lists, tokens = trust._read_lists(http, "https://status.example", [registry_pb2.Issuer(issuer_id="uni-a")],
                                          timedelta(minutes=5))
    assert sorted(f.url.rsplit("/", 1)[1] for f in lists) == ["uni-a-revocation-0", "uni-a-revocation-2",
                                                               "uni-a-suspension-0"]
    assert all(f.max_age == timedelta(minutes=5) for f in lists)
    assert [t.token for t in tokens] == ["eyJ.token.sig"]
    assert "/status/uni-a-revocation-5" in asked and "/status/uni-a-revocation-6" not in asked
    assert asked.count("/status/uni-a-suspension-0") == 2
