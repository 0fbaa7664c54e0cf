"""SD-JWT VC signing keys of issuers: P-256, derived from the issuer's key, certified by the document-signing CA.

HAIP wants SD-JWT VCs signed with an X.509 chain to a trust anchor (``x5c``) and ES256. Our issuers sign Data
Integrity proofs with Ed25519 keys held (encrypted) in the key store. Rather than a second key to create, store,
rotate and keep in step across replicas, each issuer's SD-JWT VC key is *derived* from its current Ed25519 key:
HKDF-SHA256 over the 32-byte seed, with a label naming the purpose, gives the P-256 scalar
(``cryptography``'s HKDF and ``ec.derive_private_key``; no hand-written crypto). So every replica signs with the
same key, a key rotation rotates both, and nothing new is stored. The certificate (EC P-256, key usage digital
signature, the issuer's ``https`` identifier in its SAN, :func:`microcred.pki.create_signing_cert`) is made by
the configured CA (in production the agency's document-signing CA; in development the platform CA) when first
needed and kept in memory, per issuer key; ``x5c`` carries it alone (the CA is the verifier's trust anchor).

``iss`` is the ``https`` form of the issuer's did:web (:func:`microcred.registry.did_web.https_of_did_web`), so a
verifier finds the issuer in the trust registry from ``iss`` alone. An issuer without a did:web cannot issue SD-JWT
VCs (there is no ``https`` identifier to certify).

The same CA certifies the key that signs the Credential Issuer Metadata (:meth:`metadata_key`, OpenID4VCI
§12.2.3): a P-256 key made for it in memory, never stored, its certificate naming the Credential Issuer identifier
and lasting ``METADATA_CERTIFICATE_DAYS``. Replicas each hold their own: a wallet trusts the chain, not the key.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from microcred import pki
from microcred.crypto.keystore import KeyStore, KeyStoreError
from microcred.gen.microcred.v1 import registry_pb2
from microcred.registry.did_web import https_of_did_web
from microcred.registry.domain import current_verification_method, key_valid_at
from microcred.sdjwt.issue import IssuerKey
from microcred.sdjwt.issuer_metadata import named
from microcred.sdjwt.x5c import x5c_header
from services.issuer.application.ports import DocumentSigningUnavailable

__all__ = ["METADATA_CERTIFICATE_DAYS", "CertifiedDocumentSigning", "derive_document_key", "derive_p256_key"]

#: Validity of a metadata-signing certificate; a new key and certificate are made when a day of it is left.
METADATA_CERTIFICATE_DAYS = 7

_LABEL = b"microcred/sd-jwt-vc/es256/v1"
_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def derive_document_key(seed: bytes) -> ec.EllipticCurvePrivateKey:
    """The SD-JWT VC signing key derived from an issuer's Ed25519 seed (:func:`derive_p256_key`)."""
    return derive_p256_key(seed, _LABEL)


def derive_p256_key(seed: bytes, label: bytes) -> ec.EllipticCurvePrivateKey:
    """The P-256 key derived from an Ed25519 seed for the purpose ``label`` (HKDF-SHA256, 48 bytes reduced mod
    n-1, plus 1: uniform enough per FIPS 186-5 A.2.1's "extra random bits" method)."""
    material = HKDF(algorithm=hashes.SHA256(), length=48, salt=None, info=label).derive(seed)
    scalar = int.from_bytes(material, "big") % (_P256_ORDER - 1) + 1
    return ec.derive_private_key(scalar, ec.SECP256R1())


