"""The wallet's authorization code attempts in Redis (issue 20): what the wallet keeps while the learner is at
the issuer's pages.

Key (``P`` the instance prefix): ``P:oid4vci-authz:<sha256 hex of state>`` -> the
:class:`~services.wallet.domain.offer_authorization.PendingAuthorization` as JSON, ``SET NX EX`` (10 min), taken
with ``GETDEL``: the state completes one redemption across every replica, and a replayed redirect finds nothing.
The state itself is never a key. Not projected from Kafka: an attempt lost with Redis is begun again by the
learner (nothing was redeemed yet).
"""

from __future__ import annotations

from microcred.lifecycle import RedisClient
from services.wallet.domain.offer_authorization import PENDING_SECONDS, PendingAuthorization, state_digest

__all__ = ["PendingAuthorizations"]


class PendingAuthorizations:
    """Attempts kept for :data:`PENDING_SECONDS`, each taken at most once."""

    def __init__(self, redis: RedisClient, prefix: str, ttl_seconds: int = PENDING_SECONDS) -> None:
        self._redis, self._prefix, self._ttl = redis, prefix, ttl_seconds

    def _key(self, state: str) -> str:
        return f"{self._prefix}:oid4vci-authz:{state_digest(state)}"

    async def put(self, pending: PendingAuthorization) -> None:
        """Keep an attempt (never over another with the same state)."""
        await self._redis.set(self._key(pending.state), pending.to_json(), ex=self._ttl, nx=True)

    async def take(self, state: str) -> PendingAuthorization | None:
        """The attempt of ``state``, removed in the same step (None: unknown, expired or taken)."""
        if not state or len(state) > 512:  # bounded work on hostile input
            return None
        raw = await self._redis.getdel(self._key(state))
        return PendingAuthorization.from_json(raw) if raw is not None else None
