"""What the verification pipeline needs from the outside world, as Protocols (adapters live elsewhere).

* :class:`KeyResolver`: the public key behind a proof's ``verificationMethod`` at signing time, and which
  issuer identifiers that key may speak for. Adapters: :mod:`microcred.verification.keys` (did:key locally,
  our did:web through the trust registry, statically configured controller documents).
* :class:`StatusListSource`: a Bitstring status list credential by URL with the time it was obtained
  (the verifier's Kafka-fed cache with an HTTP fallback restricted to the platform's own URLs; the CLI's
  offline source; in-memory fakes for tests). ``None`` means "not available": the status is then unknown.
* :class:`TokenStatusSource`: an IETF Status List Token by URI, for SD-JWT VCs (checked against ``x509_anchors``).
* ``TrustSource``: the trust registry's read side, :class:`microcred.registry.ports.RegistryReader`.

:class:`VerificationPorts` bundles them with the optional result cache.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from microcred.registry.ports import RegistryReader
from microcred.verification.accreditation import TrustDirectory
from microcred.verification.cache import ResultCache
from microcred.verification.canonical import Canonicalizer

__all__ = ["KeyLookup", "KeyLookupProblem", "KeyResolver", "StatusListSource", "TokenStatusSource", "TrustSource",
           "VerificationPorts"]

TrustSource = RegistryReader


class KeyLookupProblem(StrEnum):
    """Why a verification method gave no usable key."""

    UNRESOLVABLE = "UNRESOLVABLE"
    """Nobody we trust to answer knows this method (a third-party did:web or HTTPS controller): unknown."""
    UNKNOWN_VERIFICATION_METHOD = "UNKNOWN_VERIFICATION_METHOD"
    """The controller is known and has no such method: invalid."""
    KEY_RETIRED = "KEY_RETIRED"
    """The key had been retired before the signing time: invalid."""
    KEY_NOT_YET_VALID = "KEY_NOT_YET_VALID"
    """The key was registered after the signing time: invalid."""
    LOOKUP_FAILED = "LOOKUP_FAILED"
    """The lookup itself failed (registry down): unknown."""


@dataclass(frozen=True, slots=True)
class KeyLookup:
    """A verification method resolved at a signing time.

    ``controllers`` are the identifiers the key may sign for (its controller DID, and for a controller
    document the documents that list it under the proof's relation). ``source`` tells how it
    was resolved (``did:key``, ``did:web (trust registry)``, ``controller document``).
    """

    public_key: Ed25519PublicKey | None
    controllers: frozenset[str] = frozenset()
    problem: KeyLookupProblem | None = None
    message: str = ""
    source: str = ""


class KeyResolver(Protocol):
    """Resolves verification methods and knows which issuers it can speak for."""

    async def resolve(self, verification_method: str, signed_at: datetime,
                      purpose: str = "assertionMethod") -> KeyLookup:
        """The key of ``verification_method`` for a ``purpose`` proof (a verification relationship such as
        ``assertionMethod`` or ``authentication``) made at ``signed_at``.

        A method its controller does not list under ``purpose`` is UNKNOWN_VERIFICATION_METHOD; the
        ``controllers`` of the answer are those that list it under ``purpose``.
        """
        ...

    async def knows_issuer(self, issuer_id: str) -> bool:
        """True when this resolver can list every key of ``issuer_id`` (a mismatch is then definite)."""
        ...


class TokenStatusSource(Protocol):
    """Status List Tokens (``statuslist+jwt``, for SD-JWT VCs) by URI."""

    async def get(self, uri: str) -> tuple[str, datetime] | None:
        """``(token, obtained_at)``, or None when the token cannot be obtained (the status is then unknown)."""
        ...


class StatusListSource(Protocol):
    """Status list credentials by URL."""

    async def get(self, url: str) -> tuple[Mapping[str, Any], datetime] | None:
        """``(list credential, obtained_at)`` or None when the list cannot be obtained."""
        ...


@dataclass
class VerificationPorts:
    """Everything :func:`microcred.verification.pipeline.verify_credential` talks to."""

    keys: KeyResolver
    status: StatusListSource
    trust: TrustSource | None = None
    cache: ResultCache | None = field(default=None)
    status_list_signers: frozenset[str] | None = None
    """When set, status lists must be signed by one of these identifiers (e.g. the revocation service's
    did:key); None accepts any signer whose key resolves, as the Bitstring Status List REC allows."""
    holder_must_be_subject: bool = False
    """Policy: a presentation's holder must be the subject of every credential in it (HOLDER_NOT_SUBJECT,
    invalid). Off by default: the data model lets holder and subject differ; the report says so either way."""
    directory: TrustDirectory | None = None
    """DID -> registry issuer snapshot over ``trust`` (created on first use when not given)."""
    canon: Canonicalizer | None = None
    """JSON-LD processing of documents (:mod:`~.canonical`); None: the process-wide in-process one (pyld runs in
    the caller). Servers wire one with a :class:`~.canonical.ProcessRunner` (bounded, off the event loop)."""
    x509_anchors: tuple[x509.Certificate, ...] = ()
    """CA certificates that an SD-JWT VC's or a Status List Token's ``x5c`` chain must reach (HAIP)."""
    token_status: TokenStatusSource | None = None
    """Status List Tokens by URI, for SD-JWT VCs (None: their status is unknown)."""

    def trust_directory(self) -> TrustDirectory | None:
        """The DID -> issuer snapshot over :attr:`trust` (made on first use); None without a registry."""
        if self.trust is None:
            return None
        if self.directory is None or self.directory.registry is not self.trust:
            self.directory = TrustDirectory(self.trust)
        return self.directory
