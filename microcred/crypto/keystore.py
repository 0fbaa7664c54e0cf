"""Issuer signing keys: the :class:`KeyStore` port and two adapters.

* :class:`InMemoryKeyStore`: for tests and ephemeral use.
* :class:`EncryptedFileKeyStore`: one file per key in a directory. The file holds
  ``nonce (12 bytes) || AES-256-GCM ciphertext+tag`` of the 32-byte Ed25519 seed. The additional
  authenticated data is the UTF-8 key id, so a key file renamed to another id fails to decrypt.
  The key-encryption key (KEK) comes from ``MICROCRED_KEK`` (base64) or from a secret file
  (see :func:`load_kek`). Plaintext key material is never written to disk, and no ``repr`` shows
  key material.

Key ids are free-form strings (1 to 200 characters, no control characters), for example
``did:web:issuer.example#key-1``. File names are the hex of the UTF-8 id, so an id can never reach
outside the directory.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol, runtime_checkable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from microcred.crypto.multikey import encode_ed25519_public_key

__all__ = [
    "KEK_ENV",
    "KEK_FILE_ENV",
    "EncryptedFileKeyStore",
    "InMemoryKeyStore",
    "KeyExistsError",
    "KeyNotFoundError",
    "KeyStore",
    "KeyStoreError",
    "load_kek",
]

KEK_ENV = "MICROCRED_KEK"
KEK_FILE_ENV = "MICROCRED_KEK_FILE"
_NONCE_LEN = 12
_SEED_LEN = 32
_KEK_LEN = 32
_SUFFIX = ".key"
_MAX_ID_LEN = 200


class KeyStoreError(Exception):
    """Base class for key store failures (never carries key material)."""


class KeyNotFoundError(KeyStoreError, KeyError):
    """No key with this id."""


class KeyExistsError(KeyStoreError):
    """A key with this id already exists; keys are never overwritten."""


@runtime_checkable
class KeyStore(Protocol):
    """Port for Ed25519 signing keys addressed by a key id."""

    def create_key(self, key_id: str) -> str:
        """Generate and store a new key; return its public key as a multikey (``z6Mk…``)."""
        ...

    def get_signing_key(self, key_id: str) -> Ed25519PrivateKey:
        """Return the private key for signing (raises :class:`KeyNotFoundError`)."""
        ...

    def public_key(self, key_id: str) -> str:
        """Return the public key as a multikey (raises :class:`KeyNotFoundError`)."""
        ...

    def list_keys(self) -> list[str]:
        """Return all key ids, sorted."""
        ...

    def delete_key(self, key_id: str) -> bool:
        """Delete the key for good (a learner deleting their wallet account); True when there was one."""
        ...


def _check_key_id(key_id: str) -> str:
    if not isinstance(key_id, str) or not 0 < len(key_id) <= _MAX_ID_LEN:
        raise ValueError(f"key id must be a string of 1..{_MAX_ID_LEN} characters")
    if any(ord(c) < 0x20 or c == "\x7f" for c in key_id):
        raise ValueError("key id must not contain control characters")
    return key_id


def _seed(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )


class InMemoryKeyStore:
    """Keys held only in process memory."""

    def __init__(self) -> None:
        self._keys: dict[str, Ed25519PrivateKey] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"InMemoryKeyStore(keys={len(self._keys)})"

    def create_key(self, key_id: str) -> str:
        """Generate and store a new key; return its public multikey."""
        _check_key_id(key_id)
        with self._lock:
            if key_id in self._keys:
                raise KeyExistsError(f"key {key_id!r} already exists")
            key = Ed25519PrivateKey.generate()
            self._keys[key_id] = key
        return encode_ed25519_public_key(key.public_key())

    def get_signing_key(self, key_id: str) -> Ed25519PrivateKey:
        """Return the private key for ``key_id``."""
        try:
            return self._keys[key_id]
        except KeyError:
            raise KeyNotFoundError(f"no key {key_id!r}") from None

    def public_key(self, key_id: str) -> str:
        """Return the public multikey for ``key_id``."""
        return encode_ed25519_public_key(self.get_signing_key(key_id).public_key())

    def list_keys(self) -> list[str]:
        """Return all key ids, sorted."""
        return sorted(self._keys)

    def delete_key(self, key_id: str) -> bool:
        """Forget the key; True when there was one."""
        with self._lock:
            return self._keys.pop(key_id, None) is not None


def load_kek(
    env: Mapping[str, str] | None = None, secret_file: str | os.PathLike[str] | None = None
) -> bytes:
    """Return the 32-byte key-encryption key.

    Sources, in order: ``secret_file`` if given; otherwise ``MICROCRED_KEK`` (base64) from ``env``
    (default ``os.environ``); otherwise the file named by ``MICROCRED_KEK_FILE``. A secret file holds
    either 32 raw bytes or their base64 text (as Docker/Kubernetes secrets usually do).
    """
    env = os.environ if env is None else env
    if secret_file is None and env.get(KEK_ENV):
        return _decode_kek(env[KEK_ENV].encode("ascii", "replace"), KEK_ENV)
    path = secret_file if secret_file is not None else env.get(KEK_FILE_ENV)
    if not path:
        raise KeyStoreError(f"no key-encryption key: set {KEK_ENV} (base64) or {KEK_FILE_ENV}")
    data = Path(path).read_bytes()
    if len(data) == _KEK_LEN:
        return data
    return _decode_kek(data.strip(), str(path))


def _decode_kek(text: bytes, source: str) -> bytes:
    try:
        kek = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise KeyStoreError(f"key-encryption key from {source} is not valid base64") from None
    if len(kek) != _KEK_LEN:
        raise KeyStoreError(f"key-encryption key from {source} must be 32 bytes, got {len(kek)}")
    return kek


class EncryptedFileKeyStore:
    """Ed25519 keys in a directory, each encrypted with AES-256-GCM under a KEK."""

    def __init__(self, directory: str | os.PathLike[str], kek: bytes) -> None:
        if len(kek) != _KEK_LEN:
            raise KeyStoreError("key-encryption key must be 32 bytes (AES-256)")
        self._dir = Path(directory)
        self._dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._aead = AESGCM(kek)  # the KEK is kept only inside the AEAD object, never as an attribute
        self._cache: dict[str, Ed25519PrivateKey] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_env(
        cls, directory: str | os.PathLike[str], env: Mapping[str, str] | None = None
    ) -> EncryptedFileKeyStore:
        """Open a store whose KEK comes from ``MICROCRED_KEK`` / ``MICROCRED_KEK_FILE``."""
        return cls(directory, load_kek(env))

    def __repr__(self) -> str:
        return f"EncryptedFileKeyStore(directory={str(self._dir)!r})"

    def _path(self, key_id: str) -> Path:
        return self._dir / (_check_key_id(key_id).encode("utf-8").hex() + _SUFFIX)

    def create_key(self, key_id: str) -> str:
        """Generate a key, store it encrypted (never overwriting) and return its public multikey."""
        path = self._path(key_id)
        key = Ed25519PrivateKey.generate()
        nonce = secrets.token_bytes(_NONCE_LEN)
        blob = nonce + self._aead.encrypt(nonce, _seed(key), key_id.encode("utf-8"))
        # Write a temporary file and then hard-link it into place. The link is atomic and fails if
        # the name exists, so a crash never leaves a half-written key and a key is never replaced.
        tmp = self._dir / f".tmp-{secrets.token_hex(8)}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(blob)
                fh.flush()
                os.fsync(fh.fileno())
            try:
                os.link(tmp, path)
            except FileExistsError:
                raise KeyExistsError(f"key {key_id!r} already exists") from None
        finally:
            tmp.unlink(missing_ok=True)
        with self._lock:
            self._cache[key_id] = key
        return encode_ed25519_public_key(key.public_key())

    def get_signing_key(self, key_id: str) -> Ed25519PrivateKey:
        """Decrypt (once, then cached in memory) and return the private key for ``key_id``."""
        cached = self._cache.get(key_id)
        if cached is not None:
            return cached
        path = self._path(key_id)
        try:
            blob = path.read_bytes()
        except FileNotFoundError:
            raise KeyNotFoundError(f"no key {key_id!r}") from None
        if len(blob) != _NONCE_LEN + _SEED_LEN + 16:
            raise KeyStoreError(f"key file for {key_id!r} has the wrong size")
        try:
            seed = self._aead.decrypt(blob[:_NONCE_LEN], blob[_NONCE_LEN:], key_id.encode("utf-8"))
        except InvalidTag:
            raise KeyStoreError(f"key {key_id!r} cannot be decrypted (wrong KEK or tampered file)") from None
        key = Ed25519PrivateKey.from_private_bytes(seed)
        with self._lock:
            self._cache[key_id] = key
        return key

    def public_key(self, key_id: str) -> str:
        """Return the public multikey for ``key_id``."""
        return encode_ed25519_public_key(self.get_signing_key(key_id).public_key())

    def list_keys(self) -> list[str]:
        """Return all key ids in the directory, sorted."""
        ids = []
        for entry in self._dir.glob("*" + _SUFFIX):
            try:
                ids.append(bytes.fromhex(entry.name[: -len(_SUFFIX)]).decode("utf-8"))
            except ValueError:  # not one of ours
                continue
        return sorted(ids)

    def delete_key(self, key_id: str) -> bool:
        """Remove the key's file (and the cached key); True when there was one."""
        path = self._path(key_id)
        with self._lock:
            self._cache.pop(key_id, None)
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        return True


