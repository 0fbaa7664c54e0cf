"""Issuing a credential in the EDC format: render the ELM document and seal it (JAdES B-B) in one step.

The issuer service calls :func:`sealed_edc` for every item that asked for ``CREDENTIAL_FORMAT_EDC``, beside the
Data Integrity credential of the same :class:`~microcred.gen.microcred.v1.elements_pb2.MicroCredential` and with
the same credential id. The seal key and its chain come from the issuer's key-store port (the issuer service's
document-signing port: in development a P-256 key certified by the platform PKI; in production a PKCS#11 HSM or
a remote QSCD behind the same port, see docs/elm-edc.md). Pure: no I/O.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from microcred.elm.render import ElmIssuer, render_edc
from microcred.elm.seal import seal_edc
from microcred.gen.microcred.v1 import elements_pb2 as pb
from microcred.gen.microcred.v1 import registry_pb2
from microcred.sdjwt.issue import StatusReference

__all__ = ["elm_issuer", "sealed_edc"]

# Identifier schemes an eIDAS organisation identifier (ETSI EN 319 412-1 semantics) is read from, best first.
_EIDAS_SCHEMES = (("eidas", ""), ("vat", "VAT"), ("registration", "NTR"), ("tax", "TIN"))


def _eidas_identifier(org: pb.Organisation) -> str:
    country = org.country.code or "EU"
    by_scheme = {i.scheme.lower(): i.value for i in org.identifiers if i.value}
    for scheme, prefix in _EIDAS_SCHEMES:
        value = by_scheme.get(scheme)
        if value:
            return value if not prefix or value.startswith(prefix) else f"{prefix}{country}-{value}"
    # No legal identifier in the registry: name the registry entry itself (never left empty: EDC requires one).
    return f"NTR{country}-{org.id or 'unregistered'}"


def elm_issuer(issuer: registry_pb2.Issuer, issuer_uri: str) -> ElmIssuer:
    """The sealing organisation of ``issuer`` as registered (``issuer_uri``: its https or DID identifier)."""
    org = issuer.organisation
    return ElmIssuer(id=issuer_uri, organisation=org, eidas_identifier=_eidas_identifier(org),
                     eidas_country=org.country.code or "EU")


def sealed_edc(mc: pb.MicroCredential, *, issuer: ElmIssuer, credential_id: str, issued_at: datetime,
               key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey, x5c: Sequence[str],
               status: StatusReference | None = None) -> str:
    """The sealed EDC document (JAdES JWS JSON serialisation) as compact JSON text.

    ``x5c``: the seal certificate chain as base64 DER, leaf first (an ``x5c`` header value). ``status``: the
    credential's Token Status List entry, sealed into the payload as its ``credentialStatus``
    (:mod:`microcred.elm.status`); the platform always gives it, so its EDCs can be revoked and suspended.
    """
    chain = [x509.load_der_x509_certificate(base64.b64decode(c)) for c in x5c]
    document = render_edc(mc, issuer=issuer, credential_id=credential_id, issued_at=issued_at, status=status)
    sealed = seal_edc(document, key=key, chain=chain, signing_time=issued_at)
    return json.dumps(sealed, separators=(",", ":"), ensure_ascii=False)
