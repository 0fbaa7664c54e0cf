"""Issued credentials per issuer: the record behind idempotent retries and ``GetCredential``.

Every value is the serialized ``EventEnvelope`` of the credential's ``CredentialIssued`` event, exactly as
published, so the store can be rebuilt from the credentials topic (:mod:`services.issuer.projection`).

Two records per credential (``{prefix}`` defaults to ``issuer``; credential ids are derived from the issuer id
and the idempotency key, so the id *is* the idempotency record; ``{issuer}`` is a Redis Cluster hash tag, so one
issuer's keys share a slot and the per-chunk scripts below stay single-slot):

``{prefix}:cred:{issuer}:{credential id}``
    written only after Kafka acknowledged the event: the credential as answered.
``{prefix}:pending:{issuer}:{credential id}``
    written (``SET NX``, with a TTL) after signing and *before* publishing. A retry that finds it republishes
    the very same event (same bytes, same event id) instead of signing a second, different credential with
    the same id; ``NX`` also settles two concurrent requests with one key on one credential. After the
    publish it is renamed to the issued record (the 10 kB value is not sent twice).

Each chunk costs a constant number of Redis commands (one ``MGET``, one script to store the pending records,
one to commit them), whatever its size.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from redis.asyncio import Redis

__all__ = ["PENDING_TTL_SECONDS", "CredentialStore", "InMemoryCredentialStore", "RedisCredentialStore",
           "cred_key", "pending_key"]

PENDING_TTL_SECONDS = 7 * 24 * 3600

# KEYS: pending1, cred1, pending2, cred2, ...; ARGV[1]: TTL, ARGV[1 + n]: value n. Returns, per credential,
# false when ours was stored, else the record that was there first: issued (a concurrent request finished
# already) or pending. Atomic, so a credential id can never get two different signed credentials.
_PUT_PENDING = """
local out = {}
for i = 1, #KEYS, 2 do
  local n = (i + 1) / 2
  local issued = redis.call('GET', KEYS[i + 1])
  if issued then
    out[n] = issued
  elseif redis.call('SET', KEYS[i], ARGV[n + 1], 'NX', 'EX', ARGV[1]) then
    out[n] = false
  else
    out[n] = redis.call('GET', KEYS[i])
  end
