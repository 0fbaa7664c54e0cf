"""gRPC adapter: ``microcred.v1.RevocationService`` over mutual TLS.

Translates protobuf requests into :class:`~services.revocation.commands.RevocationCommands` calls and domain
errors into gRPC statuses: INVALID_ARGUMENT (with ``google.rpc.BadRequest`` field violations), NOT_FOUND,
PERMISSION_DENIED, FAILED_PRECONDITION. The caller is the identity in its client certificate; a call without
one is UNAUTHENTICATED. An issuer's certificate must also be one the trust registry pins for it, when it pins
any (:meth:`~services.revocation.commands.RevocationCommands.authenticate`). When Kafka cannot take the
event the call fails with UNAVAILABLE and nothing changed.
"""

from __future__ import annotations

import logging
from typing import Any, NoReturn, TypeAlias

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, status_pb2  # type: ignore[import-untyped, unused-ignore]
from grpc_status import rpc_status

from microcred.errors import grpc_code
from microcred.gen.microcred.v1 import revocation_pb2, revocation_pb2_grpc
from microcred.gen.microcred.v1 import status_pb2 as mc_status_pb2
from microcred.grpc_server import caller_identity
from microcred.model.errors import to_bad_request
from microcred.pki import Identity, certificate_sha256
from services.revocation.application import BulkItem, RevocationCommands
from services.revocation.domain import (
    Action,
    CredentialRecord,
    DomainError,
    InvalidArgument,
    Purpose,
)

__all__ = ["RevocationServicer", "domain_code"]

log = logging.getLogger(__name__)

Context: TypeAlias = grpc.aio.ServicerContext[Any, Any]

_PURPOSES = {mc_status_pb2.STATUS_PURPOSE_REVOCATION: Purpose.REVOCATION,
             mc_status_pb2.STATUS_PURPOSE_SUSPENSION: Purpose.SUSPENSION}
_UNSPECIFIED = mc_status_pb2.STATUS_PURPOSE_UNSPECIFIED
_PROTO_PURPOSE: dict[str, mc_status_pb2.StatusPurpose] = {p.value: code for code, p in _PURPOSES.items()}


def domain_code(error: DomainError) -> int:
    """The ``google.rpc.Code`` of a domain error (the shared table, :func:`microcred.errors.grpc_code`)."""
    return grpc_code(error)


def _rich_status(error: DomainError) -> grpc.Status:
    status = status_pb2.Status(code=domain_code(error), message=str(error))
    if isinstance(error, InvalidArgument):
        detail = any_pb2.Any()
        detail.Pack(to_bad_request(error.violations))
        status.details.append(detail)
    return rpc_status.to_status(status)


def _certificate_sha256(context: Context) -> str:
    """SHA-256 (hex) of the caller's client certificate, as the registry pins it."""
    return certificate_sha256(context.auth_context()["x509_pem_cert"][0])


def status_message(record: CredentialRecord) -> revocation_pb2.CredentialStatus:
    """A credential's status as the API returns it."""
    message = revocation_pb2.CredentialStatus(
        credential_id=record.credential_id, issuer_id=record.issuer_id, revoked=record.revoked,
        suspended=record.suspended, status_entries=[
            mc_status_pb2.StatusEntry(status_list_id=e.list_id, status_list_index=e.index,
                                      status_purpose=_PROTO_PURPOSE.get(e.purpose, _UNSPECIFIED),
                                      status_list_credential=e.list_url) for e in record.entries])
    if record.updated_at is not None:
        message.updated_at.FromDatetime(record.updated_at)
    return message


