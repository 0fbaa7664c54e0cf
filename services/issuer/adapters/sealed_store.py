"""The issuer's credential store with the learners' personal data sealed at rest (issue 18, docs/privacy.md).

Wraps any :class:`~services.issuer.application.ports.CredentialStore`: what goes in is sealed
(:meth:`~microcred.privacy.events.EventPrivacy.seal`, the same form as on Kafka, which the credential-store
projection copies from the topic), what comes out is opened for the use cases (answers, idempotent retries,
listings). Once a learner is erased, their records come out with the personal part empty: the credential id,
status entries and issue time still answer "issued" (idempotency never forgets a credential), the document does
not. The use cases publish only through a :class:`~microcred.privacy.publishing.SealingPublisher`, so the opened
bytes handed to them never reach Kafka in clear.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

from microcred.events.envelope import EventEnvelope
from microcred.privacy.events import EventPrivacy
from services.issuer.application.ports import CredentialStore, PageCursor

__all__ = ["SealedCredentialStore"]


class SealedCredentialStore:
    """Seals on the way in, opens on the way out; see the module docstring."""

    def __init__(self, inner: CredentialStore, privacy: EventPrivacy, recent: int = 4096) -> None:
        self.inner, self.privacy = inner, privacy
        # A credential is sealed for its pending record and then committed with the same clear bytes: the sealed
        # bytes of the last ``recent`` pending records are reused at commit (same bytes as sealing them again:
        # the seal is deterministic), instead of parsing, sealing and serialising ~10 kB again.
        # (Only seals of the privacy's current generation: after an erasure nothing is reused under a gone key.)
        self._recent: OrderedDict[str, tuple[bytes, bytes, int]] = OrderedDict()
        self._recent_max = recent

    async def _seal(self, envelopes: dict[str, bytes]) -> dict[str, bytes]:
        out: dict[str, bytes] = {}
        for cid, raw in envelopes.items():
            known = self._recent.pop(cid, None)
            if known is not None and known[0] == raw and known[2] == self.privacy.generation:
                out[cid] = known[1]
        ids = [cid for cid in envelopes if cid not in out]
        if ids:
            sealed = await self.privacy.seal([EventEnvelope.FromString(envelopes[cid]) for cid in ids])
            out.update((cid, env.SerializeToString()) for cid, env in zip(ids, sealed, strict=True))
        return {cid: out[cid] for cid in envelopes}

    def _remember(self, clear: dict[str, bytes], sealed: dict[str, bytes], generation: int) -> None:
        for cid, raw in clear.items():
            self._recent[cid] = (raw, sealed[cid], generation)
        while len(self._recent) > self._recent_max:
            self._recent.popitem(last=False)

    async def _open(self, envelopes: dict[str, bytes]) -> dict[str, bytes]:
        ids = list(envelopes)
        return dict(zip(ids, await self.privacy.open_envelopes([envelopes[c] for c in ids]), strict=True))

    async def lookup(self, issuer_id: str, credential_ids: Sequence[str]) -> tuple[dict[str, bytes], dict[str, bytes]]:
        """(issued, pending) envelopes, opened."""
        issued, pending = await self.inner.lookup(issuer_id, credential_ids)
        return await self._open(issued), await self._open(pending)

    async def get(self, issuer_id: str, credential_id: str) -> bytes | None:
        """One issued envelope, opened."""
        raw = await self.inner.get(issuer_id, credential_id)
        return None if raw is None else (await self.privacy.open_envelopes([raw]))[0]

    async def put_pending(self, issuer_id: str, envelopes: dict[str, bytes]) -> dict[str, bytes]:
        """Store sealed pending envelopes; the winners, opened."""
        generation = self.privacy.generation
        sealed = await self._seal(envelopes)
        winners = await self.inner.put_pending(issuer_id, sealed)
        self._remember({c: envelopes[c] for c, raw in winners.items() if sealed.get(c) == raw}, sealed, generation)
        # Ours won (the usual case): hand back the clear bytes given, nothing to open.
        ours = {cid: envelopes[cid] for cid, raw in winners.items() if sealed.get(cid) == raw}
        return {**await self._open({c: r for c, r in winners.items() if c not in ours}), **ours}

    async def commit(self, issuer_id: str, envelopes: dict[str, bytes]) -> None:
        """Record sealed envelopes as issued."""
        await self.inner.commit(issuer_id, await self._seal(envelopes))

    async def page(self, issuer_id: str, cursor: PageCursor, limit: int, since_micros: int | None
                   ) -> tuple[list[bytes], PageCursor | None]:
        """A page of issued envelopes, opened."""
        raws, following = await self.inner.page(issuer_id, cursor, limit, since_micros)
        return await self.privacy.open_envelopes(raws), following
