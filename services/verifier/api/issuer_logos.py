"""Issuers' logos on the employer's report page, from the trust registry only (issue 23).

A report gets its issuer's logo when every authenticity check passed (the seal is the issuer's), the registry
vouches for the issuer (the accreditation check is valid, so the registry names the issuer: ``issuer_id`` in its
details) and :func:`microcred.registry.logo.shown_logo` agrees now (registered under the DID that signed, an
accreditation in force). A logo or image the credential carries itself is never shown: only the registry's.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from microcred.registry.logo import shown_logo
from microcred.registry.ports import RegistryReader
from microcred.verification.checks import CheckId
from microcred.verification.report import VerificationReport

__all__ = ["registry_logos"]


async def _logo(registry: RegistryReader, report: VerificationReport, at: datetime) -> str | None:
    accreditation = report.check(CheckId.ACCREDITATION)
    signature = report.check(CheckId.SIGNATURE)
    if (report.kind != "credential" or not report.issuer_vouched or accreditation is None or signature is None
            or signature.status.value != "valid"
            or any((c := report.check(check)) is not None and c.status.value != "valid"
                   for check in (CheckId.FORMAT, CheckId.ISSUER_IDENTITY))):
        return None
    issuer_id = accreditation.details.get("issuer_id")
    if not isinstance(issuer_id, str) or not issuer_id:
        return None
    issuer = await registry.get_issuer(issuer_id)
    if issuer is None:
        return None
    logo = shown_logo(issuer, await registry.get_issuer_logo(issuer_id), report.issuer, at)
    return logo.data_uri() if logo is not None else None


async def registry_logos(registry: RegistryReader | None, reports: Sequence[VerificationReport],
                         at: datetime) -> list[str | None]:
    """For each credential report (in order), the ``data:`` URI of its issuer's registered logo, or None."""
    if registry is None:
        return [None] * len(reports)
    return [await _logo(registry, report, at) for report in reports]
