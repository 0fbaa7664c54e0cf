"""E-mails in the wallet's events are sealed and bound to their account; holder-key events carry no key; every
wallet event decodes back to its read-model change."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest

from microcred.events.envelope import new_envelope, open_envelope
from microcred.gen.microcred.v1 import events_pb2
from services.wallet.adapters.sealing import Sealer, SealError
from services.wallet.domain.share_link import Share, share_id_of
from services.wallet.events.changes import (
    AccountLinked,
    DeferredKept,
    HolderKeyAdded,
    ShareChanged,
    UnusableEvent,
    change_of,
)


def test_a_sealed_email_is_not_in_clear_and_opens_only_for_its_account_and_kek() -> None:
    sealer = Sealer(os.urandom(32))
    sealed = sealer.seal_email("lrn_a", "ada@example.org")
    assert b"ada" not in sealed and sealed != sealer.seal_email("lrn_a", "ada@example.org")  # random nonce
    assert sealer.open_email("lrn_a", sealed) == "ada@example.org"
    with pytest.raises(SealError):
        sealer.open_email("lrn_b", sealed)  # copied onto another account
    with pytest.raises(SealError):
        Sealer(os.urandom(32)).open_email("lrn_a", sealed)  # another KEK
    with pytest.raises(SealError):
        sealer.open_email("lrn_a", sealed[:-1] + bytes([sealed[-1] ^ 1]))  # tampered


def test_a_deferred_issuance_is_sealed_for_its_account_and_ref_and_decodes_still_sealed() -> None:
    sealer = Sealer(os.urandom(32))
    record = b'{"access_token":"at-secret","transaction_id":"t-1"}'
    sealed = sealer.seal_deferred("lrn_a", "ref1", record)
    assert b"secret" not in sealed and b"t-1" not in sealed
    assert sealer.open_deferred("lrn_a", "ref1", sealed) == record
    for account, ref in (("lrn_b", "ref1"), ("lrn_a", "ref2")):
        with pytest.raises(SealError):
            sealer.open_deferred(account, ref, sealed)  # copied onto another account or record
    with pytest.raises(SealError):
        sealer.open_email("lrn_a/ref1", sealed)  # the e-mail key is another subkey
    event = events_pb2.WalletDeferredCredential(account_id="lrn_a", transaction_ref="ref1", sealed=sealed)
    assert decoded(event, None) == DeferredKept("lrn_a", "ref1", sealed)  # the projection never opens it
    with pytest.raises(UnusableEvent):
        decoded(events_pb2.WalletDeferredCredential(account_id="lrn_a", transaction_ref="ref1"), None)


def decoded(payload: events_pb2.WalletAccountLinked | events_pb2.HolderKeyCreated | events_pb2.ShareLinkCreated
            | events_pb2.ShareLinkWithdrawn | events_pb2.WalletDeferredCredential, sealer: Sealer | None) -> object:
    envelope, message = open_envelope(new_envelope(payload, subject="k").SerializeToString())
    return change_of(envelope, message, b"i" * 32, sealer)


def test_wallet_events_decode_to_their_read_model_changes() -> None:
    sealer = Sealer(os.urandom(32))
    linked = events_pb2.WalletAccountLinked(account_id="lrn_a", email_index="hmac-sha256$x",
                                            sealed_email=sealer.seal_email("lrn_a", "ada@example.org"))
    assert decoded(linked, sealer) == AccountLinked("lrn_a", "ada@example.org", "hmac-sha256$x")
    assert decoded(events_pb2.WalletAccountLinked(account_id="lrn_a"), None) == AccountLinked("lrn_a", None, "")
    with pytest.raises(UnusableEvent):
        decoded(linked, None)  # no KEK to open it: dead-lettered, never filed without its e-mail
    with pytest.raises(SealError):
        decoded(linked, Sealer(os.urandom(32)))

    created = events_pb2.HolderKeyCreated(account_id="lrn_a", did="did:key:z6Mk1", key_id="holder:lrn_a:1")
    assert decoded(created, sealer) == HolderKeyAdded("lrn_a", "did:key:z6Mk1", "holder:lrn_a:1")
    assert "wrapped_private_key" not in events_pb2.HolderKeyCreated.DESCRIPTOR.fields_by_name  # no key field
    with pytest.raises(UnusableEvent):
        decoded(events_pb2.HolderKeyCreated(account_id="lrn_a", did="did:key:z6Mk1"), sealer)


def test_a_share_link_event_carries_the_tokens_hash_and_replays_withdrawn() -> None:
    now = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    token = "t" * 43
    share = Share(share_id_of(token), "lrn_a", ("urn:uuid:1", "urn:uuid:2"), now, now + timedelta(days=7), False, 0)
    created = events_pb2.ShareLinkCreated(link=share.to_event())
    assert token.encode() not in created.SerializeToString()
    assert decoded(created, None) == ShareChanged(share)  # timestamps survive to the microsecond
    withdrawn = events_pb2.ShareLinkWithdrawn(link=share.to_event())
    change = decoded(withdrawn, None)
    assert isinstance(change, ShareChanged) and change.share.withdrawn and change.share.share_id == share.share_id
    with pytest.raises(UnusableEvent):
        decoded(events_pb2.ShareLinkCreated(link=events_pb2.ShareLink(account_id="lrn_a")), None)
