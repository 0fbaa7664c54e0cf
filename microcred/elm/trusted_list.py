"""Trust anchors from EU trusted lists (ETSI TS 119 612 TSL XML), loaded from a file; no network.

Every ``X509Certificate`` of a ``ServiceDigitalIdentity`` in the list becomes an anchor: the certificates of
the trust services (CAs issuing qualified seal certificates, QTSPs' roots) that a JAdES seal's chain must reach.
The list's own XML signature is not checked here (the operator chose the file; verifying the LOTL/TL signature
chain needs the Commission's pinned signer certificates, see docs/elm-edc.md). Service status and type are not
filtered either: every listed identity is an anchor, which is what the file's operator asks for.

Hand-written over the standard library's ElementTree because the task is one XPath-like walk; the file is
operator-configured (never request input), its size is bounded, and Expat (>= 2.4.1, as in CPython 3.11) refuses
entity expansion attacks and does not resolve external entities.
"""

from __future__ import annotations

import base64
import binascii
import xml.etree.ElementTree as ET
from pathlib import Path

from cryptography import x509

__all__ = ["MAX_TRUSTED_LIST_BYTES", "TrustedListError", "anchors_from_trusted_list", "load_trusted_lists"]

MAX_TRUSTED_LIST_BYTES = 32 * 1024 * 1024
_TSL = "{http://uri.etsi.org/02231/v2#}"


class TrustedListError(ValueError):
    """The file is not a trusted list this module can read."""


def anchors_from_trusted_list(xml: bytes) -> list[x509.Certificate]:
    """The service-identity certificates of a TSL document, in document order, without duplicates."""
    if len(xml) > MAX_TRUSTED_LIST_BYTES:
        raise TrustedListError("trusted list too large")
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as exc:
        raise TrustedListError(f"not XML: {exc}") from exc
    if root.tag != f"{_TSL}TrustServiceStatusList":
        raise TrustedListError("not an ETSI TS 119 612 TrustServiceStatusList")
    found: list[x509.Certificate] = []
    seen: set[bytes] = set()
    for identity in root.iter(f"{_TSL}ServiceDigitalIdentity"):
        for element in identity.iter(f"{_TSL}X509Certificate"):
            try:
                der = base64.b64decode("".join((element.text or "").split()), validate=True)
                cert = x509.load_der_x509_certificate(der)
            except (binascii.Error, ValueError) as exc:
                raise TrustedListError(f"a service identity is not a DER certificate: {exc}") from exc
            if der not in seen:
                seen.add(der)
                found.append(cert)
    return found


def load_trusted_lists(paths: list[Path] | tuple[Path, ...]) -> list[x509.Certificate]:
    """The anchors of every trusted list file in ``paths``."""
    anchors: list[x509.Certificate] = []
    for path in paths:
        if path.stat().st_size > MAX_TRUSTED_LIST_BYTES:
            raise TrustedListError(f"{path}: trusted list too large")
        anchors.extend(anchors_from_trusted_list(path.read_bytes()))
    return anchors
