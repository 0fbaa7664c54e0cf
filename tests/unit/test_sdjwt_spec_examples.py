"""The SD-JWT (RFC 9901) and SD-JWT VC (draft 18) examples verify, and altered copies fail on the right check.

Fixtures and their sources: tests/fixtures/sdjwt/SOURCES.md.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from microcred.sdjwt.core import split_sd_jwt
from microcred.sdjwt.jose import b64url_decode, b64url_encode
from microcred.sdjwt.result import CheckStatus
from microcred.sdjwt.verify import SdJwtVerification, VerifierPolicy, verify_sd_jwt_vc

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "sdjwt"
# RFC 9901 Appendix A.5: the issuer key of every example
ISSUER_KEY = {"kty": "EC", "crv": "P-256", "x": "b28d4MwZMjw8-00CG4xfnn9SLMVMM19SlqZpVb_uNtQ",
              "y": "Xv5zWwuoaTgdS6hV43yI6gBwTnjukmFQQnJ_kCxzqk8"}
HOLDER_JWK = {"kty": "EC", "crv": "P-256", "x": "TCAER19Zvu3OHF4j4W4vfSVoHIP1ILilDls7vCeGemc",
              "y": "ZxjiWWbZMQGHVWKVQ4hbSIirsVfuecCE6t4jT9F2HZQ"}
RFC_ISS, VC_ISS = "https://issuer.example.com", "https://example.com/issuer"
ADDRESS = {"street_address": "123 Main St", "locality": "Anytown", "region": "Anystate", "country": "US"}


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text().strip()


def at(epoch: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(epoch, dt.UTC)


def rfc_policy(**kwargs: Any) -> VerifierPolicy:
    base: dict[str, Any] = {"pinned_issuer_keys": {RFC_ISS: ISSUER_KEY}, "expected_typ": None, "type_metadata": None,
                            "expected_nonce": "1234567890", "expected_aud": "https://verifier.example.org"}
    return VerifierPolicy(**{**base, **kwargs})


def vc_policy(**kwargs: Any) -> VerifierPolicy:
    base: dict[str, Any] = {"pinned_issuer_keys": {VC_ISS: ISSUER_KEY}, "type_metadata": None,
                            "expected_nonce": "1234567890", "expected_aud": "https://example.com/verifier"}
    return VerifierPolicy(**{**base, **kwargs})


RFC_KB_IAT, VC_KB_IAT = 1748537243, 1785785053


def statuses(result: SdJwtVerification) -> dict[str, tuple[str, str]]:
    return {c.id: (c.status.value, c.reason_code) for c in result.checks}


def assert_only_failure(result: SdJwtVerification, check_id: str, reason: str) -> None:
    """``check_id`` failed with ``reason``; nothing else failed (later checks may be NOT_CHECKED)."""
    got = statuses(result)
    assert got[check_id] == ("invalid", reason), got
    assert [c.id for c in result.failed] == [check_id], got


# --------------------------------------------------------------------------------------------- the examples


def test_rfc9901_issuance_example_verifies_with_every_claim() -> None:
    result = verify_sd_jwt_vc(fixture("rfc9901-5.1-issuance.txt"), rfc_policy(), at(RFC_KB_IAT))
    assert statuses(result)["signature"] == ("valid", "SIGNATURE_VALID")
    assert statuses(result)["disclosures"] == ("valid", "DISCLOSURES_VALID")
    assert statuses(result)["holder_binding"] == ("unknown", "NO_KEY_BINDING")
    assert result.failed == ()
    assert result.claims == {
        "iss": RFC_ISS, "iat": 1683000000, "exp": 1883000000, "sub": "user_42", "nationalities": ["US", "DE"],
        "cnf": {"jwk": HOLDER_JWK}, "given_name": "John", "family_name": "Doe", "email": "johndoe@example.com",
        "phone_number": "+1-202-555-0101", "phone_number_verified": True, "address": ADDRESS,
        "birthdate": "1940-01-01", "updated_at": 1570000000,
    }
    assert len(result.disclosed) == 10


def test_rfc9901_presentation_with_key_binding_gives_the_documented_payload() -> None:
    result = verify_sd_jwt_vc(fixture("rfc9901-5.2-presentation-kb.txt"), rfc_policy(), at(RFC_KB_IAT))
    assert result.failed == ()
    assert statuses(result)["holder_binding"] == ("valid", "KEY_BINDING_VALID")
    # RFC 9901 §5.2, "Processed SD-JWT Payload"
    assert result.claims == {"iss": RFC_ISS, "iat": 1683000000, "exp": 1883000000, "sub": "user_42",
                             "nationalities": ["US"], "cnf": {"jwk": HOLDER_JWK}, "family_name": "Doe",
                             "address": ADDRESS, "given_name": "John"}


def test_sd_jwt_vc_issuance_example_verifies() -> None:
    result = verify_sd_jwt_vc(fixture("sd-jwt-vc-18-figure7-issuance.txt"), vc_policy(), at(VC_KB_IAT))
    assert result.failed == ()
    assert result.vct == "https://credentials.example.com/identity_credential"
    assert result.claims is not None and result.claims["is_over_65"] is True and result.claims["address"] == ADDRESS


def test_sd_jwt_vc_presentation_with_key_binding_gives_figure_9() -> None:
    result = verify_sd_jwt_vc(fixture("sd-jwt-vc-18-figure8-presentation-kb.txt"), vc_policy(), at(VC_KB_IAT))
    assert result.failed == ()
    assert statuses(result)["holder_binding"] == ("valid", "KEY_BINDING_VALID")
    assert result.claims == {"iss": VC_ISS, "iat": 1683000000, "exp": 1883000000,
                             "vct": "https://credentials.example.com/identity_credential",
                             "cnf": {"jwk": HOLDER_JWK}, "is_over_65": True, "address": ADDRESS}


def test_sd_jwt_vc_presentation_without_key_binding_gives_figure_11() -> None:
    result = verify_sd_jwt_vc(fixture("sd-jwt-vc-18-figure10-presentation.txt"), vc_policy(), at(VC_KB_IAT))
    assert result.failed == ()
    assert result.claims == {"iss": VC_ISS, "iat": 1683000000, "exp": 1883000000,
                             "vct": "https://credentials.example.com/identity_credential", "is_over_65": True,
                             "address": ADDRESS}


# --------------------------------------------------------------------------------------------- altered copies


def _reencode_payload(sd_jwt: str, change: Any) -> str:
    parts = split_sd_jwt(sd_jwt)
    header, payload, signature = parts.issuer_jwt.split(".")
    claims = json.loads(b64url_decode(payload))
    change(claims)
    tampered = ".".join([header, b64url_encode(json.dumps(claims).encode()), signature])
    return "~".join([tampered, *parts.disclosures, parts.key_binding_jwt or ""])


def test_a_changed_signature_fails_the_signature_check() -> None:
    text = fixture("rfc9901-5.1-issuance.txt")
    jwt, rest = text.split("~", 1)
    head, body, signature = jwt.split(".")
    flipped = signature[:10] + ("A" if signature[10] != "A" else "B") + signature[11:]
    result = verify_sd_jwt_vc(f"{head}.{body}.{flipped}~{rest}", rfc_policy(), at(RFC_KB_IAT))
    assert_only_failure(result, "signature", "INVALID_SIGNATURE")
    assert result.claims is None  # nothing unsigned is read
    assert statuses(result)["disclosures"] == ("unknown", "NOT_CHECKED")


def test_a_changed_issuer_signed_claim_fails_the_signature_check() -> None:
    text = _reencode_payload(fixture("rfc9901-5.1-issuance.txt"), lambda c: c.update(sub="user_43"))
    assert_only_failure(verify_sd_jwt_vc(text, rfc_policy(), at(RFC_KB_IAT)), "signature", "INVALID_SIGNATURE")


def test_a_changed_disclosure_fails_the_disclosure_check() -> None:
    parts = split_sd_jwt(fixture("rfc9901-5.1-issuance.txt"))
    salt, name, _ = json.loads(b64url_decode(parts.disclosures[0]))
    forged = b64url_encode(json.dumps([salt, name, "Mallory"]).encode())
    text = "~".join([parts.issuer_jwt, forged, *parts.disclosures[1:], ""])
    assert_only_failure(verify_sd_jwt_vc(text, rfc_policy(), at(RFC_KB_IAT)), "disclosures",
                        "DISCLOSURE_NOT_REFERENCED")


def test_a_disclosure_from_another_credential_fails_the_disclosure_check() -> None:
    other = split_sd_jwt(fixture("sd-jwt-vc-18-figure7-issuance.txt")).disclosures
    is_over_18 = next(d for d in other if b"is_over_18" in b64url_decode(d))
    text = fixture("rfc9901-5.1-issuance.txt") + is_over_18 + "~"
    assert_only_failure(verify_sd_jwt_vc(text, rfc_policy(), at(RFC_KB_IAT)), "disclosures",
                        "DISCLOSURE_NOT_REFERENCED")


def test_a_repeated_disclosure_fails_the_disclosure_check() -> None:
    parts = split_sd_jwt(fixture("rfc9901-5.1-issuance.txt"))
    text = parts.serialize() + parts.disclosures[0] + "~"
    assert_only_failure(verify_sd_jwt_vc(text, rfc_policy(), at(RFC_KB_IAT)), "disclosures", "DUPLICATE_DISCLOSURE")


def test_a_disclosure_dropped_after_key_binding_fails_the_sd_hash() -> None:
    parts = split_sd_jwt(fixture("rfc9901-5.2-presentation-kb.txt"))
    text = "~".join([parts.issuer_jwt, *parts.disclosures[1:], parts.key_binding_jwt or ""])
    result = verify_sd_jwt_vc(text, rfc_policy(), at(RFC_KB_IAT))
    assert_only_failure(result, "holder_binding", "SD_HASH_MISMATCH")


@pytest.mark.parametrize(("change", "reason"), [
    ({"expected_nonce": "another nonce"}, "CHALLENGE_MISMATCH"),
    ({"expected_aud": "https://another-verifier.example"}, "DOMAIN_MISMATCH"),
])
def test_key_binding_for_another_verifier_fails(change: dict[str, str], reason: str) -> None:
    result = verify_sd_jwt_vc(fixture("rfc9901-5.2-presentation-kb.txt"), rfc_policy(**change), at(RFC_KB_IAT))
    assert_only_failure(result, "holder_binding", reason)


def test_an_old_key_binding_jwt_is_stale() -> None:
    result = verify_sd_jwt_vc(fixture("rfc9901-5.2-presentation-kb.txt"), rfc_policy(), at(RFC_KB_IAT + 3600))
    assert_only_failure(result, "holder_binding", "KB_JWT_STALE")


def test_a_changed_key_binding_signature_fails() -> None:
    text = fixture("sd-jwt-vc-18-figure8-presentation-kb.txt")
    head, body, signature = text.rsplit(".", 2)
    flipped = ("B" if signature[0] == "A" else "A") + signature[1:]
    result = verify_sd_jwt_vc(f"{head}.{body}.{flipped}", vc_policy(), at(VC_KB_IAT))
    assert_only_failure(result, "holder_binding", "KB_JWT_INVALID")


def test_key_binding_required_but_absent_fails() -> None:
    result = verify_sd_jwt_vc(fixture("sd-jwt-vc-18-figure10-presentation.txt"),
                              vc_policy(require_key_binding=True), at(VC_KB_IAT))
    assert_only_failure(result, "holder_binding", "NO_KEY_BINDING")


def test_after_exp_the_example_is_expired() -> None:
    result = verify_sd_jwt_vc(fixture("sd-jwt-vc-18-figure10-presentation.txt"), vc_policy(), at(1883000000 + 3600))
    assert_only_failure(result, "validity_window", "EXPIRED")


def test_a_plain_sd_jwt_is_not_an_sd_jwt_vc() -> None:
    result = verify_sd_jwt_vc(fixture("rfc9901-5.1-issuance.txt"), rfc_policy(expected_typ="dc+sd-jwt"),
                              at(RFC_KB_IAT))
    assert_only_failure(result, "format", "WRONG_TYP")


def test_without_a_trusted_key_the_signature_is_unknown_not_valid() -> None:
    result = verify_sd_jwt_vc(fixture("rfc9901-5.1-issuance.txt"), rfc_policy(pinned_issuer_keys={}), at(RFC_KB_IAT))
    assert statuses(result)["issuer_identity"] == ("unknown", "KEY_NOT_FOUND")
    assert statuses(result)["signature"] == ("unknown", "KEY_NOT_FOUND")
    assert result.claims is None and result.failed == ()
    assert all(c.status is not CheckStatus.VALID for c in result.checks if c.id != "format")


def test_another_issuers_key_fails_the_signature() -> None:
    wrong = {**ISSUER_KEY, "x": HOLDER_JWK["x"], "y": HOLDER_JWK["y"]}
    result = verify_sd_jwt_vc(fixture("rfc9901-5.1-issuance.txt"), rfc_policy(pinned_issuer_keys={RFC_ISS: wrong}),
                              at(RFC_KB_IAT))
    assert_only_failure(result, "signature", "INVALID_SIGNATURE")


@pytest.mark.parametrize("text", ["", "eyJhbGciOiJFUzI1NiJ9.e30.c2ln", "not~a~jwt~", "a.b~", "~~", "x" * 2_000_000])
def test_malformed_input_gets_a_named_format_reason(text: str) -> None:
    result = verify_sd_jwt_vc(text, rfc_policy(), at(RFC_KB_IAT))
    assert result.checks[0].id == "format" and result.checks[0].status is CheckStatus.INVALID
    assert result.checks[0].reason_code in {"MALFORMED_SD_JWT", "TOO_LARGE"}
    assert result.claims is None
