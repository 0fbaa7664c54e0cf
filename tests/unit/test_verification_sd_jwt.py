"""SD-JWT VCs in the verification report: the same checks, reasons and verdict policy as Data Integrity.

An accredited did:web issuer in the in-memory registry (``tests.verifier_support.World``) signs SD-JWT VCs under
an agency CA with ``iss`` the HTTPS form of its did:web; its Token Status List is served by a dict.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from microcred.credential.eu_elements import read_eu_elements
from microcred.gen.microcred.v1 import elements_pb2, events_pb2
from microcred.registry.did_web import did_web_of_https
from microcred.sdjwt.claims import PERSONAL_CLAIMS
from microcred.sdjwt.core import SdJwtParts, key_binding_jwt
from microcred.sdjwt.issue import IssuerKey, issue_micro_credential, issue_sd_jwt_vc
from microcred.sdjwt.jose import public_jwk
from microcred.sdjwt.view import compact_of, enveloped, ob3_view
from microcred.status.token_status_list import INVALID, SUSPENDED
from microcred.verification import CheckId, CheckStatus, Reason, Verdict, verify_credential
from microcred.verification.sd_jwt import ORDER, is_sd_jwt, verify_sd_jwt_credential
from tests.harness.factories import valid_micro_credential
from tests.harness.sd_jwt import HOST, ISS, ISSUER_ID, LIST_URI, NOW, SdWorld, make_world
from tests.verifier_support import World, registry_event

C, S, R, V = CheckId, CheckStatus, Reason, Verdict
@pytest.fixture
def sd() -> SdWorld:
    return make_world()


def statuses(report: Any) -> dict[str, tuple[str, str]]:
    return {c.id.value: (c.status.value, c.reason_code.value) for c in report.checks}


def test_the_https_issuer_names_the_did_web_the_registry_knows() -> None:
    assert did_web_of_https(ISS) == World(host=HOST, issuer_id=ISSUER_ID).did
    assert did_web_of_https("https://Trust.Example:8443/issuers/a") == "did:web:trust.example%3A8443:issuers:a"
    for other in ("http://uniz.example/issuers/x", "https://uniz.example/x?y=1", "did:web:uniz.example", "https://",
                  "https://[::1/issuers/x"):
        assert did_web_of_https(other) is None


async def test_a_platform_sd_jwt_vc_is_valid_on_every_check(sd: SdWorld) -> None:
    issued = sd.issue()
    assert is_sd_jwt(issued.compact) and not is_sd_jwt({"type": ["VerifiableCredential"]})
    report = await verify_sd_jwt_credential(issued.compact, sd.ports(), NOW)
    assert report.verdict is V.VALID, statuses(report)
    assert [c.id for c in report.checks] == [c for c in ORDER if c is not C.HOLDER_BINDING]
    assert all(c.status is S.VALID for c in report.checks), statuses(report)
    assert report.micro_credential and report.issuer == ISS
    accreditation = report.check(C.ACCREDITATION)
    assert accreditation is not None and accreditation.details["framework"] == "Irish NFQ"
    assert report.summary["title"] == valid_micro_credential().title.values["en"]
    assert report.to_dict("pl")["checks"][1]["message"].startswith("Pokazane atrybuty to te, które podpisał")
    assert sd.tokens.asked == [LIST_URI]


async def test_revoked_and_suspended_entries_are_invalid(sd: SdWorld) -> None:
    issued = sd.issue()
    sd.statuses.set(17, INVALID)
    sd.publish()
    report = await verify_sd_jwt_credential(issued.compact, sd.ports(), NOW)
    assert report.verdict is V.INVALID and statuses(report)["revocation"] == ("invalid", "REVOKED")
    sd.statuses.set(17, SUSPENDED)
    sd.publish()
    report = await verify_sd_jwt_credential(issued.compact, sd.ports(), NOW)
    assert report.verdict is V.INVALID and statuses(report)["suspension"] == ("invalid", "SUSPENDED")


async def test_what_could_not_be_checked_is_never_valid(sd: SdWorld) -> None:
    issued = sd.issue()
    sd.tokens.tokens.clear()  # the status list is unreachable
    report = await verify_sd_jwt_credential(issued.compact, sd.ports(), NOW)
    assert report.verdict is V.UNDETERMINED
    assert statuses(report)["revocation"] == ("unknown", "STATUS_RETRIEVAL_ERROR")
    sd.publish()
    report = await verify_sd_jwt_credential(issued.compact, sd.ports(x509_anchors=()), NOW)  # no trust anchors
    assert report.verdict is V.UNDETERMINED and statuses(report)["issuer_identity"][0] == "unknown"
    report = await verify_sd_jwt_credential(issued.compact, sd.ports(trust=None), NOW)  # no registry
    assert report.verdict is V.UNDETERMINED
    assert statuses(report)["accreditation"] == ("unknown", "REGISTRY_UNAVAILABLE")


async def test_an_iss_that_is_not_a_url_is_a_finding_not_an_exception(sd: SdWorld) -> None:
    """A signed ``iss`` with an unclosed IPv6 literal made ``urlsplit`` raise where the certificate's names are
    compared with it: the gateway's 500. It is an issuer the certificate does not name."""
    unclosed = IssuerKey("https://[::1/issuers/x", sd.issuer.key, sd.issuer.x5c)
    report = await verify_sd_jwt_credential(
        issue_micro_credential(valid_micro_credential(), issuer=unclosed, now=NOW).compact, sd.ports(), NOW)
    assert report.verdict is not V.VALID
    assert statuses(report)["issuer_identity"][0] != "valid"