end
return out
"""
# KEYS: pending1, cred1, pending2, cred2, ... Renames each pending record to its issued key (made permanent).
# Returns the 1-based pair numbers whose pending record was missing.
_COMMIT = """
local missing = {}
for i = 1, #KEYS, 2 do
  if redis.call('EXISTS', KEYS[i]) == 1 then
    redis.call('RENAME', KEYS[i], KEYS[i + 1])
    redis.call('PERSIST', KEYS[i + 1])
  else
    missing[#missing + 1] = (i + 1) / 2
  end
end
return missing
"""


def cred_key(prefix: str, issuer_id: str, credential_id: str) -> str:
    """Key of an issued record."""
    return f"{prefix}:cred:{{{issuer_id}}}:{credential_id}"


def pending_key(prefix: str, issuer_id: str, credential_id: str) -> str:
    """Key of a pending record."""
    return f"{prefix}:pending:{{{issuer_id}}}:{credential_id}"


def _raw(value: Any) -> bytes:
    if not isinstance(value, bytes):
        raise TypeError("RedisCredentialStore needs a Redis client with decode_responses=False")
    return value


class CredentialStore(Protocol):
    """Port: issued and pending credential events, per issuer."""

    async def lookup(self, issuer_id: str, credential_ids: Sequence[str]) -> tuple[dict[str, bytes], dict[str, bytes]]:
        """(issued, pending) envelopes of those ids that have them."""
        ...

    async def get(self, issuer_id: str, credential_id: str) -> bytes | None:
        """The issued envelope of one of ``issuer_id``'s credentials, or None."""
        ...

    async def put_pending(self, issuer_id: str, envelopes: dict[str, bytes]) -> dict[str, bytes]:
        """Store pending envelopes unless a pending or issued one exists already; return the winner, per id."""
        ...

    async def commit(self, issuer_id: str, envelopes: dict[str, bytes]) -> None:
        """Record published envelopes as issued and drop their pending records."""
        ...


class RedisCredentialStore:
    """:class:`CredentialStore` in Redis (bytes client, as :func:`microcred.lifecycle.connect_redis` gives)."""

    def __init__(self, redis: Redis, prefix: str = "issuer") -> None:
        self._redis = redis
        self._prefix = prefix
        self._put_pending = redis.register_script(_PUT_PENDING)
        self._commit = redis.register_script(_COMMIT)

    async def lookup(self, issuer_id: str, credential_ids: Sequence[str]) -> tuple[dict[str, bytes], dict[str, bytes]]:
        """One ``MGET`` for both record kinds."""
        if not credential_ids:
            return {}, {}
        keys = [cred_key(self._prefix, issuer_id, c) for c in credential_ids]
        keys += [pending_key(self._prefix, issuer_id, c) for c in credential_ids]
        values = await self._redis.mget(keys)
        n = len(credential_ids)
        issued = {c: _raw(v) for c, v in zip(credential_ids, values[:n], strict=True) if v is not None}
        pending = {c: _raw(v) for c, v in zip(credential_ids, values[n:], strict=True)
                   if v is not None and c not in issued}
        return issued, pending

    async def get(self, issuer_id: str, credential_id: str) -> bytes | None:
        """``GET`` of the issued record."""
        value = await self._redis.get(cred_key(self._prefix, issuer_id, credential_id))
        return None if value is None else _raw(value)

    async def put_pending(self, issuer_id: str, envelopes: dict[str, bytes]) -> dict[str, bytes]:
        """``SET NX EX`` of every pending record in one script; records already there (issued or pending) win."""
        if not envelopes:
            return {}
        ids = list(envelopes)
        keys = [k for c in ids for k in (pending_key(self._prefix, issuer_id, c), cred_key(self._prefix, issuer_id, c))]
        earlier = await self._put_pending(keys=keys, args=[PENDING_TTL_SECONDS, *envelopes.values()])
        return {cid: _raw(first) if first else envelopes[cid] for cid, first in zip(ids, earlier, strict=True)}

    async def commit(self, issuer_id: str, envelopes: dict[str, bytes]) -> None:
        """Rename the pending records to issued ones in one script; write the value where one is gone (expired,
        or the projection got there first)."""
        if not envelopes:
            return
        ids = list(envelopes)
        keys = [k for c in ids for k in (pending_key(self._prefix, issuer_id, c), cred_key(self._prefix, issuer_id, c))]
        missing = await self._commit(keys=keys)
        if missing:
            await self._redis.mset({cred_key(self._prefix, issuer_id, ids[int(n) - 1]): envelopes[ids[int(n) - 1]]
                                    for n in missing})


class InMemoryCredentialStore:
    """Twin of :class:`RedisCredentialStore` for unit tests."""

    def __init__(self) -> None:
        self.issued: dict[tuple[str, str], bytes] = {}
        self.pending: dict[tuple[str, str], bytes] = {}
        self.fail_commit: Exception | None = None

    async def lookup(self, issuer_id: str, credential_ids: Sequence[str]) -> tuple[dict[str, bytes], dict[str, bytes]]:
        """Issued and pending records of the ids."""
        issued = {c: self.issued[(issuer_id, c)] for c in credential_ids if (issuer_id, c) in self.issued}
        pending = {c: self.pending[(issuer_id, c)] for c in credential_ids
                   if (issuer_id, c) in self.pending and c not in issued}
        return issued, pending

    async def get(self, issuer_id: str, credential_id: str) -> bytes | None:
        """The issued record."""
        return self.issued.get((issuer_id, credential_id))

    async def put_pending(self, issuer_id: str, envelopes: dict[str, bytes]) -> dict[str, bytes]:
        """First writer wins; an issued record wins over everything."""
        out = {}
        for cid, value in envelopes.items():
            issued = self.issued.get((issuer_id, cid))
            out[cid] = issued if issued is not None else self.pending.setdefault((issuer_id, cid), value)
        return out

    async def commit(self, issuer_id: str, envelopes: dict[str, bytes]) -> None:
        """Issued records in, pending out (or raise ``fail_commit`` once)."""
        if self.fail_commit is not None:
            error, self.fail_commit = self.fail_commit, None
            raise error
        for cid, value in envelopes.items():
            self.issued[(issuer_id, cid)] = value
            self.pending.pop((issuer_id, cid), None)
