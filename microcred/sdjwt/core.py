"""SD-JWT mechanics (RFC 9901): disclosures, digests, decoys, the compact serialisation and the KB-JWT.

Hand-written on purpose (the JOSE part is PyJWT's, see :mod:`microcred.sdjwt.jose`): the only Python SD-JWT
library, the OpenWallet Foundation's reference implementation (PyPI ``sd-jwt``), was last released in
February 2024, before RFC 9901. It does not check ``iat``/``nbf``/``exp``, accepts Disclosures that no digest
references, supports only SHA-256, takes its ``typ`` from an environment variable and has no type hints.
What RFC 9901 asks of the format itself is small, and every rule it states is implemented and tested here
against the RFC's own examples (tests/unit/test_sdjwt_spec_examples.py) and against the OpenWallet
Foundation's TypeScript library (tests/interop/).

Building marks values with :class:`Sd`; :func:`conceal` turns the marked claims into a payload with ``_sd``
digests (plus decoys, sorted so that nothing leaks through their order) and the Disclosures.
:func:`disclose` is the verifier's side (RFC 9901 §7.1 steps 3-5): every Disclosure must be referenced exactly
once, names must not collide, and the claims come back with the paths of what was disclosed.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from microcred.sdjwt.jose import (
    JoseError,
    PrivateKey,
    b64url_decode,
    b64url_encode,
    compact_json,
    sign_jws,
    strict_json_loads,
)

__all__ = [
    "DEFAULT_HASH",
    "HASH_ALGORITHMS",
    "KB_JWT_TYP",
    "MAX_DISCLOSURES",
    "MAX_SD_JWT_LENGTH",
    "DecoyPolicy",
    "Disclosed",
    "Disclosure",
    "Processed",
    "Randomness",
    "Sd",
    "SdJwtError",
    "SdJwtParts",
    "SystemRandomness",
    "conceal",
    "digest",
    "disclose",
    "hash_function",
    "issued_indexes",
    "key_binding_jwt",
    "sd_hash",
    "split_sd_jwt",
]

#: Named hash algorithms (IANA "Named Information Hash Algorithm Registry") usable in ``_sd_alg``.
HASH_ALGORITHMS: Mapping[str, Callable[[bytes], Any]] = {
    "sha-256": hashlib.sha256, "sha-384": hashlib.sha384, "sha-512": hashlib.sha512,
    "sha3-256": hashlib.sha3_256, "sha3-384": hashlib.sha3_384, "sha3-512": hashlib.sha3_512,
}
DEFAULT_HASH = "sha-256"
KB_JWT_TYP = "kb+jwt"
#: Longest SD-JWT (with its Disclosures and KB-JWT) accepted for processing, in characters.
MAX_SD_JWT_LENGTH = 1_000_000
#: Most Disclosures accepted in one SD-JWT.
MAX_DISCLOSURES = 1_024
_RESERVED_NAMES = frozenset({"_sd", "_sd_alg", "..."})
_SALT_BYTES = 16  # 128 bits, RFC 9901 §9.3


class SdJwtError(ValueError):
    """An SD-JWT that breaks RFC 9901; ``reason`` is a stable code (see :mod:`microcred.sdjwt.result`)."""

    def __init__(self, reason: str, problem: str) -> None:
        super().__init__(problem)
        self.reason = reason
        self.problem = problem


class Randomness(Protocol):
    """Where salts and decoys come from (the OS CSPRNG in production, a seeded source in tests)."""

    def token_bytes(self, n: int) -> bytes:
        """``n`` random bytes."""
        ...

    def randbelow(self, n: int) -> int:
        """A random integer in ``[0, n)``."""
        ...


class SystemRandomness:
    """:class:`Randomness` from :mod:`secrets`."""

    def token_bytes(self, n: int) -> bytes:
        """``n`` bytes from the OS CSPRNG."""
        return secrets.token_bytes(n)

    def randbelow(self, n: int) -> int:
        """A CSPRNG integer in ``[0, n)``."""
        return secrets.randbelow(n)


@dataclass(frozen=True, slots=True)
class Sd:
    """Marks a claim value (object member or array element) as selectively disclosable."""

    value: Any


@dataclass(frozen=True, slots=True)
class DecoyPolicy:
    """How many decoy digests go into each ``_sd`` array that has real digests: ``minimum``..``maximum``."""

    minimum: int = 1
    maximum: int = 4

    def __post_init__(self) -> None:
        if not 0 <= self.minimum <= self.maximum:
            raise ValueError("decoy bounds must satisfy 0 <= minimum <= maximum")


@dataclass(frozen=True, slots=True)
class Disclosure:
    """One Disclosure: its base64url form, digest, salt, claim name (None for an array element) and value."""

    encoded: str
    digest: str
    salt: str
    name: str | None
    value: Any


def hash_function(name: str) -> Callable[[bytes], Any]:
    """The hash function for an ``_sd_alg`` name, or SdJwtError(``UNSUPPORTED_HASH``)."""
    try:
        return HASH_ALGORITHMS[name]
    except (KeyError, TypeError):
        raise SdJwtError("UNSUPPORTED_HASH", f"unsupported _sd_alg {name!r}") from None


def digest(encoded: str, alg: str = DEFAULT_HASH) -> str:
    """RFC 9901 §4.2.3: base64url(hash(ASCII of the base64url Disclosure or SD-JWT))."""
    return b64url_encode(hash_function(alg)(encoded.encode("ascii")).digest())


def _encode_disclosure(parts: list[Any], alg: str) -> Disclosure:
    encoded = b64url_encode(compact_json(parts))
    name = parts[1] if len(parts) == 3 else None
    return Disclosure(encoded, digest(encoded, alg), parts[0], name, parts[-1])


@dataclass
class _Concealer:
    alg: str
    rng: Randomness
    decoys: DecoyPolicy
    disclosures: list[Disclosure] = field(default_factory=list)

    def salt(self) -> str:
        return b64url_encode(self.rng.token_bytes(_SALT_BYTES))

    def decoy(self) -> str:
        return digest(b64url_encode(self.rng.token_bytes(_SALT_BYTES)), self.alg)

    def add(self, parts: list[Any]) -> str:
        disclosure = _encode_disclosure(parts, self.alg)
        self.disclosures.append(disclosure)
        return disclosure.digest

    def value(self, node: Any) -> Any:
        kind = type(node)
        if kind is str or kind is int or kind is bool or kind is float or node is None:
            return node  # most values: exact type checks first, no ABC checks (issuance walks every claim)
        if kind is dict or isinstance(node, Mapping):
            return self.obj(node)
        if isinstance(node, list | tuple):
            out: list[Any] = []
            for item in node:
                if isinstance(item, Sd):
                    out.append({"...": self.add([self.salt(), self.value(item.value)])})
                else:
                    out.append(self.value(item))
            return out
        if isinstance(node, Sd):
            raise ValueError("Sd marks an object member or an array element, not a bare value")
        return node

    def obj(self, node: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        digests: list[str] = []
        for name, value in node.items():
            if name in _RESERVED_NAMES:
                raise ValueError(f"claim name {name!r} is reserved by SD-JWT")
            kind = type(value)
            if kind is str or kind is int or kind is bool or kind is float or value is None:
                out[name] = value  # most members (inlined: no call per value)
            elif kind is Sd:
                digests.append(self.add([self.salt(), name, self.value(value.value)]))
            else:
                out[name] = self.value(value)
        if digests:
            span = self.decoys.maximum - self.decoys.minimum + 1
            digests += [self.decoy() for _ in range(self.decoys.minimum + self.rng.randbelow(span))]
            out["_sd"] = sorted(digests)  # sorted: the order reveals neither the claims nor the decoys
        return out


def conceal(claims: Mapping[str, Any], *, alg: str = DEFAULT_HASH, rng: Randomness | None = None,
            decoys: DecoyPolicy | None = None) -> tuple[dict[str, Any], list[Disclosure]]:
    """Turn claims with :class:`Sd` markers into (SD-JWT payload with ``_sd`` and ``_sd_alg``, Disclosures)."""
    hash_function(alg)
    concealer = _Concealer(alg, rng or SystemRandomness(), decoys or DecoyPolicy())
    payload = concealer.obj(claims)
    payload["_sd_alg"] = alg
    return payload, concealer.disclosures


# --------------------------------------------------------------------------------------------- serialisation


@dataclass(frozen=True, slots=True)
class SdJwtParts:
    """A compact SD-JWT or SD-JWT+KB split at its tildes (nothing verified yet)."""

    issuer_jwt: str
    disclosures: tuple[str, ...]
    key_binding_jwt: str | None

    @property
    def without_key_binding(self) -> str:
        """``<Issuer-signed JWT>~<Disclosure 1>~...~<Disclosure N>~``: what ``sd_hash`` covers."""
        return "".join(part + "~" for part in (self.issuer_jwt, *self.disclosures))

    def serialize(self) -> str:
        """The compact form again."""
        return self.without_key_binding + (self.key_binding_jwt or "")


def split_sd_jwt(text: str, *, max_length: int = MAX_SD_JWT_LENGTH) -> SdJwtParts:
    """Split ``<JWT>~<D1>~...~<Dn>~[<KB-JWT>]`` (RFC 9901 §4), refusing anything else."""
    if not isinstance(text, str):
        raise SdJwtError("MALFORMED_SD_JWT", "an SD-JWT is a string")
    if len(text) > max_length:
        raise SdJwtError("TOO_LARGE", f"the SD-JWT is longer than {max_length} characters")
    if not text.isascii():
        raise SdJwtError("MALFORMED_SD_JWT", "an SD-JWT is ASCII (base64url, '.' and '~')")
    parts = text.strip().split("~")
    if len(parts) < 2:
        raise SdJwtError("MALFORMED_SD_JWT", "no '~' separator: a plain JWT is not an SD-JWT")
    if len(parts) - 2 > MAX_DISCLOSURES:
        raise SdJwtError("TOO_LARGE", f"more than {MAX_DISCLOSURES} Disclosures")
    issuer_jwt, disclosures, last = parts[0], tuple(parts[1:-1]), parts[-1]
    if not issuer_jwt or any(not d for d in disclosures):
        raise SdJwtError("MALFORMED_SD_JWT", "empty component between '~' separators")
    return SdJwtParts(issuer_jwt, disclosures, last or None)


def sd_hash(parts: SdJwtParts, alg: str = DEFAULT_HASH) -> str:
    """The KB-JWT ``sd_hash`` of a presentation (RFC 9901 §4.3.1)."""
    return digest(parts.without_key_binding, alg)


def key_binding_jwt(parts: SdJwtParts, holder_key: PrivateKey, *, nonce: str, aud: str, iat: int,
                    alg: str = DEFAULT_HASH) -> str:
    """A KB-JWT over ``parts`` (its ``key_binding_jwt`` is ignored) signed by the holder's key."""
    payload = {"iat": iat, "aud": aud, "nonce": nonce, "sd_hash": sd_hash(parts, alg)}
    return sign_jws({"typ": KB_JWT_TYP}, payload, holder_key)


