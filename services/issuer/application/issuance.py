"""Issuing credentials: the use case behind ``IssueCredential``, ``IssueCredentials`` and ``GetCredential``.

:meth:`Issuance.issue` takes one chunk of items from one issuer and returns one outcome per item, in order:
the issued credential or a :class:`Refusal` (code, message, every field violation). A bad item never affects
the others. For each chunk:

1. idempotency: the credential id is derived from (issuer, key); ids already issued are answered from the
   store, ids with a *pending* record (signed before a crash or a failed publish) reuse that exact credential;
2. validation of every Annex I element (INVALID_ARGUMENT with all violations; a cohort's shared elements are
   checked once, :mod:`services.issuer.application.validation_cache`), then the trust registry: the issuer must be
   registered under the caller's agency, accredited, active, and allowed the EQF level (PERMISSION_DENIED with
   the registry's reason); while the registry read model is lost or being rebuilt, UNAVAILABLE instead;
3. one (revocation, suspension) status pair per credential from the pool, render + sign (``eddsa-rdfc-2022``,
   the issuer's current did:web or did:key verification method; an SD-JWT VC asked for is signed in the same
   signing job, :meth:`~services.issuer.application.ports.Signer.sign_formats`), ``CredentialIssued`` envelopes
   with deterministic event ids;
4. pending records (``SET NX``), one ``publish_many`` (idempotent producer, acks=all), then the issued records.
   Only what Kafka acknowledged is answered as issued; a failed publish answers UNAVAILABLE and the retry
   republishes the same credential.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from google.protobuf.timestamp_pb2 import Timestamp
from google.rpc import code_pb2  # type: ignore[import-untyped, unused-ignore]

from microcred.credential.identifiers import identity_hash, normalise_email
from microcred.credential.ids import credential_id_for, issued_event_id
from microcred.credential.ob3 import issuer_profile
from microcred.credential.signing import IssueJob
from microcred.crypto.keystore import KeyStore, KeyStoreError
from microcred.events.envelope import SCHEMA_VERSION, EventEnvelope
from microcred.gen.microcred.v1 import elements_pb2 as pb
from microcred.gen.microcred.v1 import events_pb2, issuer_pb2, registry_pb2, status_pb2
from microcred.kafka.publisher import EventPublisher
from microcred.kafka.topics import CREDENTIALS
from microcred.model.differences import changed_fields
from microcred.model.errors import INCONSISTENT, INVALID_FORMAT, REQUIRED, FieldViolation
from microcred.pki import ROLE_ISSUER, actor_name
from microcred.registry.domain import authorize, certificate_pinned, current_verification_method
from microcred.registry.ports import IssuanceRefusal, RegistryReader
from microcred.sdjwt.issue import IssuerKey, SdJwtChunk, SdJwtJob, StatusReference
from microcred.status.build import status_entry, xsd_datetime
from microcred.status.token_status_list import token_status_uri
from services.issuer.application.edc import EdcCheck, seal_edcs
from services.issuer.application.ports import (
    CredentialStore,
    DocumentSigning,
    DocumentSigningUnavailable,
    Signer,
    SigningUnavailable,
    StatusPair,
    StoreNotReady,
)
from services.issuer.application.status_indexes import StatusIndexPool
from services.issuer.application.validation_cache import CohortValidator

__all__ = ["CORRECTION_KEY_PREFIX", "MAX_KEY_LENGTH", "REGISTRY_REBUILDING", "Caller", "Issuance", "IssueItem",
           "Outcome", "Refusal", "caller_refusal", "deny", "issued_credential", "issued_envelope", "key_conflict",
           "signing_key", "status_entry_json"]

log = logging.getLogger(__name__)

MAX_KEY_LENGTH = 256
_ISSUED = events_pb2.CredentialIssued.DESCRIPTOR.name
_ISSUED_TYPE = events_pb2.CredentialIssued.DESCRIPTOR.full_name
_PURPOSE_NAMES = {status_pb2.STATUS_PURPOSE_REVOCATION: "revocation",
                  status_pb2.STATUS_PURPOSE_SUSPENSION: "suspension"}


@dataclass(frozen=True)
class Caller:
    """The authenticated issuer: ids from its client certificate and the certificate's SHA-256 (hex), or from
    the OAuth 2.0 client registered for it (REST API), whose ``certificate_sha256`` is then empty."""

    issuer_id: str
    agency_id: str
    certificate_sha256: str = ""

    @property
    def actor(self) -> str:
        """The issuer as the actor of its events (audit trail)."""
        return actor_name(ROLE_ISSUER, self.issuer_id, self.agency_id)


@dataclass(frozen=True)
class IssueItem:
    """One credential to issue."""

    idempotency_key: str
    credential: pb.MicroCredential
    client_reference: str = ""
    #: A correction (:mod:`services.issuer.application.correction`): the credential this one replaces, and why.
    replaces: str = ""
    correction_reason: str = ""
    #: Also issue the credential as an SD-JWT VC (``CREDENTIAL_FORMAT_SD_JWT_VC``), bound to ``holder_jwk`` if any.
    sd_jwt_vc: bool = False
    holder_jwk: Mapping[str, Any] | None = None
    #: Also issue the credential as a sealed EDC (``CREDENTIAL_FORMAT_EDC``, :mod:`services.issuer.application.edc`).
    edc: bool = False


@dataclass(frozen=True)
class Refusal:
    """Why an item was not issued: a ``google.rpc.Code``, a message, field violations, a machine reason."""

    code: int
    message: str
    violations: tuple[FieldViolation, ...] = ()
    reason: str = ""


Outcome = issuer_pb2.IssuedCredential | Refusal

#: While the registry read model is lost or replaying, "not registered" (or "accredited") may just be "not
#: replayed yet": every registry answer is replaced by this one.
REGISTRY_REBUILDING = Refusal(code_pb2.UNAVAILABLE, "the trust registry read model is being rebuilt from Kafka; "
                                                    "retry shortly", reason="REGISTRY_REBUILDING")


def issued_credential(envelope_bytes: bytes) -> tuple[issuer_pb2.IssuedCredential, events_pb2.CredentialIssued]:
    """The answer for a stored or pending ``CredentialIssued`` envelope, and its payload."""
    envelope = EventEnvelope.FromString(envelope_bytes)
    event = events_pb2.CredentialIssued.FromString(envelope.payload)
    issued = issuer_pb2.IssuedCredential(credential_id=event.credential_id, credential_json=event.credential_json,
                                         status_entries=event.status_entries, issued_at=envelope.occurred_at,
                                         replaces=event.replaces, sd_jwt_vc=event.sd_jwt_vc,
                                         edc_jsonld=event.edc_jsonld)
    return issued, event


def issued_envelope(caller: Caller, event: events_pb2.CredentialIssued, occurred_at: Timestamp) -> EventEnvelope:
    """The ``CredentialIssued`` envelope of ``event`` (deterministic event id: a republish is the same event)."""
    cid = event.credential_id
    # What new_envelope builds, minus its trace context: the publisher stamps that inside its PRODUCER span
    # anyway, and injecting it per credential first costs more than the rest of the envelope.
    return EventEnvelope(event_id=issued_event_id(cid), event_type=_ISSUED, schema_version=SCHEMA_VERSION,
                         tenant=caller.agency_id, issuer_id=caller.issuer_id, subject=cid, actor=caller.actor,
                         payload=event.SerializeToString(deterministic=True), payload_type=_ISSUED_TYPE,
                         occurred_at=occurred_at)


#: What may differ between two requests with one key: the issue date a client sets to "now" on each run.
_MAY_DIFFER_ON_RETRY = ("issued_at",)


def key_conflict(item: IssueItem, earlier: pb.MicroCredential) -> Refusal | None:
    """ALREADY_EXISTS naming the fields that differ when ``item`` reuses the key of another credential's
    content, or None when it is the same request again (then the earlier credential is the answer)."""
    changed = changed_fields(earlier, item.credential, ignore=_MAY_DIFFER_ON_RETRY)
    if not changed:
        return None
    shown = changed[:20]
    more = f" and {len(changed) - len(shown)} more" if len(changed) > len(shown) else ""
    return Refusal(code_pb2.ALREADY_EXISTS,
                   f"idempotency key {item.idempotency_key!r} was used for a credential with other content "
                   f"({', '.join(shown)}{more} differ); nothing was issued. To replace that credential, correct "
                   f"it (revoke it as superseded and issue the new one under a new key)",
                   tuple(FieldViolation(path, "differs from the credential issued under this key", INCONSISTENT)
                         for path in shown), reason="IDEMPOTENCY_KEY_REUSED")


#: Idempotency keys of corrections (derived from the corrected credential's id); no other request may use them.
CORRECTION_KEY_PREFIX = "correction-of:"


def _key_violations(key: str, correction: bool = False) -> list[FieldViolation]:
    if key.startswith(CORRECTION_KEY_PREFIX) and not correction:
        return [FieldViolation("idempotency_key", f"keys starting with {CORRECTION_KEY_PREFIX!r} are reserved for "
                                                  "corrections (CorrectCredential)", INVALID_FORMAT)]
    if not key:
        return [FieldViolation("idempotency_key", "is required (one key per credential, reused on retries)",
                               REQUIRED)]
    if len(key) > MAX_KEY_LENGTH or any(ord(c) < 0x20 or c == "\x7f" for c in key):
        return [FieldViolation("idempotency_key", f"must be 1..{MAX_KEY_LENGTH} characters without control "
                                                  "characters", INVALID_FORMAT)]
    return []


def _eqf_level(mc: pb.MicroCredential) -> int | None:
    return mc.level.eqf_level if mc.level.WhichOneof("eqf") == "eqf_level" else None


def status_entry_json(entry: status_pb2.StatusEntry) -> dict[str, Any]:
    """The ``credentialStatus`` entry (BitstringStatusListEntry) of a status-pool entry."""
    return status_entry(entry.status_list_credential, entry.status_list_index, _PURPOSE_NAMES[entry.status_purpose])


def _edc_statuses(fresh: Mapping[str, int], items: Sequence[IssueItem],
                  pairs: Sequence[Sequence[status_pb2.StatusEntry]]) -> dict[str, StatusReference]:
    """The Token Status List entry each EDC names (the SD-JWT VC's: its revocation list's token list, at its
    revocation index; one 2-bit entry for revocation and suspension). A status list URL not of the service's
    layout has none, and its EDC is refused as an INTERNAL error (microcred/elm/status.py)."""
    out = {}
    for (cid, i), pair in zip(fresh.items(), pairs, strict=True):
        revocation = [e for e in pair if e.status_purpose == status_pb2.STATUS_PURPOSE_REVOCATION]
        if items[i].edc and revocation:
            with contextlib.suppress(ValueError):
                out[cid] = StatusReference(token_status_uri(revocation[0].status_list_credential),
                                           revocation[0].status_list_index)
    return out


def deny(reason: str, message: str) -> Refusal:
    """PERMISSION_DENIED with the registry's (or the caller check's) machine reason."""
    return Refusal(code_pb2.PERMISSION_DENIED, message, reason=reason)


def caller_refusal(caller: Caller, issuer: registry_pb2.Issuer | None) -> Refusal | None:
    """Why ``caller`` may not act as ``issuer`` (None when it may): the issuer must be registered under the
    caller's agency, and a caller with a client certificate must present one the registry pins for the issuer
    (when it pins any; an OAuth 2.0 client is bound to its issuer by its own registration instead)."""
    if issuer is None:
        return deny(IssuanceRefusal.ISSUER_NOT_REGISTERED,
                    f"issuer {caller.issuer_id!r} is not registered in the trust registry")
    if issuer.agency_id != caller.agency_id:
        return deny("AGENCY_MISMATCH", f"the caller acts for agency {caller.agency_id!r}, but the issuer belongs "
                                       f"to {issuer.agency_id!r}")
    if caller.certificate_sha256 and not certificate_pinned(issuer, caller.certificate_sha256):
        return deny("CERTIFICATE_NOT_REGISTERED", "the client certificate is not registered for this issuer")
    return None


def signing_key(keystore: KeyStore, issuer: registry_pb2.Issuer,
                now: datetime) -> tuple[Ed25519PrivateKey, str] | Refusal:
    """The issuer's current signing key and its verification method id, or FAILED_PRECONDITION."""
    method = current_verification_method(issuer, now)
    if method is None:
        return Refusal(code_pb2.FAILED_PRECONDITION, "the issuer has no current verification method")
    # {issuer}/key-n for the platform's did:web keys (microcred.registry.did_web), {issuer}/z6Mk... for did:key
    key_id = f"{issuer.issuer_id}/{method.id.rpartition('#')[2]}"
    try:
        return keystore.get_signing_key(key_id), method.id
    except KeyStoreError as exc:
        log.error("issuer signing key unavailable", extra={"issuer_id": issuer.issuer_id, "key_id": key_id,
                                                           "error": type(exc).__name__})
        return Refusal(code_pb2.FAILED_PRECONDITION, f"no signing key for {method.id}")


