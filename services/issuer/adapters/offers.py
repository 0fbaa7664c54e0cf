"""Credential offers, access tokens and nonces of OpenID4VCI in Redis, every state change one Lua script.

Redis, not process memory, so that a code is redeemed once across all issuer replicas: each script runs
atomically on the server, and every check it makes happens before any write, so a refused request changes
nothing (except a wrong ``tx_code``, which counts an attempt; a missing or unexpected one counts none). Keys
(``{p}`` the issuer's Redis prefix):

* ``{p}:o4i:offer:{offer_id}`` hash: ``state`` (offered, redeemed, withdrawn), ``code_digest``, ``tx_digest``,
  ``attempts``, ``issuer_id``, ``agency_id``, ``offer`` (the Credential Offer JSON), ``award`` (the
  ``MicroCredential`` sealed under the learner's key, until redemption moves it into the access token); expires
  with the offer;
* ``{p}:o4i:ref:{sha256(offer id)}`` -> offer id (the offer's events name it by that digest), as long as its code;
* ``{p}:o4i:code:{sha256(code)}`` -> offer id, kept :data:`EXPIRED_MEMORY` seconds longer than the offer (gone:
  ``invalid_grant``; it stays after redemption, withdrawal, locking and expiry, so the error says which);
* ``{p}:o4i:token:{sha256(token)}`` hash: ``offer_id``, ``state`` (ready; spent once every configuration the
  offer lists was delivered), ``jkt`` (DPoP), ``award`` (the offer's sealed award: it lives as long as the token,
  and goes once every configuration was delivered), and per configuration ``c:{configuration id}`` (absent: still
  owed; issuing, deferred, delivered, denied): one token obtains each offered configuration once;
* ``{p}:o4i:notify:{sha256(token)}`` set: the notification ids answered to the token;
* ``{p}:o4i:nonce:{sha256(nonce)}``: a c_nonce, deleted when a proof spends it;
* ``{p}:o4i:jti:{sha256(jti)}``: a DPoP proof seen (SET NX: a replay is refused on every replica);
* ``{p}:o4i:expiry`` sorted set: the offers still ``offered``, scored by when they expire, and
  ``{p}:o4i:expiry:who`` hash: offer id -> issuer and agency (the offer's hash is gone once it expires). Every
  script that ends an offer (redeemed, withdrawn, locked) removes it from both; what is left when its time has
  come expired unredeemed, and :meth:`RedisOfferStore.claim_expired` hands it to one replica, which publishes
  ``CredentialOfferExpired`` and then forgets it (a replica that dies in between leaves it to another after the
  lease: at least once, never lost).
* ``index`` field of an offer's hash: the key prefix of its issuer's index (:mod:`.offer_index`, read by
  ``ListOffers``); the scripts that redeem, lock or withdraw the offer record its new state there too.

On a Redis Cluster ``{p}`` is written as a hash tag, so all of the above is in one slot and every script and
``MULTI`` here works as on one node (:func:`~.oid4vci_grants.oid4vci_prefix`; docs/redis-keys.md).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from microcred.lifecycle import RedisClient
from microcred.oid4vci.offers import digest
from services.issuer.adapters.offer_index import RedisOfferIndex
from services.issuer.adapters.oid4vci_grants import REDEEM_OFFER_LUA, RedisGrantStore, configuration_field
from services.issuer.application.offer_listing import OfferEntry
from services.issuer.application.offer_records import Offer

__all__ = ["ADD_SLICE", "EXPIRED_MEMORY", "WRITE_OFFER_LUA", "Offer", "RedisOfferStore"]

#: How long after an offer expired its code (and issuer_state) is remembered, so that a late redemption is told
#: "expired" rather than "unknown".
EXPIRED_MEMORY = 86400

# How an offer is written (add_offers, and a replay's restore: the same keys and values either way). KEYS[k+1..k+10]:
# offer, code, issuer_state (= the code's for none), ref, expiry, expiry:who, index created, index forget, index
# entries, learner set (= the code's for none); ARGV[a+1..a+10]: offer id, ttl, remembered (ttl + a day), expires
# at ('' for none: not in the expiry set), who, created, forget at, index entry, '1' with an issuer_state, '1' with
# a learner set; then the offer hash's fields and values up to ARGV[a+10+n]. A learner set lives as long as its
# newest offer's code.
WRITE_OFFER_LUA = """
local function write_offer(k, a, n)
  local id, remembered = ARGV[a + 1], tonumber(ARGV[a + 3])
  redis.call('HSET', KEYS[k + 1], unpack(ARGV, a + 11, a + 10 + n))
  redis.call('EXPIRE', KEYS[k + 1], tonumber(ARGV[a + 2]))
  redis.call('SET', KEYS[k + 2], id, 'EX', remembered)
  if ARGV[a + 9] == '1' then redis.call('SET', KEYS[k + 3], id, 'EX', remembered) end
  redis.call('SET', KEYS[k + 4], id, 'EX', remembered)
  if ARGV[a + 4] ~= '' then
    redis.call('ZADD', KEYS[k + 5], ARGV[a + 4], id)
    redis.call('HSET', KEYS[k + 6], id, ARGV[a + 5])
  end
  redis.call('ZADD', KEYS[k + 7], ARGV[a + 6], id)
  redis.call('ZADD', KEYS[k + 8], ARGV[a + 7], id)
  redis.call('HSET', KEYS[k + 9], id, ARGV[a + 8])
  if ARGV[a + 10] == '1' then
    redis.call('SADD', KEYS[k + 10], id)
    if redis.call('TTL', KEYS[k + 10]) < remembered then redis.call('EXPIRE', KEYS[k + 10], remembered) end
  end
