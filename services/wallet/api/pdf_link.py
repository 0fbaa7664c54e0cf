"""The PDF's verification link, reused (issue 23): one live public verification link per learner and credential.

Downloading a PDF is a GET: it must not leave a new link in the learner's share-link list each time. But the
share-link design keeps only the SHA-256 of a token (a Redis or Kafka dump cannot be turned into working links),
so an existing link's URL cannot be rebuilt from the read model. The PDF therefore remembers the token of the link
it created, sealed (AES-GCM under a key derived from the wallet's KEK, bound to the account and credential) in
Redis::

    P:pdf-link:{account}:{sha256 hex of credential id}   hash  sealed (token), at (epoch s of creation)
    P:pdf-link:{account}:{...}:lock                        str   held while one download creates the link (30 s)

A download reuses the remembered link while it is active (or was created less than :data:`PENDING_SECONDS` ago
and is not projected yet); when it was withdrawn or has expired, or nothing is remembered, it creates one under
a ``SET NX`` lock, so concurrent first downloads against the same Redis get the same link: the others wait for
the creator to store it. What is not guaranteed: a download whose creator died between creating the link and
storing it waits out the lock (30 s) and then makes a second link; after Redis is lost, the (replayed) links
remain but the remembered token does not, so the next download makes a new link. Each such extra link is listed
and can be withdrawn like any other.

The sealer reuses :class:`~services.wallet.adapters.sealing.Sealer`'s subkey with a distinct binding
(``pdf-link|{account}|{credential}``), so a sealed e-mail never opens as a token or the reverse. A wallet whose
share links are not the Redis adapter (in-memory unit twins) simply creates a link per download.
"""

from __future__ import annotations

import asyncio
import time

from services.wallet.adapters.sealing import Sealer, SealError
from services.wallet.adapters.secret_keys import open_sealer
from services.wallet.adapters.share_links import ShareLinks
from services.wallet.adapters.store import r
from services.wallet.api.deps import Learner
from services.wallet.api.verification_links import create_link
from services.wallet.domain.errors import NotFound
from services.wallet.domain.share_link import share_id_of

__all__ = ["PENDING_SECONDS", "pdf_link"]

PENDING_SECONDS = 120  # a created link not projected yet is still reused for this long (projection lag)
_LOCK_SECONDS = 30
_WAIT_SECONDS = 35  # a waiting download gives up after the creator's lock must have expired
_sealers: dict[int, Sealer] = {}


def _sealer(session: Learner) -> Sealer:
    settings = session.ctx.settings
    sealer = _sealers.get(id(settings))
    if sealer is None:  # the KEK is read once per settings object (one per running wallet)
        sealer = _sealers[id(settings)] = open_sealer(settings)
    return sealer


def _binding(aid: str, credential_id: str) -> str:
    return f"pdf-link|{aid}|{credential_id}"


async def _remembered(session: Learner, shares: ShareLinks, key: str, credential_id: str) -> str | None:
    """The remembered token when its link may still be used; forgets it otherwise."""
    aid = session.account.account_id
    raw: dict[bytes, bytes] = await r(shares.redis.hgetall(key))
    if not raw:
        return None
    try:
        token = _sealer(session).open_email(_binding(aid, credential_id), raw[b"sealed"])
        share = await shares.get(aid, share_id_of(token))
    except SealError:
        token = None  # another KEK: the link cannot be rebuilt
    except NotFound:
        if time.time() - float(raw.get(b"at", b"0")) < PENDING_SECONDS:
            return token  # created moments ago, not projected yet
        token = None
    else:
        if share.state(session.ctx.now()) == "active" and share.credential_ids == (credential_id,):
            return token
        token = None
    await r(shares.redis.delete(key))
    return token


async def pdf_link(session: Learner, credential_id: str) -> str:
    """The URL of the learner's active verification link to ``credential_id``, created when there is none."""
    shares = session.ctx.shares
    if not isinstance(shares, ShareLinks):
        link, _ = await create_link(session, credential_id)
        return link.url
    aid = session.account.account_id
    key = shares.pdf_link_key(aid, credential_id)
    template = session.ctx.settings.share_url_template
    deadline = time.monotonic() + _WAIT_SECONDS
    while True:
        token = await _remembered(session, shares, key, credential_id)
        if token is not None:
            return template.format(token=token)
        if await r(shares.redis.set(f"{key}:lock", "1", nx=True, ex=_LOCK_SECONDS)):
            try:
                link, _ = await create_link(session, credential_id)
                sealed = _sealer(session).seal_email(_binding(aid, credential_id), link.token)
                await r(shares.redis.hset(key, mapping={"sealed": sealed, "at": repr(time.time())}))
            finally:
                await r(shares.redis.delete(f"{key}:lock"))
            return link.url
        if time.monotonic() > deadline:  # only when a creator died holding the lock
            link, _ = await create_link(session, credential_id)
            return link.url
        await asyncio.sleep(0.05)  # another download is creating it right now
