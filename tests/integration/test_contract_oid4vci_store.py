"""The issuer's OpenID4VCI state in Redis (services/issuer/adapters/offers.py, oid4vci_grants.py, offer_index.py)
on a single node and a 3-master Redis Cluster (``redis_clients``): a cohort's offers with their index entries, a
pre-authorized code redeemed once by two replicas racing (and locked after wrong tx_codes), an authorization code
exchanged once (its replay revoking the token it gave), withdrawal, expiry claims, deferred transactions, nonces,
DPoP jtis, notifications and the issuer's listing, each state change with its index entry. On a cluster every key
is under the prefix's hash tag (one slot): checked on the keys written."""

from __future__ import annotations

import asyncio
import hashlib
import time
from dataclasses import replace

import pytest
from redis.crc import key_slot

from services.issuer.adapters.offers import ADD_SLICE, RedisOfferStore
from services.issuer.adapters.oid4vci_grants import CLAIM_LEASE
from services.issuer.application.offer_records import Offer
from tests.harness.redis_cluster import RedisClients

pytestmark = pytest.mark.integration

ISSUER, OTHER = "did:web:issuer.example:{odd}", "did:web:other.example"


def d(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def offer(offer_id: str, issuer: str = ISSUER) -> Offer:
    return Offer(offer_id, "offered", issuer, "agency-1", '{"credential_issuer": "https://i.example"}',
                 b"sealed-award", 0.0, f"ref-{offer_id}", "https://i.example")


async def test_offers_codes_and_index_on_both_topologies(redis_clients: RedisClients, unique: str) -> None:
    prefix = f"iss-{unique}"
    one = RedisOfferStore(await redis_clients.new(), prefix)
    two = RedisOfferStore(await redis_clients.new(), prefix)  # another replica
    now = time.time()
    offers = [(offer("o-pre"), d("code-pre"), "", ""), (offer("o-tx"), d("code-tx"), d("1234"), ""),
              (offer("o-auth"), d("code-auth"), "", d("state-auth")), (offer("o-wd"), d("code-wd"), "", ""),
              (offer("o-late"), d("code-late"), "", ""), (offer("o-theirs", OTHER), d("code-theirs"), "", "")]
    await one.add_offers(offers, 600, now + 600, ["lh-ana", "", "lh-ana", "", "", "lh-ben"])
    assert (await two.offer("o-pre")) == replace(offer("o-pre"), reference="", credential_issuer="")  # index's
    assert await two.offer("nope") is None
    # filed for their learners' sign-in (keyed e-mail hashes), any state, read by every replica
    assert await two.offers_to("lh-ana") == ["o-auth", "o-pre"] and await one.offers_to("lh-ben") == ["o-theirs"]
    assert await one.offers_to("lh-nobody") == []
    assert 600 < await one._redis.ttl(one._learner_key("lh-ana")) <= 600 + 86400  # as long as the codes are kept

    # a pre-authorized code: redeemed once, whichever of two replicas racing gets it
    outcomes = await asyncio.gather(*(store.redeem(d("code-pre"), "", 5, d(f"tok-{i}"), 300, "jkt")
                                      for i, store in enumerate([one, two] * 4)))
    assert sorted(why for why, _ in outcomes) == ["ok"] + ["redeemed"] * 7
    winner = next(i for i, (why, _) in enumerate(outcomes) if why == "ok")
    assert await two.token_offer(d(f"tok-{winner}")) == ("o-pre", "ready", "jkt")
    assert await one.token_offer(d("tok-x")) is None and await one.offer_state("o-pre") == "redeemed"
    assert await one.redeem(d("no-such-code"), "", 5, d("t"), 300) == ("unknown", "")

    # tx_code: missing (never counted, however often), wrong (counted), locked at the limit; the right one is then
    # refused too. One the offer does not expect is refused and changes nothing either.
    for _ in range(4):
        assert (await one.redeem(d("code-tx"), "", 3, d("t1"), 300))[0] == "tx_missing"
    assert await one._redis.hget(one._offer_key("o-tx"), "attempts") == b"0"
    before = await one._redis.hgetall(one._offer_key("o-wd"))
    assert await two.redeem(d("code-wd"), d("1234"), 3, d("t0"), 300) == ("tx_unexpected", "")
    assert await one._redis.hgetall(one._offer_key("o-wd")) == before and await one.token_offer(d("t0")) is None
    assert (await one.redeem(d("code-tx"), d("0000"), 3, d("t1"), 300))[0] == "tx_wrong"
    assert (await two.redeem(d("code-tx"), d("0000"), 3, d("t1"), 300))[0] == "tx_wrong"
    assert await one.redeem(d("code-tx"), d("0000"), 3, d("t1"), 300) == ("locked", "o-tx")
    assert (await two.redeem(d("code-tx"), d("1234"), 3, d("t1"), 300))[0] == "locked"

    # withdrawal: only the issuer's own offer, only while offered
    assert await one.withdraw(OTHER, "o-wd") == "unknown"
    assert await two.withdraw(ISSUER, "o-wd") == "ok"
    assert await one.withdraw(ISSUER, "o-wd") == "withdrawn"
    assert (await one.redeem(d("code-wd"), "", 5, d("t2"), 300))[0] == "withdrawn"

    # the authorization code flow: issuer_state -> offer, PAR once, code exchanged once, a replay revokes
    assert await one.state_offer(d("state-auth")) == "o-auth"
    await one.push_request(d("uri"), '{"client_id": "w"}', 60)
    assert await two.take_request(d("uri")) == '{"client_id": "w"}' and await one.take_request(d("uri")) == ""
    await one.add_code(d("authz"), "o-auth", {"client_id": "w"}, 60)
    assert await two.code(d("authz")) == {"client_id": "w"}
    exchanged = await asyncio.gather(one.exchange_code(d("authz"), d("tok-a"), 300, "k"),
                                     two.exchange_code(d("authz"), d("tok-b"), 300, "k"))
    assert sorted(why for why, _ in exchanged) == ["code_used", "ok"]
    given = "tok-a" if exchanged[0][0] == "ok" else "tok-b"
    assert await one.token_offer(d(given)) is None  # revoked by the replay (RFC 6749 §4.1.2)
    assert await one.offer_state("o-auth") == "redeemed"
    assert await one.exchange_code(d("nope"), d("t"), 300) == ("unknown", "")

    # tokens, deferred transactions, nonces, DPoP jtis, notifications: the award moved from the offer into the token
    token = d(f"tok-{winner}")
    assert (await one.offer("o-pre")) == replace(offer("o-pre"), state="redeemed", award=b"", reference="",
                                                 credential_issuer="")
    assert await one._redis.hget(f"{one._p}:o4i:token:{token}", "award") == b"sealed-award"
    assert 0 < await one._redis.ttl(f"{one._p}:o4i:token:{token}") <= 300  # it goes with the token
    assert (await one.begin_issuing(token, "o-pre", "sd", []))[0] == "ok"
    assert await two.begin_issuing(token, "o-pre", "sd", []) == ("issuing", None)
    assert await one.defer(token, d("tx"), "o-pre", "sd", [{"kty": "EC"}], 0.0, 900)
    assert not await one.defer(token, d("tx2"), "o-pre", "sd", [{"kty": "EC"}], 0.0, 900)  # no longer issuing
    assert 300 < await one._redis.ttl(f"{one._p}:o4i:token:{token}") <= 900  # it lives as long as the transaction
    claimed = await two.claim_transaction(d("tx"), token)
    assert claimed[:5] == ("ok", "o-pre", [{"kty": "EC"}], 0.0, "sd")
    assert (await one.claim_transaction(d("tx"), token))[0] == "issuing"
    await two.release_transaction(d("tx"), claimed[5])
    assert (await one.claim_transaction(d("tx"), d("other-token")))[0] == "unknown"
    assert (await one.claim_transaction(d("tx"), token))[0] == "ok"
    assert (await two.issuing_offer("o-pre", token) or offer("x")).award == b"sealed-award"
    await one.delivered(token, "o-pre", "sd", ["sd", "ldp"], ["nid-1"], d("tx"))  # the transaction spent with it
    assert (await one.claim_transaction(d("tx"), token))[0] == "unknown"
    assert await one.token_offer(token) == ("o-pre", "ready", "jkt")  # the other configuration is still owed
    assert await two.begin_issuing(token, "o-pre", "sd", []) == ("delivered", None)
    assert await one.first_use(d("jti"), 60) and not await two.first_use(d("jti"), 60)
    assert await two.notification_known(token, "nid-1") and not await two.notification_known(token, "nid-2")

    # expiry: only offers never ended are claimed (leased to one replica), then forgotten
    claimed = await one.claim_expired(now + 601, now + 700, 100)
    assert sorted(claimed) == [("o-late", ISSUER, "agency-1"), ("o-theirs", OTHER, "agency-1")]
    assert await two.claim_expired(now + 601, now + 700, 100) == []  # leased
    await one.forget_expired(["o-late", "o-theirs"])
    assert await two.claim_expired(now + 10_000, now + 10_100, 100) == []

    # the issuer's listing: each offer with the state its script left, newest first; the other issuer's apart
    listed = {e.offer_id: e.state for e in await two.offer_window(ISSUER, float("inf"), 0, 10, float("-inf"))}
    assert listed == {"o-pre": "redeemed", "o-tx": "locked", "o-auth": "redeemed", "o-wd": "withdrawn",
                      "o-late": "offered"}
    assert [e.offer_id for e in await one.offer_window(OTHER, float("inf"), 0, 10, float("-inf"))] == ["o-theirs"]
    assert await one.trim_offers(ISSUER, now + 600 + 86400 + 1) == 5
    assert await one.offer_window(ISSUER, float("inf"), 0, 10, float("-inf")) == []

    # layout: on a cluster every key of this state is in one slot (the prefix is the hash tag)
    keys = [k async for k in one._redis.scan_iter(match=f"*{prefix}*")]
    assert len(keys) > 10
    if redis_clients.topology == "cluster":
        assert {key_slot(k) for k in keys} == {key_slot(f"{{{prefix}}}".encode())}
    else:
        assert all(k.startswith(f"{prefix}:o4i:".encode()) for k in keys)  # a single node's keys as before


async def test_the_credential_step_spends_nonces_and_issues_each_configuration_once_on_both_topologies(
        redis_clients: RedisClients, unique: str) -> None:
    """A ready token's nonces are spent (all or none) in the step that starts issuing a configuration and reads its
    offer with the award the token holds; of replicas racing for one configuration, one wins, while another
    configuration of the same token goes its own way; a failed issuance owes it again; the delivery of the last
    configuration spends the token and drops its award; a refused step changes nothing."""
    prefix = f"iss-{unique}"
    one = RedisOfferStore(await redis_clients.new(), prefix)
    two = RedisOfferStore(await redis_clients.new(), prefix)
    now = time.time()
    await one.add_offers([(offer("o-cred"), d("code-cred"), "", "")], 600, now + 600)
    assert (await one.redeem(d("code-cred"), "", 5, d("tok-cred"), 300))[0] == "ok"
    cred = d("tok-cred")
    await one.add_nonce(d("n1"), 60)
    await one.add_nonce(d("n2"), 60)
    assert await two.begin_issuing(cred, "o-cred", "sd", [d("n1"), d("n3")]) == ("nonce", None)  # all or none
    assert await one.token_offer(cred) == ("o-cred", "ready", "")
    assert await one._redis.exists(f"{one._p}:o4i:nonce:{d('n1')}")  # not spent by the refusal
    outcomes = await asyncio.gather(*(store.begin_issuing(cred, "o-cred", "sd", [d("n1"), d("n2")])
                                      for store in (one, two, one, two)))
    assert sorted(why for why, _ in outcomes) == ["issuing"] * 3 + ["ok"]  # one replica wins
    assert next(o for why, o in outcomes if why == "ok") == replace(
        offer("o-cred"), state="redeemed", reference="", credential_issuer="")  # the token's award
    await one.add_nonce(d("n1"), 60)
    assert await two.begin_issuing(cred, "o-cred", "sd", [d("n1")]) == ("issuing", None)  # the state first
    assert await one._redis.exists(f"{one._p}:o4i:nonce:{d('n1')}")
    # the other configuration of the same token meanwhile: issued, failed (owed again), issued
    assert (await two.begin_issuing(cred, "o-cred", "ldp", [d("n1")]))[0] == "ok"
    await two.release(cred, "ldp")
    await one.add_nonce(d("n4"), 60)
    assert (await one.begin_issuing(cred, "o-cred", "ldp", [d("n4")]))[0] == "ok"
    await one.delivered(cred, "o-cred", "ldp", ["sd", "ldp"], ["nid-2"])
    assert await one._redis.hget(f"{one._p}:o4i:token:{cred}", "award") == b"sealed-award"  # sd still owed
    assert await one.begin_issuing(cred, "o-cred", "ldp", []) == ("delivered", None)
    await one.delivered(cred, "o-cred", "sd", ["sd", "ldp"], ["nid-3"])
    assert await one.token_offer(cred) == ("o-cred", "spent", "")
    assert not await one._redis.hexists(f"{one._p}:o4i:token:{cred}", "award")  # every configuration delivered
    assert await two.notification_known(cred, "nid-2") and await two.notification_known(cred, "nid-3")
    assert await one.begin_issuing(cred, "o-cred", "sd", []) == ("delivered", None)
    assert await one.begin_issuing(d("no-token"), "o-cred", "sd", [d("n1")]) == ("unknown", None)
    # a token whose offer expired since: refused before anything is spent
    await one.add_offers([(offer("o-gone"), d("code-gone"), "", "")], 600, now + 600)
    assert (await one.redeem(d("code-gone"), "", 5, d("tok-gone"), 300))[0] == "ok"
    await one._redis.delete(one._offer_key("o-gone"))
    await one.add_nonce(d("n5"), 60)
    assert await one.begin_issuing(d("tok-gone"), "o-gone", "sd", [d("n5")]) == ("expired", None)
    assert await one._redis.exists(f"{one._p}:o4i:nonce:{d('n5')}")
    assert await one._redis.hget(f"{one._p}:o4i:token:{d('tok-gone')}", "c:sd") is None
    # a transaction refused for good: dropped, its configuration denied
    await one.add_nonce(d("n6"), 60)
    await one.add_offers([(offer("o-deny"), d("code-deny"), "", "")], 600, now + 600)
    assert (await one.redeem(d("code-deny"), "", 5, d("tok-deny"), 300))[0] == "ok"
    assert (await one.begin_issuing(d("tok-deny"), "o-deny", "ldp", [d("n6")]))[0] == "ok"
    assert await one.defer(d("tok-deny"), d("tx-deny"), "o-deny", "ldp", [{"did": "did:key:z"}], 0.0, 900)
    await two.deny_transaction(d("tx-deny"), d("tok-deny"), "ldp")
    assert (await one.claim_transaction(d("tx-deny"), d("tok-deny")))[0] == "unknown"
    assert await one.begin_issuing(d("tok-deny"), "o-deny", "ldp", []) == ("denied", None)


async def test_a_cohort_larger_than_a_slice_is_written_whole_on_both_topologies(redis_clients: RedisClients,
                                                                                 unique: str) -> None:
    store = RedisOfferStore(await redis_clients.new(), f"iss-{unique}")
    count = ADD_SLICE * 2 + 7  # three scripts, the last one short
    cohort = [(offer(f"o-{n}"), d(f"code-{n}"), d(f"tx-{n}") if n % 2 else "", "" if n % 2 else d(f"st-{n}"))
              for n in range(count)]
    now = time.time()
    await store.add_offers(cohort, 600, now + 600, [f"lh-{n % 3}" for n in range(count)])
    for n in (0, ADD_SLICE - 1, ADD_SLICE, count - 1):  # either side of each slice's edge
        assert (await store.offer(f"o-{n}") or offer("none")).offer_id == f"o-{n}"
    assert len(await store.offer_window(ISSUER, float("inf"), 0, count + 10, float("-inf"))) == count
    assert len(await store.offers_to("lh-1")) == len(range(1, count, 3))
    claimed = await store.claim_expired(now + 601, now + 700, count + 10)
    assert sorted(offer_id for offer_id, _, _ in claimed) == sorted(f"o-{n}" for n in range(count))
    assert (await store.redeem(d(f"code-{count - 2}"), d(f"tx-{count - 2}"), 5, d("tok"), 300))[0] == "ok"  # odd: tx
    assert (await store.redeem(d(f"code-{count - 1}"), "", 5, d("tok-2"), 300))[0] == "ok"


async def test_a_deferred_transaction_is_put_back_only_by_the_claim_that_holds_it_on_both_topologies(
        redis_clients: RedisClients, unique: str) -> None:
    """A replica that stalled past the claim lease while issuing a deferred transaction, whose claim another
    replica has taken over since, cannot put the transaction back to pending when its own issuance then fails: a
    third request would claim it while the second is still issuing it (two deliveries of one transaction_id). A
    stale claim's release after the transaction was delivered leaves nothing behind either."""
    prefix = f"iss-{unique}"
    one, two, three = [RedisOfferStore(await redis_clients.new(), prefix) for _ in range(3)]
    now = time.time()
    await one.add_offers([(offer("o-def"), d("code-def"), "", "")], 600, now + 600)
    assert (await one.redeem(d("code-def"), "", 5, d("tok-def"), 300))[0] == "ok"
    token, tx_key = d("tok-def"), f"{one._p}:o4i:tx:{d('tx-def')}"
    assert (await one.begin_issuing(token, "o-def", "sd", []))[0] == "ok"
    assert await one.defer(token, d("tx-def"), "o-def", "sd", [{"kty": "EC"}], 0.0, 900)
    stalled = await one.claim_transaction(d("tx-def"), token)
    assert stalled[0] == "ok"
    await one._redis.hset(tx_key, "claimed_at", repr(time.time() - CLAIM_LEASE - 1))  # its replica stalled
    taken_over = await two.claim_transaction(d("tx-def"), token)
    assert taken_over[0] == "ok"
    await one.release_transaction(d("tx-def"), stalled[5])  # the stalled replica's issuance fails at last
    assert (await three.claim_transaction(d("tx-def"), token))[0] == "issuing"  # still the second's
    await two.delivered(token, "o-def", "sd", ["sd", "ldp"], ["nid-def"], d("tx-def"))
    await one.release_transaction(d("tx-def"), stalled[5])
    await two.release_transaction(d("tx-def"), taken_over[5])  # its own, but delivered: nothing comes back
    assert not await one._redis.exists(tx_key)
    assert (await three.claim_transaction(d("tx-def"), token))[0] == "unknown"


async def test_a_deferred_token_keeps_its_authorization_code_so_a_replay_still_revokes_it(
        redis_clients: RedisClients, unique: str) -> None:
    # RFC 6749 §4.1.2: a code used twice revokes the tokens it gave. A used code was remembered 10 minutes, but a
    # token that defers a credential lives as long as the transaction (a day): the code now lives as long.
    prefix = f"iss-{unique}"
    one = RedisOfferStore(await redis_clients.new(), prefix)
    two = RedisOfferStore(await redis_clients.new(), prefix)  # another replica
    await one.add_offers([(offer("o-code"), d("code-x"), "", d("state-x"))], 600, time.time() + 600)
    await one.add_code(d("authz-x"), "o-code", {"client_id": "w"}, 60)
    assert await one.exchange_code(d("authz-x"), d("tok-x"), 300, "k") == ("ok", "o-code")
    code_key = f"{one._p}:o4i:authz:{d('authz-x')}"
    assert 0 < await one._redis.ttl(code_key) <= 600
    assert (await one.begin_issuing(d("tok-x"), "o-code", "sd", []))[0] == "ok"
    assert await two.defer(d("tok-x"), d("tx-x"), "o-code", "sd", [{"kty": "EC"}], 0.0, 5_000)
    assert 4_900 < await one._redis.ttl(code_key) <= 5_000  # as long as the token now
    assert await two.exchange_code(d("authz-x"), d("tok-y"), 300, "k") == ("code_used", "")
    assert await one.token_offer(d("tok-x")) is None  # the replay revoked the deferred token
    assert await one.token_offer(d("tok-y")) is None
