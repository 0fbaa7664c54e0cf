"""Protobuf side of ``IssuerService.ListOffers`` and of ``CreateOffersRequest.references``: the request's checks
(INVALID_ARGUMENT naming each field) and one :class:`~microcred.gen.microcred.v1.issuer_pb2.OfferSummary` per
index entry. The REST twin (``GET /oid4vci/offers``) uses the same checks through :func:`query_problems`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from google.protobuf.timestamp_pb2 import Timestamp
from google.rpc import code_pb2  # type: ignore[import-untyped, unused-ignore]

from microcred.gen.microcred.v1 import issuer_pb2
from microcred.model.errors import INVALID_FORMAT, FieldViolation
from microcred.model.validation import check_timestamp
from microcred.oid4vci.offers import OFFER_SCHEMES, offer_link, offer_uri
from services.issuer.application.issuance import Refusal
from services.issuer.application.offer_listing import (
    DEFAULT_PAGE,
    MAX_PAGE,
    Cursor,
    OfferEntry,
    PageTokenError,
    decode_token,
    reference_problem,
)

__all__ = ["STATE_NAMES", "list_offers_query", "offer_summary", "query_problems", "reference_violations"]

#: ListOffers' states and the listing's names for them.
STATE_NAMES = {issuer_pb2.OFFER_STATE_OPEN: "open", issuer_pb2.OFFER_STATE_REDEEMED: "redeemed",
               issuer_pb2.OFFER_STATE_EXPIRED: "expired", issuer_pb2.OFFER_STATE_WITHDRAWN: "withdrawn"}
_STATES = {name: value for value, name in STATE_NAMES.items()}


def reference_violations(references: Sequence[str], awards: int) -> list[FieldViolation]:
    """What is wrong with ``CreateOffersRequest.references`` (none, or one acceptable reference per award)."""
    if references and len(references) != awards:
        return [FieldViolation("references", f"must be empty or hold one reference per award ({awards}), not "
                                             f"{len(references)}", INVALID_FORMAT)]
    return [FieldViolation(f"references[{n}]", problem, INVALID_FORMAT)
            for n, ref in enumerate(references) if (problem := reference_problem(ref)) is not None]


def query_problems(page_size: int, page_token: str) -> tuple[list[FieldViolation], Cursor]:
    """The violations of a page size and token, and the token's cursor."""
    violations = []
    if not 0 <= page_size <= MAX_PAGE:
        violations.append(FieldViolation("page_size", f"must be 1..{MAX_PAGE} (0: {DEFAULT_PAGE})", INVALID_FORMAT))
    cursor = Cursor()
    try:
        cursor = decode_token(page_token)
    except PageTokenError as exc:
        violations.append(FieldViolation("page_token", str(exc), INVALID_FORMAT))
    return violations, cursor


def list_offers_query(request: issuer_pb2.ListOffersRequest
                      ) -> tuple[int, Cursor, str, datetime | None] | Refusal:
    """(page size, cursor, state name or '', since) of a request, or INVALID_ARGUMENT naming every bad field."""
    violations, cursor = query_problems(request.page_size, request.page_token)
    if request.HasField("since"):
        violations += check_timestamp("since", request.since)
    if request.state != issuer_pb2.OFFER_STATE_UNSPECIFIED and request.state not in STATE_NAMES:
        violations.append(FieldViolation("state", "is not a known offer state", INVALID_FORMAT))
    if violations:
        return Refusal(code_pb2.INVALID_ARGUMENT, "invalid request: " + "; ".join(
            f"{v.field}: {v.description}" for v in violations), tuple(violations))
    since = request.since.ToDatetime(tzinfo=UTC) if request.HasField("since") else None
    return request.page_size or DEFAULT_PAGE, cursor, STATE_NAMES.get(request.state, ""), since


def _timestamp(epoch: float) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(datetime.fromtimestamp(epoch, UTC))
    return stamp


def offer_summary(entry: OfferEntry, state: str, reason: str, credential_issuer: str,
                  scheme: str = OFFER_SCHEMES[0]) -> issuer_pb2.OfferSummary:
    """One listed offer; its link (in ``scheme``) only while it is open (the tx_code is never kept, only its
    digest), made with the Credential Issuer identifier it was created with (``credential_issuer`` for entries
    without one)."""
    uri = offer_uri(entry.credential_issuer or credential_issuer, entry.offer_id) if state == "open" else ""
    return issuer_pb2.OfferSummary(
        offer_id=entry.offer_id, state=_STATES[state], created_at=_timestamp(entry.created_at),
        expires_at=_timestamp(entry.expires_at), reference=entry.reference, credential_offer_uri=uri,
        link=offer_link(uri, scheme) if uri else "", tx_code_required=entry.tx_code_required, withdrawal_reason=reason)
