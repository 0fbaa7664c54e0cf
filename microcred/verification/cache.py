"""A bounded cache for verification results that depend only on bytes, never on time or state.

Why it is sound: the verdict of a Data Integrity proof is a pure function of (document, proof options,
public key, expected purpose/challenge/domain), because JSON-LD contexts are pinned and hash-checked and
canonicalisation is deterministic. So the pipeline caches

* the FORMAT check, keyed by the document digest;
* the signature outcome, keyed by (document digest, expected purpose, challenge, domain, the resolved public
  key bytes of every proof) and only when no proof carries ``expires`` (the one time-dependent part);
* a status list credential's proof outcome, keyed the same way.

Everything that depends on time or on mutable state is evaluated fresh on every call: key validity at signing
time (registry), issuer identity, accreditation, validity window, revocation and suspension bits.

The digest is SHA-256 of the document's canonical JSON (sorted keys, no whitespace, UTF-8), so two documents
with equal JSON values share entries and any change to any field, proof included, misses. It is an in-memory
key only (never stored or compared across processes): orjson writes it (about ten times faster than the
stdlib on a credential), the stdlib JSON encoder only what orjson refuses (integers beyond 64 bits, lone
surrogates), under a different prefix so the two encodings can never meet.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections import OrderedDict
from collections.abc import Hashable, Mapping
from typing import Any

import orjson

__all__ = ["ResultCache", "body_digest", "document_digest"]


def document_digest(document: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of the canonical JSON of ``document``."""
    try:
        return hashlib.sha256(b"o" + orjson.dumps(document, option=orjson.OPT_SORT_KEYS)).hexdigest()
    except TypeError:
        pass
    try:
        data = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    except RecursionError:
        # nested past Python's stack (orjson stops at 255 levels): such a document is refused by its nesting
        # before anything is cached, so a digest of its own, never shared, keeps the caller from a server error
        return secrets.token_hex(32)
    return hashlib.sha256(b"j" + data.encode("utf-8", "surrogatepass")).hexdigest()


def body_digest(body: bytes) -> str:
    """A digest for the document parsed from the JSON text ``body``, for callers that have the bytes (the
    gateway): SHA-256 (hex) of the bytes themselves, with a prefix of its own. Sound as a cache key, as the same
    bytes always parse to the same document; cheaper than :func:`document_digest` (no re-serialisation), and
    it never equals one (different prefixes), so the two may share a cache. Two texts of one JSON value get
    different digests: a cache miss, nothing worse."""
    return hashlib.sha256(b"b" + body).hexdigest()


class ResultCache:
    """A least-recently-used mapping with a fixed number of entries (single event loop, no locking)."""

    def __init__(self, max_entries: int = 20_000) -> None:
        self._data: OrderedDict[Hashable, Any] = OrderedDict()
        self._max = max_entries
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable) -> Any | None:
        """The cached value, or None."""
        try:
            value = self._data[key]
        except KeyError:
            self.misses += 1
            return None
        self._data.move_to_end(key)
        self.hits += 1
        return value

    def put(self, key: Hashable, value: Any) -> None:
        """Store ``value``, evicting the least recently used entry when full."""
        self._data[key] = value
        self._data.move_to_end(key)
        while len(self._data) > self._max:
            self._data.popitem(last=False)

    def __len__(self) -> int:
        return len(self._data)
