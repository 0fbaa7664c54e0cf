"""Verification of JAdES baseline seals on EDC credentials (ETSI TS 119 182-1), as the EC's sealed samples have them.

An EDC credential is sealed as a JWS JSON serialisation (``{"payload": ..., "signatures": [...]}``) whose
protected header has ``b64: false`` (RFC 7797: the payload is the credential's JSON text itself, not base64url),
``sigT`` (claimed signing time), ``x5c`` (the seal certificate first) and usually ``x5t#S256``.

Two separate answers, never merged into one "valid":

* ``signature``: ``valid`` / ``invalid`` over exactly the payload string, with the key of ``x5c[0]``.
* ``trust``: ``trusted`` when the seal certificate chains to a configured anchor, ``untrusted`` when it does
  not, ``unknown`` when no anchor is configured (offline, no EU trusted list loaded).

The chain is checked at ``sigT`` by default: a sealed credential stays verifiable after its seal certificate
expires, as long as the seal was made while the certificate was valid. At level B-B that time is the signer's own
claim (signed, but not attested by a TSA); the samples' ``adoTst`` / ``etsiU`` timestamp tokens and revocation
values are recognised but not verified here, and the verdict says so.

Why the signing input is assembled by hand: no JOSE library in this project verifies a JWS JSON serialisation
with ``b64: false`` and the JAdES ``crit`` members (PyJWT, already a dependency, handles compact JWS only). The
assembly is RFC 7797 §3, one line (``ASCII(protected) || "." || payload``); the signature maths is PyJWT's
algorithm objects over ``cryptography`` keys, the chain is ``cryptography.x509.verification``.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509 import verification
from jwt.algorithms import get_default_algorithms

from microcred.credential.jsontext import parse

__all__ = ["JadesError", "JadesVerdict", "parse_sig_t", "signing_input", "verify_jades"]

MAX_DOCUMENT_BYTES = 4 * 1024 * 1024
MAX_CHAIN_LENGTH = 8
_ALGORITHMS = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"})
# JAdES header parameters we recognise in ``crit``. ``sigD`` (detached references) would change what is signed,
# so it is not among them and a seal using it is refused rather than misread.
_UNDERSTOOD_CRIT = frozenset({"b64", "sigT", "adoTst", "x5t#o", "sigX5ts", "srCms", "srAts", "sigPl", "sigPId",
                              "sigPSt"})

SignatureState = Literal["valid", "invalid"]
TrustState = Literal["trusted", "untrusted", "unknown"]


class JadesError(ValueError):
    """The document is not a JAdES seal this module can check (malformed, or a feature it does not support)."""


@dataclass(frozen=True)
class JadesVerdict:
    """The outcome of checking one seal. ``payload`` is exactly the text the signature covers."""

    signature: SignatureState
    trust: TrustState
    trust_reason: str
    signing_time: dt.datetime | None
    signer_subject: str
    payload: str
    notes: tuple[str, ...] = field(default=())


def _b64url(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise JadesError("not base64url") from exc


def parse_sig_t(value: object) -> dt.datetime:
    """``sigT`` (``YYYY-MM-DDThh:mm:ssZ``, ETSI TS 119 182-1 §5.2.1) as an aware UTC datetime."""
    if not isinstance(value, str):
        raise JadesError("sigT must be a string")
    try:
        moment = dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ")
    except ValueError as exc:
        raise JadesError(f"sigT {value!r} is not YYYY-MM-DDThh:mm:ssZ") from exc
    return moment.replace(tzinfo=dt.UTC)


def signing_input(protected_b64: str, payload: str) -> bytes:
    """RFC 7797 §3 signing input for ``b64: false``: ``ASCII(BASE64URL(header)) || "." || payload``."""
    return protected_b64.encode("ascii") + b"." + payload.encode("utf-8")


def _decode_certs(values: object, where: str) -> list[x509.Certificate]:
    if not isinstance(values, list) or not values or len(values) > MAX_CHAIN_LENGTH:
        raise JadesError(f"{where} must be a list of 1 to {MAX_CHAIN_LENGTH} certificates")
    certs = []
    for item in values:
        if not isinstance(item, str):
            raise JadesError(f"{where} entries must be base64 strings")
        try:
            certs.append(x509.load_der_x509_certificate(base64.b64decode(item, validate=True)))
        except (binascii.Error, ValueError) as exc:
            raise JadesError(f"{where} holds something that is not a DER certificate") from exc
    return certs


def _unprotected_certs(header: object) -> list[x509.Certificate]:
    """Certificates of the unprotected ``etsiU`` ``xVals`` (chain helpers only: a path must still reach an anchor)."""
    found: list[x509.Certificate] = []
    if not isinstance(header, Mapping) or not isinstance(header.get("etsiU"), list):
        return found
    for item in header["etsiU"][:16]:
        try:
            entry = json.loads(_b64url(item)) if isinstance(item, str) else item
        except (JadesError, ValueError):
            continue
        if isinstance(entry, dict) and isinstance(entry.get("xVals"), list):
            for x in entry["xVals"][:MAX_CHAIN_LENGTH]:
                value = x.get("x509Cert", {}).get("val") if isinstance(x, dict) else None
                if isinstance(value, str):
                    try:
                        found.append(x509.load_der_x509_certificate(base64.b64decode(value, validate=True)))
                    except (binascii.Error, ValueError):
                        continue
    return found


def _one_signature(document: Mapping[str, Any]) -> tuple[str, str, Mapping[str, Any] | None, str]:
    payload = document.get("payload")
    if not isinstance(payload, str):
        raise JadesError("payload must be the credential's JSON text (b64:false)")
    if "signatures" in document:
        signatures = document["signatures"]
        if not isinstance(signatures, list) or len(signatures) != 1 or not isinstance(signatures[0], dict):
            raise JadesError("exactly one signature is supported")
        entry = signatures[0]
    else:
        entry = dict(document)  # flattened JWS JSON serialisation
    protected, signature = entry.get("protected"), entry.get("signature")
    if not isinstance(protected, str) or not isinstance(signature, str):
        raise JadesError("protected and signature must be strings")
    header = entry.get("header")
    return payload, protected, header if isinstance(header, Mapping) else None, signature


def _check_header(header: Mapping[str, Any]) -> None:
    if header.get("alg") not in _ALGORITHMS:
        raise JadesError(f"unsupported alg {header.get('alg')!r}")
    if header.get("b64") is not False:
        raise JadesError("only b64:false (unencoded payload) seals are supported")
    crit = header.get("crit")
    if not isinstance(crit, list) or "b64" not in crit:
        raise JadesError("crit must list b64 (RFC 7797 §6)")
    unknown = [name for name in crit if name not in _UNDERSTOOD_CRIT or name not in header]
    if unknown:
        raise JadesError(f"critical header parameters not understood or absent: {unknown}")


def _trust(leaf: x509.Certificate, intermediates: list[x509.Certificate],
           anchors: Sequence[x509.Certificate], at: dt.datetime) -> tuple[TrustState, str]:
    if not anchors:
        return "unknown", "no trust anchors are configured"
    builder = (
        verification.PolicyBuilder().store(verification.Store(list(anchors))).time(at)
        .max_chain_depth(MAX_CHAIN_LENGTH)
        # Seal certificates are not web certificates: the end entity's extensions are checked below instead.
        .extension_policies(ca_policy=verification.ExtensionPolicy.webpki_defaults_ca(),
                            ee_policy=verification.ExtensionPolicy.permit_all())
    )
    try:
        builder.build_client_verifier().verify(leaf, intermediates)
    except verification.VerificationError as exc:
        return "untrusted", f"no valid path to a configured anchor at {at.isoformat()}: {exc}"
    try:
        usage = leaf.extensions.get_extension_for_class(x509.KeyUsage).value
        if not (usage.digital_signature or usage.content_commitment):
            return "untrusted", "the seal certificate may not sign (key usage)"
    except x509.ExtensionNotFound:
        pass  # no key usage extension: every usage is allowed (RFC 5280 §4.2.1.3)
    return "trusted", f"chains to a configured anchor at {at.isoformat()}"


def verify_jades(document: Mapping[str, Any] | bytes | str, *, anchors: Sequence[x509.Certificate] = (),
                 at: dt.datetime | None = None) -> JadesVerdict:
    """Check a JAdES seal: signature over the unencoded payload with ``x5c[0]``, then the chain to ``anchors``.

    The chain is checked at ``at`` (default: the seal's ``sigT``). Raises :class:`JadesError` for a document that
    is not a seal this module supports; a seal that does not verify is ``signature="invalid"``, never an error.
    """
    if isinstance(document, bytes | str):
        raw = document.encode("utf-8") if isinstance(document, str) else document
        if len(raw) > MAX_DOCUMENT_BYTES:
            raise JadesError("document too large")
        try:
            document = parse(raw)
        except ValueError as exc:
            raise JadesError("not JSON") from exc
    if not isinstance(document, Mapping):
        raise JadesError("a JAdES JSON serialisation is a JSON object")
    payload, protected_b64, unprotected, signature_b64 = _one_signature(document)
    try:
        header = parse(_b64url(protected_b64))
    except ValueError as exc:
        raise JadesError("protected header is not JSON") from exc
    if not isinstance(header, dict):
        raise JadesError("protected header must be a JSON object")
    _check_header(header)
    certs = _decode_certs(header.get("x5c"), "x5c")
    leaf = certs[0]
    der = leaf.public_bytes(Encoding.DER)
    thumbprint = header.get("x5t#S256")
    if thumbprint is not None and _b64url(str(thumbprint)) != hashlib.sha256(der).digest():
        raise JadesError("x5t#S256 does not match x5c[0]")
    signing_time = parse_sig_t(header["sigT"]) if "sigT" in header else None
    key = leaf.public_key()
    if not isinstance(key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey):
        raise JadesError("the seal certificate holds neither an RSA nor an EC key")
    algorithm = get_default_algorithms()[header["alg"]]
    valid = algorithm.verify(signing_input(protected_b64, payload), key, _b64url(signature_b64))
    notes = ["level B-B checked: timestamps (adoTst, etsiU) and revocation values are not verified"]
    moment = at or signing_time
    if moment is None:
        moment = dt.datetime.now(dt.UTC)
        notes.append("no sigT: chain checked at the current time")
    elif at is None:
        notes.append("chain checked at the seal's claimed signing time sigT")
    trust, reason = _trust(leaf, certs[1:] + _unprotected_certs(unprotected), anchors, moment)
    return JadesVerdict(signature="valid" if valid else "invalid", trust=trust, trust_reason=reason,
                        signing_time=signing_time, signer_subject=leaf.subject.rfc4514_string(),
                        payload=payload, notes=tuple(notes))
