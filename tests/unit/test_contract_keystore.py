"""The KeyStore contract against InMemoryKeyStore (EncryptedFileKeyStore's run is tests/unit/test_keystore.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from microcred.crypto.keystore import InMemoryKeyStore, KeyStore
from tests.contract.keystore import KeyStoreContract


class TestInMemoryKeyStore(KeyStoreContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> KeyStore:
        return InMemoryKeyStore()
