"""The authorization code flow's and deferred issuance's OpenID4VCI state in Redis, each change one atomic step.

Redis, not process memory, so that a ``request_uri``, an authorization code and a ``transaction_id`` are used
once across all issuer replicas. Keys (``{p}`` the issuer's Redis prefix; every secret kept as its SHA-256):

* ``{p}:o4i:state:{sha256(issuer_state)}`` -> offer id (written with the offer, expiring with its code);
* ``{p}:o4i:par:{sha256(request_uri secret)}``: the pushed request (JSON), 60 s, taken by ``GETDEL`` (one use);
* ``{p}:o4i:authz:{sha256(code)}`` hash: ``state`` (issued, used), ``request`` (client_id, redirect_uri,
  code_challenge), ``offer_id``, ``token`` (the digest of the token it gave); 60 s after issue, kept a while once
  used so that a replay revokes that token (RFC 6749 §4.1.2);
* ``{p}:o4i:tx:{sha256(transaction_id)}`` hash: ``state`` (pending, issuing), ``claimed_at``, ``claim`` (the
  claim id of the request issuing it), ``offer_id``,
  ``token``, ``keys`` (the proved public JWKs, JSON), ``not_before``, ``configuration`` (the one it will deliver);
  deleted once its credentials are handed out (or refused for good).

On a Redis Cluster ``{p}`` is the prefix written as a hash tag (``{issuer}:o4i:...``, :func:`oid4vci_prefix`):
every OpenID4VCI key of the service (offers, codes, tokens, nonces, the expiry set, the issuers' offer indexes)
is in one slot, so every script and ``MULTI`` stays as atomic as on one node (a code redeemed once, an offer's
state with its index entry and its expiry entry, a cohort's offers with their entries). The scripts name every
key they touch in ``KEYS`` there; where a key is only known from what Redis holds (the offer a code names),
it is read first and the script checks it did not change meanwhile. This state is transient (offers live days,
an award leaves its offer at redemption and lives only as long as the token), so one slot is affordable where
issued credentials are not (docs/redis-keys.md). A single node keeps the plain prefix: its keys are the ones
written before.
"""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

from redis.asyncio import Redis

from microcred.lifecycle import RedisClient, one_slot
from microcred.oid4vci.metadata import LDP_CONFIGURATION, SD_JWT_CONFIGURATION

__all__ = ["CLAIM_LEASE", "REDEEM_OFFER_LUA", "USED_CODE_SECONDS", "RedisGrantStore", "configuration_field",
           "oid4vci_prefix"]

#: Seconds a deferred transaction stays claimed by the request issuing it; after that (the replica died while
#: issuing) another request may issue it, under the same idempotency keys.
CLAIM_LEASE = 120

#: How long a used code is remembered, so that its replay is told apart and revokes the token it gave; a token
#: that defers a credential keeps its code that much longer (RFC 6749 §4.1.2: a replay revokes what the code gave).
USED_CODE_SECONDS = 600

