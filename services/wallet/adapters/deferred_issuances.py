"""The deferred OpenID4VCI issuances a learner's wallet waits for (issue 20), kept durably.

Each is the wallet's only way to a credential whose code is already spent, so it goes where the wallet's own
state goes: a ``WalletDeferredCredential`` record on the compacted wallet topic (key
``deferred:{account}/{ref}``), projected into the account's hash ``P:acct:{aid}:deferred`` (ref -> sealed
record), and a tombstone when it is settled. The record holds an access token and a DPoP private key, so it is
sealed under the wallet's KEK before it is published (:meth:`~services.wallet.adapters.sealing.Sealer.seal_deferred`)
and opened only here, when the learner's wallet asks the issuer again.

How often the issuer is asked is throttled per record by a plain Redis key (``P:oid4vci-deferred-asked:{ref}``,
``SET NX EX interval``): shared by every replica, and if it is lost with Redis the issuer is only asked once early.
A collection holds it for the whole of its ask (:data:`~services.wallet.application.deferred_offers.ASK_SECONDS`),
so that no other collection asks the issuer about a transaction this one is being handed.
"""

from __future__ import annotations

import logging

from google.protobuf.timestamp_pb2 import Timestamp

from microcred.gen.microcred.v1 import events_pb2
from microcred.lifecycle import RedisClient
from services.wallet.adapters.account_state import AccountKeys
from services.wallet.adapters.sealing import Sealer, SealError
from services.wallet.adapters.store import r, text
from services.wallet.adapters.wallet_log import WalletLog, record_key
from services.wallet.domain.deferred import DeferredIssuance

__all__ = ["DeferredIssuances"]

log = logging.getLogger(__name__)
MAX_PER_ACCOUNT = 100  # bounded work per request, whatever a replay left behind


class DeferredIssuances:
    """Publish, read (opened), throttle and drop deferred issuances (see the module docstring)."""

    def __init__(self, redis: RedisClient, keys: AccountKeys, log: WalletLog, sealer: Sealer) -> None:
        self._redis, self._keys, self._log, self._sealer = redis, keys, log, sealer

    async def put(self, item: DeferredIssuance) -> None:
        """Keep ``item`` (durable on Kafka when this returns)."""
        ref = item.ref
        await self._log.publish(record_key("deferred", item.account_id, ref), events_pb2.WalletDeferredCredential(
            account_id=item.account_id, transaction_ref=ref,
            sealed=self._sealer.seal_deferred(item.account_id, ref, item.to_json()),
            expires_at=Timestamp(seconds=item.expires_at)))

    async def of(self, account_id: str) -> list[DeferredIssuance]:
        """The account's deferred issuances, oldest first (a record that does not open, e.g. sealed under
        another KEK, is skipped and logged by its ref)."""
        stored = await r(self._redis.hgetall(self._keys.account(account_id, ":deferred")))
        found: list[DeferredIssuance] = []
        for raw_ref, sealed in list(stored.items())[:MAX_PER_ACCOUNT]:
            ref = text(raw_ref) or ""
            try:
                found.append(DeferredIssuance.from_json(self._sealer.open_deferred(account_id, ref, sealed)))
            except (SealError, ValueError, TypeError):
                log.warning("a deferred issuance record does not open", extra={"ref": ref[:12]})
        return sorted(found, key=lambda item: (item.created_at, item.ref))

    def _asked(self, ref: str) -> str:
        return f"{self._keys.prefix}:oid4vci-deferred-asked:{ref}"

    async def due(self, ref: str, interval: int) -> bool:
        """Whether the issuer may be asked about ``ref`` now; if so, the next time is ``interval`` seconds on."""
        return bool(await self._redis.set(self._asked(ref), b"1", ex=max(1, interval), nx=True))

    async def wait(self, ref: str, seconds: int) -> None:
        """Not before ``seconds`` from now (the interval the issuer's last answer named)."""
        await self._redis.set(self._asked(ref), b"1", ex=max(1, seconds))

    async def drop(self, account_id: str, ref: str) -> None:
        """Stop waiting for ``ref`` (a tombstone; durable when this returns)."""
        await self._log.delete([record_key("deferred", account_id, ref)])
