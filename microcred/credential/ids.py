"""Deterministic identifiers for issued credentials and their events.

A credential id is derived from the issuer id and the client's idempotency key (UUID v5), so a retried
request, even one that arrives after a crash between "published to Kafka" and "answered", yields the same
credential id and the same ``CredentialIssued`` event id, and downstream consumers deduplicate it.
"""

from __future__ import annotations

import hashlib
import uuid

__all__ = ["CREDENTIAL_NAMESPACE", "EVENT_NAMESPACE", "credential_id_for", "issued_event_id", "uuid5_text"]

#: Namespace of credential ids (uuid5 of a fixed URL: never change it, ids would change with it).
CREDENTIAL_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://microcred.eu/ns/credential-id")
#: Namespace of CredentialIssued event ids.
EVENT_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://microcred.eu/ns/credential-issued-event")
# Unit separator: cannot occur in an issuer id, so (issuer, key) pairs never collide.
_SEP = "\x1f"


def uuid5_text(namespace: uuid.UUID, name: str) -> str:
    """``str(uuid.uuid5(namespace, name))``, without the ``UUID`` object (both are computed per credential)."""
    digest = bytearray(hashlib.sha1(namespace.bytes + name.encode(), usedforsecurity=False).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    h = digest.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def credential_id_for(issuer_id: str, idempotency_key: str) -> str:
    """``urn:uuid:<uuid5>`` of (issuer id, idempotency key)."""
    return "urn:uuid:" + uuid5_text(CREDENTIAL_NAMESPACE, issuer_id + _SEP + idempotency_key)


def issued_event_id(credential_id: str) -> str:
    """Event id of the ``CredentialIssued`` event of ``credential_id`` (one per credential, ever)."""
    return uuid5_text(EVENT_NAMESPACE, credential_id)
