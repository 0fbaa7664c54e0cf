"""Settings for the verifier gateway as an OpenID4VP verifier in tests: a fresh registry namespace, no rate limit
to speak of, and (:func:`x509_verifier`) an ``x509_san_dns`` identity for a host, its certificate signed by a
platform CA of its own, with the SD-JWT VC test issuer's CA as the x509 trust anchor."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization

from microcred import pki
from services.verifier.config import Settings
from tests.conftest import Infrastructure
from tests.harness.sd_jwt import SdWorld, make_world

__all__ = ["X509Verifier", "gateway_settings", "x509_verifier"]


def gateway_settings(infrastructure: Infrastructure, redis_url: str = "", **extra: Any) -> Settings:
    """The gateway on the session's Kafka and Redis (or ``redis_url``), HTTP on port 0."""
    tag = uuid.uuid4().hex[:8]
    return Settings(kafka_bootstrap=infrastructure.kafka_bootstrap, redis_url=redis_url or infrastructure.redis_url,
                    http_port=0, environment="test", registry_namespace=f"vreg-{tag}", registry_group=f"vreg-{tag}",
                    rate_limit_per_second=1e6, rate_limit_burst=1_000_000, **extra)


@dataclass(frozen=True)
class X509Verifier:
    """The settings, the SD-JWT VC issuer the gateway trusts, and the CA that certified the gateway's key."""

    settings: Settings
    sd: SdWorld
    ca_pem: bytes


def x509_verifier(infrastructure: Infrastructure, tmp: Path, host: str, redis_url: str = "",
                  prefix: str = "x509_san_dns") -> X509Verifier:
    """A gateway whose client identifier is ``x509_san_dns:{host}`` (or, with ``prefix="x509_hash"``, the hash of
    its certificate naming ``host``)."""
    sd = make_world()
    anchors = tmp / "anchors.pem"
    anchors.write_bytes(b"".join(c.public_bytes(serialization.Encoding.PEM) for c in sd.anchors))
    now = dt.datetime.now(dt.UTC)
    ca = pki.create_ca("Platform CA", not_before=now - dt.timedelta(days=1))
    cert = pki.create_signing_cert(ca, issuer_uri=f"https://{host}", common_name="Verifier gateway",
                                   not_before=now - dt.timedelta(days=1))
    cert_file, key_file = cert.write(tmp, "verifier")
    settings = gateway_settings(infrastructure, redis_url, x509_trust_anchors_file=anchors, oid4vp_client_host=host,
                                oid4vp_signing_cert_file=cert_file, oid4vp_signing_key_file=key_file,
                                oid4vp_client_id_prefix=prefix)
    return X509Verifier(settings, sd, ca.cert_pem)
