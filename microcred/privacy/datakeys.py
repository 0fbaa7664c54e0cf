"""The data-key port: one AES-256-GCM data key per learner pseudonym, created, fetched and destroyed.

Destroying a learner's data key is the erasure: everything sealed under it (:mod:`microcred.privacy.sealing`)
becomes unreadable wherever a copy lies. A destroyed key is never returned again; a later ``ensure`` for the same
pseudonym makes a *new* key (new personal data of that learner, e.g. a credential issued after the erasure, is
sealed under it), which never opens what was sealed under the old one.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Protocol

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from microcred.errors import Unavailable

__all__ = ["DataKey", "DataKeys", "DataKeysUnavailable", "InMemoryDataKeys", "new_data_key"]


class DataKeysUnavailable(Unavailable):
    """The data-key store cannot be reached or is not loaded yet; retry."""


@dataclass(frozen=True)
class DataKey:
    """A learner's data key (the key bytes never appear in a repr)."""

    pseudonym: str
    key: bytes = field(repr=False)

    @cached_property
    def aead(self) -> AESGCM:
        """The AES-256-GCM cipher of this key (made once per key object)."""
        return AESGCM(self.key)

    @cached_property
    def nonce_key(self) -> bytes:
        """The sub-key of the synthetic nonces (:mod:`microcred.privacy.sealing`)."""
        return hmac.digest(self.key, b"microcred/privacy/v1 synthetic nonce", "sha256")


def new_data_key(pseudonym: str) -> DataKey:
    """A fresh random 256-bit data key for ``pseudonym``."""
    return DataKey(pseudonym, secrets.token_bytes(32))


class DataKeys(Protocol):
    """Port: the learners' data keys, by pseudonym."""

    async def ensure(self, pseudonyms: Iterable[str]) -> dict[str, DataKey]:
        """The current key of each pseudonym, creating (durably) those that have none."""
        ...

    async def get(self, pseudonyms: Iterable[str]) -> dict[str, DataKey]:
        """The current keys of those pseudonyms that have one (destroyed and unknown ones are absent)."""
        ...

    async def destroy(self, pseudonym: str) -> bool:
        """Destroy the pseudonym's key for good; True when there was one."""
        ...


class InMemoryDataKeys:
    """In-memory twin of the data-key store, for unit tests."""

    def __init__(self) -> None:
        self.keys: dict[str, DataKey] = {}
        self.destroyed: list[str] = []

    def __repr__(self) -> str:
        return f"InMemoryDataKeys(keys={len(self.keys)})"

    async def ensure(self, pseudonyms: Iterable[str]) -> dict[str, DataKey]:
        """The current key of each pseudonym, creating the missing ones."""
        return {p: self.keys.setdefault(p, new_data_key(p)) for p in pseudonyms}

    async def get(self, pseudonyms: Iterable[str]) -> dict[str, DataKey]:
        """The keys that exist."""
        return {p: self.keys[p] for p in pseudonyms if p in self.keys}

    async def destroy(self, pseudonym: str) -> bool:
        """Forget the key."""
        self.destroyed.append(pseudonym)
        return self.keys.pop(pseudonym, None) is not None
