"""The verifier's use cases: verify a document, verify what a wallet share link holds.

The HTTP routes (:mod:`~.api.routes`) only parse and render; what they run is here, over the verification
pipeline (:mod:`microcred.verification`) and the wallet's share links (:class:`ShareSource`, whose HTTP client
is :class:`~.adapters.sources.WalletClient`). The errors a share lookup may raise belong to the port, so that
the routes map them without knowing the adapter.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from microcred.errors import Gone, NotFound, Unavailable
from microcred.verification import VerificationPorts, VerificationReport, verify

__all__ = ["Gateway", "ShareGone", "ShareNotFound", "ShareSource", "SharedCredentials", "WalletUnavailable",
           "share_reports", "verify_one"]


@dataclass(frozen=True)
class SharedCredentials:
    """What a share link points at."""

    credentials: list[Any]
    expires_at: str | None


class ShareNotFound(NotFound):
    """No such share link (or a malformed token)."""


class ShareGone(Gone):
    """The share link expired or was withdrawn."""


class WalletUnavailable(Unavailable):
    """The wallet could not be asked (not configured, down, or a bad answer).

    Its text is for the log; public answers say only that the wallet could not be reached.
    """


class ShareSource(Protocol):
    """The wallet's share links, as the gateway reads them."""

    async def share(self, token: str) -> SharedCredentials:
        """The credentials behind ``token``; raises ShareNotFound, ShareGone or WalletUnavailable."""
        ...


@dataclass
class Gateway:
    """What the routes need: the verification ports and the share source (None: share links unavailable)."""

    ports: VerificationPorts
    wallet: ShareSource | None = None


async def verify_one(gateway: Gateway, document: Any, challenge: str | None, domain: str | None
                     ) -> VerificationReport:
    """Every check over one credential or presentation (challenge and domain bind a presentation's proof)."""
    return await verify(document, gateway.ports, challenge=challenge, domain=domain)


async def share_reports(gateway: Gateway, token: str) -> tuple[list[VerificationReport], str | None]:
    """One report per credential a share link holds, all checked at the same instant, and when it expires."""
    if gateway.wallet is None:
        raise WalletUnavailable("no wallet is configured")
    shared = await gateway.wallet.share(token)
    now = datetime.now(UTC)
    return [await verify(doc, gateway.ports, now) for doc in shared.credentials], shared.expires_at
