"""The KeyStore contract: what every key store adapter must do with keys, ids and its own repr.

Run against :class:`~microcred.crypto.keystore.InMemoryKeyStore` in ``tests/unit/test_contract_keystore.py``
and against :class:`~microcred.crypto.keystore.EncryptedFileKeyStore` (real files under ``tmp_path``; it needs
no server) in ``tests/unit/test_keystore.py``, beside that adapter's own encrypted-file cases.
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from microcred.crypto.data_integrity import sign_eddsa_rdfc_2022, verify_data_integrity
from microcred.crypto.did_key import did_key_from_public_key, resolve_key, verification_method_id
from microcred.crypto.keystore import KeyExistsError, KeyNotFoundError, KeyStore
from microcred.crypto.multikey import decode_ed25519_public_key, public_key_bytes

__all__ = ["KEK", "KeyStoreContract"]

#: The key-encryption key the encrypted adapters are opened with (the repr check looks for it too).
KEK = bytes(range(32))


class KeyStoreContract:
    """Behaviour every KeyStore adapter must have. Subclasses provide ``store``."""

    @pytest.fixture
    def store(self, tmp_path: Path) -> KeyStore:
        raise NotImplementedError

    def test_is_a_keystore(self, store: KeyStore) -> None:
        assert isinstance(store, KeyStore)

    def test_create_returns_public_multikey_matching_signing_key(self, store: KeyStore) -> None:
        multikey = store.create_key("issuer-1")
        assert multikey.startswith("z6Mk")
        assert store.public_key("issuer-1") == multikey
        signing = store.get_signing_key("issuer-1")
        assert public_key_bytes(signing.public_key()) == public_key_bytes(decode_ed25519_public_key(multikey))

    def test_keys_are_distinct_and_listed_sorted(self, store: KeyStore) -> None:
        assert store.list_keys() == []
        a = store.create_key("b-key")
        b = store.create_key("a-key")
        assert a != b
        assert store.list_keys() == ["a-key", "b-key"]

    def test_create_never_overwrites(self, store: KeyStore) -> None:
        first = store.create_key("issuer-1")
        with pytest.raises(KeyExistsError):
            store.create_key("issuer-1")
        assert store.public_key("issuer-1") == first

    def test_delete_removes_the_key_for_good(self, store: KeyStore) -> None:
        store.create_key("holder-1")
        store.create_key("holder-2")
        assert store.delete_key("holder-1") is True
        assert store.list_keys() == ["holder-2"]
        with pytest.raises(KeyNotFoundError):
            store.get_signing_key("holder-1")
        assert store.delete_key("holder-1") is False

    def test_missing_key(self, store: KeyStore) -> None:
        with pytest.raises(KeyNotFoundError):
            store.get_signing_key("nope")
        with pytest.raises(KeyNotFoundError):
            store.public_key("nope")

    @pytest.mark.parametrize("key_id", ["did:web:issuer.example#key-1", "../../etc/passwd", "ключ-1", "a/b\\c"])
    def test_any_printable_key_id_round_trips(self, store: KeyStore, key_id: str) -> None:
        store.create_key(key_id)
        assert store.list_keys() == [key_id]
        store.get_signing_key(key_id)

    @pytest.mark.parametrize("key_id", ["", "bad\nid", "x" * 201])
    def test_invalid_key_ids_rejected(self, store: KeyStore, key_id: str) -> None:
        with pytest.raises(ValueError):
            store.create_key(key_id)

    def test_repr_shows_no_key_material(self, store: KeyStore) -> None:
        store.create_key("issuer-1")
        seed = store.get_signing_key("issuer-1").private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
        )
        text = repr(store)
        for secret in (seed.hex(), base64.b64encode(seed).decode(), KEK.hex(), base64.b64encode(KEK).decode()):
            assert secret not in text

    def test_signs_verifiable_credentials(self, store: KeyStore) -> None:
        multikey = store.create_key("issuer-1")
        vm = verification_method_id(did_key_from_public_key(decode_ed25519_public_key(multikey)))
        doc = {
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "type": ["VerifiableCredential"],
            "issuer": vm.partition("#")[0],
            "credentialSubject": {"id": "did:example:learner"},
        }
        signed = sign_eddsa_rdfc_2022(doc, store.get_signing_key("issuer-1"), vm)
        assert verify_data_integrity(signed, resolve_key).verified is True
