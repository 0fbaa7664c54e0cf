"""gRPC AuditService: an agency lists the actions taken under it in a period (hosted by the issuer service)."""

from __future__ import annotations

from datetime import UTC, datetime

import grpc

from microcred.gen.microcred.v1 import audit_pb2, audit_pb2_grpc
from microcred.grpc_server import caller_identity
from microcred.model.validation import check_timestamp
from microcred.pki import ROLE_AGENCY, ROLE_SERVICE
from services.issuer.audit.store import RedisAuditLog


def _time(ts: object) -> datetime | None:
    from google.protobuf.timestamp_pb2 import Timestamp

    assert isinstance(ts, Timestamp)
    return ts.ToDatetime(tzinfo=UTC) if ts.seconds or ts.nanos else None


class AuditApi(audit_pb2_grpc.AuditServiceServicer):
    """Agency operators read their own agency's trail; platform operators (service role) read any."""

    def __init__(self, log: RedisAuditLog) -> None:
        self._log = log

    async def ListAuditEntries(self, request: audit_pb2.ListAuditEntriesRequest,
                               context: grpc.aio.ServicerContext[object, object]) -> audit_pb2.ListAuditEntriesResponse:
        """Entries of ``request.agency_id`` in the window, oldest first, paged by an offset token."""
        caller = caller_identity(context)
        if caller is None:
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, "a client certificate is required")
            raise AssertionError("unreachable")
        if not request.agency_id:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "agency_id: required")
        allowed = (caller.role == ROLE_AGENCY and caller.agency_id == request.agency_id) or caller.role == ROLE_SERVICE
        if not allowed:
            await context.abort(grpc.StatusCode.PERMISSION_DENIED, f"{caller.role} {caller.subject_id!r} may not "
                                f"read the audit log of {request.agency_id!r}")
        try:
            offset = int(request.page_token or "0")
        except ValueError:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "page_token: not a token from this service")
            raise AssertionError("unreachable") from None
        for name in ("since", "until"):
            for problem in check_timestamp(name, getattr(request, name)):
                await context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"{problem.field}: {problem.description}")
        since, until = _time(request.since), _time(request.until)
        if since and until and until <= since:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "until: must be after since")
        entries, next_offset = await self._log.list(request.agency_id, since, until, offset,
                                                    request.page_size or 1000)
        return audit_pb2.ListAuditEntriesResponse(
            entries=entries, next_page_token="" if next_offset is None else str(next_offset))
