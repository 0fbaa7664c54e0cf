"""Settings of the revocation service (environment variables prefixed ``MICROCRED_``).

Besides the shared Kafka/Redis/TLS/gRPC settings the service reads:

* ``MICROCRED_HTTP_HOST`` / ``MICROCRED_HTTP_PORT``: where the status lists are served (0 = any free port);
* ``MICROCRED_STATUS_BASE_URL``: the public base of list URLs (default ``http://127.0.0.1:<http port>``).
  List URLs are written into credentials for good, so production must set a stable public URL;
* ``MICROCRED_DATA_DIR`` (default ``.run/revocation``), ``MICROCRED_KEYSTORE_DIR`` (default
  ``<data dir>/keys``): the encrypted key store of the status-list signing key;
* ``MICROCRED_KEK`` (base64) or ``MICROCRED_KEK_FILE``: the key-encryption key. Without either, ``dev`` and
  ``test`` environments generate ``<data dir>/kek`` once; ``prod`` refuses to start;
* ``MICROCRED_STATUS_LIST_TTL_SECONDS`` (60) and ``MICROCRED_STATUS_LIST_VALIDITY_SECONDS`` (300): the
  ``ttl`` in each list (also the HTTP ``max-age``) and the ``validFrom``..``validUntil`` window;
* ``MICROCRED_PUBLISH_BATCH_MS`` (50): how long the publisher gathers changes before re-signing;
* ``MICROCRED_REVOCATION_REDIS_PREFIX`` (``rev``) and ``MICROCRED_REVOCATION_CONSUMER_GROUP``
  (``revocation``): so tests and benchmarks can run isolated instances against a shared Redis and Kafka;
* ``MICROCRED_REGISTRY_NAMESPACE`` (``<revocation redis prefix>-registry``): the service's own trust-registry
  read model (fed from ``microcred.registry.v1`` by the group ``<consumer group>-registry``), where issuers'
  pinned client-certificate fingerprints are read.
* ``MICROCRED_TOKEN_STATUS_CERT_FILE`` / ``MICROCRED_TOKEN_STATUS_KEY_FILE``: the document-signing certificate
  chain (leaf first, PEM) and EC key (PEM) that sign IETF Token Status List tokens; with both set the service
  serves ``GET /token-status/{list}`` (the ``ttl`` and validity are those of the status lists).
* ``MICROCRED_STATUS_LIST_SIZE`` (1,048,576 = 2^20): entries of each new status list (the herd of a credential;
  HAIP/issue 19: 1,000,000 or more); existing lists keep their size (it travels in ``StatusIndexBlock``).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator

from microcred.settings import GrpcServiceSettings
from services.revocation.domain import MAX_BLOCK_SIZE, MAX_BULK_ITEMS


class Settings(GrpcServiceSettings):
    """Everything the revocation service reads from its environment."""

    http_host: str = "127.0.0.1"
    http_port: int = 0
    status_base_url: str | None = Field(default=None, description="public base URL of the status lists")
    data_dir: Path = Path(".run/revocation")
    keystore_dir: Path | None = Field(default=None, description="encrypted key store; default <data_dir>/keys")
    kek_file: Path | None = Field(default=None, description="file holding the key-encryption key")
    signer_key_id: str = "status-list-signer"
    status_list_ttl_seconds: int = Field(default=60, ge=1)
    status_list_validity_seconds: int = Field(default=300, ge=3)
    publish_batch_ms: int = Field(default=50, ge=0, le=900)
    refresh_check_seconds: float = Field(default=5.0, gt=0)
    projection_wait_seconds: float = Field(default=10.0, gt=0)
    max_block_size: int = Field(default=MAX_BLOCK_SIZE, ge=1, le=MAX_BLOCK_SIZE)
    # 131,072 (the W3C minimum) .. 2^20 (the size of every Token Status List, TOKEN_LIST_SIZE, whose entries
    # mirror a revocation list's indexes)
    status_list_size: int = Field(default=1 << 20, ge=131_072, le=1 << 20)
    max_bulk_items: int = Field(default=MAX_BULK_ITEMS, ge=1, le=MAX_BULK_ITEMS)
    revocation_redis_prefix: str = Field(default="rev", pattern=r"^[A-Za-z0-9_.-]{1,40}$")
    revocation_consumer_group: str = "microcred-revocation"
    registry_namespace: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.-]{1,60}$",
                                           description="trust-registry read model; default <prefix>-registry")
    token_status_cert_file: Path | None = Field(default=None, description="Token Status List signing chain (PEM)")
    token_status_key_file: Path | None = Field(default=None, description="Token Status List signing key (PEM)")

    @model_validator(mode="after")
    def _windows_fit(self) -> Settings:
        if self.status_list_validity_seconds <= 2 * self.status_list_ttl_seconds:
            raise ValueError("status_list_validity_seconds must exceed twice status_list_ttl_seconds, so that a "
                             "cached copy is still valid when its ttl runs out")
        return self

    @property
    def resolved_registry_namespace(self) -> str:
        """The trust-registry read model's Redis namespace."""
        return self.registry_namespace or f"{self.revocation_redis_prefix}-registry"

    @property
    def resolved_keystore_dir(self) -> Path:
        """The key store directory (``keystore_dir`` or ``<data_dir>/keys``)."""
        return self.keystore_dir if self.keystore_dir is not None else self.data_dir / "keys"
