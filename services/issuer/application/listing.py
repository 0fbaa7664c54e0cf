"""Listing an issuer's own credentials: the use case behind ``ListCredentials`` (``mcred credential list``).

Newest first, in pages of summaries (id, issue time, title, the credential it replaces), from the credential
store's per-issuer index by issue time. The page token is opaque to clients; it holds a
:class:`~services.issuer.application.ports.PageCursor`, so credentials issued while a client pages never shift
or repeat a page. Status is not listed here: it is the revocation service's (``mcred status show``).
"""

from __future__ import annotations

import base64
import binascii

from google.protobuf.timestamp_pb2 import Timestamp
from google.rpc import code_pb2  # type: ignore[import-untyped, unused-ignore]

from microcred.gen.microcred.v1 import issuer_pb2
from microcred.model.errors import INCONSISTENT, INVALID_FORMAT, OUT_OF_RANGE, FieldViolation
from microcred.model.validation import check_timestamp
from services.issuer.application.issuance import Caller, Refusal, issued_credential
from services.issuer.application.ports import CredentialStore, PageCursor, StoreNotReady

__all__ = ["DEFAULT_PAGE_SIZE", "MAX_PAGE_SIZE", "CredentialListing", "decode_token", "encode_token", "micros"]

DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE = 100, 1000


def micros(stamp: Timestamp) -> int:
    """A protobuf Timestamp in microseconds since the epoch."""
    return stamp.seconds * 1_000_000 + stamp.nanos // 1000


def encode_token(cursor: PageCursor) -> str:
    """The page token of ``cursor``."""
    return base64.urlsafe_b64encode(f"{cursor.before_micros}:{cursor.skip}".encode()).decode()


def decode_token(token: str) -> PageCursor | None:
    """The cursor in a page token, or None when it is not one this service wrote."""
    try:
        before, _, skip = base64.b64decode(token.encode(), altchars=b"-_", validate=True).decode().partition(":")
        cursor = PageCursor(int(before), int(skip))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return cursor if cursor.skip >= 0 else None


def _title(event_title: dict[str, str]) -> str:
    return event_title.get("en") or next(iter(sorted(event_title.items())), ("", ""))[1]


class CredentialListing:
    """Pages of the caller's credentials; see the module docstring."""

    def __init__(self, store: CredentialStore) -> None:
        self._store = store

    async def page(self, caller: Caller, request: issuer_pb2.ListCredentialsRequest
                   ) -> issuer_pb2.ListCredentialsResponse | Refusal:
        """One page, or INVALID_ARGUMENT (every violation) / UNAVAILABLE while the store is rebuilt."""
        violations: list[FieldViolation] = []
        if request.page_size > MAX_PAGE_SIZE:
            violations.append(FieldViolation("page_size", f"must be at most {MAX_PAGE_SIZE}", OUT_OF_RANGE))
        cursor: PageCursor | None = PageCursor()
        if request.page_token:
            cursor = decode_token(request.page_token)
            if cursor is None:
                violations.append(FieldViolation("page_token", "is not a token from a previous response",
                                                 INVALID_FORMAT))
        for name in ("issued_since", "issued_before"):
            if request.HasField(name):
                violations += check_timestamp(name, getattr(request, name))
        since = micros(request.issued_since) if request.HasField("issued_since") else None
        if request.HasField("issued_before"):
            before = micros(request.issued_before) - 1  # the cursor's bound is inclusive, the filter's is not
            if since is not None and before < since:
                violations.append(FieldViolation("issued_before", "must be after issued_since", INCONSISTENT))
            if cursor is not None and not request.page_token:
                cursor = PageCursor(before)
        if violations:
            summary = "; ".join(f"{v.field}: {v.description}" for v in violations)
            return Refusal(code_pb2.INVALID_ARGUMENT, f"invalid list request: {summary}", tuple(violations))
        assert cursor is not None
        try:
            envelopes, following = await self._store.page(caller.issuer_id, cursor,
                                                          request.page_size or DEFAULT_PAGE_SIZE, since)
        except StoreNotReady as exc:
            return Refusal(code_pb2.UNAVAILABLE, str(exc))
        summaries = []
        for raw in envelopes:
            issued, event = issued_credential(raw)
            summaries.append(issuer_pb2.CredentialSummary(credential_id=issued.credential_id,
                                                          issued_at=issued.issued_at, replaces=event.replaces,
                                                          title=_title(dict(event.credential.title.values))))
        return issuer_pb2.ListCredentialsResponse(credentials=summaries,
                                                  next_page_token=encode_token(following) if following else "")
