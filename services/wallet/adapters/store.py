"""The wallet's credential and pathway read model in Redis (rebuilt from Kafka by replay).

Keys (``P`` is the instance prefix, ``wallet`` by default)::

    P:cred:{credential id}         hash  doc (VC JSON as the event carried it), meta (issuer, identity, EU
                                         elements, source), edc (the sealed EDC, when issued in that format),
                                         sdjwt (the SD-JWT VC, when issued in that format); doc and edc are
                                         stored as zstd frames (microcred.storage.frames; records written
                                         before are read as they are)
    P:status:{credential id}       hash  revoked "1", suspended "0"/"1", reason, superseded_by (status events)
    P:by:did:{did}                 set   credential ids issued to a subject DID
    P:by:email:{keyed hash}        set   credential ids issued to an e-mail the issuer's model confirmed
    P:by:hash:{identity hash}      set   credential ids issued to a hashed e-mail identifier (no model e-mail)
    P:by:ach:{achievement id}      set   credential ids awarding the achievement
    P:salts                        set   salts seen in hashed e-mail identifiers
    P:pathway:{pathway id}         str   pathway JSON
    P:pathways                     set   pathway ids
    P:pathways:ach:{achievement}   set   pathways that require the achievement
    P:pathways:open                set   pathways without required achievements (ECTS only)

On a Redis Cluster ``P`` is a hash tag (one slot for the whole read model, so the projection's transactions
stay atomic), except the ``cred`` records: they spread over slot groups by credential id,
``{<prefix>:g<n>.<k>}:cred:{credential id}``, each group with its own Kafka positions and epoch sentinel
(:mod:`microcred.storage.slot_groups`; docs/redis-keys.md). The intake writes a batch's records group by
group before the rest, so an index never names a record that is not written yet.

Every write here is a blind overwrite or a set addition, so applying the same event twice, at the same or
at another offset, leaves the same state. Status lives apart from the credential because status events
travel on another topic and may arrive before the credential does.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any, cast

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from microcred.lifecycle import RedisClient, one_slot
from microcred.storage.frames import pack, unpack
from microcred.storage.replies import awaited
from microcred.storage.replies import text as reply_text
from microcred.storage.slot_groups import GROUPS_ON_CLUSTER, SlotGroups
from services.wallet.domain.credentials import (
    EuElements,
    HashedId,
    HeldCredential,
    Identity,
    Source,
    StatusChange,
    dumps,
    effective_status,
    email_index,
)
from services.wallet.domain.stacking import Pathway

#: Kept under their short names for the wallet's adapters (see :mod:`microcred.storage.replies`).
r, text = awaited, reply_text


#: The most a stored document may open to (documents come from the platform's own events, far smaller).
MAX_DOCUMENT_BYTES = 16 << 20


def record_fields(credential: HeldCredential) -> dict[str, str | bytes]:
    """The hash fields that store ``credential`` (document and metadata; the document and the EDC compressed:
    JSON-LD with repeated contexts and names shrinks to about a third, the largest part of a wallet's memory)."""
    subject = credential.subject
    meta = {
        "credential_id": credential.credential_id, "issuer_id": credential.issuer_id,
        "issuer_did": credential.issuer_did, "source": credential.source.value,
        "import_check": dict(credential.import_check),
        "elements": credential.elements.to_json(),
        **({"replaces": credential.replaces} if credential.replaces else {}),
        "subject": {"did": subject.did, "hashed": [[h.identity_type, h.identity_hash, h.salt] for h in subject.hashed],
                    "email_index": subject.email_index},
    }
    doc = credential.document_json if credential.document_json is not None else dumps(dict(credential.document))
    edc = {"edc": pack(credential.edc_jsonld.encode())} if credential.edc_jsonld else {}  # the sealed EDC, as issued
    sd_jwt = {"sdjwt": credential.sd_jwt_vc} if credential.sd_jwt_vc else {}  # as issued; erased with the hash
    return {"doc": pack(doc.encode()), "meta": dumps(meta), **edc, **sd_jwt}


def parse_record(fields: dict[bytes, bytes], status: dict[bytes, bytes],
                 bound_did: str | None = None) -> HeldCredential:
    """Rebuild a :class:`HeldCredential` from its hash fields and its status hash."""
    meta = json.loads(fields[b"meta"])
    subject = meta.get("subject") or {}
    revoked = status.get(b"revoked") == b"1"
    suspended = status.get(b"suspended") == b"1"
    return HeldCredential(
        credential_id=meta["credential_id"], issuer_id=meta["issuer_id"], issuer_did=meta.get("issuer_did"),
        elements=EuElements.from_json(meta.get("elements") or {}),
        subject=Identity(subject.get("did"), tuple(HashedId(*h) for h in subject.get("hashed") or ()),
                         subject.get("email_index")),
        source=Source(meta.get("source", Source.ISSUED.value)),
        status=effective_status(revoked, suspended),
        status_reason=(text(status.get(b"reason")) or "") if (revoked or suspended) else "",
        bound_did=bound_did, document=json.loads(unpack(fields[b"doc"], MAX_DOCUMENT_BYTES)),
        import_check=meta.get("import_check") or {},
        replaces=meta.get("replaces"), replaced_by=(text(status.get(b"superseded_by")) or None) if revoked else None,
        edc_jsonld=unpack(fields[b"edc"], MAX_DOCUMENT_BYTES).decode() if fields.get(b"edc") else None,
        sd_jwt_vc=text(fields.get(b"sdjwt")) or None,
    )


class CredentialStore:
    """Reads and (through a transaction pipeline) writes the credential and pathway read model.

    ``documents``: on a Redis Cluster, the slot groups the credential records (``cred`` hashes: the documents,
    most of the wallet's memory) spread over, by credential id; the rest of the read model stays under
    ``prefix`` (one slot). None (a single node): the records stay under ``prefix`` with everything else."""

    def __init__(self, redis: Redis, prefix: str, index_key: bytes, documents: SlotGroups | None = None) -> None:
        self.redis, self.prefix, self.index_key = redis, prefix, index_key
        self.documents = documents

    @classmethod
    def laid_out(cls, client: RedisClient, name: str, index_key: bytes,
                 slot_groups: int = GROUPS_ON_CLUSTER) -> CredentialStore:
        """The store named ``name`` laid out for ``client``: everything under ``name`` on a single node; on a
        Redis Cluster the read model in one slot (``{name}``) and the records over ``slot_groups`` groups."""
        groups = SlotGroups.for_client(client, name, slot_groups)
        # the adapters run single-slot commands only: the same on both clients
        return cls(cast("Redis", client), one_slot(client, name), index_key, groups if groups.tagged else None)

    # ------------------------------------------------------------------------------------------ keys

    def cred_key(self, credential_id: str) -> str:
        """Hash of one issued credential (in its slot group when the records are spread)."""
        if self.documents is None:
            return f"{self.prefix}:cred:{credential_id}"
        return f"{self.documents.key_prefix(self.documents.group_of(credential_id))}:cred:{credential_id}"

    def status_key(self, credential_id: str) -> str:
        """Hash of one credential's status."""
        return f"{self.prefix}:status:{credential_id}"

    def did_key(self, did: str) -> str:
        """Set of credential ids issued to ``did``."""
        return f"{self.prefix}:by:did:{did}"

    def hash_key(self, identity_hash: str) -> str:
        """Set of credential ids issued to a hashed identifier."""
        return f"{self.prefix}:by:hash:{identity_hash}"

    def email_key(self, index: str) -> str:
        """Set of credential ids filed under the wallet's keyed hash of an e-mail."""
        return f"{self.prefix}:by:email:{index}"

    def email_index(self, email: str) -> str:
        """The wallet's keyed hash of ``email`` (see :func:`~services.wallet.domain.credentials.email_index`)."""
        return email_index(email, self.index_key)

    def achievement_key(self, achievement_id: str) -> str:
        """Set of credential ids awarding ``achievement_id``."""
        return f"{self.prefix}:by:ach:{achievement_id}"

    @property
    def salts_key(self) -> str:
        """Set of salts of hashed e-mail identifiers."""
        return f"{self.prefix}:salts"

    # ---------------------------------------------------------------------------------------- writes

    def write_document(self, pipe: Pipeline, credential: HeldCredential) -> None:
        """Queue the write of ``credential``'s record (on the transaction of its slot group when spread)."""
        pipe.hset(self.cred_key(credential.credential_id), mapping=record_fields(credential))  # type: ignore[arg-type]

    def write_issued(self, pipe: Pipeline, credential: HeldCredential) -> None:
        """Queue the writes that file ``credential`` under its identifiers (and its record, unless the records
        are spread: then :meth:`write_document` goes on its group's transaction)."""
        if self.documents is None:
            self.write_document(pipe, credential)
        if credential.subject.did:
            pipe.sadd(self.did_key(credential.subject.did), credential.credential_id)
        if credential.elements.achievement_id:
            pipe.sadd(self.achievement_key(credential.elements.achievement_id), credential.credential_id)
        if credential.subject.email_index:
            pipe.sadd(self.email_key(credential.subject.email_index), credential.credential_id)
            return
        for hashed in credential.subject.email_hashes():  # no confirmed e-mail: match by salt at read time
            pipe.sadd(self.hash_key(hashed.identity_hash), credential.credential_id)
            pipe.sadd(self.salts_key, hashed.salt)

    def write_status(self, pipe: Pipeline, change: StatusChange) -> None:
        """Queue a status change; revocation is never undone (``effective_status``)."""
        fields: dict[str, str] = {}
        if change.revoked is not None:
            fields["revoked"] = "1" if change.revoked else "0"
        if change.suspended is not None:
            fields["suspended"] = "1" if change.suspended else "0"
        if change.reason:
            fields["reason"] = change.reason
        if change.superseded_by:
            fields["superseded_by"] = change.superseded_by
        if fields:
            pipe.hset(self.status_key(change.credential_id), mapping=fields)  # type: ignore[arg-type]

    def write_pathway(self, pipe: Pipeline, pathway: Pathway) -> None:
        """Queue the writes that store (or replace) ``pathway``."""
        pipe.set(f"{self.prefix}:pathway:{pathway.pathway_id}", dumps(pathway.to_json()))
        pipe.sadd(f"{self.prefix}:pathways", pathway.pathway_id)
        for achievement in pathway.required_achievement_ids:
            pipe.sadd(f"{self.prefix}:pathways:ach:{achievement}", pathway.pathway_id)
        if not pathway.required_achievement_ids:
            pipe.sadd(f"{self.prefix}:pathways:open", pathway.pathway_id)

    # ----------------------------------------------------------------------------------------- reads

    async def salt_known(self, salt: str) -> bool:
        """True when an e-mail hash with ``salt`` has been filed before."""
        return bool(await r(self.redis.sismember(self.salts_key, salt)))

    async def salts(self) -> list[str]:
        """Every salt of a filed e-mail hash."""
        return sorted(text(s) or "" for s in await r(self.redis.smembers(self.salts_key)))

    async def ids_for(self, dids: Iterable[str], hashes: Iterable[str], email_indexes: Iterable[str] = ()) -> set[str]:
        """Credential ids filed under any of ``dids``, identity ``hashes`` or e-mail ``email_indexes``."""
        keys = [self.did_key(d) for d in dids] + [self.hash_key(h) for h in hashes]
        keys += [self.email_key(i) for i in email_indexes]
        if not keys:
            return set()
        return {text(m) or "" for m in await r(self.redis.sunion(keys))}

    async def ids_for_achievements(self, achievement_ids: Iterable[str]) -> set[str]:
        """Credential ids awarding any of ``achievement_ids``."""
        keys = [self.achievement_key(a) for a in achievement_ids]
        return {text(m) or "" for m in await r(self.redis.sunion(keys))} if keys else set()

    async def load(self, credential_ids: Sequence[str], bindings: dict[str, str] | None = None) -> list[HeldCredential]:
        """The stored credentials among ``credential_ids`` (unknown ids are left out), with status."""
        async with self.redis.pipeline(transaction=False) as pipe:
            for cid in credential_ids:
                pipe.hgetall(self.cred_key(cid))
                pipe.hgetall(self.status_key(cid))
            replies = await pipe.execute()
        out = []
        for i, cid in enumerate(credential_ids):
            fields, status = replies[2 * i], replies[2 * i + 1]
            if fields:
                out.append(parse_record(fields, status, (bindings or {}).get(cid)))
        return out

    async def pathway(self, pathway_id: str) -> Pathway | None:
        """One pathway, or None."""
        raw = await r(self.redis.get(f"{self.prefix}:pathway:{pathway_id}"))
        return None if raw is None else Pathway.from_json(json.loads(raw))

    async def pathways(self, ids: Iterable[str] | None = None) -> list[Pathway]:
        """The pathways with ``ids`` (default: all), ordered by id."""
        if ids is None:
            ids = [text(m) or "" for m in await r(self.redis.smembers(f"{self.prefix}:pathways"))]
        wanted = sorted(set(ids))
        if not wanted:
            return []
        raws: list[Any] = await r(self.redis.mget([f"{self.prefix}:pathway:{p}" for p in wanted]))
        return [Pathway.from_json(json.loads(raw)) for raw in raws if raw is not None]

    async def pathways_for(self, achievement_ids: Iterable[str | None]) -> list[Pathway]:
        """Pathways a credential for any of ``achievement_ids`` can affect (plus every ECTS-only pathway)."""
        keys = [f"{self.prefix}:pathways:open"]
        keys += [f"{self.prefix}:pathways:ach:{a}" for a in set(achievement_ids) if a]
        return await self.pathways(text(m) or "" for m in await r(self.redis.sunion(keys)))
