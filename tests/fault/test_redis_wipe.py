"""Redis is wiped (``FLUSHALL``) while a batch runs: every read model rebuilds from Kafka and matches a fresh one.

Each projection keeps a sentinel ``epoch:{projection}`` next to its state (``ProjectionEpoch``); its consumer
notices within a second that the sentinel is gone, drops the positions written since, and replays its partitions
from the beginning. The test then compares each live read model (wallet, revocation, the issuer's and the
verifier's trust registries) with a fresh rebuild made by the same projection code under another prefix.

Lost for good with Redis (not derivable from Kafka, so not compared): wallet accounts, holder-key index,
share links and the pathway-completion ledger; the revocation service's signing locks and dirty-list marks.
"""

from __future__ import annotations

import pytest
from google.rpc import code_pb2  # type: ignore[import-untyped, unused-ignore]

from microcred.gen.microcred.v1 import issuer_pb2
from tests.fault.rebuild import (
    REGISTRY_FAMILIES,
    REVOCATION_FAMILIES,
    WALLET_FAMILIES,
    converge,
    rebuilt_registry,
    rebuilt_revocation,
    rebuilt_wallet,
)
from tests.fault.support import FAULT_SERVICE_BATCH, RETRIABLE, SCALE, FaultPlatform, Scenario

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900 * SCALE)]


async def test_redis_wiped_during_batch(fault: FaultPlatform) -> None:
    scenario = await Scenario.open(fault, "redis-wipe", FAULT_SERVICE_BATCH)
    notes = scenario.outcome.notes
    # While the issuer's registry read model is being rebuilt it cannot tell that the issuer is accredited.
    scenario.client.transient = RETRIABLE | {code_pb2.PERMISSION_DENIED, code_pb2.FAILED_PRECONDITION}
    before: list[str] = []

    async def wipe() -> None:
        before.extend(a.credential_id for a in list(scenario.client.answered.values())[:20])
        fault.platform.wipe_redis()
        notes["answered_at_wipe"] = len(scenario.client.answered)

    await scenario.run(wipe, at=0.4, resend=0)

    # The issuer still answers GetCredential for credentials issued before the wipe, and re-sending their keys
    # gives back the very same documents (its idempotency records are a read model too).
    stub = fault.issuer_stub(scenario.issuer, scenario.agency)
    found = 0
    for cid in before:
        try:
            await stub.GetCredential(issuer_pb2.GetCredentialRequest(credential_id=cid), timeout=10)
            found += 1
        except Exception as exc:  # NOT_FOUND when the issuer's store was not rebuilt
            notes.setdefault("get_credential_errors", []).append(type(exc).__name__)
    notes["get_credential_found"] = f"{found}/{len(before)}"
    await scenario.client.resend_answered(scenario.keys[:50])

    diffs = {}
    async with rebuilt_wallet(fault) as wallet, rebuilt_revocation(fault) as revocation, \
            rebuilt_registry(fault) as registry:
        for name, live, rebuilt, families, alloc in (
                ("wallet", "wallet", wallet, WALLET_FAMILIES, False),
                ("revocation", "rev", revocation, REVOCATION_FAMILIES, True),
                ("issuer-registry", "issuer-registry", registry, REGISTRY_FAMILIES, False),
                ("verifier-registry", "verifier-registry", registry, REGISTRY_FAMILIES, False)):
            diff, seconds, keys = await converge(fault.redis, live, rebuilt, families, alloc)
            notes[f"{name}_matched_after_s"] = round(seconds, 1)
            notes[f"{name}_keys_compared"] = keys
            if diff:
                diffs[name] = diff.summary()
    notes["read_model_differences"] = diffs
    outcome = await scenario.check()
    assert not diffs, outcome
    assert found == len(before), outcome
