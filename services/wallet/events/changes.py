"""What each event the wallet consumes changes in its read model, decoded once, before any Redis work.

:func:`change_of` turns an (envelope, payload) into one of the small change records below, or raises
:class:`UnusableEvent` (non-retriable: the runner dead-letters the record). Decoding first keeps the projection's
transaction free of parsing, and lets a whole fetch be written in one ``MULTI``
(:mod:`services.wallet.events.projection`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from google.protobuf.message import Message

from microcred.events.envelope import EventEnvelope
from microcred.gen.microcred.v1 import events_pb2
from services.wallet.adapters.sealing import Sealer
from services.wallet.domain.addressed_offers import AddressedOffer
from services.wallet.domain.credentials import HeldCredential, Source, StatusChange, email_index
from services.wallet.domain.elements import (
    elements_from_document,
    elements_from_event,
    identity_from_document,
    identity_from_event,
    issuer_of,
    read_document,
)
from services.wallet.domain.pathway_codec import InvalidPathway, pathway_from_event
from services.wallet.domain.share_link import Share, share_from_event
from services.wallet.domain.stacking import Pathway


class UnusableEvent(Exception):
    """An event that can never be applied (goes to the dead-letter topic with this message)."""

    retriable = False


@dataclass(frozen=True)
class Issued:
    """``CredentialIssued``: file the credential."""

    credential: HeldCredential


@dataclass(frozen=True)
class PathwayDefined:
    """``PathwayPublished``: store the pathway."""

    pathway: Pathway


@dataclass(frozen=True)
class PathwayDone:
    """``PathwayCompleted`` (published by the wallet itself): remember it was announced."""

    pathway_id: str
    learner_id: str


@dataclass(frozen=True)
class AccountLinked:
    """``WalletAccountLinked``: the account and its verified e-mail (None: none)."""

    account_id: str
    email: str | None
    email_index: str


@dataclass(frozen=True)
class HolderKeyAdded:
    """``HolderKeyCreated``: a holder DID and the id of its private key in the wallet's key store."""

    account_id: str
    did: str
    key_id: str


@dataclass(frozen=True)
class Bound:
    """``CredentialBound``."""

    account_id: str
    credential_id: str
    did: str


@dataclass(frozen=True)
class Imported:
    """``CredentialImported``."""

    account_id: str
    credential: HeldCredential


@dataclass(frozen=True)
class DeferredKept:
    """``WalletDeferredCredential``: a deferred issuance the account waits for, still sealed."""

    account_id: str
    ref: str
    sealed: bytes


@dataclass(frozen=True)
class ShareChanged:
    """``ShareLinkCreated`` / ``ShareLinkWithdrawn``: the full link."""

    share: Share


@dataclass(frozen=True)
class OfferAddressed:
    """``CredentialOfferCreated`` (its learner part opened): the offer, under the learner's e-mail and DID."""

    offer: AddressedOffer
    email_index: str
    did: str
    pseudonym: str


@dataclass(frozen=True)
class OfferClosed:
    """``CredentialOfferRedeemed`` / ``Withdrawn`` / ``Expired``: the offer can no longer be redeemed."""

    offer_ref: str


@dataclass(frozen=True)
class Nothing:
    """Any other event (e.g. status-list events): only the position moves."""


Change = (Issued | StatusChange | PathwayDefined | PathwayDone | AccountLinked | HolderKeyAdded | Bound | Imported
          | DeferredKept | ShareChanged | OfferAddressed | OfferClosed | Nothing)


def issued_credential(event: events_pb2.CredentialIssued, envelope_issuer: str = "",
                      index_key: bytes | None = None) -> HeldCredential:
    """The held credential a ``CredentialIssued`` event describes; :class:`UnusableEvent` if it has none."""
    document = _json_object(event.credential_json)
    credential_id = event.credential_id or document.get("id")
    if not isinstance(credential_id, str) or not credential_id:
        raise UnusableEvent("the event names no credential id")
    read = read_document(document)
    issuer = issuer_of(document, read)
    return HeldCredential(
        credential_id=credential_id, issuer_id=event.issuer_id or envelope_issuer or issuer or "",
        issuer_did=issuer, elements=elements_from_event(event, document, read),
        subject=identity_from_event(event, document, index_key, read), source=Source.ISSUED, document=document,
        document_json=event.credential_json, replaces=event.replaces or None, edc_jsonld=event.edc_jsonld or None,
        sd_jwt_vc=event.sd_jwt_vc or None,
    )


