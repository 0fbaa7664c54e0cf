"""The sealed credential store reuses the seal of a pending record when it commits the same clear bytes
(issuance performance, issue 18): the issued record is byte for byte what was published, and once the privacy
layer forgot its seals (an erasure), nothing sealed before is reused."""

from __future__ import annotations

from microcred.credential.ids import credential_id_for
from microcred.kafka.topics import CREDENTIALS
from tests.unit.test_privacy_events import UNI_A, Rig, clear_of_personal_data, issue


async def test_the_issued_record_is_the_published_record_sealed_once() -> None:
    r = Rig()
    calls = 0
    seal = r.privacy.seal

    async def counted(envelopes):  # type: ignore[no-untyped-def]
        nonlocal calls
        calls += 1
        return await seal(envelopes)

    r.privacy.seal = counted  # type: ignore[method-assign]
    await issue(r, "row-1")
    cid = credential_id_for(UNI_A.issuer_id, "row-1")
    stored = r.raw_store.issued[(UNI_A.issuer_id, cid)]
    [published] = r.records()
    assert stored == published and clear_of_personal_data(stored)
    assert calls == 2  # pending record and publish; the commit reused the pending record's seal
    assert r.kafka.topics[CREDENTIALS.name][0][0] == cid


async def test_after_forget_the_commit_seals_again() -> None:
    r = Rig()
    store = r.issuance._store
    await issue(r, "row-2")
    [(_, envelope)] = r.kafka.topics[CREDENTIALS.name]
    clear = (await r.privacy.open_envelopes([envelope.SerializeToString()]))[0]
    sealed_calls: list[int] = []
    seal = r.privacy.seal

    async def spy(envelopes):  # type: ignore[no-untyped-def]
        sealed_calls.append(len(envelopes))
        return await seal(envelopes)

    r.privacy.seal = spy  # type: ignore[method-assign]
    for cid, forget in (("urn:uuid:kept", False), ("urn:uuid:forgotten", True)):
        sealed_calls.clear()
        await store.put_pending(UNI_A.issuer_id, {cid: clear})
        if forget:
            r.privacy.forget()
        await store.commit(UNI_A.issuer_id, {cid: clear})
        assert sealed_calls == ([1, 1] if forget else [1]), cid  # the commit seals again only after forget
        assert clear_of_personal_data(r.raw_store.issued[(UNI_A.issuer_id, cid)])