# --------------------------------------------------------------------------------------------- processing


@dataclass(frozen=True, slots=True)
class Disclosed:
    """A claim that a Disclosure revealed, with its path in the processed payload (array indexes as issued)."""

    path: tuple[str | int, ...]
    name: str | None
    value: Any
    digest: str


@dataclass(frozen=True, slots=True)
class Processed:
    """The processed SD-JWT payload (RFC 9901 §7.1), what was disclosed, and the undisclosed array slots."""

    claims: dict[str, Any]
    disclosed: tuple[Disclosed, ...]
    hidden_array_elements: frozenset[tuple[str | int, ...]]

    @property
    def disclosed_paths(self) -> frozenset[tuple[str | int, ...]]:
        """Paths (as issued) of the claims that are selectively disclosable and were disclosed."""
        return frozenset(d.path for d in self.disclosed)


def _decode_disclosure(encoded: str) -> list[Any]:
    try:
        parts = strict_json_loads(b64url_decode(encoded))
    except JoseError as exc:
        raise SdJwtError("MALFORMED_DISCLOSURE", f"a Disclosure is not base64url JSON ({exc})") from exc
    if not isinstance(parts, list) or len(parts) not in (2, 3) or not isinstance(parts[0], str):
        raise SdJwtError("MALFORMED_DISCLOSURE", "a Disclosure must be [salt, value] or [salt, name, value]")
    if len(parts) == 3 and not isinstance(parts[1], str):
        raise SdJwtError("MALFORMED_DISCLOSURE", "a Disclosure's claim name must be a string")
    return parts


