"""Ed25519 Multikey encoding (W3C Controlled Identifiers, "Multikey"; STANDARDS.md §3.5).

* public key: ``"z" + base58btc(0xed 0x01 || 32-byte public key)`` (values start with ``z6Mk``)
* secret key: ``"z" + base58btc(0x80 0x26 || 32-byte seed)`` (values start with ``z3u2``)

Decoders accept only these multicodec headers, so a key of another type (P-256 ``zDn…``, X25519
``z6LS…``…) can never be mistaken for an Ed25519 key.
"""

from __future__ import annotations

from functools import lru_cache

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

__all__ = [
    "ED25519_PUB_HEADER",
    "ED25519_SECRET_HEADER",
    "MultikeyError",
    "decode_base58btc",
    "decode_ed25519_public_key",
    "decode_ed25519_secret_key",
    "encode_base58btc",
    "encode_ed25519_public_key",
    "encode_ed25519_secret_key",
    "public_key_bytes",
]

ED25519_PUB_HEADER = b"\xed\x01"  # multicodec ed25519-pub (varint 0xed)
ED25519_SECRET_HEADER = b"\x80\x26"  # multicodec ed25519-priv (varint 0x1300)
_KEY_LEN = 32


class MultikeyError(ValueError):
    """A multibase/multikey value is malformed or is not an Ed25519 key."""


_BASE58_ALPHABET = frozenset("123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz")


_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_DIGIT_PAIRS = [a + b for a in _ALPHABET for b in _ALPHABET]  # base 58**2: half the divisions
_CHUNK = 58**10  # divide the big number ten digits at a time, then split each chunk with small integers
_DIGIT_VALUES = str.maketrans({digit: chr(i) for i, digit in enumerate(_ALPHABET)})


def encode_base58btc(data: bytes) -> str:
    """Encode bytes as a multibase base58btc string (``z`` prefix).

    The same digits as ``base58.b58encode``, about twice as fast: every signature is encoded this way."""
    number = int.from_bytes(data, "big")
    pairs: list[str] = []
    while number:
        number, chunk = divmod(number, _CHUNK)
        for _ in range(5):
            chunk, pair = divmod(chunk, 3364)
            pairs.append(_DIGIT_PAIRS[pair])
            if not (number or chunk):
                break
    zeros = len(data) - len(data.lstrip(b"\0"))  # each leading zero byte is a leading "1"
    return "z" + "1" * zeros + "".join(reversed(pairs)).lstrip("1")


def decode_base58btc(value: str) -> bytes:
    """Decode a multibase base58btc string; only the ``z`` (base58btc) base is accepted."""
    if not isinstance(value, str) or len(value) < 2 or value[0] != "z":
        raise MultikeyError("expected a multibase base58btc value starting with 'z'")
    # The base58 package strips surrounding whitespace; an encoding must be exact, so refuse any other character.
    if not _BASE58_ALPHABET.issuperset(value[1:]):
        raise MultikeyError("invalid base58btc: character outside the base58 alphabet")
    return _decode_digits(value[1:])


def _decode_digits(digits: str) -> bytes:
    """The bytes of base58 ``digits`` (all of the alphabet): the same bytes as ``base58.b58decode``, about twice
    as fast (digits as small integers through ``str.translate``, ten per big-number step, one ``to_bytes``
    instead of a division per byte). Hand-written like the encoder: every proof's signature is decoded here."""
    body = digits.lstrip("1")
    raw = body.translate(_DIGIT_VALUES).encode("latin-1")
    whole = len(raw) - len(raw) % 10
    number = 0
    for i in range(0, whole, 10):
        a, b, c, d, e, f, g, h, j, k = raw[i:i + 10]
        number = number * _CHUNK + ((((((((a * 58 + b) * 58 + c) * 58 + d) * 58 + e) * 58 + f) * 58 + g) * 58
                                     + h) * 58 + j) * 58 + k
    for digit in raw[whole:]:
        number = number * 58 + digit
    return b"\0" * (len(digits) - len(body)) + number.to_bytes((number.bit_length() + 7) // 8, "big")


def public_key_bytes(public_key: Ed25519PublicKey) -> bytes:
    """Return the 32 raw bytes of an Ed25519 public key."""
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def encode_ed25519_public_key(public_key: Ed25519PublicKey | bytes) -> str:
    """Encode an Ed25519 public key (object or 32 raw bytes) as ``publicKeyMultibase``."""
    raw = public_key if isinstance(public_key, bytes) else public_key_bytes(public_key)
    if len(raw) != _KEY_LEN:
        raise MultikeyError(f"Ed25519 public key must be 32 bytes, got {len(raw)}")
    return encode_base58btc(ED25519_PUB_HEADER + raw)


@lru_cache(maxsize=4096)  # asked on every verification for the same few issuer keys; key objects are immutable
def decode_ed25519_public_key(multikey: str) -> Ed25519PublicKey:
    """Decode ``publicKeyMultibase`` into a public key; any header other than 0xed01 is rejected."""
    data = decode_base58btc(multikey)
    if data[:2] != ED25519_PUB_HEADER:
        raise MultikeyError(
            f"not an Ed25519 public multikey: multicodec header {data[:2].hex() or '(none)'}, expected ed01"
        )
    if len(data) != 2 + _KEY_LEN:
        raise MultikeyError(f"Ed25519 public multikey must hold 32 key bytes, got {len(data) - 2}")
    return Ed25519PublicKey.from_public_bytes(data[2:])


def encode_ed25519_secret_key(private_key: Ed25519PrivateKey | bytes) -> str:
    """Encode an Ed25519 private key (object or 32-byte seed) as ``secretKeyMultibase``."""
    if isinstance(private_key, bytes):
        seed = private_key
    else:
        seed = private_key.private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
        )
    if len(seed) != _KEY_LEN:
        raise MultikeyError(f"Ed25519 seed must be 32 bytes, got {len(seed)}")
    return encode_base58btc(ED25519_SECRET_HEADER + seed)


def decode_ed25519_secret_key(multikey: str) -> Ed25519PrivateKey:
    """Decode ``secretKeyMultibase`` (0x8026 header) into a private key.

    The body is the 32-byte seed. The 64-byte form (seed followed by public key) that some tools emit
    is accepted too, but only when its public half matches the seed.
    """
    data = decode_base58btc(multikey)
    if data[:2] != ED25519_SECRET_HEADER:
        raise MultikeyError(
            f"not an Ed25519 secret multikey: multicodec header {data[:2].hex() or '(none)'}, expected 8026"
        )
    body = data[2:]
    if len(body) not in (_KEY_LEN, 2 * _KEY_LEN):
        raise MultikeyError(f"Ed25519 secret multikey must hold 32 (or 64) bytes, got {len(body)}")
    key = Ed25519PrivateKey.from_private_bytes(body[:_KEY_LEN])
    if len(body) == 2 * _KEY_LEN and public_key_bytes(key.public_key()) != body[_KEY_LEN:]:
        raise MultikeyError("64-byte Ed25519 secret multikey: public half does not match the seed")
    return key
