"""Settings and the status-list signing key: encrypted key store, dev KEK, fail-fast in production."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from microcred.crypto.did_key import public_key_from_did_key
from microcred.crypto.keystore import EncryptedFileKeyStore
from services.revocation.adapters.keys import MissingKekError, load_signer, open_keystore
from services.revocation.config import Settings


def settings(tmp_path: Path, **values: object) -> Settings:
    base: dict[str, object] = {"kafka_bootstrap": "k:9092", "redis_url": "redis://r", "tls_dir": tmp_path,
                               "data_dir": tmp_path / "data"}
    return Settings(**{**base, **values})  # type: ignore[arg-type]


def test_defaults_and_window_validation(tmp_path: Path) -> None:
    s = settings(tmp_path)
    assert (s.status_list_ttl_seconds, s.status_list_validity_seconds, s.publish_batch_ms) == (60, 300, 50)
    assert s.resolved_keystore_dir == tmp_path / "data" / "keys"
    assert settings(tmp_path, keystore_dir=tmp_path / "ks").resolved_keystore_dir == tmp_path / "ks"
    with pytest.raises(ValidationError, match="twice"):
        settings(tmp_path, status_list_ttl_seconds=300, status_list_validity_seconds=600)
    with pytest.raises(ValidationError):
        settings(tmp_path, revocation_redis_prefix="has space")


def test_settings_come_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MICROCRED_HTTP_PORT", "8082")
    monkeypatch.setenv("MICROCRED_STATUS_BASE_URL", "https://status.example")
    monkeypatch.setenv("MICROCRED_KEYSTORE_DIR", str(tmp_path / "keys"))
    s = Settings(kafka_bootstrap="k:9092", redis_url="redis://r", tls_dir=tmp_path)
    assert (s.http_port, s.status_base_url, s.resolved_keystore_dir) == (8082, "https://status.example",
                                                                          tmp_path / "keys")


def test_dev_generates_a_kek_once_and_the_key_survives_a_restart(tmp_path: Path) -> None:
    s = settings(tmp_path, environment="dev")
    first = load_signer(open_keystore(s, env={}), s.signer_key_id)
    kek = (tmp_path / "data" / "kek").read_bytes()
    assert oct((tmp_path / "data" / "kek").stat().st_mode & 0o777) == "0o600"
    second = load_signer(open_keystore(s, env={}), s.signer_key_id)
    assert (tmp_path / "data" / "kek").read_bytes() == kek
    assert first.did == second.did and first.did.startswith("did:key:z6Mk")
    assert first.verification_method == f"{first.did}#{first.did.removeprefix('did:key:')}"
    public_key_from_did_key(first.verification_method)
    assert "PRIVATE" not in repr(first) and first.did in repr(first)
    seed_files = list((tmp_path / "data" / "keys").iterdir())
    assert len(seed_files) == 1 and len(seed_files[0].read_bytes()) == 12 + 32 + 16  # encrypted, not plain


def test_prod_without_a_kek_fails_fast(tmp_path: Path) -> None:
    with pytest.raises(MissingKekError, match="MICROCRED_KEK"):
        open_keystore(settings(tmp_path, environment="prod"), env={})
    assert not (tmp_path / "data" / "kek").exists()


def test_prod_with_a_kek_from_env_or_file(tmp_path: Path) -> None:
    kek = base64.b64encode(os.urandom(32)).decode()
    store = open_keystore(settings(tmp_path, environment="prod"), env={"MICROCRED_KEK": kek})
    assert isinstance(store, EncryptedFileKeyStore)
    did = load_signer(store, "status-list-signer").did
    kek_file = tmp_path / "kek.txt"
    kek_file.write_text(kek)
    again = open_keystore(settings(tmp_path, environment="prod", kek_file=kek_file), env={})
    assert load_signer(again, "status-list-signer").did == did