async def test_an_issuer_outside_the_registry_is_undetermined_and_a_withdrawn_one_invalid() -> None:
    stranger = make_world("https://elsewhere.example/issuers/x")
    report = await verify_sd_jwt_credential(stranger.issue().compact, stranger.ports(), NOW)
    assert statuses(report)["accreditation"] == ("unknown", "ISSUER_NOT_IN_REGISTRY")
    assert report.verdict is V.UNDETERMINED
    sd = make_world()
    registry_event(sd.world.registry, events_pb2.AccreditationWithdrawn(
        issuer_id=ISSUER_ID, accreditation_id="acc-1", reason="audit"), NOW)
    report = await verify_sd_jwt_credential(sd.issue().compact, sd.ports(), NOW)
    assert statuses(report)["accreditation"] == ("invalid", "ACCREDITATION_WITHDRAWN")
    high = valid_micro_credential()
    high.level.eqf_level = elements_pb2.EQF_LEVEL_8
    sd = make_world()
    report = await verify_sd_jwt_credential(sd.issue(mc=high).compact, sd.ports(), NOW)
    assert statuses(report)["accreditation"] == ("invalid", "EQF_LEVEL_NOT_ALLOWED")


async def test_a_learner_who_withholds_personal_claims_still_presents_a_valid_credential(sd: SdWorld) -> None:
    issued = sd.issue()
    # the personal claims, the identifiers nested in learner_identification, and the grade
    withheld = {*PERSONAL_CLAIMS, "national_id", "email", "did", "hashed_id", "assessment_grade"}
    kept = [d.encoded for d in issued.disclosures if d.name not in withheld]
    assert len(kept) < len(issued.disclosures)
    text = "~".join([issued.parts().issuer_jwt, *kept]) + "~"
    report = await verify_sd_jwt_credential(text, sd.ports(), NOW)
    assert report.verdict is V.VALID, statuses(report)
    eu = report.check(C.EU_ELEMENTS)
    assert eu is not None and eu.details["withheld"] == ["learner"]
    assert "learner" not in report.summary and "grade" not in report.summary