end
"""
# ARGV[1]: the ARGV of each offer (10 + its hash's fields and values, the same for all); then the offers'
# KEYS and ARGV one after the other. A script, not a MULTI/EXEC of its commands: that cost the client a reply to
# parse for every command queued (most of the issuer's Redis time per offer).
_ADD_OFFERS = WRITE_OFFER_LUA + """
local size = tonumber(ARGV[1])
for i = 0, #KEYS / 10 - 1 do write_offer(i * 10, 1 + i * size, size - 10) end
return #KEYS / 10
"""
#: Offers per script: a script holds Redis for its whole run (about 0.1 ms per offer on a slow 2-core host), so a
#: cohort of 5,000 goes in slices that other clients' commands run between. An issuer that fails between two
#: slices has not published or answered any of them: the offers written expire unused, as after a Kafka failure.
ADD_SLICE = 250

# KEYS[1] code key (on a cluster also every key below, :meth:`RedisGrantStore._declared`); ARGV: tx digest
# given ('' none), max attempts, token key suffix, token ttl, key prefix, DPoP key thumbprint ('' for a Bearer
# token). Refusals change nothing, except a wrong tx_code (counted, locking the offer at the limit): a missing one
# ('tx_missing') and one the offer does not expect ('tx_unexpected') are the request's fault, not a guess.
_REDEEM = REDEEM_OFFER_LUA + """
local offer_id = redis.call('GET', KEYS[1])
if not offer_id then return {'unknown'} end
local offer_key = ARGV[5] .. ':o4i:offer:' .. offer_id
local state, tx, attempts, index = unpack(redis.call('HMGET', offer_key, 'state', 'tx_digest', 'attempts',
                                                   'index'))
if not state then return {'expired'} end
if state ~= 'offered' then return {state} end
if tx and tx ~= '' then
  if ARGV[1] == '' then return {'tx_missing'} end  -- counts no attempt: the wallet may not have asked yet
  if ARGV[1] ~= tx then
    local n = redis.call('HINCRBY', offer_key, 'attempts', 1)
    if n >= tonumber(ARGV[2]) then
      redis.call('HSET', offer_key, 'state', 'locked')
      redis.call('ZREM', ARGV[5] .. ':o4i:expiry', offer_id)
      redis.call('HDEL', ARGV[5] .. ':o4i:expiry:who', offer_id)
      if index then redis.call('HSET', index .. ':states', offer_id, 'locked') end
      return {'locked', offer_id}
    end
    return {'tx_wrong'}
  end
elseif ARGV[1] ~= '' then
  return {'tx_unexpected'}
