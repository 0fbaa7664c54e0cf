"""An erased learner's offers leave no trace in the wallet's Redis: not the offers, not the sets that index them.

The wallet files each offer addressed to a learner under the learner's DID (``…:offers:by:did:{did}``: the DID
in the key's name), the keyed hash of their e-mail and their pseudonym. ``LearnerErased`` names only the
pseudonym, and the learner's DID can no longer be read from anywhere once their data key is gone; yet the sets
keyed by the DID and the e-mail hash stayed until the offer would have expired (up to 7 days), or until that
learner listed their offers again, which an erased learner may never do. Real Redis, the adapter the intake uses.
"""

from __future__ import annotations

import time

import pytest
from redis.asyncio import Redis

from services.wallet.adapters.pending_offers import PendingOffers
from services.wallet.domain.addressed_offers import AddressedOffer

pytestmark = pytest.mark.integration

KEY = bytes(range(32))


async def _keys(redis: Redis, prefix: str) -> list[str]:
    return sorted(k.decode() for k in [key async for key in redis.scan_iter(match=f"{prefix}*")])


async def test_an_erasure_drops_the_offers_and_every_index_naming_the_learner(redis: Redis, unique: str) -> None:
    prefix = f"wallet-{unique}"
    offers = PendingOffers(redis, prefix, KEY)
    did, email, pseudonym = f"did:example:erased-{unique}", f"ana.{unique}@learners.example", f"lp_{unique}"
    other_did, other_pseudonym = f"did:example:kept-{unique}", f"lp_other_{unique}"
    expires = int(time.time()) + 3600
    made = [(AddressedOffer(f"ref-{n}-{unique}", "uni-a", f"https://issuer.example/oid4vci/offers/o{n}",
                            {"en": "Data Literacy"}, {"en": "University of Zed"}, expires, False), learner)
            for n, learner in enumerate([(did, email, pseudonym), (did, email, pseudonym),
                                         (other_did, "", other_pseudonym)])]
    async with redis.pipeline(transaction=True) as pipe:
        for offer, (d, e, p) in made:
            offers.write_offered(pipe, offer, email_index=offers.email_index(e) if e else "", did=d, pseudonym=p)
        await pipe.execute()
    async with redis.pipeline(transaction=True) as pipe:
        offers.write_closed(pipe, made[1][0].offer_ref)  # one already redeemed: its index entries stayed too
        await pipe.execute()
    assert offers.did_key(did) in await _keys(redis, prefix)

    await offers.drop_learner(pseudonym)
    await offers.drop_learner(pseudonym)  # a redelivered LearnerErased changes nothing

    left = await _keys(redis, prefix)
    assert not [k for k in left if did in k or offers.email_index(email) in k or pseudonym + ":" in k
                or k.endswith(pseudonym)], left
    assert [o.offer_ref for o in await offers.for_learner([did], email, time.time())] == []
    # another learner's offer is untouched
    assert [o.offer_ref for o in await offers.for_learner([other_did], None, time.time())] == [made[2][0].offer_ref]
