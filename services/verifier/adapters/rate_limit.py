"""The gateway's per-client token buckets in Redis: one Lua script, one round trip per request.

Key: ``{namespace}:{<digest>}``, the digest a BLAKE2b-128 of the client key (its address), so no address is
stored in a key name, and the braces make the digest the key's hash tag: on a Redis Cluster the bucket lives in
the slot of its digest (clients spread over the shards), and the script's one key is always in one slot as the
cluster's rules for scripts require. The hash is unkeyed: an IPv4 address can be found again by trying them
all, so the key is pseudonymous, not anonymous; it lives only until the bucket would be full again anyway.

Value: a hash ``{t: tokens, s: stamp}`` with the stamp in the Redis server's own clock (``TIME``), so replicas'
clocks never need to agree. Expiry: the time an empty bucket takes to fill (``burst / rate``) plus a second
(capped at a day): a missing key *is* a full bucket, so expiring it changes nothing.

The script reads, refills, takes and writes in one atomic step (Redis runs a script alone), which is what makes
the limit exact across processes: no two replicas can take the same last token. (redis-py's
``register_script`` sends ``EVALSHA`` and loads the script on ``NOSCRIPT``, on a single node or a cluster.)
"""

from __future__ import annotations

import hashlib
import math

from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster

__all__ = ["TAKE_SCRIPT", "RedisBucketStore", "bucket_key"]

#: KEYS[1] the bucket; ARGV rate (tokens/s), burst, expiry (ms). Returns the wait in seconds as a string
#: ("0" when a token was taken): Lua numbers become integers on the way out, strings keep the fraction.
TAKE_SCRIPT = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 't', 's')
local tokens = tonumber(state[1])
local stamp = tonumber(state[2])
if tokens == nil or stamp == nil then
  tokens = burst
  stamp = now
end
tokens = math.min(burst, tokens + math.max(0, now - stamp) * rate)
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait = (1 - tokens) / rate
end
redis.call('HSET', KEYS[1], 't', string.format('%.6f', tokens), 's', string.format('%.6f', now))
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return string.format('%.6f', wait)
"""

_MAX_EXPIRY_MS = 86_400_000


def bucket_key(namespace: str, client: str) -> str:
    """The Redis key of ``client``'s bucket: its digest, as the key's cluster hash tag."""
    digest = hashlib.blake2b(client.encode("utf-8", "surrogateescape"), digest_size=16).hexdigest()
    return f"{namespace}:{{{digest}}}"


class RedisBucketStore:
    """:class:`~services.verifier.api.rate_limit.BucketStore` on Redis (a single node or a Redis Cluster)."""

    def __init__(self, redis: Redis | RedisCluster, namespace: str) -> None:
        # braces of the namespace (a registry namespace made a hash tag for a cluster) would become the tag of
        # every bucket and put them all in one slot: the digest alone is the tag
        self.namespace = namespace.replace("{", "").replace("}", "")
        self._take = redis.register_script(TAKE_SCRIPT)

    async def take(self, client: str, rate: float, burst: int) -> float:
        """Take one token from ``client``'s bucket: 0 when taken, else the seconds until one is available."""
        expiry = min(_MAX_EXPIRY_MS, math.ceil(1000 * burst / rate) + 1000)
        wait = await self._take(keys=[bucket_key(self.namespace, client)], args=[repr(rate), burst, expiry])
        return float(wait)