async def test_a_changed_disclosure_or_signature_is_invalid(sd: SdWorld) -> None:
    issued = sd.issue()
    jwt, *disclosures = issued.compact.split("~")
    forged = issue_micro_credential(valid_micro_credential(), issuer=sd.issuer, now=NOW)
    foreign = next(d.encoded for d in forged.disclosures if d.name == "family_name")
    report = await verify_sd_jwt_credential("~".join([jwt, *disclosures[:-1], foreign]) + "~", sd.ports(), NOW)
    assert report.verdict is V.INVALID
    assert statuses(report)["disclosures"] == ("invalid", "DISCLOSURE_NOT_REFERENCED")
    head, payload, signature = jwt.split(".")
    tampered = ".".join([head, payload, ("A" if signature[0] != "A" else "B") + signature[1:]])
    report = await verify_sd_jwt_credential("~".join([tampered, *disclosures]), sd.ports(), NOW)
    assert report.verdict is V.INVALID and statuses(report)["signature"] == ("invalid", "INVALID_SIGNATURE")
    # nothing past the signature was read, so nothing past it can be "valid"
    assert {statuses(report)[c] for c in ("eu_elements", "accreditation", "revocation")} == {
        ("unknown", "NOT_CHECKED")}


async def test_a_presentation_with_key_binding_must_answer_this_verifier(sd: SdWorld) -> None:
    holder = ec.generate_private_key(ec.SECP256R1())
    issued = sd.issue(holder_jwk=public_jwk(holder.public_key()))
    parts = SdJwtParts(issued.parts().issuer_jwt, issued.parts().disclosures, None)
    kb = key_binding_jwt(parts, holder, nonce="n-1", aud="https://verifier.example", iat=int(NOW.timestamp()))
    presented = parts.without_key_binding + kb
    report = await verify_sd_jwt_credential(presented, sd.ports(), NOW, nonce="n-1", audience="https://verifier.example")
    assert report.verdict is V.VALID and statuses(report)["holder_binding"] == ("valid", "KEY_BINDING_VALID")
    assert C.HOLDER_BINDING in report.required
    report = await verify_sd_jwt_credential(presented, sd.ports(), NOW, nonce="n-2", audience="https://verifier.example")
    assert report.verdict is V.INVALID and statuses(report)["holder_binding"] == ("invalid", "CHALLENGE_MISMATCH")
    # checked without a nonce of ours, a key-bound presentation cannot prove it was made for us: the report says
    # so, but holder binding was not asked for, and whether a KB-JWT came along does not change what is asked
    # (RFC 9901 §7.3): with it or stripped of it, the verdict is the same and the check is advisory
    with_kb = await verify_sd_jwt_credential(presented, sd.ports(), NOW)
    stripped = await verify_sd_jwt_credential(parts.without_key_binding, sd.ports(), NOW)
    assert statuses(with_kb)["holder_binding"] == ("unknown", "NO_CHALLENGE")
    assert statuses(stripped)["holder_binding"] == ("unknown", "NO_KEY_BINDING")
    assert with_kb.verdict is stripped.verdict is V.VALID
    assert C.HOLDER_BINDING not in with_kb.required | stripped.required
    # a KB-JWT that fails is still a failure, asked for or not
    forged = parts.without_key_binding + key_binding_jwt(parts, ec.generate_private_key(ec.SECP256R1()), nonce="n",
                                                         aud="https://verifier.example", iat=int(NOW.timestamp()))
    report = await verify_sd_jwt_credential(forged, sd.ports(), NOW)
    assert report.verdict is V.INVALID and statuses(report)["holder_binding"] == ("invalid", "KB_JWT_INVALID")
    # asked for (a nonce given), a stripped presentation is not proven: never valid
    report = await verify_sd_jwt_credential(parts.without_key_binding, sd.ports(), NOW, nonce="n-1",
                                            audience="https://verifier.example")
    assert report.verdict is not V.VALID and statuses(report)["holder_binding"][1] == "NO_KEY_BINDING"


async def test_a_bearer_credential_on_its_own_shows_no_holder_binding(sd: SdWorld) -> None:
    report = await verify_sd_jwt_credential(sd.issue().compact, sd.ports(), NOW)
    assert "holder_binding" not in statuses(report) and report.verdict is V.VALID


