"""Settings of the issuer service (environment variables prefixed ``MICROCRED_``) and its key store.

Besides the shared Kafka/Redis/TLS/gRPC settings the service reads:

* ``MICROCRED_REVOCATION_TARGET`` (required, e.g. ``127.0.0.1:50052``): the revocation service's gRPC
  address, for status-list index reservations; with several replicas ``dns:///revocation:50052`` or
  ``ipv4:10.0.0.1:50052,10.0.0.2:50052`` (calls in turn, a replica that is down skipped), and
  ``MICROCRED_REVOCATION_SERVER_NAME`` when the addresses are not the name its certificate carries;
  ``MICROCRED_SERVICE_CERT_NAME`` (``client``): the client certificate in ``MICROCRED_TLS_DIR``
  (``<name>.crt``/``<name>.key``, OU ``service``) used for that call;
* ``MICROCRED_DID_WEB_HOST`` (required): the public host serving the issuers' ``did:web`` documents (the
  verifier's public host, e.g. ``trust.example.eu`` or ``localhost%3A8080``);
* ``MICROCRED_DATA_DIR`` (``.run/issuer``), ``MICROCRED_KEYSTORE_DIR`` (``<data dir>/keys``): the encrypted
  key store of the issuers' signing keys;
* ``MICROCRED_KEK`` (base64) or ``MICROCRED_KEK_FILE``: the key-encryption key. Without either, ``dev`` and
  ``test`` generate ``<data dir>/kek`` once; ``prod`` refuses to start;
* ``MICROCRED_STATUS_BLOCK_SIZE`` (1000): indexes reserved per request (prefetched at half);
* ``MICROCRED_SIGNING_WORKERS`` (default: number of cores minus one, at most 8): worker processes that render
  and sign (0 = in the service process);
* ``MICROCRED_BATCH_CHUNK_SIZE`` (256) and ``MICROCRED_BATCH_IN_FLIGHT`` (4): how a batch stream is cut into
  chunks (one Kafka ``publish_many`` each) and how many chunks of one stream are processed at once;
* ``MICROCRED_BATCH_CHUNK_TIMEOUT_SECONDS`` (60): a chunk still unfinished then (a stalled dependency) answers
  its items UNAVAILABLE instead of holding the stream; ``MICROCRED_SIGNING_TIMEOUT_SECONDS`` (30): a signing
  job still running then means a hung worker, and the worker processes are replaced;
* ``MICROCRED_STORE_CATCH_UP_SECONDS`` (60): how long start-up waits for the credential store to catch up
  with the credentials topic before serving (issuing is refused, retriably, until it has);
* ``MICROCRED_DOCUMENT_SIGNING_CA_CERT_FILE`` / ``MICROCRED_DOCUMENT_SIGNING_CA_KEY_FILE`` (PEM): the CA that
  certifies issuers' SD-JWT VC keys (the agency's document-signing CA; in development the platform CA); unset,
  a request for the SD-JWT VC format is refused (FAILED_PRECONDITION);
* ``MICROCRED_SD_JWT_REQUIRE_HOLDER_KEY`` (false): an SD-JWT VC request without ``holder_jwk_json`` is refused
  (FAILED_PRECONDITION, reason ``HOLDER_KEY_REQUIRED``); false: it is issued as a bearer credential without
  ``cnf`` (the returned ``sd_jwt_vc`` then has no ``cnf`` claim);
* ``MICROCRED_EDC_SHACL_CHECK`` (``off``): SHACL-check sealed EDCs before they are answered: ``off``, ``sample``
  (``MICROCRED_EDC_SHACL_SAMPLE``, 1, documents per chunk, chosen at random) or ``all`` (0.15-0.4 s per
  document: lower the chunk size or raise the chunk timeout); ``MICROCRED_EDC_SHACL_TIMEOUT_SECONDS`` (20): one
  validation still running then is not waited for (the item is refused UNAVAILABLE). See docs/elm-edc.md;
* ``MICROCRED_OID4VCI_LOGIN_ISSUER`` (unset): the learners' OpenID Connect provider. Set, the OpenID4VCI
  authorization code grant signs the learner in there and gives a code only to the offer's learner (a verified
  e-mail address equal to the award's); ``MICROCRED_OID4VCI_LOGIN_CLIENT_ID`` (``microcred-issuer``),
  ``MICROCRED_OID4VCI_LOGIN_CLIENT_SECRET_FILE`` (required with it) and ``MICROCRED_OID4VCI_LOGIN_CA_FILE``
  (the provider's TLS trust; default the system's). The provider must accept ``<Credential Issuer>/oid4vci/
  login/callback`` as this client's redirect URI;
* ``MICROCRED_OID4VCI_KEY_ATTESTATION_ANCHORS_FILE`` (unset): the CAs (PEM) of the wallet providers whose key
  attestations the credential endpoint accepts (OpenID4VCI Appendix D; the ``attestation`` proof type is offered
  only then); ``MICROCRED_OID4VCI_REQUIRE_KEY_ATTESTATION`` (false): refuse keys that are not attested;
  ``MICROCRED_OID4VCI_KEY_STORAGE_ACCEPTED`` / ``MICROCRED_OID4VCI_USER_AUTHENTICATION_ACCEPTED`` (JSON arrays,
  empty: any): the attack potentials of which an attestation must assert one. See docs/oid4vci.md;
* ``MICROCRED_ISSUER_REDIS_PREFIX`` (``issuer``), ``MICROCRED_ISSUER_CONSUMER_GROUP`` (``issuer``) and
  ``MICROCRED_REGISTRY_NAMESPACE`` (``issuer-registry``): so tests and benchmarks can run isolated instances.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from microcred.crypto.keystore import KeyStore, MissingKekError, open_service_keystore
from microcred.oid4vci.key_attestation import KeyAttestationPolicy
from microcred.oid4vci.offers import OfferScheme
from microcred.oid4vci.signed_metadata import LIFETIME
from microcred.pki import CertifiedKey
from microcred.sdjwt.x5c import load_certificates
from microcred.settings import GrpcServiceSettings
from microcred.storage.slot_groups import GROUPS_ON_CLUSTER

__all__ = ["MissingKekError", "Settings", "open_keystore"]

log = logging.getLogger(__name__)
DEV_ENVIRONMENTS = frozenset({"dev", "test"})


class Settings(GrpcServiceSettings):
    """Everything the issuer service reads from its environment."""

    revocation_target: str = Field(description="the revocation service's gRPC endpoint: host:port, dns:///host:port "
                                   "(every address the name resolves to) or ipv4:a:port,b:port (replicas, used in "
                                   "turn; microcred.grpc_server.channel_options)")
    revocation_server_name: str | None = Field(
        default=None, description="the name the revocation service's certificate carries, when the target does not "
        "say it (a list of addresses: by default the first address)")
    service_cert_name: str = "client"
    did_web_host: str = Field(description="public host serving did:web documents of the issuers")
    data_dir: Path = Path(".run/issuer")
    keystore_dir: Path | None = None
    kek_file: Path | None = None
    status_block_size: int = Field(default=1000, ge=1, le=10_000)
    signing_workers: int | None = Field(default=None, ge=0, le=64,
                                        description="signing processes; default: one per core but one")
    batch_chunk_size: int = Field(default=256, ge=1, le=5000)
    batch_in_flight: int = Field(default=4, ge=1, le=64)
    batch_chunk_timeout_seconds: float = Field(default=60.0, gt=0)
    signing_timeout_seconds: float = Field(default=30.0, gt=0)
    store_catch_up_seconds: float = Field(default=60.0, ge=0)
    issuer_redis_prefix: str = Field(default="issuer", pattern=r"^[A-Za-z0-9_.-]{1,40}$")
    issuer_store_slot_groups: int = Field(
        default=GROUPS_ON_CLUSTER, ge=1, le=1024,
        description="On a Redis Cluster: slot groups the issued credentials spread over (the same on every "
                    "replica; a change rebuilds the store from Kafka). Ignored on a single node")
    issuer_consumer_group: str = "issuer"
    registry_namespace: str = "issuer-registry"
    audit_namespace: str = Field(default="audit", pattern=r"^[A-Za-z0-9_.-]{1,40}$",
                                 description="Redis namespace (and consumer group suffix) of the audit read model")
    rest_port: int | None = Field(default=None, ge=0, le=65535,
                                  description="HTTPS port of the REST API (VC-API /credentials/issue); unset = none")
    rest_host: str = "127.0.0.1"
    rest_max_body_bytes: int = Field(
        default=256 * 1024, ge=1024, description="request bodies of the REST API larger than this are refused before "
        "they are read (not /credentials/issue: 1 MiB, POST /oid4vci/offers: 16 MiB, /oauth2/token: 8 KiB); "
        "docs/operations.md")
    oauth_clients_file: Path | None = Field(default=None, description="OAuth 2.0 clients of the REST API, each "
                                            "bound to one issuer (services/issuer/api/oauth.py)")
    document_signing_ca_cert_file: Path | None = None
    document_signing_ca_key_file: Path | None = None
    sd_jwt_require_holder_key: bool = Field(default=False, description="refuse SD-JWT VCs without a holder key "
                                            "(else issue them without cnf)")
    oid4vci_issuer_url: str | None = Field(default=None, description="OpenID4VCI Credential Issuer identifier "
                                           "(public https base URL of the REST API); unset: the request's own")
    oid4vci_offer_seconds: int = Field(default=7 * 86400, ge=1, description="longest lifetime of an offer")
    oid4vci_offer_replay_seconds: int | None = Field(
        default=None, ge=1, description="how far back the offer projection replays after a Redis loss (seconds of "
        "the credentials topic); unset: the longest offer lifetime plus an hour. Keep it at the old lifetime for a "
        "while after lowering MICROCRED_OID4VCI_OFFER_SECONDS: offers made under that one are still open")
    oid4vci_issue_batches_in_flight: int = Field(
        default=1, ge=1, le=64, description="credential requests of one issuer being issued at once; those that "
                                            "come meanwhile wait and are issued together (a group commit)")
    oid4vci_max_tx_attempts: int = Field(default=5, ge=1, le=100, description="wrong tx_codes that lock an offer")
    oid4vci_offer_scheme: OfferScheme = Field(
        default="openid-credential-offer", description="scheme of the offer links handed out (HAIP 1.0: haip-vci)")
    oid4vci_login_issuer: str | None = Field(
        default=None, pattern=r"^(https://[^\s#?]+|http://(127\.0\.0\.1|localhost|\[::1\])(:\d+)?(/[^\s#?]*)?)$",
        description="the learners' OpenID Connect provider (https; http only on a loopback host): set, the "
        "authorization code grant signs the offer's learner in there")
    oid4vci_login_client_id: str = Field(default="microcred-issuer", min_length=1, max_length=200)
    oid4vci_login_client_secret_file: Path | None = Field(default=None, description="the issuer's client secret "
                                                          "at the learner login provider (a file)")
    oid4vci_login_ca_file: Path | None = Field(default=None, description="CA certificates (PEM) trusted for the "
                                               "login provider's TLS; unset: the system's")
    oid4vci_wallet_attestation_anchors_file: Path | None = Field(
        default=None, description="PEM CA certificates of the wallet providers whose attestations authenticate "
                                  "wallets at PAR and token endpoints (attest_jwt_client_auth); unset: public "
                                  "clients only, attestation headers not read")
    oid4vci_require_dpop: bool = Field(
        default=False, description="refuse token requests without a DPoP proof, so every access token is "
                                   "sender-constrained (HAIP 1.0 by way of FAPI 2.0); off: Bearer tokens for wallets "
                                   "without DPoP")
    oid4vci_require_wallet_attestation: bool = Field(
        default=False, description="refuse wallets without an attestation (HAIP 1.0: issuers require client "
                                   "authentication); needs the anchors file")
    oid4vci_encryption: bool = Field(
        default=False, description="offer encrypted credential requests and responses (OpenID4VCI §10: ECDH-ES with "
                                   "A128GCM/A256GCM, to a key derived from the key store and shared by replicas). "
                                   "Off by default: draft-15 wallets (EUDI 0.7) then ask for encrypted responses "
                                   "in requests sent in clear, which 1.0 forbids and this issuer refuses")
    oid4vci_encryption_key_days: float = Field(
        default=30.0, ge=0, le=36500, description="how many days the metadata lists one request-encryption key "
                                                  "before the next (a request may use the previous period's key too; "
                                                  "at least 1, since a signed metadata copy stays good a day; at "
                                                  "most a century); 0: never rotated")
    oid4vci_require_encryption: bool = Field(
        default=False, description="refuse credential requests that are not encrypted or do not ask for an "
                                   "encrypted response (metadata: encryption_required)")
    oid4vci_key_attestation_anchors_file: Path | None = Field(
        default=None, description="PEM CA certificates of the wallet providers (or key storage components) whose "
                                  "key attestations the credential endpoint accepts (OpenID4VCI Appendix D: in a "
                                  "jwt proof's key_attestation header, and the attestation proof type); unset: "
                                  "key attestations are not read")
    oid4vci_require_key_attestation: bool = Field(
        default=False, description="refuse credential requests whose keys are not attested (metadata: "
                                   "key_attestations_required); needs the key attestation anchors file")
    oid4vci_key_storage_accepted: list[str] = Field(
        default_factory=list, description="key_storage values of which a key attestation must assert one, e.g. "
                                          '["iso_18045_high","iso_18045_moderate"]; empty: any')
    oid4vci_user_authentication_accepted: list[str] = Field(
        default_factory=list, description="user_authentication values of which a key attestation must assert one; "
                                          "empty: any")
    edc_shacl_check: Literal["off", "sample", "all"] = Field(default="off", description="SHACL-check EDCs at "
                                                             "issuance: off, a sample per chunk, or all")
    edc_shacl_sample: int = Field(default=1, ge=1, le=5000, description="EDCs checked per chunk in sample mode")
    edc_shacl_timeout_seconds: float = Field(default=20.0, gt=0, description="longest one SHACL check may take")

    @model_validator(mode="after")
    def _login_has_a_secret(self) -> Settings:
        if self.oid4vci_login_issuer is not None and self.oid4vci_login_client_secret_file is None:
            raise ValueError("MICROCRED_OID4VCI_LOGIN_ISSUER needs MICROCRED_OID4VCI_LOGIN_CLIENT_SECRET_FILE")
        if self.oid4vci_encryption_key_days > 0 and timedelta(days=self.oid4vci_encryption_key_days) < LIFETIME:
            raise ValueError(f"MICROCRED_OID4VCI_ENCRYPTION_KEY_DAYS must be 0 (never rotated) or at least "
                             f"{LIFETIME.total_seconds() / 86400:g}: a signed metadata copy naming a key stays good "
                             f"that long")
        if self.oid4vci_require_encryption and not self.oid4vci_encryption:
            raise ValueError("MICROCRED_OID4VCI_REQUIRE_ENCRYPTION needs MICROCRED_OID4VCI_ENCRYPTION")
        if self.oid4vci_require_wallet_attestation and self.oid4vci_wallet_attestation_anchors_file is None:
            raise ValueError("MICROCRED_OID4VCI_REQUIRE_WALLET_ATTESTATION needs "
                             "MICROCRED_OID4VCI_WALLET_ATTESTATION_ANCHORS_FILE")
        key_attestations = (self.oid4vci_require_key_attestation or self.oid4vci_key_storage_accepted
                            or self.oid4vci_user_authentication_accepted)
        if key_attestations and self.oid4vci_key_attestation_anchors_file is None:
            raise ValueError("MICROCRED_OID4VCI_REQUIRE_KEY_ATTESTATION and the accepted key_storage and "
                             "user_authentication values need MICROCRED_OID4VCI_KEY_ATTESTATION_ANCHORS_FILE")
        if not all(0 < len(v) <= 256 for v in (*self.oid4vci_key_storage_accepted,
                                              *self.oid4vci_user_authentication_accepted)):
            raise ValueError("accepted key_storage and user_authentication values must be non-empty strings")
        return self

    def key_attestation_policy(self) -> KeyAttestationPolicy | None:
        """What the credential endpoint accepts as key attestations (None: they are not read)."""
        if self.oid4vci_key_attestation_anchors_file is None:
            return None
        anchors = tuple(load_certificates(self.oid4vci_key_attestation_anchors_file.read_bytes()))
        if not anchors:
            raise ValueError("MICROCRED_OID4VCI_KEY_ATTESTATION_ANCHORS_FILE holds no PEM certificate")
        return KeyAttestationPolicy(anchors, self.oid4vci_require_key_attestation,
                                    tuple(self.oid4vci_key_storage_accepted),
                                    tuple(self.oid4vci_user_authentication_accepted))

    def document_signing_ca(self) -> CertifiedKey | None:
        """The CA certifying issuers' SD-JWT VC keys, when both files are configured."""
        if self.document_signing_ca_cert_file is None or self.document_signing_ca_key_file is None:
            return None
        return CertifiedKey(self.document_signing_ca_cert_file.read_bytes(),
                            self.document_signing_ca_key_file.read_bytes())

    @property
    def resolved_offer_replay_seconds(self) -> int:
        """``oid4vci_offer_replay_seconds``, or the longest offer lifetime plus an hour (producers' clocks may lag
        the issuer's a little; a record's time is its producer's)."""
        if self.oid4vci_offer_replay_seconds is not None:
            return self.oid4vci_offer_replay_seconds
        return self.oid4vci_offer_seconds + 3600

    @property
    def resolved_signing_workers(self) -> int:
        """``signing_workers``, or one per core but the one the event loop needs (at most 8)."""
        if self.signing_workers is not None:
            return self.signing_workers
        return max(0, min(8, (os.cpu_count() or 1) - 1))

    @property
    def resolved_keystore_dir(self) -> Path:
        """The key store directory (``keystore_dir`` or ``<data_dir>/keys``)."""
        return self.keystore_dir if self.keystore_dir is not None else self.data_dir / "keys"


def open_keystore(settings: Settings, env: Mapping[str, str] | None = None) -> KeyStore:
    """Open the encrypted key store; in ``dev``/``test`` generate a KEK file when none is configured."""
    return open_service_keystore(settings.resolved_keystore_dir, settings.data_dir, settings.environment,
                                 settings.kek_file, env)