@dataclass(frozen=True)
class _Ready:
    """A signed credential ready to publish: its envelope, the envelope's bytes and the answer."""

    envelope: EventEnvelope
    raw: bytes
    answer: issuer_pb2.IssuedCredential

    @classmethod
    def parse(cls, raw: bytes) -> _Ready:
        """From stored (pending) envelope bytes."""
        answer, _ = issued_credential(raw)
        return cls(EventEnvelope.FromString(raw), raw, answer)


@dataclass
class _Signer:
    """What signs for one issuer in one chunk (the seed never appears in a repr, log or event)."""

    profile: dict[str, Any]
    seed: bytes = field(repr=False)
    verification_method: str = ""


class Issuance:
    """Validates, authorises, signs and publishes credentials; see the module docstring."""

    def __init__(self, *, registry: RegistryReader, keystore: KeyStore, status: StatusIndexPool,
                 store: CredentialStore, publisher: EventPublisher, signing: Signer,
                 topic: str = CREDENTIALS.name, clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 new_salt: Callable[[], str] = lambda: secrets.token_urlsafe(16),
                 registry_available: Callable[[], Awaitable[bool]] | None = None,
                 documents: DocumentSigning | None = None, require_holder_key: bool = False,
                 edc_check: EdcCheck | None = None) -> None:
        """``documents``: the issuers' SD-JWT VC keys (None: an SD-JWT VC request is FAILED_PRECONDITION).
        ``require_holder_key``: an SD-JWT VC request without a holder key is refused (FAILED_PRECONDITION,
        ``HOLDER_KEY_REQUIRED``) instead of issuing a bearer SD-JWT VC without ``cnf``. ``edc_check``: the
        optional SHACL check of EDCs before they are answered (:mod:`services.issuer.application.edc`)."""
        self._registry, self._keystore, self._status = registry, keystore, status
        self._documents, self._require_holder_key = documents, require_holder_key
        self._edc_check = edc_check
        self._registry_available = registry_available
        self._store, self._publisher, self._signing = store, publisher, signing
        self._topic, self._clock, self._new_salt = topic, clock, new_salt
        self._validator = CohortValidator()

    async def get(self, caller: Caller, credential_id: str) -> tuple[issuer_pb2.IssuedCredential,
                                                                      events_pb2.CredentialIssued] | None:
        """One of the caller's own credentials (None for unknown ids and other issuers' credentials alike)."""
        stored = await self._store.get(caller.issuer_id, credential_id)
        return None if stored is None else issued_credential(stored)

    async def issue(self, caller: Caller, items: Sequence[IssueItem]) -> list[Outcome]:
        """One outcome per item, in order (never raises for a bad item)."""
        outcomes: list[Outcome | None] = [None] * len(items)
        first: dict[str, int] = {}  # credential id -> first item with it (duplicates in a chunk share its outcome)
        for i, item in enumerate(items):
            bad = _key_violations(item.idempotency_key, bool(item.replaces))
            if bad:
                outcomes[i] = Refusal(code_pb2.INVALID_ARGUMENT, "invalid idempotency key", tuple(bad))
            else:
                first.setdefault(credential_id_for(caller.issuer_id, item.idempotency_key), i)
        try:
            issued, pending = await self._store.lookup(caller.issuer_id, list(first))
        except StoreNotReady as exc:
            return self._fill(items, outcomes, Refusal(code_pb2.UNAVAILABLE, str(exc)))
        except Exception as exc:
            log.error("credential store unavailable", extra={"error": repr(exc)})
            return self._fill(items, outcomes, Refusal(code_pb2.UNAVAILABLE, "credential store unavailable; retry"))
        for cid, envelope in issued.items():
            answer, event = issued_credential(envelope)
            conflict = key_conflict(items[first[cid]], event.credential)
            answer.already_issued = True  # answered before under this key: nothing is issued now
            outcomes[first[cid]] = conflict or answer
        for cid, envelope in list(pending.items()):  # signed before (a crash, a failed publish): same rule
            if cid in first and cid not in issued:
                conflict = key_conflict(items[first[cid]], issued_credential(envelope)[1].credential)
                if conflict is not None:
                    outcomes[first[cid]] = conflict
                    del pending[cid]
        todo = {cid: i for cid, i in first.items() if cid not in issued and outcomes[i] is None}
        if todo:
            await self._issue_new(caller, items, todo, pending, outcomes)
        return self._fill(items, outcomes, Refusal(code_pb2.INTERNAL, "not processed"))

    @staticmethod
    def _fill(items: Sequence[IssueItem], outcomes: list[Outcome | None], default: Refusal) -> list[Outcome]:
        """Copy outcomes to duplicate keys; anything still open gets ``default``."""
        by_key: dict[str, Outcome] = {}
        for item, outcome in zip(items, outcomes, strict=True):
            if outcome is not None and item.idempotency_key not in by_key:
                by_key[item.idempotency_key] = outcome
        return [o if o is not None else by_key.get(item.idempotency_key, default)
                for item, o in zip(items, outcomes, strict=True)]

    async def _issue_new(self, caller: Caller, items: Sequence[IssueItem], todo: dict[str, int],
                         pending: dict[str, bytes], outcomes: list[Outcome | None]) -> None:
        now = self._clock()
        fresh: dict[str, int] = {}
        for cid, i in todo.items():
            if cid in pending:
                continue
            violations = self._validator.validate(items[i].credential, now)
            if violations:
                summary = "; ".join(f"{v.field}: {v.description}" for v in violations)
                outcomes[i] = Refusal(code_pb2.INVALID_ARGUMENT, f"invalid credential: {summary}", tuple(violations))
            else:
                fresh[cid] = i
        ready = {cid: _Ready.parse(raw) for cid, raw in pending.items() if cid in todo}
        if fresh:
            issuer = await self._registry.get_issuer(caller.issuer_id)
            fresh = await self._authorize(caller, issuer, items, fresh, outcomes, now)
            if fresh and issuer is not None:
                signed = await self._sign(caller, issuer, items, fresh, outcomes, now)
                ready.update(await self._keep_pending(caller, signed, fresh, outcomes))
        if ready:
            await self._publish(caller, todo, ready, outcomes)

    async def _authorize(self, caller: Caller, issuer: registry_pb2.Issuer | None, items: Sequence[IssueItem],
                         fresh: dict[str, int], outcomes: list[Outcome | None], now: datetime) -> dict[str, int]:
        """Keep the items the registry allows; refuse the others with the registry's reason."""
        refusal = caller_refusal(caller, issuer)
        decisions: dict[int | None, Refusal | None] = {}
        allowed: dict[str, int] = {}
        for cid, i in fresh.items():
            level = _eqf_level(items[i].credential)
            if refusal is None and level not in decisions:
                # the registry's rule on the issuer as read above (what authorize_issuance reads again)
                decision = authorize(issuer, caller.issuer_id, level, now)
                decisions[level] = None if decision.allowed else deny(
                    str(decision.refusal or IssuanceRefusal.NOT_ACCREDITED),
                    decision.message or "the issuer may not issue this credential")
            denied = refusal or decisions[level]
            if denied is None:
                allowed[cid] = i
            else:
                outcomes[i] = denied
        # Asked after reading: what was read then came from a whole read model, even if Redis is wiped right
        # after. While it is lost or replaying, "not registered" (or "accredited") may just be "not replayed yet".
        if self._registry_available is not None and not await self._registry_available():
            for i in fresh.values():
                outcomes[i] = REGISTRY_REBUILDING
            return {}
        return allowed

    def _signer(self, issuer: registry_pb2.Issuer, now: datetime) -> _Signer | Refusal:
        found = signing_key(self._keystore, issuer, now)
        if isinstance(found, Refusal):
            return found
        key, method_id = found
        return _Signer(issuer_profile(issuer.did, issuer.organisation), key.private_bytes_raw(), method_id)

    async def _sign(self, caller: Caller, issuer: registry_pb2.Issuer, items: Sequence[IssueItem],
                    fresh: dict[str, int], outcomes: list[Outcome | None], now: datetime) -> dict[str, _Ready]:
        """Signed ``CredentialIssued`` envelopes of the fresh items, by credential id."""
        signer = self._signer(issuer, now)
        if isinstance(signer, Refusal):
            for i in fresh.values():
                outcomes[i] = signer
            return {}
        document_key = self._document_key(issuer, items, fresh, outcomes, now)  # before any index is taken
        seal_key = self._seal_key(issuer, items, fresh, outcomes, now)
        if not fresh:
            return {}
        try:
            pairs = await self._status.take(caller.issuer_id, len(fresh))
        except Exception as exc:
            log.error("status indexes unavailable", extra={"issuer_id": caller.issuer_id, "error": repr(exc)})
            for i in fresh.values():
                outcomes[i] = Refusal(code_pb2.UNAVAILABLE, "status-list indexes unavailable; retry")
            return {}
        jobs, salts = [], []
        documents: list[SdJwtJob | None] = []
        refused_sd_jwt: dict[str, str] = {}
        occurred_at = Timestamp()
        occurred_at.FromDatetime(now)
        for (cid, i), pair in zip(fresh.items(), pairs, strict=True):
            mc = items[i].credential
            valid_from = (mc.valid_from if mc.HasField("valid_from") else mc.issued_at).ToDatetime(tzinfo=UTC)
            salts.append(self._new_salt())
            jobs.append(IssueJob(mc.SerializeToString(), cid, tuple(status_entry_json(e) for e in pair), valid_from,
                                 salts[-1]))
            document = None
            if document_key is not None and items[i].sd_jwt_vc:
                revocation = pair[0]
                try:  # the credential's status is its revocation entry's Token Status List entry
                    document = SdJwtJob(token_status_uri(revocation.status_list_credential),
                                        revocation.status_list_index, items[i].holder_jwk)
                except ValueError as exc:  # a status list URL not of the service's layout: no token status
                    refused_sd_jwt[cid] = str(exc)
            documents.append(document)
        try:
            if document_key is None:
                results = [(text, "", error, "") for text, error in await self._signing.sign(
                    jobs, signer.profile, signer.seed, signer.verification_method, xsd_datetime(now))]
            else:  # the SD-JWT VCs are signed with their credentials, by the same signers
                results = await self._signing.sign_formats(
                    jobs, signer.profile, signer.seed, signer.verification_method, xsd_datetime(now),
                    SdJwtChunk(document_key.iss, document_key.x5c, now, tuple(documents)))
        except SigningUnavailable as exc:  # the workers died or hung and were replaced: a retry is signed
            for i in fresh.values():
                outcomes[i] = Refusal(code_pb2.UNAVAILABLE, str(exc))
            return {}
        edc_statuses = _edc_statuses(fresh, items, pairs)
        edcs = {} if seal_key is None else await seal_edcs(
            seal_key, issuer, {cid: items[i].credential for cid, i in fresh.items() if items[i].edc}, now,
            edc_statuses, self._edc_check)
        signed: dict[str, _Ready] = {}
        for (cid, i), pair, salt, (text, sd_jwt, error, sd_error) in zip(fresh.items(), pairs, salts, results,
                                                                          strict=True):
            if error:
                log.error("credential could not be signed", extra={"credential_id": cid, "error": error})
                outcomes[i] = Refusal(code_pb2.INTERNAL, f"credential could not be signed: {error}")
                continue
            sd_error = refused_sd_jwt.get(cid, sd_error)
            if sd_error:
                log.error("SD-JWT VC could not be signed", extra={"credential_id": cid, "error": sd_error})
                outcomes[i] = Refusal(code_pb2.INTERNAL, f"SD-JWT VC could not be signed: {sd_error}")
                continue
            edc_result = edcs.get(cid)
            edc = "" if edc_result is None else edc_result.text
            if edc_result is not None and edc_result.code == code_pb2.INVALID_ARGUMENT:  # ELM cannot express it
                outcomes[i] = Refusal(code_pb2.INVALID_ARGUMENT, edc_result.error, (FieldViolation(
                    "formats", edc_result.error.removeprefix("cannot be issued as EDC: "), INCONSISTENT),),
                    reason=edc_result.reason)
                continue
            if edc_result is not None and edc_result.error:  # the platform, not the request, is at fault (or busy)
                if edc_result.code == code_pb2.INTERNAL:
                    log.error("EDC not issued", extra={"credential_id": cid, "error": edc_result.error})
                outcomes[i] = Refusal(edc_result.code, edc_result.error, reason=edc_result.reason)
                continue
            envelope = self._envelope(caller, cid, items[i], text, pair, salt, occurred_at, sd_jwt, edc)
            answer = issuer_pb2.IssuedCredential(credential_id=cid, credential_json=text, status_entries=list(pair),
                                                 issued_at=occurred_at, replaces=items[i].replaces,
                                                 sd_jwt_vc=sd_jwt, edc_jsonld=edc)
            signed[cid] = _Ready(envelope, envelope.SerializeToString(), answer)
        return signed

    async def _keep_pending(self, caller: Caller, signed: dict[str, _Ready], fresh: dict[str, int],
                            outcomes: list[Outcome | None]) -> dict[str, _Ready]:
        """Record the signed envelopes as pending; where another request got there first, use its envelope."""
        if not signed:
            return {}
        try:
            winners = await self._store.put_pending(caller.issuer_id, {c: r.raw for c, r in signed.items()})
        except Exception as exc:
            if not isinstance(exc, StoreNotReady):
                log.error("credential store unavailable", extra={"error": repr(exc)})
            message = str(exc) if isinstance(exc, StoreNotReady) else "credential store unavailable; retry"
            for cid in signed:
                outcomes[fresh[cid]] = Refusal(code_pb2.UNAVAILABLE, message)
            return {}
        return {cid: signed[cid] if raw is signed[cid].raw else _Ready.parse(raw) for cid, raw in winners.items()}

    def _document_key(self, issuer: registry_pb2.Issuer, items: Sequence[IssueItem], fresh: dict[str, int],
                      outcomes: list[Outcome | None], now: datetime) -> IssuerKey | None:
        """The issuer's SD-JWT VC key when an item of the chunk asks for that format; items that ask for it when
        it is unavailable are refused (FAILED_PRECONDITION) and leave ``fresh``."""
        wanted = [cid for cid, i in fresh.items() if items[i].sd_jwt_vc]
        if self._require_holder_key:  # refused before any status index is taken: nothing is issued for them
            for cid in [cid for cid in wanted if items[fresh[cid]].holder_jwk is None]:
                wanted.remove(cid)
                outcomes[fresh.pop(cid)] = Refusal(
                    code_pb2.FAILED_PRECONDITION, "this issuer service issues only holder-bound SD-JWT VCs; "
                    "holder_jwk_json is required with the SD-JWT VC format", reason="HOLDER_KEY_REQUIRED")
        if not wanted:
            return None
        try:
            if self._documents is None:
                raise DocumentSigningUnavailable("this issuer service does not issue SD-JWT VCs")
            return self._documents.issuer_key(issuer, now)
        except DocumentSigningUnavailable as exc:
            for cid in wanted:
                outcomes[fresh.pop(cid)] = Refusal(code_pb2.FAILED_PRECONDITION, str(exc),
                                                   reason="SD_JWT_VC_UNAVAILABLE")
            return None

    def _seal_key(self, issuer: registry_pb2.Issuer, items: Sequence[IssueItem], fresh: dict[str, int],
                  outcomes: list[Outcome | None], now: datetime) -> IssuerKey | None:
        """The issuer's EDC seal key when an item of the chunk asks for that format (the document-signing port's
        certified key, docs/elm-edc.md); items that ask for it when it is unavailable are refused
        (FAILED_PRECONDITION) and leave ``fresh``."""
        wanted = [cid for cid, i in fresh.items() if items[i].edc]
        if not wanted:
            return None
        try:
            if self._documents is None:
                raise DocumentSigningUnavailable("this issuer service has no document-signing key store, so it "
                                                 "cannot seal EDC credentials")
            return self._documents.issuer_key(issuer, now)
        except DocumentSigningUnavailable as exc:
            for cid in wanted:
                outcomes[fresh.pop(cid)] = Refusal(code_pb2.FAILED_PRECONDITION, f"EDC: {exc}",
                                                   reason="EDC_UNAVAILABLE")
            return None

    @staticmethod
    def _envelope(caller: Caller, cid: str, item: IssueItem, text: str, pair: StatusPair, salt: str,
                  occurred_at: Timestamp, sd_jwt: str = "", edc: str = "") -> EventEnvelope:
        mc = item.credential
        learner = mc.learner
        hashed = learner.hashed_id if learner.HasField("hashed_id") else None
        if hashed is None and learner.email:
            hashed = pb.HashedIdentifier(identity_type="emailAddress", salt=salt,
                                         identity_hash=identity_hash(normalise_email(learner.email), salt))
        event = events_pb2.CredentialIssued(credential_id=cid, issuer_id=caller.issuer_id, learner_did=learner.did,
                                            learner_hashed_id=hashed, credential_json=text, credential=mc,
                                            status_entries=list(pair), replaces=item.replaces,
                                            correction_reason=item.correction_reason, sd_jwt_vc=sd_jwt,
                                            edc_jsonld=edc)
        return issued_envelope(caller, event, occurred_at)

    async def _publish(self, caller: Caller, todo: dict[str, int], ready: dict[str, _Ready],
                       outcomes: list[Outcome | None]) -> None:
        try:
            await self._publisher.publish_many(self._topic, [(cid, r.envelope) for cid, r in ready.items()])
        except Exception as exc:
            log.error("publishing CredentialIssued failed", extra={"issuer_id": caller.issuer_id,
                                                                   "count": len(ready), "error": repr(exc)})
            for cid in ready:
                outcomes[todo[cid]] = Refusal(code_pb2.UNAVAILABLE, "credential not published; retry with the same "
                                                                    "idempotency key")
            return
        try:
            await self._store.commit(caller.issuer_id, {cid: r.raw for cid, r in ready.items()})
        except Exception as exc:  # published = issued: the projection rebuilds the record from Kafka
            log.error("recording issued credentials failed", extra={"issuer_id": caller.issuer_id,
                                                                    "error": repr(exc)})
        for cid, r in ready.items():
            outcomes[todo[cid]] = r.answer