class CertifiedDocumentSigning:
    """:class:`~services.issuer.application.ports.DocumentSigning` over the key store and a document-signing CA."""

    def __init__(self, keystore: KeyStore, ca: pki.CertifiedKey | None, certificate_days: int = 365) -> None:
        """``ca``: the CA certifying issuers' SD-JWT keys; None: no issuer can sign SD-JWT VCs here."""
        self._keystore, self._ca, self._days = keystore, ca, certificate_days
        self._issued: dict[tuple[str, str], IssuerKey] = {}
        self._metadata: dict[str, tuple[IssuerKey, datetime]] = {}
        self._lock = threading.Lock()

    def metadata_key(self, credential_issuer: str, now: datetime) -> IssuerKey:
        """The key signing the Credential Issuer Metadata of ``credential_issuer`` (module docstring)."""
        if self._ca is None:
            raise DocumentSigningUnavailable("this issuer service has no document-signing CA to certify a "
                                             "metadata-signing key (MICROCRED_DOCUMENT_SIGNING_CA_CERT_FILE)")
        kept = self._metadata.get(credential_issuer)
        if kept is not None and kept[1] - now > timedelta(days=1):
            return kept[0]
        key = ec.generate_private_key(ec.SECP256R1())
        start = now - timedelta(minutes=5)  # a verifier's clock a little behind ours still accepts it
        certified = pki.create_signing_cert(self._ca, issuer_uri=credential_issuer, key=key,
                                            common_name="OpenID4VCI Credential Issuer metadata",
                                            days=METADATA_CERTIFICATE_DAYS, not_before=start)
        signer = IssuerKey(credential_issuer, key, tuple(x5c_header([certified.cert_pem])))
        with self._lock:
            if len(self._metadata) >= 64:  # identifiers taken from requests' base URLs stay few; bound them anyway
                self._metadata.clear()
            self._metadata[credential_issuer] = (signer, start + timedelta(days=METADATA_CERTIFICATE_DAYS))
        return signer

    def issuer_key(self, issuer: registry_pb2.Issuer, now: datetime) -> IssuerKey:
        """The issuer's SD-JWT VC key and chain (certified on first use, kept per issuer key)."""
        iss = self._iss(issuer)
        method = current_verification_method(issuer, now)
        if method is None:
            raise DocumentSigningUnavailable("the issuer has no current verification method")
        return self._certified(issuer, iss, method)

    def issuer_keys(self, issuer: registry_pb2.Issuer, now: datetime) -> list[IssuerKey]:
        """Every SD-JWT VC key of the issuer that may sign now (a rotation's old and new keys alike), newest
        first: what its JWT VC Issuer Metadata publishes."""
        iss = self._iss(issuer)
        methods = sorted((vm for vm in issuer.verification_methods if key_valid_at(vm, now) is None),
                         key=lambda vm: vm.created_at.ToDatetime(), reverse=True)
        if not methods:
            raise DocumentSigningUnavailable("the issuer has no current verification method")
        return [self._certified(issuer, iss, method) for method in methods]

    def _iss(self, issuer: registry_pb2.Issuer) -> str:
        if self._ca is None:
            raise DocumentSigningUnavailable("this issuer service has no document-signing CA, so it cannot issue "
                                             "SD-JWT VCs (MICROCRED_DOCUMENT_SIGNING_CA_CERT_FILE)")
        iss = https_of_did_web(issuer.did)
        if iss is None:
            raise DocumentSigningUnavailable("SD-JWT VCs need an issuer with a did:web (its https identifier "
                                             "is the credential's iss)")
        return iss

    def _certified(self, issuer: registry_pb2.Issuer, iss: str,
                   method: registry_pb2.VerificationMethod) -> IssuerKey:
        assert self._ca is not None
        cache_key = (issuer.issuer_id, method.id)
        kept = self._issued.get(cache_key)
        if kept is not None and kept.iss == iss:
            return kept
        try:
            seed = self._keystore.get_signing_key(f"{issuer.issuer_id}/{method.id.rpartition('#')[2]}")
        except KeyStoreError as exc:
            raise DocumentSigningUnavailable(f"no signing key for {method.id}") from exc
        key = derive_document_key(seed.private_bytes_raw())
        name = issuer.organisation.legal_name.values.get("en") or issuer.issuer_id
        certified = pki.create_signing_cert(self._ca, issuer_uri=iss, common_name=name[:64], days=self._days,
                                            key=key)
        # x5c without the CA: a verifier must reach it as a configured anchor (RFC 7515 §4.1.6, HAIP)
        signer = named(IssuerKey(iss, key, tuple(x5c_header([certified.cert_pem]))))
        with self._lock:
            self._issued[cache_key] = signer
        return signer