# How a redemption ends an offer and makes its access token (both grants' scripts): the offer redeemed, out of the
# expiry set, its index entry redeemed; the token ready (for every configuration the offer lists) and bound to the
# DPoP key ``jkt`` ('' for none), and the offer's sealed award moved into it, so that the award lives as long as the
# token (dropped with it when it expires, or once every configuration has been delivered: :mod:`.offers`).
REDEEM_OFFER_LUA = """
local function redeem_offer(prefix, offer_id, token_digest, jkt, ttl)
  local offer_key = prefix .. ':o4i:offer:' .. offer_id
  local index, award = unpack(redis.call('HMGET', offer_key, 'index', 'award'))
  redis.call('HSET', offer_key, 'state', 'redeemed')
  redis.call('ZREM', prefix .. ':o4i:expiry', offer_id)
  redis.call('HDEL', prefix .. ':o4i:expiry:who', offer_id)
  if index then redis.call('HSET', index .. ':states', offer_id, 'redeemed') end
  local token_key = prefix .. ':o4i:token:' .. token_digest
  redis.call('HSET', token_key, 'offer_id', offer_id, 'state', 'ready', 'jkt', jkt)
  if award then
    redis.call('HSET', token_key, 'award', award)
    redis.call('HDEL', offer_key, 'award')
  end
  redis.call('EXPIRE', token_key, ttl)
end
"""
# KEYS[1] code key (on a cluster also every key below, :meth:`RedisGrantStore._declared`); ARGV: prefix, token
# digest, token ttl, DPoP jkt, used-code ttl, and on a cluster the code's token as read before (a change since:
# 'retry'). The code is spent and the offer redeemed together; a replayed code revokes the token it gave (RFC
# 6749 §4.1.2).
_EXCHANGE = REDEEM_OFFER_LUA + """
local state, offer_id, given = unpack(redis.call('HMGET', KEYS[1], 'state', 'offer_id', 'token'))
if not state then return {'unknown'} end
if #KEYS > 1 and (given or '') ~= ARGV[6] then return {'retry'} end
if state ~= 'issued' then
  if given and given ~= '' then redis.call('DEL', ARGV[1] .. ':o4i:token:' .. given) end
  return {'code_used'}
end
local offer_state = redis.call('HGET', ARGV[1] .. ':o4i:offer:' .. offer_id, 'state')
if not offer_state then return {'expired'} end
if offer_state ~= 'offered' then return {offer_state} end
redis.call('HSET', KEYS[1], 'state', 'used', 'token', ARGV[2])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[5]))
redeem_offer(ARGV[1], offer_id, ARGV[2], ARGV[4], tonumber(ARGV[3]))
redis.call('HSET', ARGV[1] .. ':o4i:token:' .. ARGV[2], 'code', KEYS[1])  -- a deferral keeps the code as long
return {'ok', offer_id}
"""
# KEYS[1] token key, KEYS[2] transaction key, KEYS[3] offer key; ARGV: transaction ttl, offer id, keys JSON,
# not_before, prefix, the configuration's field in the token, the configuration id.
# The token's configuration (being issued) becomes 'deferred'; the token, with the sealed award it holds, the
# offer, and the used authorization code it came from (if any: its replay must still revoke the token) live at least
# as long as the transaction. Nothing happens unless that configuration is still 'issuing'.
_DEFER = """
if redis.call('HGET', KEYS[1], ARGV[6]) ~= 'issuing' then return 0 end
local ttl = tonumber(ARGV[1])
redis.call('HSET', KEYS[1], ARGV[6], 'deferred')
if redis.call('TTL', KEYS[1]) < ttl then redis.call('EXPIRE', KEYS[1], ttl) end
local code = redis.call('HGET', KEYS[1], 'code')
if code and redis.call('TTL', code) > 0 and redis.call('TTL', code) < ttl then redis.call('EXPIRE', code, ttl) end
redis.call('HSET', KEYS[2], 'state', 'pending', 'offer_id', ARGV[2], 'token', KEYS[1], 'keys', ARGV[3],
           'not_before', ARGV[4], 'configuration', ARGV[7])
redis.call('EXPIRE', KEYS[2], ttl)
local offer_key = ARGV[5] .. ':o4i:offer:' .. ARGV[2]
if redis.call('TTL', offer_key) < ttl then redis.call('EXPIRE', offer_key, ttl) end
return 1
"""
# KEYS[1] transaction key; ARGV: the token key presenting it, now, lease (seconds), this claim's id. 'unknown'
# also for another token's transaction. A claim older than the lease (its replica died while issuing) may be taken
# again; the claim id names the holder, so that only it puts the transaction back (_RELEASE_TRANSACTION).
_CLAIM = """
local state, token, offer_id, keys, not_before, claimed, configuration = unpack(redis.call(
  'HMGET', KEYS[1], 'state', 'token', 'offer_id', 'keys', 'not_before', 'claimed_at', 'configuration'))
if not state or token ~= ARGV[1] then return {'unknown'} end
if state == 'issuing' and tonumber(claimed or '0') + tonumber(ARGV[3]) > tonumber(ARGV[2]) then
  return {'issuing'}
end
redis.call('HSET', KEYS[1], 'state', 'issuing', 'claimed_at', ARGV[2], 'claim', ARGV[4])
return {'ok', offer_id, keys, not_before, configuration or ''}
"""
# KEYS[1] transaction key; ARGV[1] the claim id. Back to pending only while that claim still holds it: a replica
# that stalled past the lease, its claim taken over since, must not free a transaction another one is issuing
# (a third would claim it: two deliveries of one transaction_id), nor write a delivered one back (a key without
# expiry). One script: an EXISTS then an HSET let both through.
_RELEASE_TRANSACTION = """
local state, claim = unpack(redis.call('HMGET', KEYS[1], 'state', 'claim'))
if state ~= 'issuing' or claim ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'state', 'pending')
return 1
"""
# KEYS[1] transaction key, KEYS[2] token key; ARGV[1] the configuration's field: its credential was refused for
# good, the transaction_id is dropped and the configuration 'denied' (asked again: credential_request_denied).
_DENY = """
redis.call('DEL', KEYS[1])
if redis.call('HGET', KEYS[2], ARGV[1]) == 'deferred' then redis.call('HSET', KEYS[2], ARGV[1], 'denied') end
return 1
"""


