"""The wallet projection over real Redis: a whole batch in one transaction gives the state that applying the
same records one by one gives, whichever comes first of an account's e-mail and a credential with a new salt."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import pytest
from google.protobuf.message import Message
from redis.asyncio import Redis

from microcred.credential.identifiers import identity_hash
from microcred.events.envelope import EventEnvelope, new_envelope, open_envelope
from microcred.gen.microcred.v1 import events_pb2
from microcred.kafka.consumer import Position
from microcred.storage.slot_groups import GroupEpochs
from services.wallet.adapters.accounts import Accounts
from services.wallet.adapters.sealing import Sealer
from services.wallet.adapters.store import CredentialStore
from services.wallet.domain.credentials import account_id, email_index
from services.wallet.events.intake import WalletIntake, wallet_guard
from tests.harness.wallet.credentials import TestIssuer
from tests.harness.wallet.snapshot import dump

pytestmark = [pytest.mark.integration, pytest.mark.redis_topologies]

INDEX_KEY = b"i" * 32
SEALER = Sealer(os.urandom(32))
EMAIL = "ada.lovelace@example.org"



@pytest.fixture
async def intake(redis: Redis) -> AsyncIterator[Callable[[], WalletIntake]]:
    """Makes projections under fresh prefixes (dropped afterwards), with no completion policy."""
    prefixes: list[str] = []

    def make() -> WalletIntake:
        prefix = f"wp{uuid.uuid4().hex[:8]}"
        prefixes.append(prefix)
        store = CredentialStore.laid_out(redis, prefix, INDEX_KEY)  # as the wallet lays it out on this topology
        guard = wallet_guard(redis, store.prefix, store)
        return WalletIntake(redis, store.prefix, store, Accounts(redis, store.prefix, store), None, sealer=SEALER,
                            documents=guard if isinstance(guard, GroupEpochs) else None)

    yield make
    # one scan for every prefix (a scan walks the whole of the session's Redis); deleted one by one: on a
    # cluster the keys sit in several slots
    keys = [k async for k in redis.scan_iter(match="*wp*", count=2000)
            if any(p in (k.decode() if isinstance(k, bytes) else k) for p in prefixes)]
    for key in keys:
        await redis.delete(key)


async def state_of(redis: Redis, target: WalletIntake) -> dict[str, Any]:
    """The projection's state, the records of every slot group included."""
    return await dump(redis, target.projection, projection_only=True, documents=target.store.documents)


def decoded(payload: Message) -> tuple[EventEnvelope, Message]:
    return open_envelope(new_envelope(payload, subject="k").SerializeToString())


def history() -> list[tuple[EventEnvelope, Message]]:
    """A credential to a hashed e-mail the issuer's model does not confirm (so matched by salt), the account
    that links that e-mail, the account moving to another e-mail, and a share link created then withdrawn."""
    issued = TestIssuer.new("issuer-proj").issue(email=EMAIL).event
    issued.credential.learner.ClearField("email")  # no confirmed e-mail: filed by salted hash only
    aid = account_id("ada", "https://idp.example")
    linked = events_pb2.WalletAccountLinked(account_id=aid, email_index=email_index(EMAIL, INDEX_KEY),
                                            sealed_email=SEALER.seal_email(aid, EMAIL))
    link = events_pb2.ShareLink(share_id="ab" * 32, account_id=aid, credential_ids=[issued.credential_id])
    link.created_at.FromSeconds(4_000_000_000)
    link.expires_at.FromSeconds(4_000_000_600)
    return [decoded(issued), decoded(linked), decoded(events_pb2.ShareLinkCreated(link=link)),
            decoded(events_pb2.ShareLinkWithdrawn(link=link))]


async def apply(target: WalletIntake, items: Sequence[tuple[EventEnvelope, Message]], batched: bool) -> None:
    positioned = [(e, p, Position("t", 0, offset)) for offset, (e, p) in enumerate(items)]
    if batched:
        await target.handle_batch(positioned)
    else:
        for item in positioned:
            await target.handle(*item)


async def test_batch_and_one_by_one_agree_in_any_order_of_salt_and_email(
        redis: Redis, intake: Callable[[], WalletIntake]) -> None:
    events = history()
    aid = account_id("ada", "https://idp.example")
    states = []
    for order in ([0, 1, 2, 3], [1, 0, 2, 3]):
        for batched in (False, True):
            target = intake()
            await apply(target, [events[i] for i in order], batched)
            assert target.applied == len(order)
            state = await state_of(redis, target)
            salts = [m.decode() for m in state["salts"]]
            # The account owns the credential by its salted e-mail hash, whichever of the two came first.
            assert {k for k in state if k.startswith("hash-owners:")} == {
                f"hash-owners:{identity_hash(EMAIL, s)}" for s in salts}, (order, batched)
            assert all(state[f"hash-owners:{identity_hash(EMAIL, s)}"] == [aid.encode()] for s in salts)
            assert state["share:{" + "ab" * 32 + "}"][b"withdrawn"] == b"1"
            assert state[f"acct:{aid}"] == {b"email": EMAIL.encode(),
                                            b"email_index": email_index(EMAIL, INDEX_KEY).encode()}
            states.append(state)
    assert all(s == states[0] for s in states[1:])


async def test_a_new_email_takes_over_what_the_old_one_owned(redis: Redis, intake: Callable[[], WalletIntake]
                                                             ) -> None:
    events = history()
    aid = account_id("ada", "https://idp.example")
    target = intake()
    await apply(target, events[:2], batched=True)
    moved = "ada@elsewhere.example"
    relinked = decoded(events_pb2.WalletAccountLinked(account_id=aid, email_index=email_index(moved, INDEX_KEY),
                                                      sealed_email=SEALER.seal_email(aid, moved)))
    await target.handle(*relinked, Position("t", 0, 2))
    state = await state_of(redis, target)
    salts = [m.decode() for m in state["salts"]]
    assert {k for k in state if k.startswith("hash-owners:")} == {
        f"hash-owners:{identity_hash(moved, s)}" for s in salts}
    assert f"email-owners:{email_index(EMAIL, INDEX_KEY)}" not in state
    assert state[f"email-owners:{email_index(moved, INDEX_KEY)}"] == [aid.encode()]
    assert state["emails"] == {aid.encode(): moved.encode()}
    # The same records again, at their offsets: nothing changes.
    await apply(target, [*events[:2], relinked], batched=True)
    assert await state_of(redis, target) == state
