"""bench.storage's accounting: which read model a Redis key is charged to, which topic a segment file belongs to,
and the per-credential growth."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.storage import bytes_per_credential, charge, kafka_bytes, kafka_topic_of, owner_of, read_model_of


@pytest.mark.parametrize(("key", "model"), [
    (b"iss-1a2b:cred:bench-x:urn:uuid:1", "issuer"),
    (b"issuer:issued:some-issuer", "issuer"),
    (b"rev-9f:bits:list-1", "revocation"),
    (b"rev-9f-registry:issuer:x", "registry"),  # the revocation service's own registry namespace
    (b"reg-77:agencies", "registry"),
    (b"{verifier-registry}:issuers", "registry"),  # hash-tagged namespace
    (b"audit-3c:entries", "audit"),
    (b"privacy:dk:{lp_abc}", "privacy"),
    (b"wallet:cred:1", "wallet"),
    (b"storage-wallet-ab12:acct:1", "wallet"),
    (b"offsets:rev-9f:microcred.credentials.v1", "revocation"),  # positions count with their projection
    (b"offsets:iss-1a2b:microcred.credentials.v1", "issuer"),
    (b"epoch:audit-3c", "audit"),
    (b"unrelated", "other"),
    ("offsets:", "other"),
])
def test_read_model_of(key: bytes | str, model: str) -> None:
    assert read_model_of(key) == model


def test_owner_of() -> None:
    assert owner_of(b"rev-9f:cred:urn:uuid:1") == "rev-9f"
    assert owner_of(b"offsets:rev-9f-registry:microcred.registry.v1") == "rev-9f-registry"
    assert owner_of(b"epoch:iss-1a") == "iss-1a"
    assert owner_of(b"{verifier-registry}:issuers") == "verifier-registry"


def test_charge_counts_only_the_named_namespaces_per_read_model() -> None:
    sizes = {b"iss-ours:cred:i:1": 10_000, b"iss-ours:issued:i": 150,
             b"offsets:iss-ours-credentials:microcred.credentials.v1": 90,
             b"rev-ours:cred:1": 600, b"privacy:dk:{lp_1}": 216,
             b"iss-earlier:oid4vci:nonce:x": 5_000,  # an earlier bench's expiring key: not ours
             b"rev-earlier:cred:2": 600}
    assert charge(sizes, {"iss-ours", "rev-ours", "privacy"}) == {"issuer": 10_150, "revocation": 600, "privacy": 216}
    # The issuer's store projection is named "<prefix>-credentials": its prefix's keys are ours too.
    assert charge(sizes, {"iss-ours-credentials"}) == {"issuer": 10_240}
    assert charge(sizes, {"iss-our"}) == {}  # a namespace is matched whole, not by its first letters
    assert charge(sizes, set()) == {}


def test_bytes_per_credential_is_growth_over_cohort() -> None:
    before = {"issuer": 1_000, "revocation": 500, "registry": 300}
    after = {"issuer": 1_000 + 25_000, "revocation": 500 + 1_001, "registry": 300, "privacy": 4_000}
    assert bytes_per_credential(before, after, 1_000) == {"issuer": 25.0, "revocation": 1.0, "privacy": 4.0}


def test_bytes_per_credential_leaves_out_shrunk_and_refuses_empty_cohort() -> None:
    assert bytes_per_credential({"a": 10}, {"a": 5}, 1) == {}
    with pytest.raises(ValueError, match="positive"):
        bytes_per_credential({}, {}, 0)


def test_kafka_topic_of() -> None:
    root = Path("/data")
    assert kafka_topic_of(root / "microcred.credentials.v1-5" / "00000000000000000000.log") == \
        "microcred.credentials.v1"
    assert kafka_topic_of(root / "microcred.credentials.v1-5" / "00000000000000000000.index") is None
    assert kafka_topic_of(root / "bench1a.microcred.credentials.v1-0" / "0.log") is None  # another bench's topic
    assert kafka_topic_of(root / "__consumer_offsets-3" / "0.log") is None
    assert kafka_topic_of(root / "kafka.log") is None


def test_kafka_bytes_sums_segments_per_topic(tmp_path: Path) -> None:
    for partition, size in ((0, 100), (1, 250)):
        directory = tmp_path / "node-1" / "data" / f"microcred.status.v1-{partition}"
        directory.mkdir(parents=True)
        (directory / "00000000000000000000.log").write_bytes(b"x" * size)
        (directory / "00000000000000000000.index").write_bytes(b"x" * 4096)
    (tmp_path / "node-1" / "kafka.log").write_bytes(b"x" * 999)
    assert kafka_bytes(tmp_path) == {"microcred.status.v1": 350}
