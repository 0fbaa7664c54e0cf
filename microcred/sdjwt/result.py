"""The per-check result of verifying an SD-JWT VC, in the vocabulary of the verification report.

Check ids are the values of :class:`~microcred.verification.checks.CheckId` where one exists (``format``,
``signature``, ``issuer_identity``, ``validity_window``, ``holder_binding``, ``revocation``, ``suspension``)
plus two that SD-JWT needs (``disclosures``, ``type_metadata``). Statuses have the values of the report's
:class:`~microcred.verification.checks.CheckStatus`: ``unknown`` means "could not be checked", never valid.
Reason codes reuse the report's codes where the meaning is the same (``INVALID_SIGNATURE``, ``EXPIRED``,
``CHALLENGE_MISMATCH``, ``REVOKED``...); the SD-JWT-specific ones are in :data:`SD_JWT_MESSAGES` (English and
Polish, like :mod:`microcred.verification.messages`) so the pipeline can add them to ``Reason`` and its
catalogue unchanged when it adopts this module.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = ["DISCLOSURES", "FORMAT", "HOLDER_BINDING", "ISSUER_IDENTITY", "REVOCATION", "SD_JWT_CHECK_TITLES",
           "SD_JWT_MESSAGES", "SIGNATURE", "SUSPENSION", "TYPE_METADATA", "VALIDITY_WINDOW", "CheckStatus",
           "SdJwtCheck", "check_invalid", "check_unknown", "check_valid", "message"]

# Check ids: the values of microcred.verification.checks.CheckId, plus two for SD-JWT. Not imported from there:
# microcred.verification imports its pipeline, which is to import this package (tests/unit/test_sdjwt_core.py
# pins that the values stay the same).
FORMAT, SIGNATURE, ISSUER_IDENTITY = "format", "signature", "issuer_identity"
VALIDITY_WINDOW, HOLDER_BINDING = "validity_window", "holder_binding"
REVOCATION, SUSPENSION = "revocation", "suspension"
DISCLOSURES = "disclosures"
TYPE_METADATA = "type_metadata"


class CheckStatus(StrEnum):
    """The values of :class:`microcred.verification.checks.CheckStatus` (see the note on check ids)."""

    VALID = "valid"
    INVALID = "invalid"
    UNKNOWN = "unknown"

SD_JWT_CHECK_TITLES: Mapping[str, Mapping[str, str]] = {
    DISCLOSURES: {"en": "Selective disclosures", "pl": "Selektywne ujawnienia"},
    TYPE_METADATA: {"en": "Credential type and metadata", "pl": "Typ poświadczenia i metadane"},
}

SD_JWT_MESSAGES: Mapping[str, Mapping[str, str]] = {
    "SD_JWT_FORMAT_OK": {"en": "The document is a well-formed SD-JWT VC ({typ}).",
                         "pl": "Dokument jest poprawnie zbudowanym SD-JWT VC ({typ})."},
    "MALFORMED_SD_JWT": {"en": "The SD-JWT is malformed: {problem}.",
                         "pl": "SD-JWT jest nieprawidłowy: {problem}."},
    "TOO_LARGE": {"en": "The SD-JWT exceeds this verifier's limits: {problem}.",
                  "pl": "SD-JWT przekracza granice tego weryfikatora: {problem}."},
    "WRONG_TYP": {"en": "The JWT type is {typ}, expected {expected}.",
                  "pl": "Typ JWT to {typ}, oczekiwano {expected}."},
    "UNSUPPORTED_ALGORITHM": {"en": "The signature algorithm {alg} is not accepted.",
                              "pl": "Algorytm podpisu {alg} nie jest akceptowany."},
    "MALFORMED_CLAIM": {"en": "The claim {field} is not valid: {problem}.",
                        "pl": "Atrybut {field} jest nieprawidłowy: {problem}."},
    # read by employers whatever the count: "All 0 disclosures …" said nothing to them
    "DISCLOSURES_VALID": {"en": "The claims shown are the ones the issuer signed ({count} of them disclosed "
                                "selectively by the holder).",
                          "pl": "Pokazane atrybuty to te, które podpisał wystawca (wybiórczo ujawnionych przez "
                                "posiadacza: {count})."},
    "MALFORMED_DISCLOSURE": {"en": "A disclosure is malformed: {problem}.",
                             "pl": "Ujawnienie jest nieprawidłowe: {problem}."},
    "MISPLACED_DISCLOSURE": {"en": "A disclosure is used in the wrong place: {problem}.",
                             "pl": "Ujawnienie użyto w niewłaściwym miejscu: {problem}."},
    "RESERVED_CLAIM_NAME": {"en": "A disclosure uses a reserved claim name: {problem}.",
                            "pl": "Ujawnienie używa zastrzeżonej nazwy atrybutu: {problem}."},
    "CLAIM_NAME_COLLISION": {"en": "A disclosed claim collides with another claim: {problem}.",
                             "pl": "Ujawniony atrybut koliduje z innym atrybutem: {problem}."},
    "DUPLICATE_DIGEST": {"en": "A digest appears more than once: {problem}.",
                         "pl": "Skrót występuje więcej niż raz: {problem}."},
    "DUPLICATE_DISCLOSURE": {"en": "A disclosure is included twice: {problem}.",
                             "pl": "Ujawnienie dołączono dwukrotnie: {problem}."},
    "DISCLOSURE_NOT_REFERENCED": {"en": "A disclosure was not signed by the issuer: {problem}.",
                                  "pl": "Ujawnienie nie zostało podpisane przez wystawcę: {problem}."},
    "UNSUPPORTED_HASH": {"en": "The digest algorithm is not supported: {problem}.",
                         "pl": "Algorytm skrótu nie jest obsługiwany: {problem}."},
    "ISSUER_CERTIFICATE_VALID": {"en": "The issuer's certificate ({subject}) chains to the trust anchor {anchor} "
                                       "and names the issuer {issuer}.",
                                 "pl": "Certyfikat wystawcy ({subject}) prowadzi do kotwicy zaufania {anchor} "
                                       "i wskazuje wystawcę {issuer}."},
    "ISSUER_KEY_PINNED": {"en": "The signing key is the key configured for the issuer {issuer}.",
                          "pl": "Klucz podpisu jest kluczem skonfigurowanym dla wystawcy {issuer}."},
    "MALFORMED_X5C": {"en": "The issuer's certificate chain is malformed: {problem}.",
                      "pl": "Łańcuch certyfikatów wystawcy jest nieprawidłowy: {problem}."},
    "NO_TRUST_ANCHORS": {"en": "No trust anchors are configured, so the issuer's certificate could not be checked.",
                         "pl": "Nie skonfigurowano kotwic zaufania, więc nie sprawdzono certyfikatu wystawcy."},
    "CHAIN_UNTRUSTED": {"en": "The issuer's certificate does not chain to a trusted anchor: {problem}.",
                        "pl": "Certyfikat wystawcy nie prowadzi do zaufanej kotwicy: {problem}."},
    "KEY_USAGE_MISMATCH": {"en": "The issuer's certificate may not be used for this signature: {problem}.",
                           "pl": "Certyfikatu wystawcy nie wolno użyć do tego podpisu: {problem}."},
    "ISSUER_NOT_IN_CERTIFICATE": {"en": "The certificate does not name the issuer {issuer}.",
                                  "pl": "Certyfikat nie wskazuje wystawcy {issuer}."},
    "TYPE_METADATA_VALID": {"en": "The credential type {vct} is known, its metadata intact and its claims conform.",
                            "pl": "Typ poświadczenia {vct} jest znany, jego metadane nienaruszone, a atrybuty "
                                  "zgodne."},
    "UNKNOWN_VCT": {"en": "The credential type {vct} is not known to this verifier.",
                    "pl": "Typ poświadczenia {vct} nie jest znany temu weryfikatorowi."},
    "INTEGRITY_MISMATCH": {"en": "The type metadata does not match the integrity value signed by the issuer "
                                 "({problem}).",
                           "pl": "Metadane typu nie zgadzają się z wartością integralności podpisaną przez wystawcę "
                                 "({problem})."},
    "CLAIM_METADATA_VIOLATION": {"en": "The claim {path} breaks the type metadata: {problem}.",
                                 "pl": "Atrybut {path} narusza metadane typu: {problem}."},
    "ISSUED_IN_FUTURE": {"en": "The credential claims to be issued in the future ({iat}).",
                         "pl": "Poświadczenie podaje datę wydania z przyszłości ({iat})."},
    "KEY_BINDING_VALID": {"en": "The holder proved possession of the credential's key for this nonce and audience.",
                          "pl": "Posiadacz udowodnił posiadanie klucza poświadczenia dla tego wyzwania i odbiorcy."},
    "NO_KEY_BINDING": {"en": "The presentation carries no key binding, so it could be a copy presented by "
                             "someone else.",
                       "pl": "Prezentacja nie ma powiązania z kluczem, więc może być kopią przedstawioną przez "
                             "kogoś innego."},
    "NO_HOLDER_KEY": {"en": "The credential names no holder key (cnf), so key binding cannot be checked.",
                      "pl": "Poświadczenie nie wskazuje klucza posiadacza (cnf), więc nie można sprawdzić "
                            "powiązania."},
    "UNSUPPORTED_HOLDER_KEY": {"en": "The credential names its holder key by a method this verifier does not read "
                                     "({methods}), so key binding cannot be checked.",
                               "pl": "Poświadczenie wskazuje klucz posiadacza metodą, której ten weryfikator nie "
                                     "obsługuje ({methods}), więc nie można sprawdzić powiązania."},
    "KB_JWT_INVALID": {"en": "The key binding JWT is not valid: {problem}.",
                       "pl": "JWT powiązania z kluczem jest nieprawidłowy: {problem}."},
    "SD_HASH_MISMATCH": {"en": "The key binding JWT was made for other disclosures (sd_hash mismatch).",
                         "pl": "JWT powiązania z kluczem dotyczy innych ujawnień (niezgodny sd_hash)."},
    "KB_JWT_STALE": {"en": "The key binding JWT was not made now ({problem}).",
                     "pl": "JWT powiązania z kluczem nie został utworzony teraz ({problem})."},
    "STATUS_LIST_MISMATCH": {"en": "The status list token is not the one the credential references ({problem}).",
                             "pl": "Token listy statusów nie jest tym, na który wskazuje poświadczenie ({problem})."},
}


def message(code: str, lang: str, details: Mapping[str, Any]) -> str:
    """The message for ``code`` (SD-JWT catalogue first, then the report's) in ``lang``."""
    texts = SD_JWT_MESSAGES.get(code)
    if texts is None:
        # imported here, not at the top: importing microcred.verification loads its pipeline (see above)
        from microcred.verification.messages import MESSAGES, render

        return render(code, lang, details) if code in MESSAGES else code
    template = texts.get(lang) or texts["en"]
    return template.format_map(_Lenient({k: str(v) for k, v in details.items()}))


class _Lenient(dict[str, str]):
    """Message details where a placeholder without a value reads ``?`` (defined once: a class made per message
    cost ≈ 15 µs, five times per verification)."""

    def __missing__(self, key: str) -> str:
        return "?"


@dataclass(frozen=True, slots=True)
class SdJwtCheck:
    """One named check: id, status, reason code, English message and machine-readable details."""

    id: str
    status: CheckStatus
    reason_code: str
    message: str
    details: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self, lang: str = "en") -> dict[str, Any]:
        """JSON form, like :meth:`microcred.verification.checks.CheckResult.to_dict`."""
        return {"id": self.id, "status": self.status.value, "reason_code": self.reason_code,
                "message": self.message if lang == "en" else message(self.reason_code, lang, self.details),
                "details": dict(self.details)}


def _check(check_id: str, status: CheckStatus, reason: str, details: Mapping[str, Any]) -> SdJwtCheck:
    return SdJwtCheck(check_id, status, reason, message(reason, "en", details), dict(details))


def check_valid(check_id: str, reason: str, **details: Any) -> SdJwtCheck:
    """A passed check."""
    return _check(check_id, CheckStatus.VALID, reason, details)


def check_invalid(check_id: str, reason: str, **details: Any) -> SdJwtCheck:
    """A failed check."""
    return _check(check_id, CheckStatus.INVALID, reason, details)


def check_unknown(check_id: str, reason: str, **details: Any) -> SdJwtCheck:
    """A check that could not be carried out."""
    return _check(check_id, CheckStatus.UNKNOWN, reason, details)
