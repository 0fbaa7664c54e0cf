"""The pipeline on this platform's own credentials: did:web issuers from the trust registry, key rotation,
accreditation, EU elements, and revocation/suspension through signed status lists."""

from __future__ import annotations

from datetime import timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from microcred.crypto.multikey import encode_ed25519_public_key
from microcred.gen.microcred.v1 import elements_pb2, events_pb2
from microcred.registry.did_web import method_id
from microcred.registry.domain import timestamp
from microcred.verification import CheckId, CheckStatus, Reason, Verdict, verify
from tests.harness.factories import ISSUED_AT
from tests.verifier_support import LIST_SIGNER, NOW, World, registry_event, sign_list

C, S, R, V = CheckId, CheckStatus, Reason, Verdict


async def test_a_platform_credential_is_valid_on_every_check() -> None:
    world = World()
    report = await verify(world.credential(), world.ports(), NOW)
    assert report.verdict is V.VALID, [c.to_dict() for c in report.checks]
    assert all(c.status is S.VALID for c in report.checks)
    assert report.micro_credential
    accreditation = report.check(C.ACCREDITATION)
    assert accreditation is not None and accreditation.details["framework"] == "Irish NFQ"
    assert accreditation.details["max_eqf_level"] == 7 and accreditation.details["eqf_level"] == 6
    identity = report.check(C.ISSUER_IDENTITY)
    assert identity is not None and identity.details["method"] == "did:web (trust registry)"
    assert report.summary["title"] == "Digital micro-credential creation"
    assert report.summary["eqf_level"] == 6


async def test_revoked_and_suspended_bits_fail_their_checks() -> None:
    world = World()
    doc = world.credential(index=77)
    world.revocation.set(77)
    world.publish()
    report = await verify(doc, world.ports(), NOW)
    revocation, suspension = report.check(C.REVOCATION), report.check(C.SUSPENSION)
    assert revocation is not None and (revocation.status, revocation.reason_code) == (S.INVALID, R.REVOKED)
    assert suspension is not None and suspension.status is S.VALID
    assert report.verdict is V.INVALID

    world.revocation.clear(77)
    world.suspension.set(77)
    world.publish()
    report = await verify(doc, world.ports(), NOW)
    suspension = report.check(C.SUSPENSION)
    assert suspension is not None and (suspension.status, suspension.reason_code) == (S.INVALID, R.SUSPENDED)

    world.suspension.clear(77)  # reinstated
    world.publish()
    assert (await verify(doc, world.ports(), NOW)).verdict is V.VALID


async def test_unreachable_status_makes_a_platform_credential_undetermined() -> None:
    world = World()
    world.status.fail = True
    report = await verify(world.credential(), world.ports(), NOW)
    assert report.verdict is V.UNDETERMINED
    for check in (C.REVOCATION, C.SUSPENSION):
        result = report.check(check)
        assert result is not None and (result.status, result.reason_code) == (S.UNKNOWN, R.STATUS_RETRIEVAL_ERROR)


async def test_expired_status_list_is_unknown() -> None:
    world = World()
    report = await verify(world.credential(), world.ports(), NOW + timedelta(hours=2))
    revocation = report.check(C.REVOCATION)
    assert revocation is not None and (revocation.status, revocation.reason_code) == (S.UNKNOWN,
                                                                                      R.STATUS_LIST_EXPIRED)
    assert report.verdict is V.UNDETERMINED


async def test_status_list_from_an_untrusted_signer_is_unknown() -> None:
    world = World()
    intruder = Ed25519PrivateKey.from_private_bytes(b"\x09" * 32)
    world.status.lists[world.revocation_url] = sign_list(world.status.lists[world.revocation_url],
                                                         world.revocation_url, intruder)
    report = await verify(world.credential(), world.ports(), NOW)
    revocation = report.check(C.REVOCATION)
    assert revocation is not None and (revocation.status, revocation.reason_code) == (S.UNKNOWN,
                                                                                      R.STATUS_VERIFICATION_ERROR)


async def test_tampered_status_list_is_unknown_not_revoked_or_valid() -> None:
    world = World()
    tampered = dict(world.status.lists[world.revocation_url])
    tampered["validUntil"] = "2099-01-01T00:00:00Z"
    world.status.lists[world.revocation_url] = tampered
    report = await verify(world.credential(), world.ports(), NOW)
    revocation = report.check(C.REVOCATION)
    assert revocation is not None and revocation.status is S.UNKNOWN
    assert sign_list(tampered, world.revocation_url, LIST_SIGNER)  # re-signed by the right key it would pass