DEV_ENVIRONMENTS = frozenset({"dev", "test"})


class MissingKekError(KeyStoreError, RuntimeError):
    """No key-encryption key was configured where one is required (any environment but dev/test)."""


def open_service_keystore(keystore_dir: Path, data_dir: Path, environment: str, kek_file: Path | None = None,
                          env: Mapping[str, str] | None = None) -> EncryptedFileKeyStore:
    """A service's encrypted key store under the KEK that :func:`resolve_service_kek` finds."""
    return EncryptedFileKeyStore(keystore_dir, resolve_service_kek(data_dir, environment, kek_file, env))


def resolve_service_kek(data_dir: Path, environment: str, kek_file: Path | None = None,
                        env: Mapping[str, str] | None = None) -> bytes:
    """A service's KEK: from ``kek_file``, ``MICROCRED_KEK``/``MICROCRED_KEK_FILE``, or, in dev/test only, one
    generated once into ``<data_dir>/kek`` (mode 0600); elsewhere :class:`MissingKekError`."""
    import base64
    import logging
    import os
    import secrets

    env = os.environ if env is None else env
    if kek_file is not None:
        return load_kek(env, kek_file)
    if env.get(KEK_ENV) or env.get(KEK_FILE_ENV):
        return load_kek(env)
    if environment not in DEV_ENVIRONMENTS:
        raise MissingKekError(f"environment {environment!r} needs a key-encryption key: set {KEK_ENV} "
                              f"(base64 of 32 bytes) or {KEK_FILE_ENV}")
    kek_path = data_dir / "kek"
    if not kek_path.exists():
        kek_path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(kek_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(base64.b64encode(secrets.token_bytes(32)) + b"\n")
        logging.getLogger(__name__).warning("generated a development key-encryption key",
                                            extra={"path": str(kek_path)})
    return load_kek(env, kek_path)