def _text(value: bytes | str | None) -> str:
    return value.decode() if isinstance(value, bytes) else (value or "")


def configuration_field(configuration: str) -> str:
    """The field of an access token's hash holding what became of one configuration it covers (absent: owed;
    'issuing', 'deferred', 'delivered', 'denied')."""
    return f"c:{configuration}"


def oid4vci_prefix(redis: RedisClient, prefix: str) -> str:
    """The key prefix of the OpenID4VCI state: ``prefix`` on a single node, ``{prefix}`` (one hash tag) on a
    Redis Cluster (module docstring); a prefix that already holds a hash tag is kept as it is."""
    return one_slot(redis, prefix)


class RedisGrantStore:
    """Pushed requests, authorization codes and deferred transactions (see the module docstring)."""

    def __init__(self, redis: RedisClient, prefix: str) -> None:
        """``prefix``: the issuer service's Redis prefix (tagged here on a cluster, :func:`oid4vci_prefix`)."""
        self._redis, self._p = redis, oid4vci_prefix(redis, prefix)
        self._cluster = not isinstance(redis, Redis)  # scripts then name the keys they find through Redis
        self._exchange = redis.register_script(_EXCHANGE)
        self._defer = redis.register_script(_DEFER)
        self._claim = redis.register_script(_CLAIM)
        self._release_transaction = redis.register_script(_RELEASE_TRANSACTION)
        self._deny = redis.register_script(_DENY)

    async def _declared(self, offer_id: str, token_digests: list[str]) -> list[str]:
        """The keys a script ending the offer ``offer_id`` touches besides its first (its hash, the expiry set,
        its index's states when it has one, the tokens), for ``KEYS`` on a cluster. The offer's ``index`` field
        is written with the offer and never changed, so reading it first is safe."""
        offer_key = f"{self._p}:o4i:offer:{offer_id}"
        keys = [offer_key, f"{self._p}:o4i:expiry", f"{self._p}:o4i:expiry:who"]
        index = _text(await self._redis.hget(offer_key, "index"))
        if index:
            keys.append(f"{index}:states")
        return keys + [f"{self._p}:o4i:token:{d}" for d in token_digests if d]

    async def state_offer(self, state_digest: str) -> str:
        """The offer id an ``issuer_state`` names ('' for none or expired)."""
        return _text(await self._redis.get(f"{self._p}:o4i:state:{state_digest}"))

    async def offer_state(self, offer_id: str) -> str:
        """The state of an offer ('' once it has expired)."""
        return _text(await self._redis.hget(f"{self._p}:o4i:offer:{offer_id}", "state"))

    async def push_request(self, uri_digest: str, request_json: str, ttl_seconds: int) -> None:
        """Keep a pushed authorization request under its ``request_uri``."""
        await self._redis.set(f"{self._p}:o4i:par:{uri_digest}", request_json, ex=ttl_seconds, nx=True)

    async def take_request(self, uri_digest: str) -> str:
        """The pushed request of a ``request_uri``, removed in the same step ('' if unknown, expired or used)."""
        return _text(await self._redis.getdel(f"{self._p}:o4i:par:{uri_digest}"))

    async def add_code(self, code_digest: str, offer_id: str, request: dict[str, str], ttl_seconds: int) -> None:
        """Keep an issued authorization code and what it is bound to."""
        key = f"{self._p}:o4i:authz:{code_digest}"
        pipe = self._redis.pipeline(transaction=True)
        pipe.hset(key, mapping={"state": "issued", "offer_id": offer_id, "request": json.dumps(request), "token": ""})
        pipe.expire(key, ttl_seconds)
        await pipe.execute()

    async def code(self, code_digest: str) -> dict[str, Any] | None:
        """The binding of a code (client_id, redirect_uri, code_challenge) while it is known."""
        raw = await self._redis.hget(f"{self._p}:o4i:authz:{code_digest}", "request")
        if raw is None:
            return None
        found: dict[str, Any] = json.loads(raw)
        return found

    async def exchange_code(self, code_digest: str, token_digest: str, token_ttl: int,
                            jkt: str = "") -> tuple[str, str]:
        """Spend a code and redeem its offer: ('ok', offer id) with the token kept, or (why, '') changing nothing
        ('unknown', 'code_used' (whose token is then revoked), 'expired', or the offer's state)."""
        key = f"{self._p}:o4i:authz:{code_digest}"
        args: list[str | int] = [self._p, token_digest, token_ttl, jkt, USED_CODE_SECONDS]
        for _ in range(5):
            keys = [key]
            if self._cluster:  # name the offer and the tokens, read first (a concurrent use: 'retry', read again)
                offer_id, given = (_text(v) for v in await self._redis.hmget(key, ["offer_id", "token"]))
                if not offer_id:
                    return "unknown", ""
                keys += await self._declared(offer_id, [token_digest, given])
                args = [*args[:5], given]
            result = await self._exchange(keys=keys, args=args)
            if _text(result[0]) != "retry":
                return _text(result[0]), _text(result[1]) if len(result) > 1 else ""
        raise RuntimeError("authorization code changed under every attempt")  # a code changes once: unreachable

    async def defer(self, token_digest: str, tx_digest: str, offer_id: str, configuration: str,
                    keys: list[dict[str, Any]], not_before: float, ttl_seconds: int) -> bool:
        """Turn the token's ``configuration``, being issued, into a deferred transaction (False: it is no longer
        being issued)."""
        return bool(await self._defer(
            keys=[f"{self._p}:o4i:token:{token_digest}", f"{self._p}:o4i:tx:{tx_digest}",
                  f"{self._p}:o4i:offer:{offer_id}"],
            args=[ttl_seconds, offer_id, json.dumps(keys), repr(float(not_before)), self._p,
                  configuration_field(configuration), configuration]))

    async def claim_transaction(self, tx_digest: str, token_digest: str
                                ) -> tuple[str, str, list[dict[str, Any]], float, str, str]:
        """Take a pending transaction for issuing (or one whose claim is older than :data:`CLAIM_LEASE`):
        ('ok', offer id, keys, not_before, configuration, claim id), else (why: 'unknown' or 'issuing', '', [], 0,
        '', ''). A transaction kept before it named its configuration is the ``ldp_vc`` one if its keys are DIDs.
        The claim id is what :meth:`release_transaction` needs to put it back."""
        claim = secrets.token_urlsafe(16)
        result = await self._claim(keys=[f"{self._p}:o4i:tx:{tx_digest}"],
                                   args=[f"{self._p}:o4i:token:{token_digest}", repr(time.time()), CLAIM_LEASE, claim])
        if _text(result[0]) != "ok":
            return _text(result[0]), "", [], 0.0, "", ""
        keys = json.loads(_text(result[2]))
        configuration = _text(result[4]) if len(result) > 4 else ""
        if not configuration:
            configuration = LDP_CONFIGURATION if keys and "did" in keys[0] else SD_JWT_CONFIGURATION
        return "ok", _text(result[1]), keys, float(_text(result[3]) or 0), configuration, claim

    async def release_transaction(self, tx_digest: str, claim: str) -> None:
        """Back to pending (issuing failed, or it is not time yet), if the claim ``claim`` still holds it (not
        taken over by another request since its lease ran out, nor delivered meanwhile)."""
        await self._release_transaction(keys=[f"{self._p}:o4i:tx:{tx_digest}"], args=[claim])

    async def deny_transaction(self, tx_digest: str, token_digest: str, configuration: str) -> None:
        """Its credential was refused for good: the transaction_id is gone and the token's configuration denied."""
        await self._deny(keys=[f"{self._p}:o4i:tx:{tx_digest}", f"{self._p}:o4i:token:{token_digest}"],
                         args=[configuration_field(configuration)])
