"""Key resolvers (adapters of :class:`~microcred.verification.ports.KeyResolver`).

* :class:`DidKeyResolver`: ``did:key`` (the DID *is* the key; always valid, nothing to fetch).
* :class:`DidJwkResolver`: ``did:jwk`` (the DID *is* a JWK, :mod:`microcred.crypto.did_jwk`; likewise local).
* :class:`RegistryKeyResolver`: the platform's own ``did:web`` issuers through the trust registry read model,
  with key validity at the signing time (rotation: a retired key cannot vouch for a later signature).
* :class:`ControllerDocumentResolver`: DID documents or controller documents held in memory (configured
  partners, test fixtures). Nothing is ever fetched from the network: a third-party ``did:web`` or HTTPS
  controller that is not configured is *unresolvable*, which the report shows as ``unknown``.
* :class:`ChainKeyResolver`: asks each resolver in turn.

Every resolver answers for one verification relationship, the proof's expected purpose: a key may sign an
``assertionMethod`` proof (a credential, a status list) only when its controller lists it under
``assertionMethod``, an ``authentication`` proof (a presentation) only under ``authentication``. A did:key's
key holds both (and the capability relations), as its DID document does; the platform's did:web keys are all
under ``assertionMethod`` only (:func:`microcred.registry.did_web.build_did_document`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime
from functools import lru_cache
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from microcred.crypto.did_jwk import DID_JWK_PREFIX, DidJwkError, read_did_jwk
from microcred.crypto.did_key import DidKeyError, public_key_from_did_key
from microcred.crypto.multikey import MultikeyError, decode_ed25519_public_key
from microcred.registry.ports import KeyProblem, RegistryReader
from microcred.verification.ports import KeyLookup, KeyLookupProblem, KeyResolver

log = logging.getLogger(__name__)

__all__ = ["ChainKeyResolver", "ControllerDocumentResolver", "DidJwkResolver", "DidKeyResolver", "RegistryKeyResolver",
           "controller_of"]

_UNRESOLVABLE = KeyLookupProblem.UNRESOLVABLE
_ASSERTION = "assertionMethod"
#: The relationships a did:key document lists its Ed25519 key under (the did:key method's document).
_DID_KEY_RELATIONS = frozenset({"assertionMethod", "authentication", "capabilityInvocation",
                                "capabilityDelegation"})
_PROBLEMS = {
    KeyProblem.UNKNOWN_ISSUER: KeyLookupProblem.UNRESOLVABLE,
    KeyProblem.UNKNOWN_VERIFICATION_METHOD: KeyLookupProblem.UNKNOWN_VERIFICATION_METHOD,
    KeyProblem.KEY_RETIRED: KeyLookupProblem.KEY_RETIRED,
    KeyProblem.KEY_NOT_YET_VALID: KeyLookupProblem.KEY_NOT_YET_VALID,
}


def _not_under(verification_method: str, purpose: str, listed: str, source: str) -> KeyLookup:
    return KeyLookup(None, problem=KeyLookupProblem.UNKNOWN_VERIFICATION_METHOD, source=source,
                     message=f"{verification_method} is not a {purpose} method of its controller ({listed})")


def controller_of(verification_method: str) -> str:
    """The controller part of a verification method id (everything before ``#``)."""
    return verification_method.split("#", 1)[0]


@lru_cache(maxsize=4096)
def _did_key_lookup(verification_method: str) -> KeyLookup:
    if not verification_method.startswith("did:key:"):
        return KeyLookup(None, problem=_UNRESOLVABLE, message="not a did:key")
    try:
        key = public_key_from_did_key(verification_method)
    except DidKeyError as exc:
        return KeyLookup(None, problem=KeyLookupProblem.UNKNOWN_VERIFICATION_METHOD, message=str(exc),
                         source="did:key")
    return KeyLookup(key, frozenset({controller_of(verification_method)}), source="did:key")


class _KeyInDidResolver:
    """A DID method whose DID holds its one key (``method``: ``did:key``, ``did:jwk``), resolved by ``lookup``
    (cached, pure); the key is listed under the relationships of a did:key document (:data:`_DID_KEY_RELATIONS`)."""

    method: str

    @staticmethod
    def lookup(verification_method: str) -> KeyLookup:
        """The method's reading of ``verification_method`` (UNRESOLVABLE when it is not one of its DIDs)."""
        raise NotImplementedError

    async def resolve(self, verification_method: str, signed_at: datetime,
                      purpose: str = _ASSERTION) -> KeyLookup:
        """The key the DID holds, or UNRESOLVABLE for anything that is not one of this method's DIDs."""
        lookup = self.lookup(verification_method)
        if lookup.public_key is not None and purpose not in _DID_KEY_RELATIONS:
            return _not_under(verification_method, purpose, "listed under " + ", ".join(sorted(_DID_KEY_RELATIONS)),
                              self.method)
        return lookup

    async def knows_issuer(self, issuer_id: str) -> bool:
        """Such a DID's only key is the DID itself."""
        return issuer_id.startswith(self.method + ":")


class DidKeyResolver(_KeyInDidResolver):
    """did:key verification methods (``did:key:z6Mk…#z6Mk…`` or bare ``did:key:z6Mk…``), Ed25519 keys."""

    method = "did:key"
    lookup = staticmethod(_did_key_lookup)


@lru_cache(maxsize=4096)
def _did_jwk_lookup(verification_method: str) -> KeyLookup:
    if not verification_method.startswith(DID_JWK_PREFIX):
        return KeyLookup(None, problem=_UNRESOLVABLE, message="not a did:jwk")
    try:
        did, key = read_did_jwk(verification_method)
    except DidJwkError as exc:
        return KeyLookup(None, problem=KeyLookupProblem.UNKNOWN_VERIFICATION_METHOD, message=str(exc),
                         source="did:jwk")
    if not isinstance(key, Ed25519PublicKey):  # the Data Integrity cryptosuites verified here are EdDSA
        return KeyLookup(None, problem=KeyLookupProblem.UNKNOWN_VERIFICATION_METHOD, source="did:jwk",
                         message="the did:jwk's key is not an Ed25519 key (the eddsa cryptosuites' key type)")
    return KeyLookup(key, frozenset({did}), source="did:jwk")


class DidJwkResolver(_KeyInDidResolver):
    """did:jwk verification methods (``did:jwk:<base64url JWK>#0``, or the bare DID), Ed25519 keys. A signing key
    (``use`` absent or ``sig``) is listed under the same relationships as a did:key's; an ``enc`` key under
    ``keyAgreement`` only, so it verifies nothing."""

    method = "did:jwk"
    lookup = staticmethod(_did_jwk_lookup)


class RegistryKeyResolver:
    """The platform's did:web issuers, resolved through :class:`~microcred.registry.ports.RegistryReader`."""

    source = "did:web (trust registry)"

    def __init__(self, registry: RegistryReader, ttl: float = 0.0, max_entries: int = 10_000) -> None:
        """``ttl`` > 0 keeps answers that long (a rotation then shows within ``ttl`` seconds)."""
        self._registry = registry
        self._ttl, self._max = ttl, max_entries
        self._kept: dict[tuple[str, datetime], tuple[float, KeyLookup]] = {}

    async def resolve(self, verification_method: str, signed_at: datetime,
                      purpose: str = _ASSERTION) -> KeyLookup:
        """The key valid at ``signed_at``, or why there is none (registry errors: LOOKUP_FAILED); a known key
        for any ``purpose`` but ``assertionMethod`` is refused (the DID documents list them there only)."""
        lookup = await self._resolve_cached(verification_method, signed_at)
        if lookup.public_key is not None and purpose != _ASSERTION:
            return _not_under(verification_method, purpose, "listed under assertionMethod only", self.source)
        return lookup

    async def _resolve_cached(self, verification_method: str, signed_at: datetime) -> KeyLookup:
        if not verification_method.startswith("did:web:") or "#" not in verification_method:
            return KeyLookup(None, problem=_UNRESOLVABLE, message="not a did:web verification method")
        if self._ttl <= 0:
            return await self._resolve(verification_method, signed_at)
        key = (verification_method, signed_at)
        kept = self._kept.get(key)
        if kept is not None and time.monotonic() - kept[0] <= self._ttl:
            return kept[1]
        lookup = await self._resolve(verification_method, signed_at)
        if lookup.problem is not KeyLookupProblem.LOOKUP_FAILED:
            if len(self._kept) >= self._max:
                self._kept.clear()
            self._kept[key] = (time.monotonic(), lookup)
        return lookup

    async def _resolve(self, verification_method: str, signed_at: datetime) -> KeyLookup:
        try:
            resolution = await self._registry.resolve_verification_method(verification_method, signed_at)
        except Exception as exc:  # Redis down, bad data: the key is unknown, never "invalid"
            # The report is public: the error's text (addresses, internals) goes to the log only.
            log.warning("trust registry lookup failed", extra={"error": repr(exc)[:300]})
            return KeyLookup(None, problem=KeyLookupProblem.LOOKUP_FAILED,
                             message=f"the trust registry could not be read ({type(exc).__name__})",
                             source=self.source)
        if resolution.public_key is not None:
            return KeyLookup(resolution.public_key, frozenset({controller_of(verification_method)}),
                             source=self.source)
        problem = _PROBLEMS.get(resolution.problem or KeyProblem.UNKNOWN_ISSUER, _UNRESOLVABLE)
        return KeyLookup(None, problem=problem, message=resolution.message, source=self.source)

    async def knows_issuer(self, issuer_id: str) -> bool:
        """True when the registry holds ``issuer_id`` as one of its issuers' DIDs.

        The RegistryReader port has no DID lookup, so this asks for a method id that can never exist
        (``#key-0``; platform methods are numbered from 1): a known DID answers "unknown verification
        method", an unknown one "unknown issuer".
        """
        if not issuer_id.startswith("did:web:"):
            return False
        try:
            probe = await self._registry.resolve_verification_method(f"{issuer_id}#key-0", datetime.now().astimezone())
        except Exception:
            return False
        return probe.problem is KeyProblem.UNKNOWN_VERIFICATION_METHOD


class ControllerDocumentResolver:
    """Verification methods from DID/controller documents held in memory (never fetched).

    Each document needs an ``id`` and ``verificationMethod`` entries with ``publicKeyMultibase`` (Ed25519
    Multikey); a method named under a relationship (``assertionMethod``, ``authentication``...) may sign
    proofs of that purpose, and only those, for the document's ``id``. A method with ``revoked``
    (xsd:dateTime) cannot vouch for signatures made at or after that time.
    """

    source = "controller document"

    def __init__(self, documents: Iterable[Mapping[str, Any]]) -> None:
        self._methods: dict[str, Mapping[str, Any]] = {}
        self._controllers: dict[tuple[str, str], set[str]] = {}  # (relation, method) -> listing documents
        self._documents: set[str] = set()
        for doc in documents:
            self._add(doc)

    def _add(self, doc: Mapping[str, Any]) -> None:
        doc_id = str(doc["id"])
        self._documents.add(doc_id)
        for method in doc.get("verificationMethod", []):
            self._methods[self._absolute(doc_id, str(method["id"]))] = method
        for relation in _DID_KEY_RELATIONS:
            for ref in doc.get(relation, []):
                ref_id = ref if isinstance(ref, str) else str(ref.get("id", ""))
                if isinstance(ref, Mapping):
                    self._methods[self._absolute(doc_id, ref_id)] = ref
                self._controllers.setdefault((relation, self._absolute(doc_id, ref_id)), set()).add(doc_id)

    @staticmethod
    def _absolute(doc_id: str, ref: str) -> str:
        return doc_id + ref if ref.startswith("#") else ref

    async def resolve(self, verification_method: str, signed_at: datetime,
                      purpose: str = _ASSERTION) -> KeyLookup:
        """The configured key, honouring ``revoked``, when a document lists it under ``purpose``."""
        method = self._methods.get(verification_method)
        if method is None:
            known = controller_of(verification_method) in self._documents
            return KeyLookup(None, problem=KeyLookupProblem.UNKNOWN_VERIFICATION_METHOD if known else _UNRESOLVABLE,
                             message=f"no configured controller document lists {verification_method}",
                             source=self.source if known else "")
        revoked = method.get("revoked")
        if isinstance(revoked, str):
            try:
                revoked_at = datetime.fromisoformat(revoked)
            except ValueError:
                revoked_at = None
            if revoked_at is None or revoked_at.tzinfo is None or signed_at >= revoked_at:
                return KeyLookup(None, problem=KeyLookupProblem.KEY_RETIRED,
                                 message=f"{verification_method} revoked at {revoked}", source=self.source)
        try:
            key = decode_ed25519_public_key(str(method.get("publicKeyMultibase", "")))
        except MultikeyError as exc:
            return KeyLookup(None, problem=KeyLookupProblem.UNKNOWN_VERIFICATION_METHOD, message=str(exc),
                             source=self.source)
        controllers = self.controllers_of(verification_method, purpose)
        if not controllers:
            listed = sorted(r for r, m in self._controllers if m == verification_method)
            return _not_under(verification_method, purpose, "listed under " + (", ".join(listed) or "nothing"),
                              self.source)
        return KeyLookup(key, controllers, source=self.source)

    async def knows_issuer(self, issuer_id: str) -> bool:
        """True for the ids of the configured documents."""
        return issuer_id in self._documents

    def controllers_of(self, verification_method: str, purpose: str = _ASSERTION) -> frozenset[str]:
        """Documents that list ``verification_method`` (possibly a did:key defined elsewhere) under ``purpose``."""
        return frozenset(self._controllers.get((purpose, verification_method), set()))


class ChainKeyResolver:
    """Asks each resolver in turn; the first answer other than UNRESOLVABLE wins."""

    def __init__(self, *resolvers: KeyResolver) -> None:
        self._resolvers = resolvers
        # found once, not per lookup (every proof of every verification asks)
        self._listing = tuple(r for r in resolvers if isinstance(r, ControllerDocumentResolver))

    async def resolve(self, verification_method: str, signed_at: datetime,
                      purpose: str = _ASSERTION) -> KeyLookup:
        """First definite answer, else UNRESOLVABLE."""
        for resolver in self._resolvers:
            lookup = await resolver.resolve(verification_method, signed_at, purpose)
            if lookup.problem is not _UNRESOLVABLE:
                return self._with_listing_documents(verification_method, lookup, purpose)
        return KeyLookup(None, problem=_UNRESOLVABLE,
                         message=f"{verification_method} is not a did:key, not one of this platform's did:web "
                                 "issuers and not a configured controller; remote documents are not fetched")

    def _with_listing_documents(self, verification_method: str, lookup: KeyLookup, purpose: str) -> KeyLookup:
        """Add the controller documents that list a key defined elsewhere (e.g. an HTTPS issuer's did:key) under
        ``purpose``."""
        if lookup.public_key is None:
            return lookup
        extra: frozenset[str] = frozenset()
        for resolver in self._listing:
            extra |= resolver.controllers_of(verification_method, purpose)
        if extra <= lookup.controllers:
            return lookup
        return replace(lookup, controllers=lookup.controllers | extra)

    async def knows_issuer(self, issuer_id: str) -> bool:
        """True when any resolver knows the issuer."""
        for resolver in self._resolvers:
            if await resolver.knows_issuer(issuer_id):
                return True
        return False
