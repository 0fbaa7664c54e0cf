"""JAdES baseline B-B sealing of EDC credentials (ETSI TS 119 182-1), the counterpart of :mod:`microcred.elm.jades`.

The seal is a JWS JSON serialisation like the EC's samples: the payload is the credential's compact JSON text
itself (``b64: false``, RFC 7797), the protected header carries ``sigT`` (signing time), ``x5c`` (seal
certificate first, then its CAs), ``x5t#S256`` and ``crit: ["b64", "sigT"]``. This is level B-B: no signature
timestamp (B-T needs a TSA), no validation data (B-LT), no archive timestamp (B-LTA); see docs/elm-edc.md.

The key is passed in: in development a key certified by the platform PKI (:func:`microcred.pki.create_signing_cert`),
in production one held behind the key-store port (PKCS#11 HSM or a remote QSCD). Signature maths is PyJWT's
algorithm objects over ``cryptography`` keys; only the RFC 7797 signing input is assembled here (see jades.py).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from jwt.algorithms import get_default_algorithms

from microcred.elm.jades import signing_input

__all__ = ["seal_edc"]

_EC_ALGORITHMS = {"secp256r1": "ES256", "secp384r1": "ES384", "secp521r1": "ES512"}


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _algorithm(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> str:
    if isinstance(key, rsa.RSAPrivateKey):
        return "RS256"
    name = _EC_ALGORITHMS.get(key.curve.name)
    if name is None:
        raise ValueError(f"unsupported curve {key.curve.name}")
    return name


def seal_edc(document: Mapping[str, Any], *, key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey,
             chain: Sequence[x509.Certificate], signing_time: dt.datetime) -> dict[str, Any]:
    """Seal ``document`` with ``key``; ``chain`` starts with the key's certificate. Returns the JAdES document."""
    if not chain:
        raise ValueError("the seal certificate is required")
    if chain[0].public_key() != key.public_key():
        raise ValueError("the first certificate of the chain does not certify the sealing key")
    if signing_time.tzinfo is None:
        raise ValueError("signing_time must be timezone-aware")
    leaf_der = chain[0].public_bytes(Encoding.DER)
    alg = _algorithm(key)
    header: dict[str, Any] = {
        "alg": alg,
        "typ": "jose+json",
        "b64": False,
        "crit": ["b64", "sigT"],
        "sigT": signing_time.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "x5t#S256": _b64url(hashlib.sha256(leaf_der).digest()),
        "x5c": [base64.b64encode(cert.public_bytes(Encoding.DER)).decode("ascii") for cert in chain],
    }
    protected = _b64url(json.dumps(header, separators=(",", ":")).encode("utf-8"))
    payload = json.dumps(document, separators=(",", ":"), ensure_ascii=False)
    signature = get_default_algorithms()[alg].sign(signing_input(protected, payload), key)
    return {"payload": payload, "signatures": [{"protected": protected, "signature": _b64url(signature)}]}
