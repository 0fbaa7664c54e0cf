"""Verification of credentials and presentations: per-check results, a documented verdict policy, ports.

Pure where possible: no HTTP, Kafka or Redis imports here; the gateway (``services/verifier``) and the CLI
(``mcred verify``) provide the adapters. Entry points: :func:`verify`, :func:`verify_credential`,
:func:`verify_presentation`. See ``docs/verification.md``.
"""

from microcred.verification.cache import ResultCache, document_digest
from microcred.verification.checks import CheckId, CheckResult, CheckStatus, Reason
from microcred.verification.pipeline import is_presentation, verify, verify_credential, verify_presentation
from microcred.verification.policy import Verdict
from microcred.verification.ports import KeyLookup, KeyLookupProblem, KeyResolver, StatusListSource, VerificationPorts
from microcred.verification.report import VerificationReport

__all__ = [
    "CheckId",
    "CheckResult",
    "CheckStatus",
    "KeyLookup",
    "KeyLookupProblem",
    "KeyResolver",
    "Reason",
    "ResultCache",
    "StatusListSource",
    "Verdict",
    "VerificationPorts",
    "VerificationReport",
    "document_digest",
    "is_presentation",
    "verify",
    "verify_credential",
    "verify_presentation",
]
