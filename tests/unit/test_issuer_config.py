"""Issuer settings and key store: a development KEK is generated only outside prod; prod fails fast without one."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import pytest

from microcred.crypto.keystore import EncryptedFileKeyStore
from services.issuer.config import MissingKekError, Settings, open_keystore


def settings(tmp_path: Path, environment: str, **extra: object) -> Settings:
    return Settings(kafka_bootstrap="k:1", redis_url="redis://r", tls_dir=tmp_path, revocation_target="r:1",
                    did_web_host="trust.example.test", environment=environment, data_dir=tmp_path / "data",
                    **extra)  # type: ignore[arg-type]


def test_dev_generates_a_private_kek_file_once(tmp_path: Path) -> None:
    store = open_keystore(settings(tmp_path, "dev"), env={})
    assert isinstance(store, EncryptedFileKeyStore)
    kek = tmp_path / "data" / "kek"
    assert stat.S_IMODE(os.stat(kek).st_mode) == 0o600
    public = store.create_key("uni-a/key-1")
    again = open_keystore(settings(tmp_path, "dev"), env={})  # same KEK: the key decrypts
    assert again.public_key("uni-a/key-1") == public
    assert b"uni-a" not in next((tmp_path / "data" / "keys").iterdir()).read_bytes()  # encrypted at rest


def test_prod_without_a_kek_refuses_to_start(tmp_path: Path) -> None:
    with pytest.raises(MissingKekError, match="MICROCRED_KEK"):
        open_keystore(settings(tmp_path, "prod"), env={})


def test_prod_takes_the_kek_from_the_environment(tmp_path: Path) -> None:
    env = {"MICROCRED_KEK": base64.b64encode(bytes(range(32))).decode()}
    store = open_keystore(settings(tmp_path, "prod"), env=env)
    store.create_key("uni-a/key-1")
    assert not (tmp_path / "data" / "kek").exists()


def test_signing_workers_default_to_cores_minus_one(tmp_path: Path) -> None:
    assert settings(tmp_path, "dev").resolved_signing_workers == max(0, min(8, (os.cpu_count() or 1) - 1))
    assert settings(tmp_path, "dev", signing_workers=0).resolved_signing_workers == 0


@pytest.mark.parametrize("days", [0.5, 0.01, -1, 40000])
def test_a_request_encryption_key_period_under_a_day_or_past_a_century_is_refused(tmp_path: Path,
                                                                                days: float) -> None:
    with pytest.raises(ValueError, match=r"ENCRYPTION_KEY_DAYS|greater than or equal|less than or equal"):
        settings(tmp_path, "dev", oid4vci_encryption_key_days=days)


@pytest.mark.parametrize("days", [0, 1, 30, 36500])
def test_a_request_encryption_key_period_of_none_or_a_day_or_more_is_taken(tmp_path: Path, days: float) -> None:
    assert settings(tmp_path, "dev", oid4vci_encryption_key_days=days).oid4vci_encryption_key_days == days