async def test_a_status_other_than_a_token_status_list_is_never_taken_for_no_status(sd: SdWorld) -> None:
    for status, expected in (({"status_attestation": {"x": 1}}, V.UNDETERMINED), ("revoked", V.INVALID)):
        other = issue_sd_jwt_vc({"given_name": "Ada", "status": status}, issuer=sd.issuer,
                                vct="https://example.org/other", now=NOW)
        report = await verify_sd_jwt_credential(other.compact, sd.ports(), NOW)
        assert report.verdict is expected, statuses(report)
        assert statuses(report)["revocation"] != ("valid", "NO_STATUS_ENTRY")
    assert statuses(report)["format"] == ("invalid", "MALFORMED_CLAIM")


async def test_no_status_list_is_fetched_for_a_credential_already_invalid(sd: SdWorld) -> None:
    mc = valid_micro_credential()
    mc.valid_from.FromDatetime(NOW - dt.timedelta(days=30))
    mc.valid_until.FromDatetime(NOW - dt.timedelta(days=1))
    report = await verify_sd_jwt_credential(sd.issue(mc=mc).compact, sd.ports(), NOW)
    assert report.verdict is V.INVALID
    assert statuses(report)["revocation"] == ("unknown", "NOT_CHECKED")


async def test_another_type_is_judged_on_its_own_checks_with_the_eu_ones_advisory(sd: SdWorld) -> None:
    other = issue_sd_jwt_vc({"given_name": "Ada"}, issuer=sd.issuer, vct="https://example.org/other", now=NOW)
    report = await verify_sd_jwt_credential(other.compact, sd.ports(), NOW)
    assert not report.micro_credential
    assert statuses(report)["type_metadata"][0] == "unknown" and statuses(report)["eu_elements"] == (
        "unknown", "NOT_A_MICRO_CREDENTIAL")
    assert statuses(report)["revocation"] == ("valid", "NO_STATUS_ENTRY")
    assert report.verdict is V.VALID, statuses(report)


async def test_garbage_gets_a_named_reason_and_never_valid(sd: SdWorld) -> None:
    for text in ("eyJ~", "eyJhbGciOiJub25lIn0.e30.~", "a.b.c~~~", "eyJ" + "A" * 10 + ".x.y~" * 3):
        report = await verify_sd_jwt_credential(text, sd.ports(), NOW)
        assert report.verdict is V.INVALID, text
        assert report.checks[0].id is C.FORMAT and report.checks[0].status is S.INVALID
        assert report.checks[0].reason_code.value in {"MALFORMED_SD_JWT", "NOT_JSON_OBJECT", "WRONG_TYP"}


async def test_an_enveloped_sd_jwt_vc_is_verified_and_read_like_any_credential(sd: SdWorld) -> None:
    issued = sd.issue()
    envelope = enveloped(issued.compact)
    assert compact_of(envelope) == issued.compact and compact_of({"type": "EnvelopedVerifiableCredential",
                                                                  "id": "data:application/dc+sd-jwt,nope"}) is None
    report = await verify_credential(envelope, sd.ports(), NOW)
    assert report.verdict is V.VALID and report.micro_credential
    view = ob3_view(envelope)
    assert view is not None and view["id"].startswith("urn:sd-jwt:")
    elements = read_eu_elements(view)
    mc = valid_micro_credential()
    assert elements.title == mc.title.values["en"] and elements.issuer is not None and elements.issuer.id == ISS
    assert "emailAddress" in [i.identity_type for i in elements.learner_identifiers if i.hashed]
    # what the holder withheld is absent from the view, and the view of a tampered SD-JWT is None
    nested = {"learner_identification", "national_id", "email", "did", "hashed_id"}
    kept = [d.encoded for d in issued.disclosures if d.name not in nested]
    partial = ob3_view("~".join([issued.parts().issuer_jwt, *kept]) + "~")
    assert partial is not None
    assert "emailAddress" not in [i.identity_type for i in read_eu_elements(partial).learner_identifiers]
    assert ob3_view(issued.compact[:-5] + "AAAA~") is None
