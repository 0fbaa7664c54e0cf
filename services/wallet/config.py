"""Settings of the wallet service (environment variables prefixed ``MICROCRED_``).

Besides the shared Kafka/Redis/HTTP settings the wallet reads:

* ``MICROCRED_OIDC_ISSUER``, ``MICROCRED_OIDC_AUDIENCE``: the ``iss`` and ``aud`` every learner token must
  carry; ``MICROCRED_OIDC_JWKS_URL`` (the provider's key set, fetched over HTTP and cached for
  ``MICROCRED_OIDC_JWKS_CACHE_SECONDS``) or ``MICROCRED_OIDC_JWKS_FILE`` (a local JWKS file, for tests).
  ``prod`` requires issuer, audience and an ``https`` JWKS URL.
* ``MICROCRED_OIDC_DEV_SIGNING_KEY_FILE``: a private JWK set that the dev-only login (``POST /dev/login``)
  signs tokens with. Allowed only when ``MICROCRED_ENVIRONMENT`` is ``dev`` or ``test``. In ``dev`` with no
  OIDC settings at all, the wallet generates ``<data dir>/dev-oidc.json`` and trusts it, so that
  ``make run`` gives a working learner page.
* ``MICROCRED_DATA_DIR`` (default ``.run/wallet``), ``MICROCRED_KEYSTORE_DIR`` (default ``<data dir>/keys``),
  ``MICROCRED_KEK`` (base64) or ``MICROCRED_KEK_FILE``: the encrypted store of the learners' custodial holder
  keys. Without a KEK, ``dev``/``test`` generate ``<data dir>/kek`` once and ``prod`` refuses to start.
* ``MICROCRED_EMAIL_INDEX_KEY``: base64 of >= 32 random bytes, the HMAC key under which credentials are filed
  by the learner's e-mail (never stored in clear). Same rule: generated in ``dev``/``test``, required in
  ``prod``; keep it stable (a new key means rebuilding the read model by replay).
* ``MICROCRED_SHARE_URL_TEMPLATE``: the public page of a share link (the verifier gateway), ``{token}`` is
  replaced; ``MICROCRED_SHARE_MAX_SECONDS`` caps a link's lifetime. ``MICROCRED_SHARE_GONE_RETENTION_SECONDS``
  (default 7 days, short on purpose: docs/privacy.md's retention table) is how long an expired or withdrawn
  link and its access count are kept after the link's expiry (it answers 410 meanwhile, then 404).
* ``MICROCRED_X509_TRUST_ANCHORS_FILE``: PEM file of the CA certificates (the agencies') that an imported SD-JWT
  VC's ``x5c`` chain must reach; unset, no SD-JWT VC can be imported (its issuer could not be checked). Set, the
  wallet also asks issuers for signed metadata (OpenID4VCI §12.2.3) and checks it against them;
  ``MICROCRED_WALLET_REQUIRE_SIGNED_ISSUER_METADATA``: take no unsigned metadata (docs/wallet-oid4vci.md);
* ``MICROCRED_OID4VP_TRUST_ANCHORS_FILE``: PEM file of the CA certificates an OpenID4VP verifier's signed
  (``x509_san_dns``) request object must chain to; unset, only unsigned development requests can be inspected
  (docs/oid4vp.md, "Our wallet as responder").
* ``MICROCRED_WALLET_TRUSTED_ISSUERS``: the OpenID4VCI Credential Issuer identifiers (JSON list, or comma
  separated) whose offers the learner can accept; the wallet calls no other issuer (no SSRF through a pasted
  link). ``https`` only (``http`` to loopback in ``dev``/``test``). Empty: no offer is accepted.
  ``MICROCRED_WALLET_ISSUER_TLS_CA_FILE``: PEM CA certificates for those issuers' TLS (default: the system's).
* ``MICROCRED_PATHWAY_PUBLISHER_SCOPE``: the OAuth scope that lets an issuer or agency publish a pathway
  through ``POST /v1/admin/pathways``.
* ``MICROCRED_WALLET_REDIS_PREFIX``, ``MICROCRED_WALLET_CONSUMER_GROUP``, ``MICROCRED_WALLET_TOPIC_PREFIX``:
  so tests can run isolated instances against a shared Redis and Kafka.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import NoDecode

from microcred.loopback import LOOPBACK_HOSTS
from microcred.settings import HttpServiceSettings
from microcred.storage.slot_groups import GROUPS_ON_CLUSTER

DEV_ENVIRONMENTS = frozenset({"dev", "test"})


class Settings(HttpServiceSettings):
    """Everything the wallet service reads from its environment."""

    oidc_issuer: str | None = Field(default=None, description="expected `iss` of learner tokens")
    oidc_audience: str | None = Field(default=None, description="expected `aud` of learner tokens")
    oidc_jwks_url: str | None = Field(default=None, description="the provider's JWKS URL")
    oidc_jwks_file: Path | None = Field(default=None, description="a local JWKS file (tests)")
    oidc_jwks_cache_seconds: float = Field(default=300.0, gt=0)
    oidc_dev_signing_key_file: Path | None = Field(default=None, description="dev/test only: private JWK set")
    oidc_leeway_seconds: int = Field(default=30, ge=0, le=300)
    data_dir: Path = Path(".run/wallet")
    keystore_dir: Path | None = Field(default=None, description="encrypted holder keys; default <data_dir>/keys")
    kek: SecretStr | None = Field(default=None, description="key-encryption key, base64 of 32 bytes")
    kek_file: Path | None = Field(default=None, description="file holding the key-encryption key")
    email_index_key: SecretStr | None = Field(default=None, description="HMAC key of the e-mail index, base64")
    share_url_template: str = "http://127.0.0.1:8080/shares/{token}"
    share_default_seconds: int = Field(default=7 * 24 * 3600, ge=1)
    share_max_seconds: int = Field(default=90 * 24 * 3600, ge=1)
    share_gone_retention_seconds: int = Field(default=7 * 24 * 3600, ge=0)
    pathway_publisher_scope: str = "microcred:pathways.publish"
    max_import_bytes: int = Field(default=512 * 1024, ge=1024)
    wallet_max_body_bytes: int = Field(
        default=256 * 1024, ge=1024, description="request bodies larger than this get 413 problem+json, on every "
        "route but POST /v1/import (MICROCRED_MAX_IMPORT_BYTES); docs/operations.md")
    x509_trust_anchors_file: Path | None = Field(
        default=None, description="PEM CA certificates an imported SD-JWT VC's x5c must chain to (none: refused)")
    oid4vp_trust_anchors_file: Path | None = Field(
        default=None, description="PEM CA certificates an OpenID4VP verifier's x509_san_dns request must chain to")
    wallet_trusted_issuers: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="OpenID4VCI issuers whose offers are accepted (docs/wallet-oid4vci.md)")
    wallet_issuer_tls_ca_file: Path | None = Field(default=None, description="PEM CAs of the issuers' TLS")
    wallet_require_signed_issuer_metadata: bool = Field(
        default=False, description="take only signed Credential Issuer Metadata (OpenID4VCI §12.2.3), checked "
                                   "against MICROCRED_X509_TRUST_ANCHORS_FILE")
    wallet_redis_prefix: str = Field(default="wallet", pattern=r"^[A-Za-z0-9_.-]{1,40}$")
    wallet_document_slot_groups: int = Field(
        default=GROUPS_ON_CLUSTER, ge=1, le=1024,
        description="On a Redis Cluster: slot groups the credential records spread over (the same on every "
                    "replica; a change rebuilds the read model from Kafka). Ignored on a single node")
    wallet_consumer_group: str = "microcred-wallet"
    wallet_topic_prefix: str = Field(default="", pattern=r"^[A-Za-z0-9_.-]{0,60}$")

    @field_validator("wallet_trusted_issuers", mode="before")
    @classmethod
    def _issuer_list(cls, value: Any) -> Any:
        if isinstance(value, str):  # the environment: a JSON list or comma-separated URLs
            text = value.strip()
            return json.loads(text) if text.startswith("[") else [v.strip() for v in text.split(",") if v.strip()]
        return value

    @model_validator(mode="after")
    def _fail_fast(self) -> Settings:
        for issuer in self.wallet_trusted_issuers:
            parts = urlsplit(issuer)
            loopback = parts.hostname in LOOPBACK_HOSTS
            if not parts.hostname or parts.query or parts.fragment or not (
                    parts.scheme == "https" or (parts.scheme == "http" and loopback and self.is_dev)):
                raise ValueError(f"MICROCRED_WALLET_TRUSTED_ISSUERS: {issuer!r} is not an https issuer identifier")
        if self.oidc_jwks_url is not None and self.oidc_jwks_file is not None:
            raise ValueError("set only one of MICROCRED_OIDC_JWKS_URL and MICROCRED_OIDC_JWKS_FILE")
        if self.share_default_seconds > self.share_max_seconds:
            raise ValueError("share_default_seconds must not exceed share_max_seconds")
        if "{token}" not in self.share_url_template:
            raise ValueError("share_url_template must contain {token}")
        if self.wallet_require_signed_issuer_metadata and self.x509_trust_anchors_file is None:
            raise ValueError("MICROCRED_WALLET_REQUIRE_SIGNED_ISSUER_METADATA needs MICROCRED_X509_TRUST_ANCHORS_FILE "
                             "(the CAs signed metadata must chain to)")
        # A configured anchors file that is not there stops the wallet at startup, not its first request (a 500).
        for name in ("x509_trust_anchors_file", "oid4vp_trust_anchors_file"):
            path = getattr(self, name)
            if path is not None and not path.is_file():
                raise ValueError(f"MICROCRED_{name.upper()} names no readable file: {path}")
        if self.is_dev:
            return self
        missing = [name for name in ("oidc_issuer", "oidc_audience", "oidc_jwks_url") if not getattr(self, name)]
        if missing:
            raise ValueError(f"environment {self.environment!r} requires " + ", ".join(
                "MICROCRED_" + name.upper() for name in missing))
        if urlsplit(self.oidc_jwks_url or "").scheme != "https":
            raise ValueError("MICROCRED_OIDC_JWKS_URL must be https outside dev/test")
        if self.oidc_jwks_file is not None or self.oidc_dev_signing_key_file is not None:
            raise ValueError("MICROCRED_OIDC_JWKS_FILE and MICROCRED_OIDC_DEV_SIGNING_KEY_FILE are dev/test only")
        return self

    @property
    def is_dev(self) -> bool:
        """True in the ``dev`` and ``test`` environments (dev login, generated keys allowed)."""
        return self.environment in DEV_ENVIRONMENTS

    @property
    def resolved_keystore_dir(self) -> Path:
        """The key store directory (``keystore_dir`` or ``<data_dir>/keys``)."""
        return self.keystore_dir if self.keystore_dir is not None else self.data_dir / "keys"

    def topic(self, name: str) -> str:
        """The full name of a platform topic for this instance (``wallet_topic_prefix`` + name)."""
        return self.wallet_topic_prefix + name
