"""Dead-letter record keys are deterministic per (consumer group, source record)."""

from __future__ import annotations

from microcred.kafka.dead_letters import dead_letter_key


def test_the_same_source_record_always_gets_the_same_key_and_others_do_not() -> None:
    key = dead_letter_key("microcred-wallet", "microcred.credentials.v1", 3, 1207)
    assert key == dead_letter_key("microcred-wallet", "microcred.credentials.v1", 3, 1207)
    others = {dead_letter_key("microcred-revocation", "microcred.credentials.v1", 3, 1207),
              dead_letter_key("microcred-wallet", "microcred.status.v1", 3, 1207),
              dead_letter_key("microcred-wallet", "microcred.credentials.v1", 4, 1207),
              dead_letter_key("microcred-wallet", "microcred.credentials.v1", 3, 1208)}
    assert key not in others and len(others) == 4
