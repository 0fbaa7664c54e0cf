"""The wallet's domain: what a held credential is, how it is matched to a learner, how lists are filtered.

Pure module: no Redis, Kafka or HTTP. A learner account is identified by the OIDC ``sub`` of its tokens; it
links identifiers (holder DIDs created in the wallet, the verified e-mail address from the token) and
credentials are filed under identifiers, so a credential issued before the account existed appears as soon
as the account links the identifier it was issued to.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from microcred.credential.identifiers import normalise_email
from microcred.sdjwt.view import compact_of
from microcred.verification.document import parse_datetime

EMAIL_IDENTITY_TYPE = "emailAddress"


class CredentialStatus(StrEnum):
    """Current status of a held credential, from the revocation service's events."""

    ACTIVE = "ACTIVE"
    SUSPENDED = "SUSPENDED"
    REVOKED = "REVOKED"


class Source(StrEnum):
    """How a credential got into the wallet."""

    ISSUED = "issued"  # a CredentialIssued event on Kafka
    IMPORTED = "imported"  # uploaded by the learner, accepted after verification


@dataclass(frozen=True, slots=True)
class EuElements:
    """The EU elements the wallet filters and stacks on (Annex I 2, 4, 5, 7, 8 and the achievement)."""

    title: str = ""
    achievement_id: str | None = None
    ects: Decimal | None = None
    eqf_level: int | None = None
    issued_at: datetime | None = None
    valid_until: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (decimals and dates as strings)."""
        return {
            "title": self.title, "achievement_id": self.achievement_id,
            "ects": None if self.ects is None else str(self.ects), "eqf_level": self.eqf_level,
            "issued_at": _iso(self.issued_at), "valid_until": _iso(self.valid_until),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> EuElements:
        """Inverse of :meth:`to_json`."""
        return cls(
            title=str(data.get("title") or ""), achievement_id=data.get("achievement_id"),
            ects=None if data.get("ects") is None else Decimal(str(data["ects"])),
            eqf_level=data.get("eqf_level"), issued_at=_parse_iso(data.get("issued_at")),
            valid_until=_parse_iso(data.get("valid_until")),
        )


@dataclass(frozen=True, slots=True)
class HashedId:
    """An OB 3.0 IdentityObject with a salted hash (``identityHash = sha256$hex(sha256(value + salt))``)."""

    identity_type: str
    identity_hash: str
    salt: str


@dataclass(frozen=True, slots=True)
class Identity:
    """Who a credential was issued to: a subject DID and/or salted hashed identifiers."""

    did: str | None = None
    hashed: tuple[HashedId, ...] = ()
    email_index: str | None = None  # keyed hash of the e-mail, when the issuer's model confirmed it

    def email_hashes(self) -> tuple[HashedId, ...]:
        """The hashed e-mail identifiers (the only kind the wallet can match, from the token's e-mail)."""
        return tuple(h for h in self.hashed if h.identity_type == EMAIL_IDENTITY_TYPE and h.salt)


@dataclass(frozen=True, slots=True)
class HeldCredential:
    """A credential in the wallet with what the wallet knows about it (status, EU elements, binding)."""

    credential_id: str
    issuer_id: str
    issuer_did: str | None
    elements: EuElements
    subject: Identity
    source: Source = Source.ISSUED
    status: CredentialStatus = CredentialStatus.ACTIVE
    status_reason: str = ""
    bound_did: str | None = None
    document: Mapping[str, Any] = field(default_factory=dict, compare=False)
    # The document's JSON text exactly as the event carried it, when known (stored as is: no re-encoding).
    document_json: str | None = field(default=None, compare=False, repr=False)
    import_check: Mapping[str, Any] = field(default_factory=dict)  # imported: verdict and unknown checks
    # A correction links two credentials: the replacement names the one it replaces (its issue event), the
    # replaced one its replacement (its revocation, reason "superseded"), so the learner is pointed to it.
    replaces: str | None = None
    replaced_by: str | None = None
    # The same credential as a JAdES-sealed European Digital Credential (JSON text), when the issuer issued it in
    # that format: the .jsonld the learner downloads for a Europass wallet (GET /v1/credentials/{id}/edc).
    edc_jsonld: str | None = field(default=None, compare=False, repr=False)
    # The same credential as an SD-JWT VC (compact, every Disclosure), when the issuer issued it in that format:
    # what the learner downloads for an EUDI wallet (GET /v1/credentials/{id}/sd-jwt).
    sd_jwt_vc: str | None = field(default=None, compare=False, repr=False)

    @property
    def sd_jwt_compact(self) -> str | None:
        """The credential as a compact SD-JWT VC: the issued one, or an imported SD-JWT VC (its envelope's)."""
        return self.sd_jwt_vc or compact_of(self.document)

    @property
    def issuer_name(self) -> str | None:
        """The issuer's name as the signed document gives it (``issuer.name``), if any."""
        issuer = self.document.get("issuer")
        name = issuer.get("name") if isinstance(issuer, Mapping) else None
        return name if isinstance(name, str) and name else None

    def meta_json(self) -> dict[str, Any]:
        """Everything but the document, JSON-ready (what the list endpoint shows)."""
        return {
            "credential_id": self.credential_id, "issuer_id": self.issuer_id, "issuer_did": self.issuer_did,
            "issuer_name": self.issuer_name,
            "source": self.source.value, "status": self.status.value, "status_reason": self.status_reason,
            "bound_did": self.bound_did, "elements": self.elements.to_json(),
            "replaces": self.replaces, "replaced_by": self.replaced_by,
            **({"import_check": dict(self.import_check)} if self.import_check else {}),
            **({"edc": True} if self.edc_jsonld else {}),
            **({"sd_jwt_vc": True} if self.sd_jwt_compact else {}),
        }


@dataclass(frozen=True, slots=True)
class CredentialFilter:
    """Filters of the credential list: issuer (registry id or DID), issue-date range, EQF level, status."""

    issuer: str | None = None
    issued_from: date | None = None
    issued_until: date | None = None
    eqf_level: int | None = None
    status: CredentialStatus | None = None

    def matches(self, credential: HeldCredential) -> bool:
        """True when ``credential`` passes every filter that is set."""
        if self.issuer is not None and self.issuer not in (credential.issuer_id, credential.issuer_did):
            return False
        if self.eqf_level is not None and credential.elements.eqf_level != self.eqf_level:
            return False
        if self.status is not None and credential.status is not self.status:
            return False
        issued = credential.elements.issued_at
        if self.issued_from is not None and (issued is None or issued.date() < self.issued_from):
            return False
        return not (self.issued_until is not None and (issued is None or issued.date() > self.issued_until))


@dataclass(frozen=True)
class StatusChange:
    """One status event (revoked, suspended or reinstated), reduced to what the read model stores."""

    credential_id: str
    revoked: bool | None = None
    suspended: bool | None = None
    reason: str = ""
    superseded_by: str = ""  # a revocation by correction: the replacement's id


def email_index(email: str, key: bytes) -> str:
    """The wallet's own keyed hash of an e-mail address (HMAC-SHA256 under the wallet's index key).

    Issuers salt every credential's e-mail hash differently, so matching those needs one hash per salt; the
    wallet additionally files credentials under this keyed hash (one lookup per learner), computed from the
    e-mail in the issuer's event after checking it against the signed credential's hashed identifier.
    """
    digest = hmac.new(key, normalise_email(email).encode("utf-8"), hashlib.sha256).hexdigest()
    return "hmac-sha256$" + digest


def effective_status(revoked: bool, suspended: bool) -> CredentialStatus:
    """Revocation is permanent and wins over suspension; a reinstated credential is active again."""
    if revoked:
        return CredentialStatus.REVOKED
    return CredentialStatus.SUSPENDED if suspended else CredentialStatus.ACTIVE


def account_id(sub: str, issuer: str) -> str:
    """The learner's opaque wallet id: stable per (provider, subject), reveals neither."""
    return "lrn_" + hashlib.sha256(f"{issuer}\x1f{sub}".encode()).hexdigest()[:32]


def dumps(value: Any) -> str:
    """Compact, key-sorted JSON (stable bytes for equal values, so replays write identical state)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _parse_iso(value: Any) -> datetime | None:
    return parse_datetime(value, require_zone=False)