def imported_credential(event: events_pb2.CredentialImported) -> HeldCredential:
    """The held credential a ``CredentialImported`` event describes (as the import use case built it)."""
    document = _json_object(event.credential_json)
    check = json.loads(event.import_check_json or "{}")
    read = read_document(document)
    issuer = issuer_of(document, read) or ""
    return HeldCredential(credential_id=event.credential_id, issuer_id=issuer, issuer_did=issuer or None,
                          elements=elements_from_document(document, read),
                          subject=identity_from_document(document, read), source=Source.IMPORTED,
                          document=document, document_json=event.credential_json, import_check=check)


def _json_object(raw: str) -> dict[str, object]:
    try:
        document = json.loads(raw)
    except ValueError:
        raise UnusableEvent("credential_json is not JSON") from None
    if not isinstance(document, dict):
        raise UnusableEvent("credential_json is not a JSON object")
    return document


def change_of(envelope: EventEnvelope, payload: Message, index_key: bytes, sealer: Sealer | None) -> Change:
    """The read-model change ``payload`` stands for; :class:`UnusableEvent` when it cannot be applied."""
    match payload:
        case events_pb2.CredentialIssued():
            return Issued(issued_credential(payload, envelope.issuer_id, index_key))
        case events_pb2.CredentialRevoked():
            return StatusChange(payload.credential_id, revoked=True, reason=payload.reason,
                                superseded_by=payload.superseded_by)
        case events_pb2.CredentialSuspended():
            return StatusChange(payload.credential_id, suspended=True, reason=payload.reason)
        case events_pb2.CredentialReinstated():
            return StatusChange(payload.credential_id, suspended=False, reason=payload.reason)
        case events_pb2.PathwayPublished():
            try:
                return PathwayDefined(pathway_from_event(payload))
            except InvalidPathway as exc:
                raise UnusableEvent(f"PathwayPublished {payload.pathway_id!r}: {exc}") from None
        case events_pb2.PathwayCompleted():
            return PathwayDone(payload.pathway_id, payload.learner_id)
        case events_pb2.WalletAccountLinked():
            return _account(payload, sealer)
        case events_pb2.HolderKeyCreated():
            if not (payload.account_id and payload.did and payload.key_id):
                raise UnusableEvent("HolderKeyCreated lacks account, DID or key id")
            return HolderKeyAdded(payload.account_id, payload.did, payload.key_id)
        case events_pb2.CredentialBound():
            return Bound(payload.account_id, payload.credential_id, payload.holder_did)
        case events_pb2.CredentialImported():
            return Imported(payload.account_id, imported_credential(payload))
        case events_pb2.WalletDeferredCredential():
            if not (payload.account_id and payload.transaction_ref and payload.sealed):
                raise UnusableEvent("WalletDeferredCredential lacks the account, the ref or the sealed record")
            return DeferredKept(payload.account_id, payload.transaction_ref, payload.sealed)
        case events_pb2.ShareLinkCreated() | events_pb2.ShareLinkWithdrawn():
            if not (payload.link.share_id and payload.link.account_id):
                raise UnusableEvent(f"{payload.DESCRIPTOR.name} lacks the share id or the account")
            return ShareChanged(share_from_event(payload.link, isinstance(payload, events_pb2.ShareLinkWithdrawn)))
        case events_pb2.CredentialOfferCreated():
            return _offer(payload, index_key)
        case events_pb2.CredentialOfferRedeemed() | events_pb2.CredentialOfferWithdrawn() \
                | events_pb2.CredentialOfferExpired():
            return OfferClosed(payload.offer_ref) if payload.offer_ref else Nothing()
    return Nothing()


def _offer(event: events_pb2.CredentialOfferCreated, index_key: bytes) -> OfferAddressed | Nothing:
    """The offer for the learner's list; Nothing for an offer that names no learner or carries no link (made
    before offers were addressed)."""
    if not (event.offer_ref and event.offer_uri and (event.learner_email.strip() or event.learner_did.strip())):
        return Nothing()
    offer = AddressedOffer(event.offer_ref, event.issuer_id, event.offer_uri, dict(event.title.values),
                           dict(event.awarding_body.values), event.expires_at.seconds, event.tx_code_required)
    return OfferAddressed(offer, email_index(event.learner_email, index_key) if event.learner_email.strip() else "",
                          event.learner_did.strip(), event.learner_pseudonym)


def _account(event: events_pb2.WalletAccountLinked, sealer: Sealer | None) -> AccountLinked:
    if not event.account_id:
        raise UnusableEvent("WalletAccountLinked names no account")
    if not event.sealed_email:
        return AccountLinked(event.account_id, None, "")
    if sealer is None:
        raise UnusableEvent("no key-encryption key to open the account's e-mail")
    return AccountLinked(event.account_id, sealer.open_email(event.account_id, event.sealed_email),
                         event.email_index)
