"""The secrets issuer replicas share through the key store: one seed per key id, made once, a key per purpose."""

from __future__ import annotations

from pathlib import Path

from microcred.crypto.keystore import EncryptedFileKeyStore, InMemoryKeyStore
from services.issuer.adapters.shared_seed import shared_key, shared_seed


def test_replicas_on_one_key_store_derive_the_same_key(tmp_path: Path) -> None:
    directory = tmp_path / "keys"
    kek = b"\x07" * 32
    first, second = EncryptedFileKeyStore(directory, kek), EncryptedFileKeyStore(directory, kek)
    key = shared_key(first, "rest-oauth-tokens", b"purpose/v1")  # the first replica makes the seed
    assert len(key) == 32
    assert shared_key(second, "rest-oauth-tokens", b"purpose/v1") == key  # the second reads it
    assert shared_key(second, "rest-oauth-tokens", b"purpose/v2") != key  # another purpose, another key
    assert shared_key(second, "another-seed", b"purpose/v1") != key


def test_the_seed_is_made_once() -> None:
    keystore = InMemoryKeyStore()
    seed = shared_seed(keystore, "s")
    assert len(seed) == 32 and shared_seed(keystore, "s") == seed
