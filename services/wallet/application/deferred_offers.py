"""Collecting the credentials an issuer deferred (OpenID4VCI 1.0 §9; issue 20), over ports.

When a credential request is answered with a ``transaction_id``, :class:`~.offers.CredentialOffers` keeps a
:class:`~services.wallet.domain.deferred.DeferredIssuance` (durable, sealed). :meth:`DeferredCredentials.collect`
asks each issuer again, no more often than the interval it named, with the same access token and DPoP key:

* the credentials came: verified, bound to the key the wallet proved, kept, the issuer notified, and the
  transaction dropped (as an accepted offer's are);
* not yet: kept, asked again after the interval;
* refused, forgotten or expired (the issuer's ``invalid_transaction_id``, ``credential_request_denied``, a token
  it no longer takes; or :data:`~services.wallet.domain.deferred.KEEP_SECONDS` of waiting; or a credential the
  wallet's checks refuse): dropped, and said once, with the reason's code;
* the issuer unreachable: kept, asked again.

The learner's page calls it while anything is waiting; nothing else does (no background polling of issuers on
learners' behalf).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from services.wallet.application.offers import CredentialOffers, Received
from services.wallet.application.ports import DeferredStore
from services.wallet.domain.accounts import Account
from services.wallet.domain.credentials import HeldCredential
from services.wallet.domain.deferred import (
    DEFERRED_EXPIRED,
    DEFERRED_GONE,
    DeferredIssuance,
    bounded_interval,
    deferred_request,
    deferred_verdict,
)
from services.wallet.domain.dpop import DpopSession
from services.wallet.domain.issuer_requests import issued_credentials
from services.wallet.domain.offers import ISSUER_ANSWER_INVALID, ISSUER_UNAVAILABLE, OfferError, issuer_error

__all__ = ["ASK_SECONDS", "Collected", "DeferredCredentials"]

#: How long one collection holds a deferred issuance it asks about, against every other (across replicas): longer
#: than an ask takes (the issuer's metadata, the deferred request and its DPoP nonce retry at 10 s each, then
#: verifying, keeping and notifying). A collection that dies meanwhile delays the next ask by this much.
ASK_SECONDS = 60


@dataclass(frozen=True)
class Collected:
    """One round of collection: what arrived, what still waits, and what will never come (with its code)."""

    credentials: tuple[HeldCredential, ...]
    pending: int  # kept (durable on Kafka) but not in the read model yet: listed moments later
    waiting: tuple[DeferredIssuance, ...]
    ended: tuple[tuple[DeferredIssuance, str], ...]


class DeferredCredentials:
    """The learner's deferred credentials: listed, and collected when the issuers have them."""

    def __init__(self, offers: CredentialOffers, store: DeferredStore) -> None:
        self.offers, self.store = offers, store

    async def waiting(self, account: Account) -> list[DeferredIssuance]:
        """What the account waits for, oldest first."""
        return await self.store.of(account.account_id)

    async def collect(self, account: Account) -> Collected:
        """Ask the issuers of whatever is due (module docstring)."""
        now = int(self.offers.clock().timestamp())
        got: list[HeldCredential] = []
        pending = 0
        waiting: list[DeferredIssuance] = []
        ended: list[tuple[DeferredIssuance, str]] = []
        for item in await self.store.of(account.account_id):
            if item.expires_at <= now:
                await self._end(account, item)
                ended.append((item, DEFERRED_EXPIRED))
                continue
            # Leased for the whole ask, not only the issuer's interval: a second collection (another tab, another
            # replica) finding it due while this one still keeps what the issuer handed over would be told
            # invalid_transaction_id (spent by this delivery), end it as gone and delete the key the credential
            # is bound to. The ask's outcome sets the next time (wait, or drop).
            if not await self.store.due(item.ref, max(item.interval, ASK_SECONDS)):
                waiting.append(item)
                continue
            try:
                received = await self._ask(account, item)
            except OfferError as exc:
                if exc.code == ISSUER_UNAVAILABLE:
                    await self.store.wait(item.ref, item.interval)  # the lease ends: asked again as before
                    waiting.append(item)
                    continue
                await self._end(account, item)
                ended.append((item, exc.code))
                continue
            if received is None:
                waiting.append(item)
                continue
            await self.store.drop(account.account_id, item.ref)
            got.extend(received.credentials)
            pending += received.pending
        return Collected(tuple(got), pending, tuple(waiting), tuple(ended))

    async def _end(self, account: Account, item: DeferredIssuance) -> None:
        """Drop an issuance that ended without its credential, and the key made for it."""
        await self.store.drop(account.account_id, item.ref)
        await self.offers.forget_key(account, item.holder_did)

    async def _ask(self, account: Account, item: DeferredIssuance) -> Received | None:
        """One deferred credential request (§9.1); None: not yet."""
        offers = self.offers
        metadata, _, _ = await offers.issuer_metadata(item.credential_issuer)
        endpoint = metadata.deferred_credential_endpoint
        if endpoint is None:
            raise OfferError(ISSUER_ANSWER_INVALID, "metadata: no deferred_credential_endpoint any more")
        dpop = DpopSession(None)
        if item.dpop_key_pem:
            loaded = load_pem_private_key(item.dpop_key_pem.encode(), None)
            assert isinstance(loaded, EllipticCurvePrivateKey)
            dpop.key = loaded
        request, token = deferred_request(item.transaction_id), item.access_token
        reply = await offers.send_credential_request(metadata, endpoint, request, token, dpop)
        verdict = deferred_verdict(reply.status, reply.body)
        if verdict == "pending":  # §9.2: not before the interval this answer names
            interval = reply.body.get("interval") if isinstance(reply.body, Mapping) else None
            await self.store.wait(item.ref, bounded_interval(interval))
            return None
        if verdict == "gone":
            raise OfferError(DEFERRED_GONE, issuer_error("deferred", reply.status, reply.body).detail)
        if verdict == "error":
            raise issuer_error("deferred", reply.status, reply.body)
        key: EllipticCurvePrivateKey | None = None
        if item.holder_did:  # '': the configuration binds no key
            found = await offers.keys.jose_key(account.account_id, item.holder_did)
            if not isinstance(found, EllipticCurvePrivateKey):
                raise OfferError(DEFERRED_GONE, "the holder key the wallet proved is no longer in the wallet")
            key = found
        return await offers.keep_issued(account, metadata, item.format, issued_credentials(reply.body), key,
                                        item.holder_did, token, dpop)
