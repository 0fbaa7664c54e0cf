"""The EU micro-credential as SD-JWT VC: protobuf -> SD-JWT VC -> claims -> protobuf, disclosure, keys, metadata."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from joserfc import jws
from joserfc.jwk import OKPKey

from microcred import pki
from microcred.gen.microcred.v1 import elements_pb2 as pb
from microcred.sdjwt.claims import PERSONAL_CLAIMS, micro_credential_claims, read_micro_credential
from microcred.sdjwt.core import Sd, key_binding_jwt, sd_hash, split_sd_jwt
from microcred.sdjwt.issue import (
    HolderKeyMissing,
    IssuedSdJwtVc,
    IssuerKey,
    StatusReference,
    issue_micro_credential,
    issue_sd_jwt_vc,
)
from microcred.sdjwt.jose import b64url_decode, b64url_encode, public_jwk, sign_jws
from microcred.sdjwt.result import CheckStatus
from microcred.sdjwt.type_metadata import (
    VCT,
    TypeMetadataRegistry,
    integrity,
    integrity_matches,
    type_metadata_bytes,
)
from microcred.sdjwt.verify import SdJwtVerification, VerifierPolicy, verify_sd_jwt_vc
from microcred.sdjwt.x5c import load_certificates, x5c_header
from tests.harness.factories import minimal_micro_credential, valid_micro_credential

ISS = "https://uniz.example/issuer"
# the agency CA (microcred.pki) is valid from a few minutes before it is made, so "now" is the real clock
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


@dataclass(frozen=True)
class Pki:
    ca: pki.CertifiedKey
    issuer: IssuerKey
    anchors: list[x509.Certificate]


def make_pki(iss: str = ISS, *, not_before: dt.datetime | None = None, days: int = 3650) -> Pki:
    ca = pki.create_ca("Agency CA", agency="agency-ie", not_before=NOW - dt.timedelta(days=30))
    cert = pki.create_signing_cert(ca, issuer_uri=iss, common_name="University of Zed", days=days,
                                     not_before=not_before or NOT_BEFORE)
    key = serialization.load_pem_private_key(cert.key_pem, password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return Pki(ca, IssuerKey(iss, key, tuple(x5c_header([cert.cert_pem]))), load_certificates(ca.cert_pem))


NOT_BEFORE = NOW - dt.timedelta(days=30)


@pytest.fixture(scope="module")
def world() -> Pki:
    return make_pki()


@pytest.fixture(scope="module")
def holder() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def policy(world: Pki, **kwargs: Any) -> VerifierPolicy:
    return VerifierPolicy(trust_anchors=world.anchors, expected_nonce="nonce-1", expected_aud="https://verifier.example",
                          **kwargs)


def issue(world: Pki, mc: pb.MicroCredential | None = None, **kwargs: Any) -> IssuedSdJwtVc:
    return issue_micro_credential(mc or valid_micro_credential(), issuer=world.issuer, now=NOW, **kwargs)


def statuses(result: SdJwtVerification) -> dict[str, tuple[str, str]]:
    return {c.id: (c.status.value, c.reason_code) for c in result.checks}


# --------------------------------------------------------------------------------------------- round trip


@pytest.mark.parametrize("factory", [valid_micro_credential, minimal_micro_credential])
def test_round_trip_protobuf_sd_jwt_vc_claims_protobuf_keeps_every_annex_i_element(world: Pki, factory: Any) -> None:
    mc = factory()
    issued = issue(world, mc, status=StatusReference("https://uniz.example/status/1", 7))
    result = verify_sd_jwt_vc(issued.compact, policy(world), NOW)
    assert result.failed == (), statuses(result)
    assert result.claims is not None
    assert read_micro_credential(result.claims) == mc


def test_every_annex_i_element_has_its_claim(world: Pki) -> None:
    claims = verify_sd_jwt_vc(issue(world).compact, policy(world), NOW).claims
    assert claims is not None
    annex_i = {
        1: ["given_name", "family_name", "full_name", "birthdate", "learner_identification"],
        2: ["achievement_title"], 3: ["issuing_country", "issuing_countries", "issuing_regions"],
        4: ["issuing_authority", "awarding_bodies"], 5: ["date_of_issuance", "issued_at"],
        6: ["learning_outcomes"], 7: ["expected_study_time"], 8: ["level_of_learning_experience"],
        9: ["type_of_assessment"], 10: ["form_of_participation"], 11: ["types_of_quality_assurance"],
        12: ["prerequisites_to_enroll"], 13: ["supervision_and_identity_verification"], 14: ["assessment_grade"],
        15: ["integration_stackability_options"], 16: ["further_information"],
    }
    missing = {n: [c for c in names if c not in claims] for n, names in annex_i.items()}
    assert not any(missing.values()), missing
    assert claims["expected_study_time"] == {"credit_points": "5", "credit_system": "ECTS",
                                             "credit_system_uri": "http://data.europa.eu/snb/education-credit/6fcec5c5af",
                                             "hours": 125.0}
    assert claims["level_of_learning_experience"]["eqf_level"] == 6
    assert claims["learner_identification"]["national_id"] == {"value": "LA-234218", "country": "IT"}
    assert claims["assessment_grade"]["status"] == "passed"


# --------------------------------------------------------------------------------------------- disclosure


def test_personal_data_and_grade_are_not_in_the_signed_payload(world: Pki) -> None:
    issued = issue(world)
    signed = json.dumps(issued.payload)
    for secret in ("Ana", "Andromeda", "2000-05-17", "LA-234218", "urn:uniz:grading:pass-fail", "did:key"):
        assert secret not in signed
    for name in PERSONAL_CLAIMS:
        assert name not in issued.payload
    assert issued.payload["achievement_title"] == "Digital micro-credential creation"  # core always disclosed
    assert issued.payload["issuing_authority"] == "University of Zed"


def test_decoys_hide_how_many_claims_are_selectively_disclosable(world: Pki) -> None:
    issued = issue(world)
    top_level = [d for d in issued.disclosures if d.name in PERSONAL_CLAIMS]
    assert len(issued.payload["_sd"]) > len(top_level)


def test_a_holder_can_withhold_the_grade_and_names_and_still_verifies(world: Pki) -> None:
    issued = issue(world)
    kept = [d.encoded for d in issued.disclosures
            if d.name not in ("assessment_grade", "given_name", "family_name", "full_name")]
    text = split_sd_jwt(issued.compact).issuer_jwt + "~" + "".join(d + "~" for d in kept)
    result = verify_sd_jwt_vc(text, policy(world), NOW)
    assert result.failed == ()
    assert result.claims is not None
    assert "assessment_grade" not in result.claims and "given_name" not in result.claims
    assert result.claims["birthdate"] == "2000-05-17"


def test_learner_identifiers_are_disclosed_one_by_one(world: Pki) -> None:
    issued = issue(world)
    container = next(d for d in issued.disclosures if d.name == "learner_identification")
    email = next(d for d in issued.disclosures if d.name == "email")
    text = split_sd_jwt(issued.compact).issuer_jwt + f"~{container.encoded}~{email.encoded}~"
    result = verify_sd_jwt_vc(text, policy(world), NOW)
    assert result.failed == ()
    assert result.claims is not None and result.claims["learner_identification"] == {"email": email.value}


# --------------------------------------------------------------------------------------------- holder binding


def test_holder_bound_credential_with_key_binding(world: Pki, holder: ec.EllipticCurvePrivateKey) -> None:
    issued = issue(world, holder_jwk=public_jwk(holder))
    assert issued.holder_bound and issued.payload["cnf"] == {"jwk": public_jwk(holder)}
    parts = split_sd_jwt(issued.compact)
    kb = key_binding_jwt(parts, holder, nonce="nonce-1", aud="https://verifier.example", iat=int(NOW.timestamp()))
    result = verify_sd_jwt_vc(parts.serialize() + kb, policy(world, require_key_binding=True), NOW)
    assert result.failed == () and statuses(result)["holder_binding"] == ("valid", "KEY_BINDING_VALID")


@pytest.mark.parametrize("alg", ["EdDSA", "Ed25519"])
def test_an_ed25519_holder_binds_under_either_name_of_its_algorithm(world: Pki, alg: str) -> None:
    """A KB-JWT by an Ed25519 holder key, signed with joserfc and its alg named as RFC 8037 (EdDSA) or RFC 9864
    (Ed25519) names it; labelled ES256 it fails."""
    ed = OKPKey.generate_key("Ed25519")
    issued = issue(world, holder_jwk=ed.as_dict(private=False))
    parts = split_sd_jwt(issued.compact)
    claims = {"iat": int(NOW.timestamp()), "aud": "https://verifier.example", "nonce": "nonce-1",
              "sd_hash": sd_hash(parts)}
    for name, expected in ((alg, ("valid", "KEY_BINDING_VALID")), ("ES256", ("invalid", "KB_JWT_INVALID"))):
        header = {"typ": "kb+jwt", "alg": name}
        if name == "ES256":  # an Ed25519 signature under another label, put together by hand
            head = base64.urlsafe_b64encode(json.dumps(header).encode()).rstrip(b"=").decode()
            body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
            raw = Ed25519PrivateKey.from_private_bytes(b64url_decode(ed.as_dict(private=True)["d"]))
            signature = base64.urlsafe_b64encode(raw.sign(f"{head}.{body}".encode())).rstrip(b"=").decode()
            kb = f"{head}.{body}.{signature}"
        else:
            kb = jws.serialize_compact(header, json.dumps(claims).encode(), ed, algorithms=[name])
        result = verify_sd_jwt_vc(parts.serialize() + kb, policy(world, require_key_binding=True), NOW)
        assert statuses(result)["holder_binding"] == expected


def test_key_binding_by_another_key_fails(world: Pki, holder: ec.EllipticCurvePrivateKey) -> None:
    issued = issue(world, holder_jwk=public_jwk(holder))
    parts = split_sd_jwt(issued.compact)
    thief = ec.generate_private_key(ec.SECP256R1())
    kb = key_binding_jwt(parts, thief, nonce="nonce-1", aud="https://verifier.example", iat=int(NOW.timestamp()))
    result = verify_sd_jwt_vc(parts.serialize() + kb, policy(world), NOW)
    assert statuses(result)["holder_binding"] == ("invalid", "KB_JWT_INVALID")


def test_without_a_holder_key_the_credential_has_no_cnf_and_says_so(world: Pki,
                                                                     holder: ec.EllipticCurvePrivateKey) -> None:
    issued = issue(world)
    assert not issued.holder_bound and "cnf" not in issued.payload
    parts = split_sd_jwt(issued.compact)
    kb = key_binding_jwt(parts, holder, nonce="nonce-1", aud="https://verifier.example", iat=int(NOW.timestamp()))
    result = verify_sd_jwt_vc(parts.serialize() + kb, policy(world), NOW)
    assert statuses(result)["holder_binding"] == ("invalid", "NO_HOLDER_KEY")
    with pytest.raises(HolderKeyMissing):
        issue(world, require_holder_key=True)


def test_a_holder_key_named_by_another_confirmation_method_is_unknown_not_malformed(
        world: Pki, holder: ec.EllipticCurvePrivateKey) -> None:
    """RFC 7800 / RFC 9901 §4.1.2: jwk is one confirmation method of several; one we do not read leaves holder
    binding unknown, and the credential is not malformed."""
    payload = {"iss": ISS, "iat": int(NOW.timestamp()), "vct": "urn:x", "cnf": {"kid": "holder-key-1"}}
    jwt = sign_jws({"typ": "dc+sd-jwt", "x5c": list(world.issuer.x5c)}, payload, world.issuer.key)
    parts = split_sd_jwt(jwt + "~")
    kb = key_binding_jwt(parts, holder, nonce="nonce-1", aud="https://verifier.example", iat=int(NOW.timestamp()))
    result = verify_sd_jwt_vc(parts.serialize() + kb, policy(world, require_type_metadata=False), NOW)
    assert statuses(result)["format"][0] == "valid"
    assert statuses(result)["holder_binding"] == ("unknown", "UNSUPPORTED_HOLDER_KEY")
    jwt = sign_jws({"typ": "dc+sd-jwt", "x5c": list(world.issuer.x5c)}, {**payload, "cnf": "k"}, world.issuer.key)
    assert statuses(verify_sd_jwt_vc(jwt + "~", policy(world), NOW))["format"] == ("invalid", "MALFORMED_CLAIM")


def test_a_private_holder_key_is_refused(world: Pki, holder: ec.EllipticCurvePrivateKey) -> None:
    private = {**public_jwk(holder), "d": "AAAA"}
    with pytest.raises(ValueError, match="private"):
        issue(world, holder_jwk=private)


# --------------------------------------------------------------------------------------------- issuer keys


def test_an_unknown_ca_fails_the_chain(world: Pki) -> None:
    other = make_pki()
    result = verify_sd_jwt_vc(issue(world).compact, policy(other), NOW)
    assert statuses(result)["issuer_identity"] == ("invalid", "CHAIN_UNTRUSTED")
    assert result.claims is None


def test_no_trust_anchors_is_unknown(world: Pki) -> None:
    result = verify_sd_jwt_vc(issue(world).compact, VerifierPolicy(), NOW)
    assert statuses(result)["issuer_identity"] == ("unknown", "NO_TRUST_ANCHORS")
    assert result.failed == ()


def test_a_certificate_for_another_issuer_fails(world: Pki) -> None:
    impostor = make_pki("https://other.example/issuer")
    forged = IssuerKey(ISS, impostor.issuer.key, impostor.issuer.x5c)
    issued = issue_micro_credential(valid_micro_credential(), issuer=forged, now=NOW)
    result = verify_sd_jwt_vc(issued.compact, policy(impostor), NOW)
    assert statuses(result)["issuer_identity"] == ("invalid", "ISSUER_NOT_IN_CERTIFICATE")


def test_an_expired_certificate_fails_the_chain() -> None:
    short = make_pki(not_before=NOW - dt.timedelta(days=10), days=5)
    result = verify_sd_jwt_vc(issue(short).compact, policy(short), NOW)
    assert statuses(result)["issuer_identity"] == ("invalid", "CHAIN_UNTRUSTED")


def test_a_malformed_x5c_is_named(world: Pki) -> None:
    broken = IssuerKey(ISS, world.issuer.key, ("not base64!",))
    issued = issue_micro_credential(valid_micro_credential(), issuer=broken, now=NOW)
    result = verify_sd_jwt_vc(issued.compact, policy(world), NOW)
    assert statuses(result)["issuer_identity"] == ("invalid", "MALFORMED_X5C")


# --------------------------------------------------------------------------------------------- type metadata


def test_type_metadata_has_display_and_labels_in_four_languages() -> None:
    metadata = json.loads(type_metadata_bytes())
    assert metadata["vct"] == VCT
    assert {d["locale"] for d in metadata["display"]} == {"en", "pl", "de", "fr"}
    for claim in metadata["claims"]:
        assert {d["locale"] for d in claim["display"]} == {"en", "pl", "de", "fr"}, claim["path"]
    described = {tuple(c["path"]) for c in metadata["claims"]}
    emitted = {name for name in micro_credential_claims(valid_micro_credential()) if not name.endswith("_i18n")}
    assert {(name,) for name in emitted} <= described


def test_vct_integrity_covers_the_shipped_document(world: Pki) -> None:
    issued = issue(world)
    assert issued.payload["vct"] == VCT
    assert integrity_matches(type_metadata_bytes(), issued.payload["vct#integrity"])
    assert not integrity_matches(type_metadata_bytes() + b" ", issued.payload["vct#integrity"])


def test_altered_type_metadata_fails_integrity(world: Pki) -> None:
    altered = TypeMetadataRegistry({VCT: type_metadata_bytes().replace(b"EU micro-credential", b"EU microcredential")})
    result = verify_sd_jwt_vc(issue(world).compact, policy(world, type_metadata=altered), NOW)
    assert statuses(result)["type_metadata"] == ("invalid", "INTEGRITY_MISMATCH")


def test_integrity_compares_octets_so_unpadded_base64_matches() -> None:
    data = b'{"vct":"urn:x"}'  # its sha256 in base64 ends in one '='
    padded = integrity(data)
    assert padded.endswith("=") and integrity_matches(data, padded)
    assert integrity_matches(data, padded.rstrip("="))
    assert not integrity_matches(data + b" ", padded.rstrip("="))
    assert not integrity_matches(data, "sha256-not*base64")


def test_an_unknown_vct_fails_when_type_metadata_is_required(world: Pki) -> None:
    result = verify_sd_jwt_vc(issue(world).compact, policy(world, type_metadata=TypeMetadataRegistry({})), NOW)
    assert statuses(result)["type_metadata"] == ("invalid", "UNKNOWN_VCT")
    lenient = policy(world, type_metadata=TypeMetadataRegistry({}), require_type_metadata=False)
    assert statuses(verify_sd_jwt_vc(issue(world).compact, lenient, NOW))["type_metadata"] == ("unknown", "UNKNOWN_VCT")


def test_a_name_signed_in_clear_breaks_the_claim_metadata(world: Pki) -> None:
    claims = micro_credential_claims(valid_micro_credential())
    claims["given_name"] = "Ana"  # sd: always in the type metadata
    issued = issue_sd_jwt_vc(claims, issuer=world.issuer, vct=VCT, now=NOW,
                             vct_integrity=integrity(type_metadata_bytes()))
    result = verify_sd_jwt_vc(issued.compact, policy(world), NOW)
    assert statuses(result)["type_metadata"] == ("invalid", "CLAIM_METADATA_VIOLATION")


def test_a_missing_mandatory_clear_claim_breaks_the_claim_metadata(world: Pki) -> None:
    claims = micro_credential_claims(valid_micro_credential())
    del claims["learning_outcomes"]
    issued = issue_sd_jwt_vc(claims, issuer=world.issuer, vct=VCT, now=NOW,
                             vct_integrity=integrity(type_metadata_bytes()))
    result = verify_sd_jwt_vc(issued.compact, policy(world), NOW)
    assert statuses(result)["type_metadata"] == ("invalid", "CLAIM_METADATA_VIOLATION")


def test_clear_only_claims_cannot_be_selectively_disclosed(world: Pki) -> None:
    claims = {**micro_credential_claims(valid_micro_credential())}
    issued = issue_sd_jwt_vc({**claims, "status": Sd({"status_list": {"idx": 1, "uri": "https://x"}})},
                             issuer=world.issuer, vct=VCT, now=NOW)
    result = verify_sd_jwt_vc(issued.compact, policy(world), NOW)
    assert statuses(result)["disclosures"] == ("invalid", "MISPLACED_DISCLOSURE")


def test_aka_vcts_cannot_be_selectively_disclosed(world: Pki) -> None:
    issued = issue_sd_jwt_vc({**micro_credential_claims(valid_micro_credential()),
                              "aka_vcts": Sd(["urn:example:learning"])}, issuer=world.issuer, vct=VCT, now=NOW)
    result = verify_sd_jwt_vc(issued.compact, policy(world), NOW)
    assert statuses(result)["disclosures"] == ("invalid", "MISPLACED_DISCLOSURE")


@pytest.mark.parametrize(("claims", "field", "withheld"), [
    # an element of aka_vcts: withheld, the array holds a non-string
    ({"aka_vcts": ["urn:example:a", Sd("urn:example:learning")]}, "aka_vcts", ("format", "MALFORMED_CLAIM")),
    # a sub-claim of status (draft -19): withheld, the status_list has no uri
    ({"status": {"status_list": {"idx": 1, "uri": Sd("https://x")}}}, "status", ("format", "MALFORMED_CLAIM")),
    # the whole status_list: withheld, it could hide a revocation
    ({"status": {"status_list": Sd({"idx": 1, "uri": "https://x"})}}, "status", ("format", "MALFORMED_CLAIM")),
    # a sub-claim of cnf: withheld, what is read (the jwk) is in clear, and the digest is a decoy to the verifier
    ({"cnf": {"jwk": public_jwk(ec.generate_private_key(ec.SECP256R1()).public_key()), "kid": Sd("k-1")}}, "cnf",
     None),
])
def test_sub_claims_of_clear_only_claims_cannot_be_selectively_disclosed(
        world: Pki, claims: dict[str, Any], field: str, withheld: tuple[str, str] | None) -> None:
    issued = issue_sd_jwt_vc({**micro_credential_claims(valid_micro_credential()), **claims},
                             issuer=world.issuer, vct=VCT, now=NOW)
    result = verify_sd_jwt_vc(issued.compact, policy(world), NOW)  # with its Disclosure: refused as misplaced
    assert statuses(result)["format"][0] == "valid" or withheld == ("format", "MALFORMED_CLAIM")
    if statuses(result)["format"][0] == "valid":
        assert statuses(result)["disclosures"] == ("invalid", "MISPLACED_DISCLOSURE")
        assert field in str(result)
    # without it: refused where what the verdict reads is missing, a decoy otherwise
    result = verify_sd_jwt_vc(issued.compact.split("~")[0] + "~", policy(world), NOW)
    if withheld is None:
        assert statuses(result)["format"][0] == "valid" and statuses(result)["disclosures"][0] == "valid"
    else:
        assert statuses(result)[withheld[0]] == ("invalid", withheld[1])
        assert field in str(result)


def test_decoy_digests_in_clear_only_claims_are_not_disclosures(world: Pki) -> None:
    """SD-JWT §4.2.5 allows decoys in any _sd array (the reference implementation puts some in every object):
    digests under cnf, status and status_list, with no Disclosure, leave the credential valid and its reading
    unchanged."""
    claims = micro_credential_claims(valid_micro_credential())
    decoy = [base64.urlsafe_b64encode(hashlib.sha256(b"decoy %d" % n).digest()).rstrip(b"=").decode()
             for n in range(2)]
    issued = issue_sd_jwt_vc({**claims, "status": {"status_list": {"idx": 7, "uri": "https://status.example/1"}}},
                             issuer=world.issuer, vct=VCT, now=NOW)
    issuer_jwt, rest = issued.compact.split("~", 1)
    header, payload = (json.loads(b64url_decode(part)) for part in issuer_jwt.split(".")[:2])
    payload["status"] = {"_sd": decoy[:1], "status_list": {**payload["status"]["status_list"], "_sd": decoy[1:]}}
    result = verify_sd_jwt_vc(f"{sign_jws(header, payload, world.issuer.key)}~{rest}", policy(world), NOW)
    assert statuses(result)["format"][0] == "valid" and statuses(result)["disclosures"][0] == "valid"
    assert result.status_reference == StatusReference("https://status.example/1", 7)
    assert result.claims is not None and result.claims["status"] == {
        "status_list": {"idx": 7, "uri": "https://status.example/1"}}


@pytest.mark.parametrize(("aka", "valid"), [
    (["urn:eu.europa.ec.eudi:learning:credential:1"], True), (["urn:a", "urn:b"], True),
    ([], False), ("urn:a", False), ([1], False), ([""], False), ([VCT], False),
])
def test_aka_vcts_is_a_non_empty_array_of_other_types(world: Pki, aka: Any, valid: bool) -> None:
    issued = issue_sd_jwt_vc({**micro_credential_claims(valid_micro_credential()), "aka_vcts": aka},
                             issuer=world.issuer, vct=VCT, now=NOW, vct_integrity=integrity(type_metadata_bytes()))
    result = verify_sd_jwt_vc(issued.compact, policy(world), NOW)
    if valid:
        assert statuses(result)["format"][0] == "valid"
    else:
        assert statuses(result)["format"] == ("invalid", "MALFORMED_CLAIM")
        assert "aka_vcts" in str(result)


# --------------------------------------------------------------------------------------------- validity, header


def test_validity_window(world: Pki) -> None:
    issued = issue(world)
    assert statuses(verify_sd_jwt_vc(issued.compact, policy(world), dt.datetime(2036, 1, 1, tzinfo=dt.UTC)))[
        "validity_window"][1] in {"EXPIRED"}
    early = NOW - dt.timedelta(minutes=3)  # iat is NOW; the clock skew allowed is one minute
    assert statuses(verify_sd_jwt_vc(issued.compact, policy(world), early))["validity_window"] == (
        "invalid", "ISSUED_IN_FUTURE")


@pytest.mark.parametrize("iat", [10 ** 18, 1e300, -10 ** 12])
def test_a_signed_time_outside_the_calendar_is_a_malformed_claim(world: Pki, iat: float) -> None:
    """An iat the issuer signed but no date can hold (OSError or OverflowError when it was rendered, which failed
    the whole verification) is a malformed claim, said as such."""
    issuer_jwt, rest = issue(world).compact.split("~", 1)
    header, payload = (json.loads(b64url_decode(part)) for part in issuer_jwt.split(".")[:2])
    resigned = sign_jws(header, {**payload, "iat": iat}, world.issuer.key)
    result = verify_sd_jwt_vc(f"{resigned}~{rest}", policy(world), NOW)
    assert statuses(result)["validity_window"] == ("invalid", "MALFORMED_CLAIM")
    assert statuses(result)["signature"][0] == "valid"


def test_the_header_carries_typ_and_x5c(world: Pki) -> None:
    issued = issue(world)
    header = json.loads(b64url_decode(issued.compact.split(".", 1)[0]))
    assert header == {"typ": "dc+sd-jwt", "x5c": list(world.issuer.x5c), "alg": "ES256"}
    assert "status" not in issued.payload  # no status reference was given


def test_status_reference_is_returned_for_the_status_check(world: Pki) -> None:
    issued = issue(world, status=StatusReference("https://uniz.example/status/3", 123456))
    result = verify_sd_jwt_vc(issued.compact, policy(world), NOW)
    assert result.status_reference == StatusReference("https://uniz.example/status/3", 123456)
    assert all(c.status is CheckStatus.VALID for c in result.checks if c.id != "holder_binding")


@pytest.mark.parametrize(("alg", "status"), [("RS256", "unknown"), ("PS384", "unknown"), ("none", "invalid"),
                                             ("HS256", "invalid"), ("XYZ", "invalid")])
def test_an_algorithm_we_do_not_implement_is_unknown_and_none_or_a_mac_is_invalid(world: Pki, alg: str,
                                                                                 status: str) -> None:
    header = b64url_encode(json.dumps({"typ": "dc+sd-jwt", "alg": alg}).encode())
    body = b64url_encode(json.dumps({"iss": ISS, "iat": int(NOW.timestamp()), "vct": "urn:x"}).encode())
    result = verify_sd_jwt_vc(f"{header}.{body}.c2ln~", policy(world), NOW)
    assert statuses(result)["format"] == (status, "UNSUPPORTED_ALGORITHM")
    assert result.failed if status == "invalid" else not result.failed
