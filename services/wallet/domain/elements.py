"""Reading what the wallet needs from a credential: EU elements, the learner's identifiers, the issuer.

Two sources. A ``CredentialIssued`` event carries the full EU model (``MicroCredential``), which is
authoritative; an imported credential is only a document, so its elements are read back from the OB 3.0
rendering with the shared :func:`microcred.credential.eu_elements.read_eu_elements` (an SD-JWT VC, held as a VC
2.0 enveloped credential, through its OB 3.0 view). Pure module.

Reading a document back is the costly part of filing a credential (a few hundred microseconds), so every
function below takes the document's :class:`~microcred.credential.eu_elements.EUElements` when the caller has
read it already (:func:`read_document`): a replay reads each credential once, not three times.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC
from decimal import Decimal, InvalidOperation
from typing import Any

from microcred.credential.eu_elements import EUElements, read_eu_elements
from microcred.credential.identifiers import identity_hash, normalise_email
from microcred.gen.microcred.v1 import elements_pb2 as pb
from microcred.gen.microcred.v1 import events_pb2
from microcred.model import vocab
from microcred.sdjwt.view import ob3_view
from microcred.verification.document import parse_datetime
from services.wallet.domain.credentials import EMAIL_IDENTITY_TYPE, EuElements, HashedId, Identity, email_index

ECTS_URI = vocab.CREDIT_SYSTEMS.uri(pb.CREDIT_SYSTEM_ECTS)


def elements_from_model(mc: pb.MicroCredential) -> EuElements:
    """EU elements from the protobuf model of an issued credential."""
    ects = None
    if mc.workload.credit_system == pb.CREDIT_SYSTEM_ECTS and mc.workload.credit_points:
        ects = _decimal(mc.workload.credit_points)
    eqf = mc.level.eqf_level if mc.level.WhichOneof("eqf") == "eqf_level" and mc.level.eqf_level else None
    return EuElements(
        title=mc.title.values.get("en") or next(iter(mc.title.values.values()), ""),
        achievement_id=mc.achievement_id or None,
        ects=ects,
        eqf_level=eqf,
        issued_at=mc.issued_at.ToDatetime(tzinfo=UTC) if mc.HasField("issued_at") else None,
        valid_until=mc.valid_until.ToDatetime(tzinfo=UTC) if mc.HasField("valid_until") else None,
    )


def read_document(doc: Mapping[str, Any]) -> EUElements:
    """The EU elements of an OB 3.0 document, or of an enveloped SD-JWT VC's disclosed claims (read through
    :func:`microcred.sdjwt.view.ob3_view`: the same reader for both formats), read once for the functions below."""
    view = ob3_view(doc)
    return read_eu_elements(view if view is not None else doc)


def elements_from_event(event: events_pb2.CredentialIssued, document: Mapping[str, Any],
                        read: EUElements | None = None) -> EuElements:
    """The model's elements, completed from the document where the model leaves a field empty."""
    from_doc = elements_from_document(document, read)
    if not event.HasField("credential"):
        return from_doc
    model = elements_from_model(event.credential)
    return EuElements(
        title=model.title or from_doc.title,
        achievement_id=model.achievement_id or from_doc.achievement_id,
        ects=model.ects if model.ects is not None else from_doc.ects,
        eqf_level=model.eqf_level if model.eqf_level is not None else from_doc.eqf_level,
        issued_at=model.issued_at or from_doc.issued_at,
        valid_until=model.valid_until or from_doc.valid_until,
    )


def elements_from_document(doc: Mapping[str, Any], read: EUElements | None = None) -> EuElements:
    """EU elements read back from an OB 3.0 credential document (absent values stay None)."""
    e = read or read_document(doc)
    ects = None
    if e.credit_points and e.credit_system is not None and e.credit_system.uri == ECTS_URI:
        ects = _decimal(e.credit_points)
    return EuElements(
        title=e.title,
        achievement_id=e.achievement_id or None,
        ects=ects,
        eqf_level=e.eqf_level if e.eqf_level is not None and 1 <= e.eqf_level <= 8 else None,
        issued_at=(parse_datetime(e.issued_at, require_zone=False)
                   or parse_datetime(e.valid_from, require_zone=False)),
        valid_until=parse_datetime(e.valid_until, require_zone=False),
    )


def identity_from_document(doc: Mapping[str, Any], read: EUElements | None = None) -> Identity:
    """The subject DID and salted hashed identifiers in ``credentialSubject``."""
    e = read or read_document(doc)
    hashed = tuple(HashedId(i.identity_type, i.identity_hash, i.salt)
                   for i in e.learner_identifiers if i.hashed and i.identity_hash and i.salt)
    return Identity(e.learner_did or None, hashed)


def identity_from_event(event: events_pb2.CredentialIssued, document: Mapping[str, Any],
                        index_key: bytes | None = None, read: EUElements | None = None) -> Identity:
    """The event's learner DID and hashed id together with those in the document (deduplicated).

    With ``index_key``, and when the model's e-mail hashes to one of the document's e-mail identifiers (so
    the signed credential really names that address), the identity also carries the wallet's
    :func:`~services.wallet.domain.credentials.email_index` of it.
    """
    from_doc = identity_from_document(document, read)
    hashed = list(from_doc.hashed)
    h = event.learner_hashed_id
    if h.identity_hash and h.salt:
        extra = HashedId(h.identity_type or EMAIL_IDENTITY_TYPE, h.identity_hash, h.salt)
        if extra not in hashed:
            hashed.append(extra)
    identity = Identity(event.learner_did or from_doc.did, tuple(hashed))
    email = event.credential.learner.email if event.HasField("credential") else ""
    if index_key is not None and email:
        confirmed = any(identity_hash(normalise_email(email), x.salt) == x.identity_hash
                        for x in identity.email_hashes())
        if confirmed:
            return Identity(identity.did, identity.hashed, email_index(email, index_key))
    return identity


def issuer_of(doc: Mapping[str, Any], read: EUElements | None = None) -> str | None:
    """The credential's issuer id (the ``issuer`` URL or ``issuer.id``)."""
    issuer = (read or read_document(doc)).issuer
    if issuer is not None and issuer.id:
        return issuer.id
    plain = doc.get("issuer")
    return plain if isinstance(plain, str) and plain else None


def _decimal(text: str) -> Decimal | None:
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() and value >= 0 else None


