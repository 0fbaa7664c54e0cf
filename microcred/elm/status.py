"""The status reference of an EDC: ``credentialStatus`` as one ``xsd:anyURI`` naming a Token Status List entry.

ELM 3.3 reuses ``cred:credentialStatus`` and the EDC shapes (``EDC-generic-no-cv``,
``EuropeanDigitalCredential-cred_credentialStatus``) constrain it to **at most one literal of datatype
``xsd:anyURI``**, not a W3C status-entry object. The VC v1 context declares the term ``"@type": "@id"`` (an
IRI node, which ``sh:datatype`` rejects), so the value is written as a JSON-LD value object that keeps it a
typed literal::

    "credentialStatus": {"@value": "https://status.example/token-status/uni-a-revocation-1#48213",
                         "@type": "http://www.w3.org/2001/XMLSchema#anyURI"}

The URI is the platform's IETF Token Status List (``statuslist+jwt``) of the credential's revocation list,
with the credential's index in it as the fragment (``{list token URI}#{index}``, as a Bitstring entry's id is
``{list URL}#{index}``). It is the very entry the credential's SD-JWT VC names: 2 bits, ``0x00`` valid, ``0x01``
revoked, ``0x02`` suspended, kept by the revocation service in step with the Bitstring bits, so one URI
answers both revocation and suspension (one value, as ``maxCount 1`` requires).

:func:`read_status_reference` is the verifier's side: it reads only the sealed payload (the caller passes the
text the JAdES seal covers) and refuses anything but that form. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from microcred.sdjwt.issue import StatusReference

__all__ = ["XSD_ANY_URI", "EdcStatusError", "credential_status", "read_status_reference", "status_uri"]

XSD_ANY_URI = "http://www.w3.org/2001/XMLSchema#anyURI"
#: Longest status URI read (a platform one is well under 200 characters).
MAX_URI_LENGTH = 2048
#: Largest index read (the platform's lists hold 2^20 entries; 2^24 entries of 8 bits is the decoder's bound).
MAX_INDEX = (1 << 27) - 1


class EdcStatusError(ValueError):
    """The payload's ``credentialStatus`` is not a status reference this platform can read.

    ``unsupported``: it is one URI, just not one naming a Token Status List entry (another issuer's status
    mechanism, which a verifier reports as unknown); otherwise the value itself breaks the EDC rule (one
    ``xsd:anyURI``)."""

    def __init__(self, message: str, *, unsupported: bool = False) -> None:
        super().__init__(message)
        self.unsupported = unsupported


def status_uri(reference: StatusReference) -> str:
    """The ``xsd:anyURI`` naming ``reference`` (``{uri}#{idx}``)."""
    if isinstance(reference.idx, bool) or not isinstance(reference.idx, int) or not 0 <= reference.idx <= MAX_INDEX:
        raise ValueError(f"status index {reference.idx!r} is not an index 0..{MAX_INDEX}")
    parts = urlsplit(reference.uri)
    if parts.scheme not in ("https", "http") or not parts.netloc or parts.fragment or "#" in reference.uri:
        raise ValueError(f"not an http(s) status list URI without a fragment: {reference.uri!r}")
    return f"{reference.uri}#{reference.idx}"


def credential_status(reference: StatusReference) -> dict[str, str]:
    """The ``credentialStatus`` value of ``reference``: an ``xsd:anyURI`` literal (module docstring)."""
    return {"@value": status_uri(reference), "@type": XSD_ANY_URI}


def read_status_reference(payload: Mapping[str, Any]) -> StatusReference | None:
    """The Token Status List entry the (sealed) ``payload`` names, or None when it has no ``credentialStatus``.

    Raises :class:`EdcStatusError` naming what is wrong for any other value: more than one, an object that is
    not an ``xsd:anyURI`` literal, a URI that is not http(s), or a fragment that is not a decimal index.
    """
    if "credentialStatus" not in payload:
        return None
    value = payload["credentialStatus"]
    if isinstance(value, list):
        if len(value) != 1:
            raise EdcStatusError(f"credentialStatus holds {len(value)} values; EDC allows at most one")
        value = value[0]
    if isinstance(value, Mapping):
        if set(value) - {"@value", "@type"} or value.get("@type", XSD_ANY_URI) != XSD_ANY_URI:
            raise EdcStatusError("credentialStatus must be one xsd:anyURI literal ({\"@value\", \"@type\"})")
        value = value.get("@value")
    if not isinstance(value, str) or not value or len(value) > MAX_URI_LENGTH:
        raise EdcStatusError(f"credentialStatus must be a URI of 1..{MAX_URI_LENGTH} characters")
    base, sep, fragment = value.partition("#")
    try:
        parts = urlsplit(base)
    except ValueError:  # e.g. an unclosed IPv6 literal
        raise EdcStatusError(f"credentialStatus {value[:200]!r} is not a URI", unsupported=True) from None
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise EdcStatusError(f"credentialStatus {value[:200]!r} is not an http(s) URI", unsupported=True)
    # A decimal index only (no sign, no spaces, bounded length), as the Bitstring rules ask of statusListIndex.
    if not sep or not fragment.isascii() or not fragment.isdecimal() or len(fragment) > 9:
        raise EdcStatusError(f"credentialStatus {value[:200]!r} does not end in #<index>", unsupported=True)
    index = int(fragment)
    if index > MAX_INDEX:
        raise EdcStatusError(f"credentialStatus index {index} is above {MAX_INDEX}", unsupported=True)
    return StatusReference(base, index)
