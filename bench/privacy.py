"""The cost of sealing learners' personal data in ``CredentialIssued`` (issue 18), per credential.

Three figures, each over chunks of 256 credentials (the issuer's default chunk):

* ``privacy_seal_us_per_credential``: sealing with the learners' keys already known (in-memory key store):
  the CPU time the issuer adds per credential (protobuf copy, synthetic nonce, AES-256-GCM of ~10 kB);
* ``privacy_open_us_per_credential``: opening again (CPU time), what every consumer adds;
* ``privacy_seal_new_learners_us_per_credential``: sealing for learners who have no key yet, on the real
  key store (Redis + the learner key topic on Kafka, acks=all): key creation included, the worst case of a cohort
  of new learners; ``privacy_seal_known_learners_us_per_credential``: the same learners again (one Redis round trip
  per chunk). These two are wall time (they wait for Redis and Kafka).

On the issuer's path an event is sealed once: the publish and the issued record reuse the pending record's
seal (``EventPrivacy`` remembers recent seals), and the answer is built from the clear event.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable

from google.protobuf import json_format
from redis.asyncio import Redis

from bench.run import BenchInfra
from microcred.events.envelope import EventEnvelope
from microcred.gen.microcred.v1 import events_pb2
from microcred.privacy.datakeys import InMemoryDataKeys
from microcred.privacy.events import EventPrivacy
from microcred.privacy.kafka_datakeys import KafkaDataKeys
from microcred.privacy.wrapping import AesGcmKeyWrapper, pseudonymizer_for
from tests.harness.factories import valid_micro_credential

CHUNK = 256


def _envelopes(count: int, tag: str) -> list[EventEnvelope]:
    out = []
    for n in range(count):
        mc = valid_micro_credential()
        mc.learner.ClearField("hashed_id")
        mc.learner.email, mc.learner.did = f"learner{n}.{tag}@bench.example", ""
        document = json_format.MessageToDict(mc)
        document["proof"] = {"proofValue": "z" + "x" * 86, "padding": "p" * 4000}  # ~10 kB, as a signed credential
        event = events_pb2.CredentialIssued(credential_id=f"urn:uuid:{uuid.uuid4()}", issuer_id="bench",
                                            credential_json=json.dumps(document), credential=mc)
        out.append(EventEnvelope(event_id=str(uuid.uuid4()), event_type="CredentialIssued",
                                 payload_type=event.DESCRIPTOR.full_name, payload=event.SerializeToString()))
    return out


async def _seal_all(privacy: EventPrivacy, envelopes: list[EventEnvelope],
                    clock: Callable[[], float] = time.perf_counter) -> tuple[float, list[EventEnvelope]]:
    sealed: list[EventEnvelope] = []
    started = clock()
    for i in range(0, len(envelopes), CHUNK):
        sealed += await privacy.seal(envelopes[i:i + CHUNK])
    return (clock() - started) / len(envelopes) * 1e6, sealed


async def measure(infra: BenchInfra, quick: bool) -> dict[str, float]:
    """Seal and open ``CHUNK``-sized batches; microseconds per credential."""
    count = 1024 if quick else 8192
    kek = bytes(range(32))
    tag = uuid.uuid4().hex[:8]
    envelopes = _envelopes(count, tag)
    memory = EventPrivacy(InMemoryDataKeys(), pseudonymizer_for(kek))
    await memory.seal(_envelopes(count, tag))  # the learners' keys made (other event ids: nothing reused)
    # CPU time of this process (not wall time): the figure holds on a machine busy with other work too.
    seal_us, sealed = await _seal_all(memory, envelopes, time.process_time)
    items = [(env, events_pb2.CredentialIssued.FromString(env.payload)) for env in sealed]
    started = time.process_time()
    for i in range(0, len(items), CHUNK):
        opened = await memory.open(items[i:i + CHUNK])
        assert not any(o.erased for o in opened)
    open_us = (time.process_time() - started) / len(items) * 1e6

    redis = Redis.from_url(infra.redis_url)
    keys = KafkaDataKeys(infra.kafka_bootstrap, redis, AesGcmKeyWrapper(kek), prefix=f"bench-{uuid.uuid4().hex[:6]}")
    await keys.start()
    try:
        real = EventPrivacy(keys, pseudonymizer_for(kek))
        tag = uuid.uuid4().hex[:8]
        new_us, _ = await _seal_all(real, _envelopes(count // 4, tag))
        known_us, _ = await _seal_all(real, _envelopes(count // 4, tag))  # same learners, new events
    finally:
        await keys.stop()
        await redis.aclose()
    return {"privacy_seal_us_per_credential": round(seal_us, 1),
            "privacy_open_us_per_credential": round(open_us, 1),
            "privacy_seal_new_learners_us_per_credential": round(new_us, 1),
            "privacy_seal_known_learners_us_per_credential": round(known_us, 1),
            "privacy_record_bytes": float(len(sealed[0].SerializeToString()))}
