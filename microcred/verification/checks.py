"""The named checks of a verification report and their results (shaped like DCC's verifier-core).

Every check ends in one of three states, and the difference between the last two matters:

* ``valid``: the check was carried out and passed;
* ``invalid``: the check was carried out and failed (a bad signature, a set revocation bit, an expired window);
* ``unknown``: the check could not be carried out (status list unreachable, issuer unresolvable, unknown
  cryptosuite). "Could not check" is never reported as "invalid", and never as "valid".

Each result carries a stable ``reason_code`` (a :class:`Reason`, mirrored in the English and Polish message
catalogue of :mod:`microcred.verification.messages`), the English message, and ``details`` for machines.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from microcred.verification.messages import render

__all__ = ["CheckId", "CheckResult", "CheckStatus", "Reason", "invalid", "unknown", "valid"]


class CheckId(StrEnum):
    """The checks, in the order a report lists them."""

    FORMAT = "format"
    EU_ELEMENTS = "eu_elements"
    SIGNATURE = "signature"
    ISSUER_IDENTITY = "issuer_identity"
    ACCREDITATION = "accreditation"
    VALIDITY_WINDOW = "validity_window"
    REVOCATION = "revocation"
    SUSPENSION = "suspension"
    HOLDER_BINDING = "holder_binding"
    # SD-JWT VC only (microcred.sdjwt.result): the Disclosures against the signed digests, and the vct's metadata
    DISCLOSURES = "disclosures"
    TYPE_METADATA = "type_metadata"


class CheckStatus(StrEnum):
    """Outcome of one check."""

    VALID = "valid"
    INVALID = "invalid"
    UNKNOWN = "unknown"


class Reason(StrEnum):
    """Why a check ended as it did. Stable codes: clients may branch on them."""

    # format
    FORMAT_OK = "FORMAT_OK"
    NOT_JSON_OBJECT = "NOT_JSON_OBJECT"
    INVALID_CONTEXT = "INVALID_CONTEXT"
    UNKNOWN_CONTEXT = "UNKNOWN_CONTEXT"
    NOT_A_CREDENTIAL = "NOT_A_CREDENTIAL"
    NOT_A_PRESENTATION = "NOT_A_PRESENTATION"
    MISSING_FIELD = "MISSING_FIELD"
    INVALID_FIELD = "INVALID_FIELD"
    OB3_PROFILE_VIOLATION = "OB3_PROFILE_VIOLATION"
    UNDEFINED_TERM = "UNDEFINED_TERM"
    JSONLD_ERROR = "JSONLD_ERROR"
    NOT_COMPACTED = "NOT_COMPACTED"
    TOO_COMPLEX = "TOO_COMPLEX"
    NOT_CHECKED = "NOT_CHECKED"
    DATA_MODEL_VIOLATION = "DATA_MODEL_VIOLATION"
    DATA_MODEL_UNCHECKED = "DATA_MODEL_UNCHECKED"
    # EU elements
    EU_ELEMENTS_PRESENT = "EU_ELEMENTS_PRESENT"
    EU_ELEMENTS_MISSING = "EU_ELEMENTS_MISSING"
    NOT_A_MICRO_CREDENTIAL = "NOT_A_MICRO_CREDENTIAL"
    # signature (codes of microcred.crypto.data_integrity.VerificationCode where they overlap)
    SIGNATURE_VALID = "SIGNATURE_VALID"
    NO_PROOF = "NO_PROOF"
    INVALID_SIGNATURE = "INVALID_SIGNATURE"
    MALFORMED_PROOF = "MALFORMED_PROOF"
    CANONICALIZATION_ERROR = "CANONICALIZATION_ERROR"
    PROOF_PURPOSE_MISMATCH = "PROOF_PURPOSE_MISMATCH"
    PROOF_EXPIRED = "PROOF_EXPIRED"
    CONTEXT_MISMATCH = "CONTEXT_MISMATCH"
    UNSUPPORTED_CRYPTOSUITE = "UNSUPPORTED_CRYPTOSUITE"
    KEY_NOT_FOUND = "KEY_NOT_FOUND"
    # issuer identity
    ISSUER_KEY_VALID = "ISSUER_KEY_VALID"
    ISSUER_UNRESOLVABLE = "ISSUER_UNRESOLVABLE"
    KEY_NOT_OF_ISSUER = "KEY_NOT_OF_ISSUER"
    KEY_RETIRED = "KEY_RETIRED"
    KEY_NOT_YET_VALID = "KEY_NOT_YET_VALID"
    UNKNOWN_VERIFICATION_METHOD = "UNKNOWN_VERIFICATION_METHOD"
    NO_VERIFICATION_METHOD = "NO_VERIFICATION_METHOD"
    # accreditation
    ACCREDITED = "ACCREDITED"
    ISSUER_NOT_IN_REGISTRY = "ISSUER_NOT_IN_REGISTRY"
    NOT_ACCREDITED = "NOT_ACCREDITED"
    ACCREDITATION_SUSPENDED = "ACCREDITATION_SUSPENDED"
    ACCREDITATION_WITHDRAWN = "ACCREDITATION_WITHDRAWN"
    ACCREDITATION_EXPIRED = "ACCREDITATION_EXPIRED"
    ACCREDITATION_NOT_YET_VALID = "ACCREDITATION_NOT_YET_VALID"
    EQF_LEVEL_NOT_ALLOWED = "EQF_LEVEL_NOT_ALLOWED"
    REGISTRY_UNAVAILABLE = "REGISTRY_UNAVAILABLE"
    # validity window
    WITHIN_VALIDITY = "WITHIN_VALIDITY"
    NOT_YET_VALID = "NOT_YET_VALID"
    EXPIRED = "EXPIRED"
    # revocation / suspension
    NOT_REVOKED = "NOT_REVOKED"
    NOT_SUSPENDED = "NOT_SUSPENDED"
    REVOKED = "REVOKED"
    SUSPENDED = "SUSPENDED"
    NO_STATUS_ENTRY = "NO_STATUS_ENTRY"
    UNSUPPORTED_STATUS_TYPE = "UNSUPPORTED_STATUS_TYPE"
    MALFORMED_STATUS_ENTRY = "MALFORMED_STATUS_ENTRY"
    TOO_MANY_STATUS_ENTRIES = "TOO_MANY_STATUS_ENTRIES"
    STATUS_RETRIEVAL_ERROR = "STATUS_RETRIEVAL_ERROR"
    STATUS_VERIFICATION_ERROR = "STATUS_VERIFICATION_ERROR"
    STATUS_LIST_EXPIRED = "STATUS_LIST_EXPIRED"
    STATUS_LIST_LENGTH_ERROR = "STATUS_LIST_LENGTH_ERROR"
    RANGE_ERROR = "RANGE_ERROR"
    # holder binding
    HOLDER_BOUND = "HOLDER_BOUND"
    HOLDER_BOUND_NOT_SUBJECT = "HOLDER_BOUND_NOT_SUBJECT"
    NOT_A_PRESENTATION_CHECK = "NOT_A_PRESENTATION_CHECK"
    PRESENTATION_SIGNATURE_INVALID = "PRESENTATION_SIGNATURE_INVALID"
    PRESENTATION_SIGNATURE_UNKNOWN = "PRESENTATION_SIGNATURE_UNKNOWN"
    CHALLENGE_MISMATCH = "CHALLENGE_MISMATCH"
    DOMAIN_MISMATCH = "DOMAIN_MISMATCH"
    NO_CHALLENGE = "NO_CHALLENGE"
    HOLDER_NOT_SIGNER = "HOLDER_NOT_SIGNER"
    HOLDER_NOT_SUBJECT = "HOLDER_NOT_SUBJECT"
    SUBJECT_NOT_IDENTIFIABLE = "SUBJECT_NOT_IDENTIFIABLE"
    # SD-JWT VC (the catalogue is microcred.sdjwt.result.SD_JWT_MESSAGES, merged into the messages module's)
    SD_JWT_FORMAT_OK = "SD_JWT_FORMAT_OK"
    MALFORMED_SD_JWT = "MALFORMED_SD_JWT"
    TOO_LARGE = "TOO_LARGE"
    WRONG_TYP = "WRONG_TYP"
    UNSUPPORTED_ALGORITHM = "UNSUPPORTED_ALGORITHM"
    MALFORMED_CLAIM = "MALFORMED_CLAIM"
    DISCLOSURES_VALID = "DISCLOSURES_VALID"
    MALFORMED_DISCLOSURE = "MALFORMED_DISCLOSURE"
    MISPLACED_DISCLOSURE = "MISPLACED_DISCLOSURE"
    RESERVED_CLAIM_NAME = "RESERVED_CLAIM_NAME"
    CLAIM_NAME_COLLISION = "CLAIM_NAME_COLLISION"
    DUPLICATE_DIGEST = "DUPLICATE_DIGEST"
    DUPLICATE_DISCLOSURE = "DUPLICATE_DISCLOSURE"
    DISCLOSURE_NOT_REFERENCED = "DISCLOSURE_NOT_REFERENCED"
    UNSUPPORTED_HASH = "UNSUPPORTED_HASH"
    ISSUER_CERTIFICATE_VALID = "ISSUER_CERTIFICATE_VALID"
    ISSUER_KEY_PINNED = "ISSUER_KEY_PINNED"
    MALFORMED_X5C = "MALFORMED_X5C"
    NO_TRUST_ANCHORS = "NO_TRUST_ANCHORS"
    CHAIN_UNTRUSTED = "CHAIN_UNTRUSTED"
    KEY_USAGE_MISMATCH = "KEY_USAGE_MISMATCH"
    ISSUER_NOT_IN_CERTIFICATE = "ISSUER_NOT_IN_CERTIFICATE"
    TYPE_METADATA_VALID = "TYPE_METADATA_VALID"
    UNKNOWN_VCT = "UNKNOWN_VCT"
    INTEGRITY_MISMATCH = "INTEGRITY_MISMATCH"
    CLAIM_METADATA_VIOLATION = "CLAIM_METADATA_VIOLATION"
    ISSUED_IN_FUTURE = "ISSUED_IN_FUTURE"
    KEY_BINDING_VALID = "KEY_BINDING_VALID"
    NO_KEY_BINDING = "NO_KEY_BINDING"
    NO_HOLDER_KEY = "NO_HOLDER_KEY"
    UNSUPPORTED_HOLDER_KEY = "UNSUPPORTED_HOLDER_KEY"
    KB_JWT_INVALID = "KB_JWT_INVALID"
    SD_HASH_MISMATCH = "SD_HASH_MISMATCH"
    KB_JWT_STALE = "KB_JWT_STALE"
    STATUS_LIST_MISMATCH = "STATUS_LIST_MISMATCH"
    # any check
    INTERNAL_ERROR = "INTERNAL_ERROR"


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One named check: status, reason code, English message and machine-readable details."""

    id: CheckId
    status: CheckStatus
    reason_code: Reason
    message: str
    details: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self, lang: str = "en") -> dict[str, Any]:
        """JSON form with the message in ``lang`` (English when the catalogue lacks it)."""
        # ``_value_`` (the member's value as a plain instance attribute), not ``.value``: in Python 3.11 that is a
        # descriptor call, and a report makes two dozen of them per verification.
        return {
            "id": self.id._value_,
            "status": self.status._value_,
            "reason_code": self.reason_code._value_,
            "message": self.message if lang == "en" else render(self.reason_code, lang, self.details),
            "details": dict(self.details),
        }


def _result(check: CheckId, status: CheckStatus, reason: Reason, details: Mapping[str, Any]) -> CheckResult:
    return CheckResult(check, status, reason, render(reason, "en", details), dict(details))


def valid(check: CheckId, reason: Reason, **details: Any) -> CheckResult:
    """A passed check."""
    return _result(check, CheckStatus.VALID, reason, details)


def invalid(check: CheckId, reason: Reason, **details: Any) -> CheckResult:
    """A failed check."""
    return _result(check, CheckStatus.INVALID, reason, details)


def unknown(check: CheckId, reason: Reason, **details: Any) -> CheckResult:
    """A check that could not be carried out."""
    return _result(check, CheckStatus.UNKNOWN, reason, details)
