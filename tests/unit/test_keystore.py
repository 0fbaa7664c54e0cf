"""EncryptedFileKeyStore: the KeyStore contract (tests/contract/keystore.py) plus encrypted-file specifics, and
KEK loading."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from microcred.crypto.keystore import (
    EncryptedFileKeyStore,
    KeyStore,
    KeyStoreError,
    load_kek,
)
from tests.contract.keystore import KEK, KeyStoreContract


class TestEncryptedFileKeyStore(KeyStoreContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> KeyStore:
        return EncryptedFileKeyStore(tmp_path / "keys", KEK)

    def test_file_layout_and_no_plaintext(self, tmp_path: Path) -> None:
        store = EncryptedFileKeyStore(tmp_path / "keys", KEK)
        store.create_key("issuer-1")
        seed = store.get_signing_key("issuer-1").private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
        )
        files = list((tmp_path / "keys").iterdir())
        assert len(files) == 1  # no temporary files left behind
        blob = files[0].read_bytes()
        assert len(blob) == 12 + 32 + 16  # nonce || ciphertext || tag
        assert seed not in blob
        assert stat.S_IMODE(files[0].stat().st_mode) == 0o600
        assert stat.S_IMODE((tmp_path / "keys").stat().st_mode) == 0o700

    def test_reopen_with_same_kek_gives_same_key(self, tmp_path: Path) -> None:
        first = EncryptedFileKeyStore(tmp_path / "keys", KEK)
        multikey = first.create_key("issuer-1")
        again = EncryptedFileKeyStore(tmp_path / "keys", KEK)
        assert again.list_keys() == ["issuer-1"]
        assert again.public_key("issuer-1") == multikey

    def test_wrong_kek_cannot_decrypt(self, tmp_path: Path) -> None:
        EncryptedFileKeyStore(tmp_path / "keys", KEK).create_key("issuer-1")
        other = EncryptedFileKeyStore(tmp_path / "keys", bytes(32))
        with pytest.raises(KeyStoreError, match="cannot be decrypted"):
            other.get_signing_key("issuer-1")

    def test_key_id_is_bound_by_aad(self, tmp_path: Path) -> None:
        store = EncryptedFileKeyStore(tmp_path / "keys", KEK)
        store.create_key("issuer-1")
        src = tmp_path / "keys" / (b"issuer-1".hex() + ".key")
        src.rename(tmp_path / "keys" / (b"issuer-2".hex() + ".key"))
        fresh = EncryptedFileKeyStore(tmp_path / "keys", KEK)
        with pytest.raises(KeyStoreError, match="cannot be decrypted"):
            fresh.get_signing_key("issuer-2")

    def test_tampered_file_detected(self, tmp_path: Path) -> None:
        store = EncryptedFileKeyStore(tmp_path / "keys", KEK)
        store.create_key("issuer-1")
        path = tmp_path / "keys" / (b"issuer-1".hex() + ".key")
        blob = bytearray(path.read_bytes())
        blob[20] ^= 1
        path.write_bytes(bytes(blob))
        with pytest.raises(KeyStoreError):
            EncryptedFileKeyStore(tmp_path / "keys", KEK).get_signing_key("issuer-1")

    def test_foreign_files_are_ignored(self, tmp_path: Path) -> None:
        store = EncryptedFileKeyStore(tmp_path / "keys", KEK)
        (tmp_path / "keys" / "README.key").write_text("not a key")
        (tmp_path / "keys" / "notes.txt").write_text("x")
        assert store.list_keys() == []

    def test_bad_kek_length_rejected(self, tmp_path: Path) -> None:
        with pytest.raises(KeyStoreError, match="32 bytes"):
            EncryptedFileKeyStore(tmp_path / "keys", b"short")


# ------------------------------------------------------------------------------------------- KEK loading


def test_kek_from_env_base64() -> None:
    assert load_kek({"MICROCRED_KEK": base64.b64encode(KEK).decode()}) == KEK


def test_kek_from_secret_file_raw_or_base64(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.write_bytes(KEK)
    text = tmp_path / "b64"
    text.write_text(base64.b64encode(KEK).decode() + "\n")
    assert load_kek({}, secret_file=raw) == KEK
    assert load_kek({"MICROCRED_KEK_FILE": os.fspath(text)}) == KEK


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "no key-encryption key"),
        ({"MICROCRED_KEK": "not base64!"}, "not valid base64"),
        ({"MICROCRED_KEK": base64.b64encode(b"16 bytes only!!!").decode()}, "must be 32 bytes"),
    ],
)
def test_kek_errors_never_echo_the_value(env: dict[str, str], message: str) -> None:
    with pytest.raises(KeyStoreError, match=message) as info:
        load_kek(env)
    for value in env.values():
        assert value not in str(info.value)


def test_from_env(tmp_path: Path) -> None:
    store = EncryptedFileKeyStore.from_env(tmp_path / "keys", {"MICROCRED_KEK": base64.b64encode(KEK).decode()})
    assert store.create_key("k").startswith("z6Mk")
