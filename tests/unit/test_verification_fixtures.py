"""The verification pipeline on the public W3C and 1EdTech fixtures: valid ones pass, invalid, revoked and
suspended ones fail on the right check with the right reason, and what cannot be checked is a specific unknown."""

from __future__ import annotations

import pytest

from microcred.verification import CheckId, CheckStatus, Reason, Verdict, verify
from tests.verifier_support import NOW, DictStatusSource, fixture_lists, fixture_ports, load

C, S, R, V = CheckId, CheckStatus, Reason, Verdict

VALID = [
    "w3c/eddsa-rdfc-2022.json",
    "w3c/eddsa-jcs-2022.json",
    "w3c/ed25519-signature-2020.json",
    "1edtech/simple.json",
    "1edtech/simple-did-key-method.json",
    "1edtech/simple-did-web-method.json",
    "1edtech/endorsement-valid.json",
    "bitstring/section-A.1-credential-eddsa-rdfc-2022.json",
]

# fixture -> (verdict, check, status, reason)
FAILING = [
    ("1edtech/simple-err-proof-value.json", V.INVALID, C.SIGNATURE, S.INVALID, R.INVALID_SIGNATURE),
    ("1edtech/simple-noproof.json", V.INVALID, C.SIGNATURE, S.INVALID, R.NO_PROOF),
    ("1edtech/simple-err-context.json", V.INVALID, C.FORMAT, S.INVALID, R.INVALID_CONTEXT),
    ("1edtech/simple-err-type.json", V.INVALID, C.FORMAT, S.INVALID, R.OB3_PROFILE_VIOLATION),
    ("1edtech/simple-err-credential-subject-type.json", V.INVALID, C.FORMAT, S.INVALID, R.OB3_PROFILE_VIOLATION),
    ("1edtech/simple-multiple-proofs.json", V.UNDETERMINED, C.SIGNATURE, S.UNKNOWN, R.UNSUPPORTED_CRYPTOSUITE),
    ("bitstring/1edtech-credential-status-revoked.json", V.INVALID, C.REVOCATION, S.INVALID, R.REVOKED),
    ("status-suite/should-be-revoked.jsonld", V.INVALID, C.REVOCATION, S.INVALID, R.REVOKED),
    ("status-suite/should-be-suspended.jsonld", V.INVALID, C.SUSPENSION, S.INVALID, R.SUSPENDED),
    # VC 1.1 + Ed25519Signature2020 with a 1EdTechRevocationList status: signature fine, status not checkable
    ("1edtech/credential-status-revoked.json", V.UNDETERMINED, C.REVOCATION, S.UNKNOWN, R.UNSUPPORTED_STATUS_TYPE),
]


@pytest.mark.parametrize("name", VALID)
async def test_valid_fixtures_pass(name: str) -> None:
    report = await verify(load(name), fixture_ports(), NOW)
    assert report.verdict is V.VALID, [c.to_dict() for c in report.checks]
    for check in (C.FORMAT, C.SIGNATURE, C.ISSUER_IDENTITY, C.VALIDITY_WINDOW, C.REVOCATION, C.SUSPENSION):
        result = report.check(check)
        assert result is not None and result.status is S.VALID, result
    advisory = report.check(C.ACCREDITATION)
    assert advisory is not None and advisory.status is S.UNKNOWN  # no registry here: shown, but advisory


@pytest.mark.parametrize(("name", "verdict", "check", "status", "reason"), FAILING)
async def test_failing_fixtures_fail_on_the_right_check(name: str, verdict: Verdict, check: CheckId,
                                                        status: CheckStatus, reason: Reason) -> None:
    report = await verify(load(name), fixture_ports(), NOW)
    result = report.check(check)
    assert result is not None
    assert (result.status, result.reason_code) == (status, reason), result
    assert report.verdict is verdict


async def test_vc11_ed25519_signature_2020_verifies() -> None:
    report = await verify(load("1edtech/credential-status-revoked.json"), fixture_ports(), NOW)
    signature = report.check(C.SIGNATURE)
    assert signature is not None and signature.status is S.VALID
    assert signature.details["suite"] == "Ed25519Signature2020"
    fmt = report.check(C.FORMAT)
    assert fmt is not None and fmt.details["vc_version"] == "1.1"


