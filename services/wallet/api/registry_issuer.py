"""The issuer of a held credential as the trust registry knows it: its registered name and logo (issue 23).

Shown on the PDF and the credential's detail view only when the registry vouches for the issuer right now
(:func:`microcred.registry.logo.shown_logo`: registered, an accreditation in force, its DID the credential's
issuer) and only for a credential the wallet received from the platform's issuer over Kafka. An imported
credential names its issuer itself and may carry unknown checks, so it gets no registry logo: a logo must never
lend a claimed issuer the registry's word. While the wallet's registry read model is not complete (start-up, a
rebuild), an issuer may be missing from it: then no logo is shown, which errs on the safe side.
"""

from __future__ import annotations

from dataclasses import dataclass

from microcred.registry.domain import ID_PATTERN
from microcred.registry.logo import shown_logo
from microcred.registry.ports import Logo
from services.wallet.application.use_cases import WalletContext
from services.wallet.domain.credentials import HeldCredential, Source

__all__ = ["VouchedIssuer", "vouched_issuer"]


@dataclass(frozen=True)
class VouchedIssuer:
    """The registry's name (in the reader's language when registered in it, else English) and logo."""

    name: str
    logo: Logo


async def vouched_issuer(ctx: WalletContext, credential: HeldCredential, lang: str) -> VouchedIssuer | None:
    """The registry's name and logo of ``credential``'s issuer, or None (see the module's rules)."""
    registry = ctx.registry
    if registry is None or credential.source is not Source.ISSUED or not ID_PATTERN.fullmatch(credential.issuer_id):
        return None
    issuer = await registry.get_issuer(credential.issuer_id)
    if issuer is None:
        return None
    logo = shown_logo(issuer, await registry.get_issuer_logo(issuer.issuer_id), credential.issuer_did, ctx.now())
    if logo is None:
        return None
    names = issuer.organisation.legal_name.values
    return VouchedIssuer(names.get(lang) or names.get("en") or issuer.issuer_id, logo)
