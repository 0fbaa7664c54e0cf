"""The verdict policy: how the per-check results of a report become one overall answer.

The policy, in order (also in ``docs/verification.md``):

1. **invalid** if any check is ``invalid``, whether required or advisory (a check that was carried out and
   failed always counts: a withdrawn accreditation or a revoked status is never hidden by the verdict);
2. otherwise **undetermined** if any *required* check is ``unknown`` (could not be carried out);
3. otherwise **valid**.

Required checks, always: ``format``, ``signature``, ``issuer_identity``, ``validity_window``, ``revocation``,
``suspension``; for a presentation also ``holder_binding``; for a credential that declares itself an EU
micro-credential (``achievementType: MicroCredential``) also ``eu_elements`` and ``accreditation``.

Advisory (an ``unknown`` does not block a ``valid`` verdict): ``eu_elements`` and ``accreditation`` for a
credential that does not claim to be an EU micro-credential. Such a credential (any VC 1.1/2.0 from elsewhere)
can be authentic, unrevoked and in force while its issuer is simply absent from this platform's trust
registry; the report still shows that check as ``unknown`` next to the ``valid`` verdict.

A presentation's verdict is the worst of its own checks' verdict and every enclosed credential's verdict
(invalid > undetermined > valid). A presentation with no credential (``verifiableCredential`` is optional)
stands on its own checks.

A "could not check" therefore never yields "valid" for anything the policy requires: an unreachable status
list, an unresolvable issuer, an unknown cryptosuite or context all end in "undetermined".
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from microcred.verification.checks import CheckId, CheckResult, CheckStatus

__all__ = ["ALWAYS_REQUIRED", "MICRO_CREDENTIAL_REQUIRED", "PRESENTATION_REQUIRED", "Verdict", "combine",
           "decide", "required_checks"]


class Verdict(StrEnum):
    """Overall answer of a report."""

    VALID = "valid"
    INVALID = "invalid"
    UNDETERMINED = "undetermined"


ALWAYS_REQUIRED = frozenset({CheckId.FORMAT, CheckId.SIGNATURE, CheckId.ISSUER_IDENTITY, CheckId.VALIDITY_WINDOW,
                             CheckId.REVOCATION, CheckId.SUSPENSION})
PRESENTATION_REQUIRED = frozenset({CheckId.FORMAT, CheckId.SIGNATURE, CheckId.HOLDER_BINDING})
MICRO_CREDENTIAL_REQUIRED = frozenset({CheckId.EU_ELEMENTS, CheckId.ACCREDITATION})

_SEVERITY = {Verdict.VALID: 0, Verdict.UNDETERMINED: 1, Verdict.INVALID: 2}


def required_checks(*, presentation: bool, micro_credential: bool) -> frozenset[CheckId]:
    """The checks whose ``unknown`` makes the verdict undetermined."""
    if presentation:
        return PRESENTATION_REQUIRED
    return ALWAYS_REQUIRED | (MICRO_CREDENTIAL_REQUIRED if micro_credential else frozenset())


def decide(checks: Iterable[CheckResult], required: frozenset[CheckId]) -> Verdict:
    """Apply rules 1 to 3 to one document's checks."""
    results = list(checks)
    if any(c.status is CheckStatus.INVALID for c in results):
        return Verdict.INVALID
    present = {c.id for c in results}
    if any(c.status is CheckStatus.UNKNOWN and c.id in required for c in results) or not required <= present:
        return Verdict.UNDETERMINED
    return Verdict.VALID


def combine(verdicts: Iterable[Verdict]) -> Verdict:
    """The worst of several verdicts (invalid > undetermined > valid); undetermined when there are none."""
    items = list(verdicts)
    if not items:
        return Verdict.UNDETERMINED
    return max(items, key=_SEVERITY.__getitem__)
