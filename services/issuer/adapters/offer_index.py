"""Each issuer's index of its OpenID4VCI offers in Redis, read by ``IssuerService.ListOffers``.

Keys (``{p}`` the issuer service's Redis prefix, ``B`` = ``{p}:o4i:issuer:{<sha256(issuer id)[:32]>}``: every
key of one issuer's index carries the same hash tag, so a script touches one slot even on a Redis Cluster; there
``{p}`` is itself a hash tag, which then wins (the first braces), putting the index in the slot of the offers
whose scripts write its states: :func:`~.oid4vci_grants.oid4vci_prefix`):

* ``B:created`` sorted set: offer id scored by its creation time (epoch seconds): newest first by ZREVRANGE;
* ``B:entries`` hash: offer id -> ``created \\t expires \\t tx_code required (0/1) \\t Credential Issuer
  identifier \\t reference`` (what the issuer sent; the award itself stays sealed in the offer's hash);
* ``B:states`` hash: offer id -> ``redeemed``, ``withdrawn`` or ``locked``, written by the very scripts that move
  the offer there (:mod:`.offers`, :mod:`.oid4vci_grants`), which find ``B`` in the offer's ``index`` field;
  absent: still offered, or expired once its expiry has passed (the offer's own hash is gone by then);
* ``B:forget`` sorted set: offer id scored by when the index forgets it, a day (``EXPIRED_MEMORY``) after its
  expiry, when its code is forgotten too; :meth:`RedisOfferIndex.trim` drops those entries from all four.

The entries are written by the same script as the offers themselves (``write_offer`` in :mod:`.offers`), so an
offer is never without its index entry, nor an entry without its offer.
"""

from __future__ import annotations

import hashlib
from typing import cast

from microcred.lifecycle import RedisClient
from services.issuer.application.offer_listing import OfferEntry
from services.issuer.application.offer_records import Offer

__all__ = ["RedisOfferIndex", "index_base"]

# KEYS: created, forget, entries, states (one issuer's); ARGV[1] now, ARGV[2] limit. Forgets what is due.
_TRIM = """
local due = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
if #due == 0 then return 0 end
redis.call('ZREM', KEYS[1], unpack(due))
redis.call('ZREM', KEYS[2], unpack(due))
redis.call('HDEL', KEYS[3], unpack(due))
redis.call('HDEL', KEYS[4], unpack(due))
return #due
"""
# Lua's unpack() takes a few thousand values at most: trim in slices of this size.
TRIM_SLICE = 1000


def index_base(prefix: str, issuer_id: str) -> str:
    """The key prefix of one issuer's index (hash-tagged by a digest of the issuer id: an id may hold braces)."""
    return f"{prefix}:o4i:issuer:{{{hashlib.sha256(issuer_id.encode()).hexdigest()[:32]}}}"


def _text(value: bytes | str | None) -> str:
    return value.decode() if isinstance(value, bytes) else (value or "")


class RedisOfferIndex:
    """Writes (inside the offer store's transaction), trims and reads the per-issuer index."""

    def __init__(self, redis: RedisClient, prefix: str, memory_seconds: int) -> None:
        """``prefix``: the offer store's (tagged on a cluster); ``memory_seconds``: how long after its expiry an
        offer stays listed."""
        self._redis, self._p, self._memory = redis, prefix, memory_seconds
        self._trim = redis.register_script(_TRIM)

    def base(self, issuer_id: str) -> str:
        """See :func:`index_base`."""
        return index_base(self._p, issuer_id)

    def forget_at(self, expires_at: float) -> float:
        """When the index forgets an offer that expires at ``expires_at``."""
        return expires_at + self._memory

    @staticmethod
    def entry(offer: Offer, tx: bool, created: float, expires_at: float) -> str:
        """An offer's entry (module docstring)."""
        return f"{created!r}\t{expires_at!r}\t{int(tx)}\t{offer.credential_issuer}\t{offer.reference}"

    async def trim(self, issuer_id: str, now: float) -> int:
        """Forget the entries whose time has come (a day after their offer expired); how many."""
        base = self.base(issuer_id)
        keys = [f"{base}:created", f"{base}:forget", f"{base}:entries", f"{base}:states"]
        total = 0
        while True:
            n = int(await self._trim(keys=keys, args=[repr(now), TRIM_SLICE]))
            total += n
            if n < TRIM_SLICE:
                return total

    async def window(self, issuer_id: str, max_score: float, offset: int, count: int,
                     min_score: float) -> list[OfferEntry]:
        """Up to ``count`` entries created in [``min_score``, ``max_score``], newest first, after skipping
        ``offset`` of them (the cursor of :mod:`~services.issuer.application.offer_listing`)."""
        base = self.base(issuer_id)
        top = "+inf" if max_score == float("inf") else repr(max_score)
        bottom = "-inf" if min_score == float("-inf") else repr(min_score)
        members = cast(list[tuple[bytes, float]], await self._redis.zrevrangebyscore(
            f"{base}:created", top, bottom, start=offset, num=count, withscores=True))
        if not members:
            return []
        ids = [_text(m) for m, _ in members]
        pipe = self._redis.pipeline(transaction=False)
        pipe.hmget(f"{base}:entries", ids)
        pipe.hmget(f"{base}:states", ids)
        entries, states = await pipe.execute()
        out = []
        for offer_id, (_, score), entry, state in zip(ids, members, entries, states, strict=True):
            if entry is None:  # trimmed between the two reads: still counted by the cursor
                out.append(OfferEntry(offer_id, float(score), 0.0, False, "", "forgotten", ""))
                continue
            _, expires, tx, issuer_url, reference = _text(entry).split("\t", 4)
            out.append(OfferEntry(offer_id, float(score), float(expires), tx == "1", reference,
                                  _text(state) or "offered", issuer_url))
        return out