end
redeem_offer(ARGV[5], offer_id, ARGV[3], ARGV[6], tonumber(ARGV[4]))
return {'ok', offer_id}
"""
# KEYS[1] token key, KEYS[2] its offer's key, KEYS[3..] nonce keys; ARGV[1] the requested configuration's field
# in the token (:func:`~.oid4vci_grants.configuration_field`). The token must be live and still owe that
# configuration (nothing delivered, pending, denied or being issued for it), its offer must not have expired, and
# every nonce must be live: checked in that order, before any write. Then the nonces are deleted, the
# configuration is 'issuing', and the offer's fields and the token's award come back: one round trip for the
# credential endpoint's checks and its read of the offer. Another configuration of the same token may be issued
# meanwhile (its own field); the same one once.
_BEGIN_ISSUING = """
local state, given = unpack(redis.call('HMGET', KEYS[1], 'state', ARGV[1]))
if not state then return {'unknown'} end
if given then return {given} end
if state ~= 'ready' then return {state} end
if redis.call('EXISTS', KEYS[2]) == 0 then return {'expired'} end
for i = 3, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 0 then return {'nonce'} end
end
if #KEYS > 2 then redis.call('DEL', unpack(KEYS, 3)) end
redis.call('HSET', KEYS[1], ARGV[1], 'issuing')
return {'ok', redis.call('HGETALL', KEYS[2]), redis.call('HGET', KEYS[1], 'award') or ''}
"""
# KEYS[1] token key, KEYS[2] the token's notification set, KEYS[3] the offer's key, KEYS[4] (deferred delivery
# only) the transaction's key; ARGV[1] the delivered configuration's field, ARGV[2] the set's ttl, ARGV[3] n,
# ARGV[4..3+n] the fields of every configuration the token covers, then the notification ids. The ids are
# remembered, the transaction_id is spent, the configuration delivered; once every configuration is, the token is
# 'spent' and its award (in the issued credentials now) dropped. An award an older release left in the offer's
# hash is dropped at the first delivery, as it was then.
_DELIVERED = """
local n = tonumber(ARGV[3])
redis.call('SADD', KEYS[2], unpack(ARGV, 4 + n))
redis.call('EXPIRE', KEYS[2], tonumber(ARGV[2]))
if KEYS[4] then redis.call('DEL', KEYS[4]) end
redis.call('HDEL', KEYS[3], 'award')
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], 'delivered')
for _, done in ipairs(redis.call('HMGET', KEYS[1], unpack(ARGV, 4, 3 + n))) do
  if done ~= 'delivered' then return 1 end
end
redis.call('HDEL', KEYS[1], 'award')
redis.call('HSET', KEYS[1], 'state', 'spent')
return 2
"""
# KEYS[1] token key; ARGV[1] a configuration's field: owed again if it was being issued (issuing failed).
_RELEASE = """
if redis.call('HGET', KEYS[1], ARGV[1]) ~= 'issuing' then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
return 1
"""
# KEYS[1] offer key, KEYS[2] expiry set, KEYS[3] expiry:who, KEYS[4] the issuer's index states (the offer's own
# index when it is the issuer's); ARGV[1] issuer id, ARGV[2] offer id (the code key stays, so a later redemption
# says 'withdrawn')
_WITHDRAW = """
local state, issuer, index = unpack(redis.call('HMGET', KEYS[1], 'state', 'issuer_id', 'index'))
if not state or issuer ~= ARGV[1] then return 'unknown' end
if state ~= 'offered' then return state end
redis.call('HSET', KEYS[1], 'state', 'withdrawn')
if index then redis.call('HSET', index .. ':states', ARGV[2], 'withdrawn') end
redis.call('ZREM', KEYS[2], ARGV[2])
redis.call('HDEL', KEYS[3], ARGV[2])
return 'ok'
"""
# KEYS[1] expiry set, KEYS[2] expiry:who; ARGV: due (score), lease end, limit. Due offers are leased (re-scored
# to the lease end) so that one replica publishes each; returns [offer id, who, ...].
_CLAIM_EXPIRED = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
local out = {}
for _, offer_id in ipairs(due) do
  redis.call('ZADD', KEYS[1], ARGV[2], offer_id)
  out[#out + 1] = offer_id
  out[#out + 1] = redis.call('HGET', KEYS[2], offer_id) or ''
end
return out
"""


def _text(value: bytes | str | None) -> str:
    return value.decode() if isinstance(value, bytes) else (value or "")


def _bytes(value: bytes | str | None) -> bytes:
    return value.encode() if isinstance(value, str) else (value or b"")


def _issuing(offer_id: str, fields: Mapping[Any, Any], award: bytes | str | None) -> Offer | None:
    """An offer from its hash's fields with the award its token holds (the offer's own, if an older release left it
    there)."""
    offer = _offer(offer_id, fields)
    return replace(offer, award=_bytes(award)) if offer is not None and award else offer