@dataclass
class _Discloser:
    by_digest: Mapping[str, str]
    seen: set[str] = field(default_factory=set)
    used: set[str] = field(default_factory=set)
    disclosed: list[Disclosed] = field(default_factory=list)
    hidden: set[tuple[str | int, ...]] = field(default_factory=set)

    def reference(self, value: str) -> str | None:
        if value in self.seen:
            raise SdJwtError("DUPLICATE_DIGEST", "a digest appears more than once in the SD-JWT")
        self.seen.add(value)
        return self.by_digest.get(value)

    def node(self, node: Any, path: tuple[str | int, ...]) -> Any:
        if isinstance(node, dict):
            return self.obj(node, path)
        if isinstance(node, list):
            return self.array(node, path)
        return node

    def obj(self, node: dict[str, Any], path: tuple[str | int, ...]) -> dict[str, Any]:
        # scalars (most claims) are taken as they are: no path is built for them (the walk's main cost)
        out = {name: self.node(value, (*path, name)) if isinstance(value, dict | list) else value
               for name, value in node.items() if name != "_sd"}
        digests = node.get("_sd", [])
        if not isinstance(digests, list) or not all(isinstance(d, str) for d in digests):
            raise SdJwtError("MALFORMED_SD_JWT", f"_sd at {list(path)} must be an array of strings")
        for value in digests:
            encoded = self.reference(value)
            if encoded is None:
                continue  # a decoy, or a claim the holder did not disclose
            parts = _decode_disclosure(encoded)
            if len(parts) != 3:
                raise SdJwtError("MISPLACED_DISCLOSURE", "an array-element Disclosure is referenced from _sd")
            _, name, claim = parts
            if name in _RESERVED_NAMES:
                raise SdJwtError("RESERVED_CLAIM_NAME", f"a Disclosure uses the reserved claim name {name!r}")
            if name in out:
                raise SdJwtError("CLAIM_NAME_COLLISION", f"claim {name!r} at {list(path)} is disclosed twice")
            self.used.add(value)
            out[name] = self.node(claim, (*path, name))
            self.disclosed.append(Disclosed((*path, name), name, out[name], value))
        return out

    def array(self, node: list[Any], path: tuple[str | int, ...]) -> list[Any]:
        out: list[Any] = []
        for index, item in enumerate(node):
            # RFC 9901 §7.1 step 3.c: only an object whose one key is "..." referring to a string stands for an
            # element; {"...": 1} or {"...": "x", "a": 1} is data, as signed
            if isinstance(item, dict) and len(item) == 1 and isinstance(item.get("..."), str):
                encoded = self.reference(item["..."])
                if encoded is None:
                    self.hidden.add((*path, index))
                    continue
                parts = _decode_disclosure(encoded)
                if len(parts) != 2:
                    raise SdJwtError("MISPLACED_DISCLOSURE", "an object-property Disclosure is used in an array")
                self.used.add(item["..."])
                value = self.node(parts[1], (*path, index))
                out.append(value)
                self.disclosed.append(Disclosed((*path, index), None, value, item["..."]))
            elif isinstance(item, dict | list):
                out.append(self.node(item, (*path, index)))
            else:
                out.append(item)
        return out