async def test_revoked_status_reports_the_list_and_its_freshness() -> None:
    report = await verify(load("bitstring/1edtech-credential-status-revoked.json"), fixture_ports(), NOW)
    revocation = report.check(C.REVOCATION)
    assert revocation is not None
    assert revocation.details["index"] == 23 and revocation.details["age_seconds"] == 0.0
    assert revocation.details["warnings"] == ["INTEGER_INDEX"]  # the fixture's index is a JSON number


async def test_unresolvable_third_party_issuer_is_unknown_never_valid() -> None:
    report = await verify(load("1edtech/simple.json"), fixture_ports(controllers=False), NOW)
    signature, identity = report.check(C.SIGNATURE), report.check(C.ISSUER_IDENTITY)
    assert signature is not None and (signature.status, signature.reason_code) == (S.UNKNOWN, R.KEY_NOT_FOUND)
    assert identity is not None and (identity.status, identity.reason_code) == (S.UNKNOWN, R.ISSUER_UNRESOLVABLE)
    assert report.verdict is V.UNDETERMINED


async def test_key_of_someone_else_is_invalid_when_the_issuer_is_known() -> None:
    doc = load("w3c/eddsa-rdfc-2022.json")
    doc["issuer"] = "https://example.com/issuers/876543"  # a known controller that does not list this did:key
    report = await verify(doc, fixture_ports(), NOW)
    identity = report.check(C.ISSUER_IDENTITY)
    assert identity is not None and (identity.status, identity.reason_code) == (S.INVALID, R.KEY_NOT_OF_ISSUER)


async def test_unreachable_status_list_is_undetermined_never_valid() -> None:
    source = DictStatusSource(fixture_lists())
    source.fail = True
    report = await verify(load("bitstring/section-A.1-credential-eddsa-rdfc-2022.json"), fixture_ports(source), NOW)
    revocation = report.check(C.REVOCATION)
    assert revocation is not None and (revocation.status, revocation.reason_code) == (S.UNKNOWN,
                                                                                      R.STATUS_RETRIEVAL_ERROR)
    assert report.verdict is V.UNDETERMINED
    missing = await verify(load("bitstring/section-A.1-credential-eddsa-rdfc-2022.json"),
                           fixture_ports(DictStatusSource({})), NOW)
    assert missing.verdict is V.UNDETERMINED


async def test_unsigned_status_list_is_not_trusted() -> None:
    lists = fixture_lists()
    lists["https://w3c-ccg.github.io/vc-api/fixtures/credentials/status/purpose-single-ok.jsonld"] = load(
        "status-suite/single-purpose-ok.jsonld")
    report = await verify(load("status-suite/should-be-revoked.jsonld"), fixture_ports(DictStatusSource(lists)), NOW)
    revocation = report.check(C.REVOCATION)
    assert revocation is not None
    assert (revocation.status, revocation.reason_code) == (S.UNKNOWN, R.STATUS_VERIFICATION_ERROR)


async def test_unknown_context_is_a_specific_unknown() -> None:
    doc = load("w3c/eddsa-rdfc-2022.json")
    doc["@context"] = [*doc["@context"], "https://example.org/not-pinned/v1"]
    report = await verify(doc, fixture_ports(), NOW)
    fmt, signature = report.check(C.FORMAT), report.check(C.SIGNATURE)
    assert fmt is not None and (fmt.status, fmt.reason_code) == (S.UNKNOWN, R.UNKNOWN_CONTEXT)
    assert signature is not None and (signature.status, signature.reason_code) == (S.UNKNOWN, R.UNKNOWN_CONTEXT)
    assert report.verdict is V.UNDETERMINED


@pytest.mark.parametrize("document", [None, [], "text", 42, {"no": "context"}])
async def test_garbage_is_an_invalid_report_not_a_crash(document: object) -> None:
    report = await verify(document, fixture_ports(), NOW)
    assert report.verdict is V.INVALID
    fmt = report.check(C.FORMAT)
    assert fmt is not None and fmt.status is S.INVALID


async def test_expired_credential_is_invalid_on_the_validity_window() -> None:
    doc = load("w3c/eddsa-rdfc-2022.json")
    report = await verify(doc, fixture_ports(), NOW.replace(year=2022))
    window = report.check(C.VALIDITY_WINDOW)
    assert window is not None and (window.status, window.reason_code) == (S.INVALID, R.NOT_YET_VALID)