def _offer(offer_id: str, fields: Mapping[Any, Any]) -> Offer | None:
    """An offer from its hash's fields (None: no fields, the offer is unknown or expired)."""
    if not fields:
        return None
    get = {_text(k): v for k, v in fields.items()}
    return Offer(offer_id, _text(get.get("state")), _text(get.get("issuer_id")), _text(get.get("agency_id")),
                 _text(get.get("offer")), _bytes(get.get("award")), float(_text(get.get("not_before")) or 0))


class RedisOfferStore(RedisGrantStore):
    """The OpenID4VCI state of one issuer service (see the module docstring; the authorization code flow's and
    deferred issuance's in :class:`~.oid4vci_grants.RedisGrantStore`)."""

    def __init__(self, redis: RedisClient, prefix: str) -> None:
        super().__init__(redis, prefix)  # sets self._redis and self._p (the prefix, tagged on a cluster)
        self._redeem = redis.register_script(_REDEEM)
        self._begin = redis.register_script(_BEGIN_ISSUING)
        self._delivered = redis.register_script(_DELIVERED)
        self._release = redis.register_script(_RELEASE)
        self._withdraw = redis.register_script(_WITHDRAW)
        self._claim_expired = redis.register_script(_CLAIM_EXPIRED)
        self._add_offers = redis.register_script(_ADD_OFFERS)
        self._expiry, self._who = f"{self._p}:o4i:expiry", f"{self._p}:o4i:expiry:who"
        self._index = RedisOfferIndex(redis, self._p, EXPIRED_MEMORY)

    def _offer_key(self, offer_id: str) -> str:
        return f"{self._p}:o4i:offer:{offer_id}"

    async def add_offers(self, offers: list[tuple[Offer, str, str, str]], ttl_seconds: int,
                         expires_at: float = 0.0, learners: Sequence[str] = ()) -> None:
        """Keep offers (each with its code digest, tx digest and issuer_state digest, '' for none), expiring
        after ``ttl_seconds`` (at ``expires_at``, epoch seconds, when their expiry is to be published): one script
        per :data:`ADD_SLICE` offers, each slice written whole. ``learners`` (none, or one keyed e-mail hash per
        offer, '' for none) files each offer for its learner's sign-in (:meth:`offers_to`)."""
        expires = expires_at or time.time() + ttl_seconds
        filed = [*learners, *[""] * (len(offers) - len(learners))]
        for start in range(0, len(offers), ADD_SLICE):
            written = [self.offer_written(offer, code_digest, tx_digest, state_digest, learner, ttl_seconds,
                                          expires - ttl_seconds, expires, expiring=bool(expires_at))
                       for (offer, code_digest, tx_digest, state_digest), learner in zip(
                           offers[start:start + ADD_SLICE], filed[start:start + ADD_SLICE], strict=True)]
            await self._add_offers(keys=[key for keys, _ in written for key in keys],
                                   args=[len(written[0][1]), *(arg for _, args in written for arg in args)])

    def offer_written(self, offer: Offer, code_digest: str, tx_digest: str, state_digest: str, learner: str,
                      ttl: int, created: float, expires_at: float, *, expiring: bool = True
                      ) -> tuple[list[str], list[str | bytes | int]]:
        """The KEYS and ARGV with which ``write_offer`` (:data:`WRITE_OFFER_LUA`) writes an open offer; ``expiring``:
        whether it enters the expiry set (its expiry is to be published)."""
        code = f"{self._p}:o4i:code:{code_digest}"
        base = self._index.base(offer.issuer_id)
        keys = [self._offer_key(offer.offer_id), code, f"{self._p}:o4i:state:{state_digest}" if state_digest else code,
                self._ref_key(digest(offer.offer_id)), self._expiry, self._who, f"{base}:created", f"{base}:forget",
                f"{base}:entries", self._learner_key(learner) if learner else code]
        fields = [v for pair in self._offer_fields(offer, code_digest, tx_digest).items() for v in pair]
        args: list[str | bytes | int] = [
            offer.offer_id, ttl, ttl + EXPIRED_MEMORY, repr(expires_at) if expiring else "",
            f"{offer.issuer_id}\t{offer.agency_id}", repr(created), repr(self._index.forget_at(expires_at)),
            self._index.entry(offer, bool(tx_digest), created, expires_at), "1" if state_digest else "",
            "1" if learner else "", *fields]
        return keys, args

    def _offer_fields(self, offer: Offer, code_digest: str, tx_digest: str) -> Mapping[Any, str | bytes | int]:
        """An open offer's hash."""
        return {"state": "offered", "code_digest": code_digest, "tx_digest": tx_digest, "attempts": 0,
                "issuer_id": offer.issuer_id, "agency_id": offer.agency_id, "offer": offer.offer_json,
                "award": offer.award, "not_before": repr(float(offer.not_before)),
                "index": self._index.base(offer.issuer_id)}

    async def offer_ids(self, offer_refs: Sequence[str]) -> dict[str, str]:
        """Those of ``offer_refs`` whose offer Redis has (live or ended, until its code is forgotten; made since
        offers kept their ref), with their ids: one read."""
        found = await self._redis.mget([self._ref_key(ref) for ref in offer_refs]) if offer_refs else []
        return {ref: _text(offer_id) for ref, offer_id in zip(offer_refs, found, strict=True) if offer_id}

    def _ref_key(self, offer_ref: str) -> str:
        """offer_ref (the digest its events are keyed by) -> offer id, kept as long as the code: what the offer
        projection reads to skip offers Redis has (:mod:`.offer_replay`)."""
        return f"{self._p}:o4i:ref:{offer_ref}"

    def _learner_key(self, learner_digest: str) -> str:
        return f"{self._p}:o4i:learner:{learner_digest}"

    async def offers_to(self, learner_digest: str) -> list[str]:
        """The offers filed under a learner's keyed e-mail hash (any state, until the newest expires)."""
        return sorted(_text(member) for member in await self._redis.smembers(self._learner_key(learner_digest)))

    async def trim_offers(self, issuer_id: str, now: float) -> int:
        """Forget the index entries of ``issuer_id``'s offers that expired more than a day ago."""
        return await self._index.trim(issuer_id, now)

    async def offer_window(self, issuer_id: str, max_score: float, offset: int, count: int,
                           min_score: float) -> list[OfferEntry]:
        """``issuer_id``'s offers by creation time, newest first (:meth:`RedisOfferIndex.window`)."""
        return await self._index.window(issuer_id, max_score, offset, count, min_score)

    async def offer(self, offer_id: str) -> Offer | None:
        """An offer by id (None: unknown or expired)."""
        return _offer(offer_id, await self._redis.hgetall(self._offer_key(offer_id)))

    async def redeem(self, code_digest: str, tx_digest: str, max_attempts: int, token_digest: str,
                     token_ttl: int, jkt: str = "") -> tuple[str, str]:
        """Spend a pre-authorized code: ('ok', offer id) and an access token (bound to the DPoP key ``jkt``
        if given), or (why, '') with nothing spent."""
        keys = [f"{self._p}:o4i:code:{code_digest}"]
        if self._cluster:  # name the offer's keys: the code's offer is read first (a code never changes offer)
            offer_id = _text(await self._redis.get(keys[0]))
            if not offer_id:
                return "unknown", ""
            keys += await self._declared(offer_id, [token_digest])
        result = await self._redeem(keys=keys, args=[tx_digest, max_attempts, token_digest, token_ttl, self._p, jkt])
        return _text(result[0]), _text(result[1]) if len(result) > 1 else ""

    async def add_nonce(self, nonce_digest: str, ttl_seconds: int) -> None:
        """Keep a fresh c_nonce."""
        await self._redis.set(f"{self._p}:o4i:nonce:{nonce_digest}", b"1", ex=ttl_seconds)

    async def begin_issuing(self, token_digest: str, offer_id: str, configuration: str,
                            nonce_digests: list[str]) -> tuple[str, Offer | None]:
        """Spend the proofs' nonces and start issuing ``configuration`` under the token (of offer ``offer_id``),
        atomically: ('ok', the offer with the award the token holds), or (why, None) with nothing changed: 'unknown'
        (no such token), what became of that configuration ('issuing', 'deferred', 'delivered', 'denied'), the
        token's state when it owes nothing ('spent'), 'expired' (the offer), 'nonce' (one is not live)."""
        keys = [f"{self._p}:o4i:token:{token_digest}", self._offer_key(offer_id),
                *(f"{self._p}:o4i:nonce:{d}" for d in sorted(set(nonce_digests)))]  # a batch shares one c_nonce
        result = await self._begin(keys=keys, args=[configuration_field(configuration)])
        if _text(result[0]) != "ok":
            return _text(result[0]), None
        flat = result[1]
        return "ok", _issuing(offer_id, dict(zip(flat[::2], flat[1::2], strict=True)), result[2])

    async def issuing_offer(self, offer_id: str, token_digest: str) -> Offer | None:
        """The offer (None: expired) with the award its token holds (a deferred delivery's read): one round trip."""
        pipe = self._redis.pipeline(transaction=True)
        pipe.hgetall(self._offer_key(offer_id))
        pipe.hget(f"{self._p}:o4i:token:{token_digest}", "award")
        fields, award = await pipe.execute()
        return _issuing(offer_id, fields, award)

    async def release(self, token_digest: str, configuration: str) -> None:
        """Issuing ``configuration`` failed: the token owes it again."""
        await self._release(keys=[f"{self._p}:o4i:token:{token_digest}"], args=[configuration_field(configuration)])

    async def token_offer(self, token_digest: str) -> tuple[str, str, str] | None:
        """(offer id, state, DPoP jkt or '') of a live access token."""
        offer_id, state, jkt = await self._redis.hmget(f"{self._p}:o4i:token:{token_digest}",
                                                       ["offer_id", "state", "jkt"])
        return None if offer_id is None else (_text(offer_id), _text(state), _text(jkt))

    async def first_use(self, jti_digest: str, ttl_seconds: int) -> bool:
        """Whether a DPoP proof's ``jti`` is seen here for the first time (kept ``ttl_seconds``: longer than a
        proof is accepted)."""
        return bool(await self._redis.set(f"{self._p}:o4i:jti:{jti_digest}", b"1", nx=True, ex=ttl_seconds))

    async def delivered(self, token_digest: str, offer_id: str, configuration: str, covered: Sequence[str],
                        notification_ids: list[str], transaction_digest: str = "") -> None:
        """After ``configuration``'s credentials were answered (with ``transaction_digest``: by the deferred
        endpoint, the transaction_id then spent): remember the notification ids answered to the token (accepted at
        the notification endpoint, a day) and mark the configuration delivered; once every configuration the token
        ``covered`` is, the token is spent and the award it holds dropped. One round trip."""
        keys = [f"{self._p}:o4i:token:{token_digest}", f"{self._p}:o4i:notify:{token_digest}",
                self._offer_key(offer_id)]
        if transaction_digest:
            keys.append(f"{self._p}:o4i:tx:{transaction_digest}")
        await self._delivered(keys=keys, args=[configuration_field(configuration), 86400, len(covered),
                                               *map(configuration_field, covered), *notification_ids])

    async def notification_known(self, token_digest: str, notification_id: str) -> bool:
        """Whether ``notification_id`` was answered to this token."""
        return bool(await self._redis.sismember(f"{self._p}:o4i:notify:{token_digest}", notification_id))

    async def withdraw(self, issuer_id: str, offer_id: str) -> str:
        """Withdraw an offered offer of ``issuer_id``: 'ok', or its state ('unknown' for others' offers)."""
        return _text(await self._withdraw(
            keys=[self._offer_key(offer_id), self._expiry, self._who, f"{self._index.base(issuer_id)}:states"],
            args=[issuer_id, offer_id]))

    async def claim_expired(self, due: float, lease_until: float, limit: int) -> list[tuple[str, str, str]]:
        """Lease up to ``limit`` offers whose expiry (score) is at most ``due`` and that were never redeemed,
        withdrawn or locked: (offer id, issuer id, agency id)."""
        flat = [_text(v) for v in await self._claim_expired(keys=[self._expiry, self._who],
                                                            args=[repr(due), repr(lease_until), limit])]
        out = []
        for offer_id, who in zip(flat[::2], flat[1::2], strict=True):
            issuer_id, _, agency_id = who.partition("\t")
            out.append((offer_id, issuer_id, agency_id))
        return out

    async def forget_expired(self, offer_ids: list[str]) -> None:
        """Their expiry was published."""
        if offer_ids:
            pipe = self._redis.pipeline(transaction=True)
            pipe.zrem(self._expiry, *offer_ids)
            pipe.hdel(self._who, *offer_ids)
            await pipe.execute()