async def test_signature_by_a_retired_key_is_invalid_identity() -> None:
    world = World()
    new_key = Ed25519PrivateKey.from_private_bytes(b"\x08" * 32)
    rotated = ISSUED_AT + timedelta(days=1)
    registry_event(world.registry, events_pb2.IssuerKeyRotated(
        issuer_id=world.issuer_id, new_verification_method_id=method_id(world.did, 2),
        new_public_key_multibase=encode_ed25519_public_key(new_key.public_key()),
        retired_verification_method_id=world.vm, retired_at=timestamp(rotated)), rotated)
    old = await verify(world.credential(signed_at=ISSUED_AT), world.ports(), NOW)
    assert old.verdict is V.VALID  # signed before the rotation: still good
    late = await verify(world.credential(signed_at=rotated + timedelta(hours=1)), world.ports(), NOW)
    identity = late.check(C.ISSUER_IDENTITY)
    assert identity is not None and (identity.status, identity.reason_code) == (S.INVALID, R.KEY_RETIRED)
    assert late.verdict is V.INVALID
    new_credential = world.credential(key=new_key, vm=method_id(world.did, 2), signed_at=rotated + timedelta(hours=1))
    fresh = await verify(new_credential, world.ports(), NOW)
    assert fresh.verdict is V.VALID


async def test_key_the_issuer_never_had_is_invalid() -> None:
    world = World()
    report = await verify(world.credential(vm=method_id(world.did, 9)), world.ports(), NOW)
    identity = report.check(C.ISSUER_IDENTITY)
    assert identity is not None and (identity.status, identity.reason_code) == (S.INVALID,
                                                                                R.UNKNOWN_VERIFICATION_METHOD)


async def test_withdrawn_accreditation_and_eqf_level_are_invalid() -> None:
    world = World()
    doc = world.credential(mutate=lambda mc: setattr(mc.level, "eqf_level", elements_pb2.EQF_LEVEL_8))
    report = await verify(doc, world.ports(), NOW)
    accreditation = report.check(C.ACCREDITATION)
    assert accreditation is not None and (accreditation.status, accreditation.reason_code) == (
        S.INVALID, R.EQF_LEVEL_NOT_ALLOWED)
    registry_event(world.registry, events_pb2.AccreditationWithdrawn(issuer_id=world.issuer_id,
                                                                     accreditation_id="acc-1", reason="audit"), NOW)
    report = await verify(world.credential(), world.ports(), NOW)
    accreditation = report.check(C.ACCREDITATION)
    assert accreditation is not None and (accreditation.status, accreditation.reason_code) == (
        S.INVALID, R.ACCREDITATION_WITHDRAWN)
    assert report.verdict is V.INVALID


async def test_micro_credential_of_an_issuer_outside_the_registry_is_undetermined() -> None:
    world, stranger = World(), World(issuer_id="elsewhere", host="other.example")
    report = await verify(stranger.credential(), world.ports(), NOW)
    accreditation = report.check(C.ACCREDITATION)
    assert accreditation is not None and accreditation.status is S.UNKNOWN
    assert report.verdict is V.UNDETERMINED


async def test_missing_eu_element_is_invalid() -> None:
    world = World()
    doc = world.credential(mutate=lambda mc: mc.ClearField("assessment"))
    report = await verify(doc, world.ports(), NOW)
    eu = report.check(C.EU_ELEMENTS)
    assert eu is not None and (eu.status, eu.reason_code) == (S.INVALID, R.EU_ELEMENTS_MISSING)
    assert eu.details["missing"] == ["assessment"]


async def test_report_json_in_polish() -> None:
    world = World()
    data = (await verify(world.credential(), world.ports(), NOW)).to_dict("pl")
    assert data["verdict"] == "valid" and data["lang"] == "pl"
    assert data["verdict_message"].startswith("Ważne")
    sd_jwt_only = {"disclosures", "type_metadata"}
    assert {c["id"] for c in data["checks"]} == {c.value for c in CheckId} - {"holder_binding", *sd_jwt_only}


async def test_results_are_cached_but_status_is_fresh() -> None:
    world = World()
    ports = world.ports()
    doc = world.credential(index=5)
    assert (await verify(doc, ports, NOW)).verdict is V.VALID
    hits = ports.cache.hits if ports.cache else 0
    world.revocation.set(5)
    world.publish()
    report = await verify(doc, ports, NOW)
    assert ports.cache is not None and ports.cache.hits > hits  # the signature verdict came from the cache
    assert report.verdict is V.INVALID  # ...the status did not