class RevocationServicer(revocation_pb2_grpc.RevocationServiceServicer):
    """The RevocationService implementation."""

    def __init__(self, commands: RevocationCommands) -> None:
        self.commands = commands

    async def _identity(self, context: Context) -> Identity:
        identity = caller_identity(context)
        if identity is None or not identity.role:
            await context.abort(grpc.StatusCode.UNAUTHENTICATED,
                                "a client certificate naming the caller (CN, O, OU role) is required")
            raise AssertionError("unreachable")
        try:
            await self.commands.authenticate(identity, _certificate_sha256(context))
        except Exception as exc:
            await self._fail(context, exc)
        return identity

    async def _fail(self, context: Context, error: Exception) -> NoReturn:
        if isinstance(error, DomainError):
            await context.abort_with_status(_rich_status(error))
        else:
            log.exception("revocation request failed", exc_info=error)
            await context.abort(grpc.StatusCode.UNAVAILABLE,
                                "the change could not be recorded; nothing was changed, retry later")
        raise AssertionError("unreachable")

    async def ReserveStatusIndexes(self, request: revocation_pb2.ReserveStatusIndexesRequest,
                                   context: Context) -> revocation_pb2.ReserveStatusIndexesResponse:
        """Reserve a block of random indexes per requested purpose."""
        identity = await self._identity(context)
        purposes = [_PURPOSES.get(p) for p in request.status_purposes]
        try:
            reservation_id, blocks = await self.commands.reserve(identity, request.issuer_id, purposes,
                                                                 request.count)
        except Exception as exc:
            await self._fail(context, exc)
        return revocation_pb2.ReserveStatusIndexesResponse(reservation_id=reservation_id, blocks=[
            mc_status_pb2.StatusIndexBlock(status_list_id=b.meta.list_id,
                                           status_purpose=_PROTO_PURPOSE[b.meta.purpose],
                                           status_list_credential=b.meta.url, indexes=list(b.indexes),
                                           status_list_size=b.meta.size)
            for b in blocks])

    async def _change(self, action: Action, credential_id: str, reason: str,
                      context: Context) -> revocation_pb2.CredentialStatus:
        identity = await self._identity(context)
        try:
            record = await self.commands.change(identity, action, credential_id, reason)
        except Exception as exc:
            await self._fail(context, exc)
        return status_message(record)

    async def RevokeCredential(self, request: revocation_pb2.RevokeCredentialRequest,
                               context: Context) -> revocation_pb2.RevokeCredentialResponse:
        """Revoke one credential (permanent; idempotent)."""
        status = await self._change(Action.REVOKE, request.credential_id, request.reason, context)
        return revocation_pb2.RevokeCredentialResponse(status=status)

    async def SuspendCredential(self, request: revocation_pb2.SuspendCredentialRequest,
                                context: Context) -> revocation_pb2.SuspendCredentialResponse:
        """Suspend one credential (idempotent)."""
        status = await self._change(Action.SUSPEND, request.credential_id, request.reason, context)
        return revocation_pb2.SuspendCredentialResponse(status=status)

    async def ReinstateCredential(self, request: revocation_pb2.ReinstateCredentialRequest,
                                  context: Context) -> revocation_pb2.ReinstateCredentialResponse:
        """Lift a suspension (never a revocation)."""
        status = await self._change(Action.REINSTATE, request.credential_id, request.reason, context)
        return revocation_pb2.ReinstateCredentialResponse(status=status)

    async def SupersedeCredential(self, request: revocation_pb2.SupersedeCredentialRequest,
                                  context: Context) -> revocation_pb2.SupersedeCredentialResponse:
        """Revoke a corrected credential as superseded (platform services only; idempotent)."""
        identity = await self._identity(context)
        try:
            record = await self.commands.supersede(identity, request.credential_id, request.superseded_by,
                                                   request.issuer_id, request.actor)
        except Exception as exc:
            await self._fail(context, exc)
        return revocation_pb2.SupersedeCredentialResponse(status=status_message(record))

    async def GetCredentialStatus(self, request: revocation_pb2.GetCredentialStatusRequest,
                                  context: Context) -> revocation_pb2.GetCredentialStatusResponse:
        """The current status of one credential."""
        identity = await self._identity(context)
        try:
            record = await self.commands.status(identity, request.credential_id)
        except Exception as exc:
            await self._fail(context, exc)
        return revocation_pb2.GetCredentialStatusResponse(status=status_message(record))

    async def RevokeCredentials(self, request: revocation_pb2.RevokeCredentialsRequest,
                                context: Context) -> revocation_pb2.RevokeCredentialsResponse:
        """Revoke many credentials (e.g. a cohort issued in error); one result per item."""
        return await self._bulk(Action.REVOKE, request, context)

    async def SuspendCredentials(self, request: revocation_pb2.SuspendCredentialsRequest,
                                 context: Context) -> revocation_pb2.SuspendCredentialsResponse:
        """Suspend many credentials; one result per item."""
        bulk = await self._bulk(Action.SUSPEND, request, context)
        return revocation_pb2.SuspendCredentialsResponse(results=bulk.results)

    async def _bulk(self, action: Action,
                    request: revocation_pb2.RevokeCredentialsRequest | revocation_pb2.SuspendCredentialsRequest,
                    context: Context) -> revocation_pb2.RevokeCredentialsResponse:
        identity = await self._identity(context)
        items = [BulkItem(i.credential_id, i.reason) for i in request.items]
        try:
            results = await self.commands.change_many(identity, action, items, request.reason)
        except Exception as exc:
            await self._fail(context, exc)
        return revocation_pb2.RevokeCredentialsResponse(results=[
            revocation_pb2.RevokeCredentialsResult(
                credential_id=r.credential_id, code=code_pb2.OK if r.error is None else domain_code(r.error),
                message="" if r.error is None else str(r.error))
            for r in results])
