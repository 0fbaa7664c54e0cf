"""Wallet settings and start-up secrets fail fast outside dev/test."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from services.wallet.adapters.secret_keys import MissingSecretError, load_email_index_key, open_keystore
from services.wallet.config import Settings

BASE: dict[str, Any] = {"kafka_bootstrap": "k:9092", "redis_url": "redis://r:6379/0"}
PROD_OIDC: dict[str, Any] = {"oidc_issuer": "https://idp.example", "oidc_audience": "wallet",
                             "oidc_jwks_url": "https://idp.example/jwks"}


def settings(**values: Any) -> Settings:
    return Settings(**{**BASE, **values})


def test_prod_requires_the_oidc_provider() -> None:
    with pytest.raises(ValidationError, match="MICROCRED_OIDC_ISSUER"):
        settings(environment="prod")
    assert settings(environment="prod", **PROD_OIDC).oidc_audience == "wallet"


@pytest.mark.parametrize("extra", [
    {"oidc_jwks_url": "http://idp.example/jwks"},
    {"oidc_dev_signing_key_file": "/tmp/dev.json"},
])
def test_prod_refuses_insecure_or_dev_settings(extra: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        settings(environment="prod", **{**PROD_OIDC, **extra})


def test_share_settings_are_checked() -> None:
    with pytest.raises(ValidationError, match="token"):
        settings(share_url_template="https://verify.example/shares/")
    with pytest.raises(ValidationError):
        settings(share_default_seconds=100, share_max_seconds=10)


def test_prod_needs_kek_and_index_key(tmp_path: Path) -> None:
    prod = settings(environment="prod", data_dir=tmp_path, **PROD_OIDC)
    with pytest.raises(MissingSecretError, match="key-encryption key"):
        open_keystore(prod, env={})
    with pytest.raises(MissingSecretError, match="EMAIL_INDEX_KEY"):
        load_email_index_key(prod)
    assert not list(tmp_path.iterdir())  # nothing generated in prod


def test_dev_generates_secrets_once(tmp_path: Path) -> None:
    dev = settings(environment="dev", data_dir=tmp_path)
    store = open_keystore(dev, env={})
    key = load_email_index_key(dev)
    assert (tmp_path / "kek").exists() and len(key) == 32
    assert load_email_index_key(dev) == key
    store.create_key("holder:x:1")
    assert open_keystore(dev, env={}).public_key("holder:x:1") == store.public_key("holder:x:1")
    assert (tmp_path / "kek").stat().st_mode & 0o077 == 0


def test_configured_secrets_are_used(tmp_path: Path) -> None:
    kek = base64.b64encode(bytes(range(32))).decode()
    index = base64.b64encode(b"i" * 32).decode()
    prod = settings(environment="prod", data_dir=tmp_path, kek=kek, email_index_key=index, **PROD_OIDC)
    open_keystore(prod, env={})
    assert load_email_index_key(prod) == b"i" * 32
    with pytest.raises(MissingSecretError, match="at least"):
        load_email_index_key(settings(environment="prod", email_index_key=base64.b64encode(b"short").decode(),
                                      **PROD_OIDC))


def test_gone_share_links_are_kept_a_short_time_by_default_and_it_is_configurable(
        monkeypatch: pytest.MonkeyPatch) -> None:
    assert settings().share_gone_retention_seconds == 7 * 24 * 3600
    monkeypatch.setenv("MICROCRED_SHARE_GONE_RETENTION_SECONDS", "3600")
    assert settings().share_gone_retention_seconds == 3600
    with pytest.raises(ValidationError, match="share_gone_retention_seconds"):
        settings(share_gone_retention_seconds=-1)


@pytest.mark.parametrize("name", ["x509_trust_anchors_file", "oid4vp_trust_anchors_file"])
def test_a_missing_anchors_file_stops_the_wallet_at_startup(name: str, tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match=f"MICROCRED_{name.upper()} names no readable file"):
        settings(**{name: tmp_path / "absent.pem"})
    (tmp_path / "anchors.pem").write_text("")
    assert getattr(settings(**{name: tmp_path / "anchors.pem"}), name) == tmp_path / "anchors.pem"


def test_requiring_signed_issuer_metadata_needs_the_anchors_to_check_it(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="MICROCRED_WALLET_REQUIRE_SIGNED_ISSUER_METADATA needs"):
        settings(wallet_require_signed_issuer_metadata=True)
    (tmp_path / "anchors.pem").write_text("")
    assert settings(wallet_require_signed_issuer_metadata=True,
                    x509_trust_anchors_file=tmp_path / "anchors.pem").wallet_require_signed_issuer_metadata
    assert settings().wallet_require_signed_issuer_metadata is False
