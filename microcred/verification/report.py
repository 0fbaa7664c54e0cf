"""The verification report: one entry per named check, the verdict, and what the credential says.

``to_dict(lang)`` is the JSON the gateway returns and the CLI prints (messages in ``lang``); the same object
drives the human page.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from microcred.verification.checks import CheckId, CheckResult, CheckStatus
from microcred.verification.messages import verdict_text
from microcred.verification.policy import Verdict

__all__ = ["POLICY_URL", "VerificationReport"]

POLICY_URL = "https://github.com/microcred/microcred/blob/main/docs/verification.md#verdict-policy"


@dataclass(frozen=True)
class VerificationReport:
    """The result of verifying one credential or presentation."""

    kind: str
    """``credential`` or ``presentation``."""
    verdict: Verdict
    checks: tuple[CheckResult, ...]
    verified_at: datetime
    required: frozenset[CheckId]
    document_id: str | None = None
    issuer: str | None = None
    micro_credential: bool = False
    credentials: tuple[VerificationReport, ...] = ()
    summary: Mapping[str, Any] = field(default_factory=dict)

    def check(self, check_id: CheckId) -> CheckResult | None:
        """The result of one check, or None when the report has no such check."""
        return next((c for c in self.checks if c.id is check_id), None)

    @property
    def issuer_vouched(self) -> bool:
        """Whether the trust registry vouches for the issuer (ACCREDITATION valid: registered and accredited).

        Otherwise the summary (the issuer's name, EQF level, quality assurance...) is only what the issuer says
        about itself, however "valid" the credential is.
        """
        accreditation = self.check(CheckId.ACCREDITATION)
        return accreditation is not None and accreditation.status is CheckStatus.VALID

    def to_dict(self, lang: str = "en") -> dict[str, Any]:
        """JSON form, messages in ``lang``."""
        out: dict[str, Any] = {
            "kind": self.kind,
            "verdict": self.verdict._value_,  # a plain attribute: see CheckResult.to_dict
            "verdict_message": verdict_text(self.verdict._value_, lang),
            "verified_at": self.verified_at.isoformat(),
            "id": self.document_id,
            "issuer": self.issuer,
            "micro_credential": self.micro_credential,
            "lang": lang,
            "policy": POLICY_URL,
            "required_checks": sorted(c._value_ for c in self.required),
            "checks": [c.to_dict(lang) for c in self.checks],
        }
        if self.kind == "presentation":
            out["credentials"] = [c.to_dict(lang) for c in self.credentials]
        else:
            out["issuer_vouched"] = self.issuer_vouched
            out["summary"] = dict(self.summary)
        return out
