"""Settings of the verifier gateway (environment variables prefixed ``MICROCRED_``).

Besides the shared Kafka/Redis/HTTP settings:

* ``MICROCRED_WALLET_URL``: base URL of the wallet (share links are resolved at ``/v1/shares/{token}``);
  unset: share links answer 503;
* ``MICROCRED_STATUS_URL_PREFIXES``: JSON list of URL prefixes of *this platform's* status lists; only those
  are fetched over HTTP when the Kafka-fed cache lacks a list (nothing else is ever fetched); compared as
  parsed URLs (scheme, host, port, path under the prefix's path), never as strings;
* ``MICROCRED_TOKEN_STATUS_URL_PREFIXES``: the same for the platform's Token Status Lists (SD-JWT VCs; the
  revocation service's ``/token-status/``); empty: an SD-JWT VC's status is unknown;
* ``MICROCRED_X509_TRUST_ANCHORS_FILE``: PEM file of the CA certificates (the agencies' CAs) that SD-JWT VC
  issuers' and Status List Tokens' ``x5c`` chains must reach; unset: their issuer identity is unknown;
* ``MICROCRED_STATUS_LIST_SIGNERS``: JSON list of identifiers allowed to sign status lists (e.g. the
  revocation service's did:key); unset accepts any signer whose key resolves;
* ``MICROCRED_CONTROLLER_DOCUMENTS``: a JSON file with a list of DID/controller documents of partner issuers
  whose keys the gateway may use (never fetched);
* ``MICROCRED_MAX_BODY_BYTES`` (262144), ``MICROCRED_RATE_LIMIT_PER_SECOND`` (20) and
  ``MICROCRED_RATE_LIMIT_BURST`` (60) per client address, ``MICROCRED_CORS_ORIGINS`` (JSON list, ``["*"]``);
* ``MICROCRED_RATE_LIMIT_SHARED`` (true): the per-client limit holds in total across every worker and replica
  (token buckets in Redis, :mod:`services.verifier.api.rate_limit`); false: per process.
  ``MICROCRED_RATE_LIMIT_TIMEOUT_MS`` (50): how long a request waits for Redis's answer before this process's
  own buckets decide (fails open to the per-process limit; docs/rate-limit.md);
* ``MICROCRED_TRUSTED_PROXIES`` (JSON list of CIDRs, empty): the reverse proxies / load balancers in front of
  the gateway. Only a request whose direct peer is in one of them has its client taken from
  ``X-Forwarded-For`` (the rightmost address that is not a trusted proxy); otherwise the header is ignored.
  Empty: every request is its peer's (uvicorn's own proxy-header handling is off for the verifier);
* ``MICROCRED_REGISTRY_NAMESPACE`` / ``MICROCRED_REGISTRY_GROUP``: the verifier's own trust-registry read
  model in Redis and its consumer group;
* ``MICROCRED_MAX_IN_FLIGHT`` (256) and ``MICROCRED_SHED_QUEUE_DELAY_MS`` (20): process saturation limits; past
  either (the queueing delay for 100 ms, under a stream of requests), a share of new requests is shed with
  429 + ``Retry-After`` (:mod:`services.verifier.api.admission`; 0 disables);
* ``MICROCRED_HTTP_WORKERS`` (1): uvicorn worker processes of ``python -m services.verifier.main``; each keeps
  its own status-list cache from Kafka, its own caches and limits (one per core; in Kubernetes keep 1 and
  scale pods);
* ``MICROCRED_RESULT_CACHE_ENTRIES`` (20000): size of the time-independent result cache;
* ``MICROCRED_REGISTRY_CACHE_SECONDS`` (1.0): how long registry answers (key resolution, an issuer's
  accreditations) are reused; a key rotation or an accreditation change shows within that time (0: every
  verification reads Redis).
* OpenID4VP (docs/oid4vp.md): ``MICROCRED_OID4VP_PUBLIC_URL`` (the base URL wallets reach the gateway at;
  default: each request's own), ``MICROCRED_OID4VP_CLIENT_HOST`` with ``MICROCRED_OID4VP_SIGNING_CERT_FILE``
  (PEM chain, leaf first, its SAN naming the host) and ``MICROCRED_OID4VP_SIGNING_KEY_FILE``: the
  ``x509_san_dns`` client identifier (unset: the development ``redirect_uri`` scheme, unsigned requests);
  ``MICROCRED_OID4VP_CLIENT_ID_PREFIX`` (``x509_san_dns``, or ``x509_hash``, which HAIP 1.0 requires: the same
  key and certificate, the client identifier being the hash of the leaf; the host still names the webhooks'
  signer);
  ``MICROCRED_OID4VP_REQUEST_SECONDS`` (300) and ``MICROCRED_OID4VP_RESULT_RETENTION_SECONDS`` (600);
  signed result webhooks: ``MICROCRED_OID4VP_WEBHOOK_HOSTS`` (JSON list of the hosts a webhook URL may name;
  empty: webhooks refused; needs the x509_san_dns key), ``MICROCRED_OID4VP_WEBHOOK_TIMEOUT_SECONDS`` (5),
  ``MICROCRED_OID4VP_WEBHOOK_ATTEMPTS`` (4) and ``MICROCRED_OID4VP_WEBHOOK_BACKOFF_SECONDS`` (1, doubling).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator

from microcred.oid4vp.request import LinkScheme
from microcred.settings import HttpServiceSettings

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(values: Sequence[str]) -> tuple[IPNetwork, ...]:
    """CIDRs (or single addresses) as networks; raises ValueError naming the first one that is neither."""
    return tuple(ipaddress.ip_network(v.strip(), strict=False) for v in values)


class Settings(HttpServiceSettings):
    """Everything the verifier service reads from its environment."""

    wallet_url: str | None = Field(default=None, description="wallet base URL for share links")
    status_url_prefixes: list[str] = Field(default_factory=list, description="platform status list URL prefixes")
    token_status_url_prefixes: list[str] = Field(default_factory=list,
                                                 description="platform Token Status List URL prefixes")
    x509_trust_anchors_file: Path | None = None
    eu_trusted_list_files: list[Path] = Field(default_factory=list,
                                              description="EU trusted lists (TSL XML): EDC seal trust anchors")
    status_list_signers: list[str] | None = None
    controller_documents: Path | None = None
    max_body_bytes: int = Field(default=256 * 1024, ge=1024)
    rate_limit_per_second: float = Field(default=20.0, gt=0)
    rate_limit_burst: int = Field(default=60, ge=1)
    rate_limit_shared: bool = True
    rate_limit_timeout_ms: float = Field(default=50.0, gt=0, le=5000)
    cors_origins: list[str] = Field(default_factory=lambda: ["*"])
    trusted_proxies: list[str] = Field(default_factory=list, description="CIDRs of trusted reverse proxies")
    max_in_flight: int = Field(default=256, ge=0)
    max_event_streams: int = Field(default=128, ge=0, description="server-sent event streams open at once per "
                                   "process (not counted in max_in_flight; 0: no limit)")
    max_event_streams_per_client: int = Field(default=4, ge=0, description="event streams open at once per client "
                                              "address (0: no limit)")
    shed_queue_delay_ms: float = Field(default=20.0, ge=0)
    http_workers: int = Field(default=1, ge=1, le=64)
    registry_namespace: str = "verifier-registry"
    registry_group: str = "verifier-registry"
    result_cache_entries: int = Field(default=20_000, ge=0)
    registry_cache_seconds: float = Field(default=1.0, ge=0)
    http_fetch_timeout_seconds: float = Field(default=2.0, gt=0)
    oid4vp_public_url: str | None = None
    oid4vp_client_id_prefix: Literal["x509_san_dns", "x509_hash"] = "x509_hash"  # HAIP 1.0 (docs/oid4vp.md)
    oid4vp_link_scheme: LinkScheme = "openid4vp"  # of the links and QR codes (LINK_SCHEMES)
    oid4vp_client_host: str | None = None
    oid4vp_signing_cert_file: Path | None = None
    oid4vp_signing_key_file: Path | None = None
    oid4vp_request_seconds: int = Field(default=300, ge=10, le=3600)
    oid4vp_result_retention_seconds: int = Field(default=600, ge=10, le=86400)
    oid4vp_webhook_hosts: list[str] = Field(default_factory=list, description="hosts result webhooks may name")
    oid4vp_webhook_timeout_seconds: float = Field(default=5.0, gt=0, le=30)
    oid4vp_webhook_attempts: int = Field(default=4, ge=1, le=10)
    oid4vp_webhook_backoff_seconds: float = Field(default=1.0, ge=0, le=60)

    @model_validator(mode="after")
    def _response_uri_names_the_client_host(self) -> Settings:
        """With ``x509_san_dns``, a wallet without a list of trusted verifiers takes the request only when the
        host of its ``response_uri`` is the client identifier's (OpenID4VP 1.0 §5.9.3): a public URL on another
        host would have every such wallet refuse every request, found only then."""
        if self.oid4vp_client_id_prefix != "x509_san_dns" or not self.oid4vp_public_url \
                or not self.oid4vp_client_host:
            return self
        host = urlsplit(self.oid4vp_public_url).hostname
        if host != self.oid4vp_client_host.lower():
            raise ValueError(f"oid4vp_public_url's host {host!r} must be oid4vp_client_host "
                             f"{self.oid4vp_client_host!r} with the x509_san_dns client identifier prefix")
        return self

    @field_validator("trusted_proxies")
    @classmethod
    def _cidrs(cls, value: list[str]) -> list[str]:
        try:
            parse_networks(value)
        except ValueError as exc:
            raise ValueError(f"trusted_proxies must be IP networks in CIDR form: {exc}") from exc
        return value
