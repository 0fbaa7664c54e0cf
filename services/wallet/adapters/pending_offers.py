"""The OpenID4VCI offers addressed to learners (issue 20), as the wallet's read model keeps them, so that a learner
sees in the wallet the offers an issuer of this platform made for them and can accept one without the e-mail.

Fed by the issuer's ``CredentialOfferCreated`` events (their learner part opened with the learner's data key):

==================================================  ==============================================================
``{prefix}:offer:{offer_ref}``                      hash: the offer's URI, issuer, title, awarding body, expiry,
                                                    whether a ``tx_code`` is needed; expires with the offer
``{prefix}:offers:by:email:{index}``                set of offer refs addressed to an e-mail (its keyed hash)
``{prefix}:offers:by:did:{did}``                    set of offer refs addressed to a DID
``{prefix}:offers:by:learner:{pseudonym}``          set of offer refs of a learner (for ``LearnerErased``)
``{prefix}:offers:by:learner:{pseudonym}:indexes``  the e-mail and DID sets above that name the learner's offers
==================================================  ==============================================================

A redeemed, withdrawn, locked or expired offer keeps only a ``closed`` mark in its hash (until the offer would
have expired, or :data:`CLOSED_KEPT` seconds when the close came first), so that a late duplicate of its
``CredentialOfferCreated`` cannot show it again; the index entries naming it are dropped the next time they are
read, and each set expires with the latest offer it names. ``LearnerErased`` names the learner by pseudonym only
(their DID no longer opens from anywhere), so the learner's own set lists the index sets to take the erased offers
out of: a set keyed by the DID must not outlive the erasure by days. Everything is under ``prefix``, the wallet
read model's one slot.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Mapping

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from microcred.storage.replies import awaited, text
from services.wallet.domain.addressed_offers import AddressedOffer
from services.wallet.domain.credentials import email_index

__all__ = ["CLOSED_KEPT", "PendingOffers"]

#: How long a close seen before its offer is remembered (longer than any offer lives: 7 days by default).
CLOSED_KEPT = 31 * 86400
_FIELDS = ("issuer", "uri", "title", "body", "exp", "tx")


class PendingOffers:
    """Writes (queued on the projection's transaction) and reads of the offers addressed to learners."""

    def __init__(self, redis: Redis, prefix: str, index_key: bytes, clock: Callable[[], float] = time.time) -> None:
        """``index_key``: the wallet's e-mail index key (the same keyed hash its credentials are filed under)."""
        self.redis, self.prefix, self.index_key, self.clock = redis, prefix, index_key, clock

    def offer_key(self, offer_ref: str) -> str:
        """Hash of one open offer."""
        return f"{self.prefix}:offer:{offer_ref}"

    def email_key(self, index: str) -> str:
        """Offers addressed to the e-mail whose keyed hash is ``index``."""
        return f"{self.prefix}:offers:by:email:{index}"

    def did_key(self, did: str) -> str:
        """Offers addressed to ``did``."""
        return f"{self.prefix}:offers:by:did:{did}"

    def learner_key(self, pseudonym: str) -> str:
        """Offers of the learner ``pseudonym`` (what an erasure drops)."""
        return f"{self.prefix}:offers:by:learner:{pseudonym}"

    def indexes_key(self, pseudonym: str) -> str:
        """The index sets (e-mail, DID) that name offers of the learner ``pseudonym``."""
        return f"{self.learner_key(pseudonym)}:indexes"

    @staticmethod
    def _expire_with(pipe: Pipeline, key: str, expires_at: int) -> None:
        # a new set takes the offer's expiry; a set already expiring is extended to it, never shortened
        pipe.expireat(key, expires_at, nx=True)
        pipe.expireat(key, expires_at, gt=True)

    def write_offered(self, pipe: Pipeline, offer: AddressedOffer, *, email_index: str, did: str,
                      pseudonym: str) -> None:
        """Queue an offer and its index entries, all expiring with it (nothing for an offer already expired: a
        replay meets those)."""
        if offer.expires_at <= self.clock():
            return
        key = self.offer_key(offer.offer_ref)
        pipe.hset(key, mapping={"issuer": offer.issuer_id, "uri": offer.offer_uri,
                                "title": json.dumps(dict(offer.title)),
                                "body": json.dumps(dict(offer.awarding_body)),
                                "exp": str(offer.expires_at), "tx": "1" if offer.tx_code_required else "0"})
        pipe.expireat(key, offer.expires_at)
        naming = [*([self.email_key(email_index)] if email_index else []), *([self.did_key(did)] if did else [])]
        for index in [*naming, self.learner_key(pseudonym) if pseudonym else ""]:
            if index:
                pipe.sadd(index, offer.offer_ref)
                self._expire_with(pipe, index, offer.expires_at)
        if pseudonym and naming:
            pipe.sadd(self.indexes_key(pseudonym), *naming)
            self._expire_with(pipe, self.indexes_key(pseudonym), offer.expires_at)

    def write_closed(self, pipe: Pipeline, offer_ref: str) -> None:
        """Queue the close of an offer that can no longer be redeemed (see the module docstring)."""
        key = self.offer_key(offer_ref)
        pipe.hdel(key, *_FIELDS)
        pipe.hset(key, "closed", "1")
        pipe.expire(key, CLOSED_KEPT, nx=True)

    def email_index(self, email: str) -> str:
        """The wallet's keyed hash of ``email``."""
        return email_index(email, self.index_key)

    async def for_learner(self, dids: Iterable[str], email: str | None, now: float) -> list[AddressedOffer]:
        """The open offers addressed to any of ``dids`` or to ``email``, soonest to expire first."""
        sets = [self.did_key(d) for d in dids if d] + ([self.email_key(self.email_index(email))] if email else [])
        if not sets:
            return []
        refs = sorted(text(r) or "" for r in await awaited(self.redis.sunion(sets)))
        if not refs:
            return []
        async with self.redis.pipeline(transaction=False) as pipe:
            for ref in refs:
                pipe.hgetall(self.offer_key(ref))
            records = await pipe.execute()
        found: list[AddressedOffer] = []
        gone: list[str] = []
        for ref, fields in zip(refs, records, strict=True):
            offer = _parse(ref, fields)
            if offer is None or offer.expires_at <= now:
                gone.append(ref)
            else:
                found.append(offer)
        if gone:  # closed offers' index entries, dropped as they are met
            async with self.redis.pipeline(transaction=False) as pipe:
                for key in sets:
                    pipe.srem(key, *gone)
                await pipe.execute()
        return sorted(found, key=lambda o: (o.expires_at, o.offer_ref))

    async def drop_learner(self, pseudonym: str) -> None:
        """Delete every offer of an erased learner and take them out of the sets that index them (idempotent; a set
        left empty goes with them)."""
        key, indexes = self.learner_key(pseudonym), self.indexes_key(pseudonym)
        refs = [text(r) or "" for r in await awaited(self.redis.smembers(key))]
        named = [text(k) or "" for k in await awaited(self.redis.smembers(indexes))]
        async with self.redis.pipeline(transaction=True) as pipe:
            for index in named if refs else []:
                pipe.srem(index, *refs)
            pipe.delete(key, indexes, *(self.offer_key(r) for r in refs))
            await pipe.execute()


def _parse(offer_ref: str, fields: Mapping[bytes, bytes]) -> AddressedOffer | None:
    if not fields or b"uri" not in fields or b"closed" in fields:
        return None
    try:
        return AddressedOffer(offer_ref, text(fields.get(b"issuer")) or "", text(fields[b"uri"]) or "",
                              _texts(fields.get(b"title")), _texts(fields.get(b"body")),
                              int(text(fields.get(b"exp")) or "0"), fields.get(b"tx") == b"1")
    except ValueError:
        return None


def _texts(raw: bytes | None) -> dict[str, str]:
    try:
        value = json.loads(raw or b"{}")
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}
