"""Issuing a caller-written VC 2.0 credential (VC-API ``POST /credentials/issue`` with a JSON-LD credential).

The EU-element model goes through :class:`~services.issuer.issuance.Issuance`, like gRPC. A credential the
caller wrote itself (what the W3C test suites send) goes through the same gates, in the same order:

1. the caller (:func:`~services.issuer.issuance.caller_refusal`, as gRPC): the issuer is registered under the
   caller's agency, the client certificate is one pinned for it (mTLS callers), and the trust registry allows it
   to issue now (accredited, active); UNAVAILABLE while the registry read model is rebuilt;
2. the document: ``issuer`` (or ``issuer.id``) must be the caller's issuer DID (never replaced), and the
   document must follow the VC data model (:mod:`microcred.vcdm`, the rule named);
3. a (revocation, suspension) status pair from the same pool, added as ``credentialStatus`` (VC 2.0 documents;
   a VC 1.1 document gets none: its context does not define BitstringStatusListEntry), an ``id`` derived from
   (issuer, ``options.credentialId`` or a fresh key) when the document has none;
4. a Data Integrity ``eddsa-rdfc-2022`` proof with the issuer's current verification method
   (:func:`microcred.credential.signing.sign_document`), then ``CredentialIssued`` (no EU model: ``credential``
   is empty) recorded as pending, published with acks=all, then recorded as issued, as gRPC issuance does. Only
   what Kafka acknowledged is answered; the same ``id`` / ``options.credentialId`` again answers the same
   credential (idempotent retries).
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp
from google.rpc import code_pb2  # type: ignore[import-untyped, unused-ignore]

from microcred import vcdm
from microcred.credential.ids import credential_id_for
from microcred.credential.signing import SigningError, dumps, sign_document
from microcred.crypto.keystore import KeyStore
from microcred.events.envelope import EventEnvelope
from microcred.gen.microcred.v1 import events_pb2, registry_pb2, status_pb2
from microcred.kafka.publisher import EventPublisher
from microcred.kafka.topics import CREDENTIALS
from microcred.model.errors import INVALID_FORMAT, FieldViolation
from microcred.registry.ports import IssuanceRefusal, RegistryReader
from microcred.status.build import xsd_datetime
from services.issuer.application.issuance import (
    REGISTRY_REBUILDING,
    Caller,
    Refusal,
    caller_refusal,
    deny,
    issued_credential,
    issued_envelope,
    signing_key,
    status_entry_json,
)
from services.issuer.application.ports import CredentialStore, StoreNotReady
from services.issuer.application.status_indexes import StatusIndexPool

__all__ = ["VcIssuance"]

log = logging.getLogger(__name__)



def _invalid(field: str, message: str, reason: str = "") -> Refusal:
    return Refusal(code_pb2.INVALID_ARGUMENT, message, (FieldViolation(field, message, INVALID_FORMAT),),
                   reason=reason)


class VcIssuance:
    """Validates, authorises, signs and publishes one caller-written credential; see the module docstring."""

    def __init__(self, *, registry: RegistryReader, keystore: KeyStore, status: StatusIndexPool,
                 store: CredentialStore, publisher: EventPublisher, topic: str = CREDENTIALS.name,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 registry_available: Callable[[], Awaitable[bool]] | None = None) -> None:
        self._registry, self._keystore, self._status, self._store = registry, keystore, status, store
        self._publisher, self._topic, self._clock = publisher, topic, clock
        self._registry_available = registry_available

    async def issue(self, caller: Caller, credential: Mapping[str, Any],
                    credential_key: str | None) -> dict[str, Any] | Refusal:
        """The signed credential, or why not."""
        now = self._clock()
        issuer = await self._registry.get_issuer(caller.issuer_id)
        refusal = caller_refusal(caller, issuer)
        if refusal is None:
            decision = await self._registry.authorize_issuance(caller.issuer_id, None, now)
            if not decision.allowed:
                refusal = deny(str(decision.refusal or IssuanceRefusal.NOT_ACCREDITED),
                               decision.message or "the issuer may not issue credentials")
        # Asked after reading, as gRPC issuance does: while the read model is rebuilt, a refusal may be stale.
        if self._registry_available is not None and not await self._registry_available():
            return REGISTRY_REBUILDING
        if refusal is not None:
            return refusal
        assert issuer is not None  # caller_refusal refuses an unregistered issuer
        given = credential.get("issuer")
        given_id = given.get("id") if isinstance(given, Mapping) else given
        if given_id != issuer.did:
            return _invalid("credential.issuer", f"issuer must be this issuer's DID {issuer.did} (given: "
                                                 f"{str(given_id)[:200]}); it is never replaced", "ISSUER_MISMATCH")
        try:
            vcdm.require_valid(credential)
        except vcdm.DataModelError as exc:
            first = exc.violations[0]
            return _invalid(f"credential.{first.field}".rstrip("."), f"{exc} (VC Data Model rule {first.rule})",
                            first.rule)
        given_cid = credential.get("id")  # a string URL when present: the data model rules checked it
        cid = given_cid if isinstance(given_cid, str) else \
            credential_id_for(caller.issuer_id, credential_key or str(uuid.uuid4()))
        document = {**credential, "id": cid}
        # Idempotency as in gRPC issuance: an id already issued (or signed and not yet published) by this issuer
        # is answered with that credential, never signed again.
        try:
            issued, pending = await self._store.lookup(caller.issuer_id, [cid])
        except StoreNotReady as exc:
            return Refusal(code_pb2.UNAVAILABLE, str(exc))
        except Exception as exc:  # as gRPC issuance: Redis down is "retry", not an internal error
            log.error("credential store unavailable", extra={"error": repr(exc)})
            return Refusal(code_pb2.UNAVAILABLE, "credential store unavailable; retry")
        if cid in issued:
            answer: dict[str, Any] = json.loads(issued_credential(issued[cid])[0].credential_json)
            return answer
        if cid in pending:
            return await self._publish(caller, cid, pending[cid])
        return await self._sign_and_publish(caller, issuer, document, cid, now)

    async def _sign_and_publish(self, caller: Caller, issuer: registry_pb2.Issuer, document: dict[str, Any], cid: str,
                                now: datetime) -> dict[str, Any] | Refusal:
        found = signing_key(self._keystore, issuer, now)
        if isinstance(found, Refusal):
            return found
        key, method_id = found
        pair: tuple[status_pb2.StatusEntry, ...] = ()
        if vcdm.version_of(document) == "2.0":
            try:
                pair = tuple((await self._status.take(caller.issuer_id, 1))[0])
            except Exception as exc:
                log.error("status indexes unavailable", extra={"issuer_id": caller.issuer_id, "error": repr(exc)})
                return Refusal(code_pb2.UNAVAILABLE, "status-list indexes unavailable; retry")
            given = document.get("credentialStatus")
            entries = [*(given if isinstance(given, list) else [] if given is None else [given]),
                       *(status_entry_json(e) for e in pair)]
            document["credentialStatus"] = entries
        try:
            signed = sign_document(document, key, method_id, created=xsd_datetime(now))
        except (vcdm.DataModelError, SigningError) as exc:
            return _invalid("credential", f"the credential cannot be signed: {exc}")
        raw = self._envelope(caller, cid, signed, dumps(signed), pair, now).SerializeToString()
        try:
            winner = (await self._store.put_pending(caller.issuer_id, {cid: raw}))[cid]
        except Exception as exc:
            log.error("credential store unavailable", extra={"error": repr(exc)})
            return Refusal(code_pb2.UNAVAILABLE, "credential store unavailable; retry")
        return await self._publish(caller, cid, winner)  # another request with this id may have got there first

    async def _publish(self, caller: Caller, cid: str, raw: bytes) -> dict[str, Any] | Refusal:
        """Publish the envelope (acks=all), record it as issued, answer its credential."""
        envelope = EventEnvelope.FromString(raw)
        try:
            await self._publisher.publish(self._topic, cid, envelope)
        except Exception as exc:
            log.error("publishing CredentialIssued failed", extra={"issuer_id": caller.issuer_id,
                                                                   "error": repr(exc)})
            return Refusal(code_pb2.UNAVAILABLE, "credential not published; retry with the same credentialId")
        try:
            await self._store.commit(caller.issuer_id, {cid: raw})
        except Exception as exc:  # published = issued: the store projection records it from Kafka
            log.error("recording an issued credential failed", extra={"issuer_id": caller.issuer_id,
                                                                      "error": repr(exc)})
        answer: dict[str, Any] = json.loads(issued_credential(raw)[0].credential_json)
        return answer

    @staticmethod
    def _envelope(caller: Caller, cid: str, signed: Mapping[str, Any], text: str,
                  pair: tuple[status_pb2.StatusEntry, ...], now: datetime) -> EventEnvelope:
        subjects = signed.get("credentialSubject")
        first = (subjects[0] if isinstance(subjects, list) and subjects else subjects)
        learner = first.get("id") if isinstance(first, Mapping) and isinstance(first.get("id"), str) else ""
        event = events_pb2.CredentialIssued(credential_id=cid, issuer_id=caller.issuer_id, learner_did=learner,
                                            credential_json=text, status_entries=list(pair))
        occurred_at = Timestamp()
        occurred_at.FromDatetime(now)
        return issued_envelope(caller, event, occurred_at)
