"""The issuer's keys for encrypted credential requests (OpenID4VCI 1.0 §10, :mod:`microcred.oid4vci.encryption`).

Wallets encrypt their credential requests to the public key the Credential Issuer Metadata lists
(``credential_request_encryption.jwks``); any replica must decrypt what a wallet encrypted after reading another
replica's metadata, so every replica holds the same keys. They are derived, as the SD-JWT VC keys are
(:mod:`.document_signing`), from an Ed25519 seed in the key store (encrypted at rest under the service's KEK):
the key ``oid4vci-request-encryption``, made by whichever replica starts first (the key store never overwrites
a key, so a race leaves one) and read by the others. A key's ``kid`` is its RFC 7638 thumbprint.

**Rotation.** With a period, the key of period *g* (the Unix time divided by the period) is derived for *g*: the
replicas agree on it with no coordination but their clocks. The metadata lists the current key; a request may be
encrypted to it or to the previous period's, so a wallet that read the metadata (or a signed copy, good for a
day: hence a period of a day at least) just before a rotation is still served; in the last minutes of a period
(:data:`CLOCK_SKEW`) the next period's key is taken too, since a replica whose clock runs a little ahead lists it
already. A key is taken from five minutes before its period to the end of the next, never again after: a leaked
request key opens the requests of two periods (and five minutes) at most. Without a period the key is the one key
of the seed (as before rotation existed).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import timedelta

from microcred.crypto.keystore import KeyStore
from microcred.oid4vci.encryption import EncryptionKey
from microcred.oid4vci.signed_metadata import LIFETIME as SIGNED_METADATA_LIFETIME
from services.issuer.adapters.document_signing import derive_p256_key
from services.issuer.adapters.shared_seed import shared_seed

__all__ = ["CLOCK_SKEW", "KEY_ID", "MIN_PERIOD", "RotatingRequestKeys", "request_encryption_keys"]

KEY_ID = "oid4vci-request-encryption"
_LABEL = b"microcred/oid4vci/credential-request-encryption/ecdh-es/v1"
#: The shortest rotation period: a signed metadata copy stays good this long, and its key must be taken all that time.
MIN_PERIOD = SIGNED_METADATA_LIFETIME
#: How far the replicas' clocks may be apart: this close to a rotation, the next period's key is taken already.
CLOCK_SKEW = timedelta(minutes=5)


class RotatingRequestKeys:
    """:class:`~microcred.oid4vci.encryption.RequestKeys` derived from one seed, per period (module docstring)."""

    def __init__(self, seed: bytes, period: timedelta | None, clock: Callable[[], float] = time.time) -> None:
        """``period``: how long a key is listed (at least :data:`MIN_PERIOD`); None: one key, never rotated."""
        if period is not None and period < MIN_PERIOD:
            raise ValueError(f"a request-encryption key period of {period} is shorter than {MIN_PERIOD}")
        self._seed, self._clock = seed, clock
        self._seconds = None if period is None else period.total_seconds()
        self._keys: dict[int | None, EncryptionKey] = {}

    def _key(self, generation: int | None) -> EncryptionKey:
        key = self._keys.get(generation)
        if key is None:
            label = _LABEL if generation is None else b"%s/period/%d" % (_LABEL, generation)
            key = self._keys[generation] = EncryptionKey.of(derive_p256_key(self._seed, label))
            for old in [g for g in self._keys if g is not None and generation is not None and g < generation - 2]:
                del self._keys[old]  # only the previous, current and next period's are ever asked for again
        return key

    def current(self) -> EncryptionKey:
        """The key the metadata lists now."""
        return self._key(None if self._seconds is None else int(self._clock() // self._seconds))

    def accepted(self) -> Sequence[EncryptionKey]:
        """The current key, then the previous period's; near the end of a period also the next one's (a replica
        whose clock is a little ahead lists it already)."""
        if self._seconds is None:
            return (self._key(None),)
        now = self._clock()
        generation = int(now // self._seconds)
        keys = [self._key(generation), self._key(generation - 1)]
        if now + CLOCK_SKEW.total_seconds() >= (generation + 1) * self._seconds:
            keys.append(self._key(generation + 1))
        return keys


def request_encryption_keys(keystore: KeyStore, period: timedelta | None) -> RotatingRequestKeys:
    """The shared keys (their seed made in ``keystore`` if no replica made it yet), rotated every ``period``."""
    return RotatingRequestKeys(shared_seed(keystore, KEY_ID), period)