def issued_indexes(path: tuple[str | int, ...], length: int,
                   hidden: frozenset[tuple[str | int, ...]]) -> Sequence[int]:
    """The index, as issued, of each of the ``length`` elements left in the processed array at ``path``, given
    the issued paths of the array elements the holder withheld (:attr:`Processed.hidden_array_elements`): they
    are gone from the processed claims, and the elements after them moved up."""
    if not hidden:
        return range(length)
    gone = {p[-1] for p in hidden if len(p) == len(path) + 1 and p[:-1] == path}
    return [i for i in range(length + len(gone)) if i not in gone]


def disclose(payload: Mapping[str, Any], disclosures: Iterable[str]) -> Processed:
    """Apply Disclosures to a verified Issuer-signed JWT payload (RFC 9901 §7.1, steps 3 to 5).

    Raises SdJwtError when a Disclosure is malformed, referenced from the wrong place or not at all, when a
    digest appears twice, or when a disclosed name collides with another claim.
    """
    alg = payload.get("_sd_alg", DEFAULT_HASH)
    if not isinstance(alg, str):
        raise SdJwtError("UNSUPPORTED_HASH", "_sd_alg must be a string")
    hash_function(alg)
    by_digest: dict[str, str] = {}
    for encoded in disclosures:
        value = digest(encoded, alg)
        if value in by_digest:
            raise SdJwtError("DUPLICATE_DISCLOSURE", "the same Disclosure is included twice")
        by_digest[value] = encoded
    discloser = _Discloser(by_digest)
    claims = discloser.obj({k: v for k, v in payload.items() if k != "_sd_alg"}, ())
    unreferenced = len(set(by_digest) - discloser.used)
    if unreferenced:
        raise SdJwtError("DISCLOSURE_NOT_REFERENCED",
                         f"{unreferenced} Disclosure(s) match no digest in the SD-JWT")
    return Processed(claims, tuple(discloser.disclosed), frozenset(discloser.hidden))

