"""The trust registry as the other parts of the platform see it (the port).

The registry's truth is the event log on ``microcred.registry.v1`` (AgencyRegistered, IssuerRegistered,
IssuerAccredited, AccreditationSuspended, AccreditationWithdrawn, IssuerKeyRotated). Each service that needs
it (issuer: to enforce accreditation at issuance; verifier: to report accreditation and resolve did:web keys)
keeps a read model fed from those events. This module fixes the interface those read models offer; adapters:
``RedisRegistry`` (production, rebuildable by replay) and ``InMemoryRegistry`` (unit tests), held to one
contract test suite.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from microcred.gen.microcred.v1 import registry_pb2


class IssuanceRefusal(StrEnum):
    """Why an issuer may not issue (maps to gRPC PERMISSION_DENIED with this reason)."""

    ISSUER_NOT_REGISTERED = "ISSUER_NOT_REGISTERED"
    NOT_ACCREDITED = "NOT_ACCREDITED"
    ACCREDITATION_SUSPENDED = "ACCREDITATION_SUSPENDED"
    ACCREDITATION_WITHDRAWN = "ACCREDITATION_WITHDRAWN"
    ACCREDITATION_EXPIRED = "ACCREDITATION_EXPIRED"
    ACCREDITATION_NOT_YET_VALID = "ACCREDITATION_NOT_YET_VALID"
    EQF_LEVEL_NOT_ALLOWED = "EQF_LEVEL_NOT_ALLOWED"


@dataclass(frozen=True)
class IssuanceDecision:
    """Whether an issuer may issue now at a given EQF level; when not, the reason and a human message."""

    allowed: bool
    refusal: IssuanceRefusal | None = None
    message: str = ""
    accreditation_id: str = ""


class KeyProblem(StrEnum):
    """Why a verification method cannot vouch for a signature made at a given time."""

    UNKNOWN_ISSUER = "UNKNOWN_ISSUER"
    UNKNOWN_VERIFICATION_METHOD = "UNKNOWN_VERIFICATION_METHOD"
    KEY_RETIRED = "KEY_RETIRED"
    KEY_NOT_YET_VALID = "KEY_NOT_YET_VALID"


@dataclass(frozen=True)
class Logo:
    """A registered issuer's logo: the bytes as registered (checked by :func:`microcred.registry.logo.check_logo`)
    and their media type (``image/png`` or ``image/jpeg``)."""

    data: bytes
    media_type: str

    def data_uri(self) -> str:
        """The logo as a ``data:`` URI (for an ``<img>`` on a page)."""
        return f"data:{self.media_type};base64,{base64.b64encode(self.data).decode()}"


@dataclass(frozen=True)
class KeyResolution:
    """A verification method resolved for a signing time: the key, or the problem."""

    public_key: Ed25519PublicKey | None
    problem: KeyProblem | None = None
    message: str = ""


class RegistryReader(Protocol):
    """Read side of the trust registry."""

    async def get_issuer(self, issuer_id: str) -> registry_pb2.Issuer | None:
        """The issuer with its organisation, DID, verification methods and accreditations."""
        ...

    async def list_issuers(self, agency_id: str | None = None) -> list[registry_pb2.Issuer]:
        """All issuers, or those of one agency, ordered by id."""
        ...

    async def get_agency(self, agency_id: str) -> registry_pb2.Agency | None:
        """A registered agency."""
        ...

    async def get_issuer_logo(self, issuer_id: str) -> Logo | None:
        """The logo the issuer was registered with, or None. Kept apart from :meth:`get_issuer`, so the issuer
        read on every verification does not carry up to 256 kB of image."""
        ...

    async def list_agencies(self) -> list[registry_pb2.Agency]:
        """All registered agencies, ordered by id (the public trust list starts here)."""
        ...

    async def authorize_issuance(self, issuer_id: str, eqf_level: int | None, at: datetime) -> IssuanceDecision:
        """May ``issuer_id`` issue a credential at EQF ``eqf_level`` (None: level not applicable) at ``at``?"""
        ...

    async def resolve_verification_method(self, verification_method_id: str, signed_at: datetime) -> KeyResolution:
        """The public key of one of our did:web verification methods, valid at ``signed_at``."""
        ...
