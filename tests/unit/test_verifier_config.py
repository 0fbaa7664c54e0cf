"""Verifier gateway settings that would otherwise fail only when a wallet refuses a request."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from services.verifier.config import Settings

BASE: dict[str, Any] = {"kafka_bootstrap": "k:9092", "redis_url": "redis://r:6379/0", "environment": "test"}


def settings(**values: Any) -> Settings:
    return Settings(**{**BASE, **values})


def test_with_x509_san_dns_the_public_url_is_on_the_client_host() -> None:
    """OpenID4VP 1.0 §5.9.3: the response_uri's host is the x509_san_dns client identifier's."""
    with pytest.raises(ValidationError, match="oid4vp_client_host"):
        settings(oid4vp_client_id_prefix="x509_san_dns", oid4vp_client_host="verifier.example",
                 oid4vp_public_url="https://gateway.example")
    taken = settings(oid4vp_client_id_prefix="x509_san_dns", oid4vp_client_host="Verifier.example",
                     oid4vp_public_url="https://verifier.example:8443/")
    assert taken.oid4vp_public_url == "https://verifier.example:8443/"
    # x509_hash names no host: any public URL
    assert settings(oid4vp_client_host="verifier.example", oid4vp_public_url="https://gateway.example")
