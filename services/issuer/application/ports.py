"""The ports the issuer's use cases need, and the errors they may raise: what adapters implement.

* :class:`CredentialStore`: issued and pending ``CredentialIssued`` envelopes per issuer (Redis:
  :class:`~services.issuer.adapters.store.RedisCredentialStore`); :class:`StoreNotReady` while it catches up.
* :class:`StatusIndexSource`: fresh (revocation, suspension) status entries (the revocation service:
  :class:`~services.issuer.adapters.status_pool.GrpcStatusIndexSource`); :class:`StatusIndexUnavailable`.
* :class:`Supersession`: a credential's issuer and revocation, and revoking it as superseded (the revocation
  service: :class:`~services.issuer.adapters.supersession.GrpcSupersession`); :class:`RevocationUnavailable`.
* :class:`Signer`: renders and signs credentials (worker processes:
  :class:`~services.issuer.adapters.signing.SigningPool`); :class:`SigningUnavailable`.
* :class:`DocumentSigning`: an issuer's SD-JWT VC signing key and ``x5c`` chain
  (:class:`~services.issuer.adapters.document_signing.CertifiedDocumentSigning`); :class:`DocumentSigningUnavailable`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from microcred.credential.signing import IssueJob
from microcred.errors import FailedPrecondition, Unavailable
from microcred.gen.microcred.v1 import registry_pb2, status_pb2
from microcred.sdjwt.issue import IssuerKey, SdJwtChunk

__all__ = ["CredentialState", "CredentialStore", "DocumentSigning", "DocumentSigningUnavailable", "MetadataSigning",
           "PageCursor",
           "RevocationUnavailable", "Signer", "SigningUnavailable", "StatusIndexSource", "StatusIndexUnavailable",
           "StatusPair", "StoreNotReady", "Supersession"]

#: (revocation entry, suspension entry) of one credential.
StatusPair = tuple[status_pb2.StatusEntry, status_pb2.StatusEntry]


class StoreNotReady(Unavailable):
    """The store is catching up or being rebuilt; the request may be retried (UNAVAILABLE)."""


class CredentialStore(Protocol):
    """Port: issued and pending credential events, per issuer."""

    async def lookup(self, issuer_id: str, credential_ids: Sequence[str]) -> tuple[dict[str, bytes], dict[str, bytes]]:
        """(issued, pending) envelopes of those ids that have them."""
        ...

    async def get(self, issuer_id: str, credential_id: str) -> bytes | None:
        """The issued envelope of one of ``issuer_id``'s credentials, or None."""
        ...

    async def put_pending(self, issuer_id: str, envelopes: dict[str, bytes]) -> dict[str, bytes]:
        """Store pending envelopes unless a pending or issued one exists already; return the winner, per id."""
        ...

    async def commit(self, issuer_id: str, envelopes: dict[str, bytes]) -> None:
        """Record published envelopes as issued and drop their pending records."""
        ...

    async def page(self, issuer_id: str, cursor: PageCursor, limit: int, since_micros: int | None
                   ) -> tuple[list[bytes], PageCursor | None]:
        """Up to ``limit`` issued envelopes of ``issuer_id``, newest first, from ``cursor`` on (issued at or after
        ``since_micros`` when given), and the cursor of the next page (None on the last one)."""
        ...


@dataclass(frozen=True)
class PageCursor:
    """Where a page of an issuer's credentials starts: below ``before_micros`` (issue time, microseconds; None =
    the newest), after skipping ``skip`` credentials issued exactly at ``before_micros`` (a chunk shares one
    issue time), so credentials issued meanwhile never shift a page."""

    before_micros: int | None = None
    skip: int = 0


class StatusIndexUnavailable(Unavailable):
    """Indexes could not be reserved (revocation service down or refusing); issuing must wait."""


class StatusIndexSource(Protocol):
    """Port: reserves ``count`` fresh (revocation, suspension) entry pairs for an issuer."""

    async def reserve(self, issuer_id: str, count: int) -> list[StatusPair]:
        """Reserve ``count`` pairs (raise :class:`StatusIndexUnavailable` when that is impossible)."""
        ...


@dataclass(frozen=True)
class CredentialState:
    """What the revocation service knows of a credential: its issuer and whether it is revoked."""

    credential_id: str
    issuer_id: str
    revoked: bool


class RevocationUnavailable(Unavailable):
    """The revocation service could not be asked or did not answer; the correction may be retried."""


class Supersession(Protocol):
    """Port: the revocation side of a correction (the revocation service, with the issuer service's certificate:
    :class:`~services.issuer.adapters.supersession.GrpcSupersession`)."""

    async def state(self, credential_id: str) -> CredentialState | None:
        """The credential's issuer and revocation, or None when the revocation service does not know it (yet)."""
        ...

    async def supersede(self, credential_id: str, superseded_by: str, issuer_id: str, actor: str) -> None:
        """Revoke ``credential_id`` with reason "superseded" (idempotent); raise :class:`RevocationUnavailable`
        when that cannot be done now."""
        ...


class SigningUnavailable(Unavailable):
    """The signing workers died or hung; they were replaced, and a retry will be signed by new ones."""


class Signer(Protocol):
    """Port: renders and signs credentials (``(signed JSON, "")`` or ``("", error)`` per job, in order)."""

    async def sign(self, jobs: Sequence[IssueJob], issuer: Mapping[str, Any], seed: bytes,
                   verification_method: str, created: str) -> list[tuple[str, str]]:
        """Sign every job; raise :class:`SigningUnavailable` when the signers died or hung."""
        ...

    async def sign_formats(self, jobs: Sequence[IssueJob], issuer: Mapping[str, Any], seed: bytes,
                           verification_method: str, created: str,
                           documents: SdJwtChunk) -> list[tuple[str, str, str, str]]:
        """As :meth:`sign`, plus the SD-JWT VC of each job ``documents`` asks one for (signed by the same
        signers, with the key derived from ``seed``): ``(signed JSON, SD-JWT VC or "", error, SD-JWT error)``
        per job, in order."""
        ...


class DocumentSigningUnavailable(FailedPrecondition):
    """The issuer cannot sign SD-JWT VCs (no document-signing CA configured, no did:web, no current key)."""


class MetadataSigning(Protocol):
    """Port: the key that signs the Credential Issuer Metadata (OpenID4VCI §12.2.3), certified for the identifier."""

    def metadata_key(self, credential_issuer: str, now: datetime) -> IssuerKey:
        """A key whose ``x5c`` leaf names ``credential_issuer`` (``iss``); raise
        :class:`DocumentSigningUnavailable` when none can be certified here."""
        ...


class DocumentSigning(Protocol):
    """Port: the issuer's SD-JWT VC key, ``iss`` and ``x5c`` chain (HAIP: an X.509 chain to the agency's CA)."""

    def issuer_key(self, issuer: registry_pb2.Issuer, now: datetime) -> IssuerKey:
        """The key to sign ``issuer``'s SD-JWT VCs with now; raise :class:`DocumentSigningUnavailable`."""
        ...

    def issuer_keys(self, issuer: registry_pb2.Issuer, now: datetime) -> list[IssuerKey]:
        """Every SD-JWT VC key of ``issuer`` that may sign now, newest first (its JWT VC Issuer Metadata); raise
        :class:`DocumentSigningUnavailable`."""
        ...
