"""Build unsigned ``BitstringStatusListCredential`` documents and ``BitstringStatusListEntry`` objects.

The output follows the Recommendation's examples exactly: the only ``@context`` is the VC 2.0 context
(which defines every status-list term), the list credential's ``credentialSubject.id`` is
``<list URL>#list``, each entry's ``id`` is ``<list URL>#<index>`` and ``statusListIndex`` is a base-10
string. Signing happens elsewhere (Data Integrity ``eddsa-rdfc-2022``), over exactly this document.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from microcred.status.bitstring import Bitstring, encode_list
from microcred.status.check import ENTRY_TYPE, LIST_CREDENTIAL_TYPE, LIST_TYPE, MIN_ENTRIES
from microcred.status.errors import StatusListLengthError

__all__ = ["VC_V2_CONTEXT", "build_status_list_credential", "status_entry", "xsd_datetime"]

VC_V2_CONTEXT = "https://www.w3.org/ns/credentials/v2"


def build_status_list_credential(list_url: str, issuer: str | Mapping[str, Any], purpose: str | Sequence[str],
                                 bits: Bitstring, valid_from: datetime, ttl_ms: int | None = None,
                                 valid_until: datetime | None = None, *, status_size: int = 1,
                                 minimum_entries: int = MIN_ENTRIES) -> dict[str, Any]:
    """Return the unsigned status list credential published at ``list_url``.

    ``purpose`` is one purpose or several (a multi-purpose list). ``ttl_ms`` and ``valid_until`` are
    omitted when None. Refuses (``StatusListLengthError``) a list with fewer than ``minimum_entries``
    entries of ``status_size`` bits, so the service can never publish a list that verifiers must reject.
    """
    _check_list_url(list_url)
    purposes = [purpose] if isinstance(purpose, str) else list(purpose)
    if not purposes or not all(isinstance(p, str) and p for p in purposes):
        raise ValueError("purpose must be one or more non-empty strings")
    if len(bits) // status_size < minimum_entries:
        raise StatusListLengthError(
            f"a list of {len(bits)} bits holds fewer than {minimum_entries} entries of {status_size} bit(s)"
        )
    if ttl_ms is not None and (isinstance(ttl_ms, bool) or not isinstance(ttl_ms, int) or ttl_ms < 0):
        raise ValueError("ttl_ms must be a non-negative integer of milliseconds")
    if valid_until is not None and valid_until <= valid_from:
        raise ValueError("valid_until must be later than valid_from")

    subject: dict[str, Any] = {
        "id": f"{list_url}#list",
        "type": LIST_TYPE,
        "statusPurpose": purposes[0] if len(purposes) == 1 else purposes,
        "encodedList": encode_list(bits),
    }
    if ttl_ms is not None:
        subject["ttl"] = ttl_ms
    credential: dict[str, Any] = {
        "@context": [VC_V2_CONTEXT],
        "id": list_url,
        "type": ["VerifiableCredential", LIST_CREDENTIAL_TYPE],
        "issuer": issuer if isinstance(issuer, str) else dict(issuer),
        "validFrom": xsd_datetime(valid_from),
    }
    if valid_until is not None:
        credential["validUntil"] = xsd_datetime(valid_until)
    credential["credentialSubject"] = subject
    return credential


def status_entry(list_url: str, index: int, purpose: str, *, status_size: int = 1,
                 status_messages: Mapping[int, str] | None = None) -> dict[str, Any]:
    """Return the ``BitstringStatusListEntry`` for ``index`` in the list at ``list_url``.

    With ``status_size`` > 1, ``status_messages`` must give a message for each of the 2**size values.
    """
    _check_list_url(list_url)
    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        raise ValueError("index must be a non-negative integer")
    if not purpose:
        raise ValueError("purpose must be a non-empty string")
    entry: dict[str, Any] = {
        "id": f"{list_url}#{index}",
        "type": ENTRY_TYPE,
        "statusPurpose": purpose,
        "statusListIndex": str(index),
        "statusListCredential": list_url,
    }
    if status_size != 1 or status_messages is not None:
        if status_size < 1:
            raise ValueError("status_size must be a positive integer")
        messages = dict(status_messages or {})
        if sorted(messages) != list(range(1 << status_size)):
            raise ValueError(f"status_messages must cover exactly the values 0..{(1 << status_size) - 1}")
        entry["statusSize"] = status_size
        entry["statusMessage"] = [
            {"status": hex(value), "message": messages[value]} for value in sorted(messages)
        ]
    return entry


@lru_cache(maxsize=1024)  # called a few times per credential signed, mostly with the cohort's same dates
def xsd_datetime(moment: datetime) -> str:
    """Format an aware datetime as an XSD ``dateTimeStamp`` in UTC, to the second (``...Z``)."""
    if moment.tzinfo is None:
        raise ValueError("datetimes must be timezone-aware")
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _check_list_url(list_url: str) -> None:
    parts = urlsplit(list_url)
    if not parts.scheme or parts.fragment or "#" in list_url:
        raise ValueError(f"list URL {list_url!r} must be absolute and have no fragment")
