"""RegistryService over gRPC (mTLS): the edge of :mod:`services.issuer.application.registry_commands`.

Each call takes the identity in the caller's verified client certificate (UNAUTHENTICATED without one), runs
the use case, and turns a :class:`~services.issuer.registry_commands.RegistryRefused` into the call's status
with its ``google.rpc`` details. Who may do what, the events and the read-your-writes wait are described
there.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar

from google.rpc import code_pb2  # type: ignore[import-untyped, unused-ignore]

from microcred.crypto.keystore import KeyStore
from microcred.gen.microcred.v1 import registry_pb2, registry_pb2_grpc
from microcred.grpc_server import abort_with_details, caller_identity
from microcred.kafka.publisher import EventPublisher
from microcred.pki import Identity
from microcred.registry.ports import RegistryReader
from services.issuer.application.registry_commands import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    RegistryCommands,
    RegistryRefused,
    now_utc,
)

__all__ = ["DEFAULT_PAGE_SIZE", "MAX_PAGE_SIZE", "RegistryApi"]

Context = Any  # grpc.aio.ServicerContext (grpc ships no type information)
Request = TypeVar("Request")
Response = TypeVar("Response")


class RegistryApi(registry_pb2_grpc.RegistryServiceServicer):
    """The RegistryService servicer, hosted by the issuer service."""

    def __init__(self, publisher: EventPublisher, registry: RegistryReader, keystore: KeyStore, did_web_host: str,
                 *, clock: Callable[[], datetime] = now_utc, consistency_timeout: float = 5.0) -> None:
        self.commands = RegistryCommands(publisher, registry, keystore, did_web_host, clock=clock,
                                         consistency_timeout=consistency_timeout)

    async def _run(self, context: Context, request: Request,
                   use_case: Callable[[Identity, Request], Awaitable[Response]]) -> Response:
        identity = caller_identity(context)
        if identity is None or not identity.subject_id:
            await abort_with_details(context, code_pb2.UNAUTHENTICATED,
                                     "a client certificate issued by the platform CA is required")
        try:
            return await use_case(identity, request)
        except RegistryRefused as refused:
            await abort_with_details(context, refused.code, refused.message, *refused.details)

    async def RegisterAgency(self, request: registry_pb2.RegisterAgencyRequest,
                             context: Context) -> registry_pb2.RegisterAgencyResponse:
        """Platform operator only: register a national or sector agency (tenant)."""
        return await self._run(context, request, self.commands.register_agency)

    async def RegisterIssuer(self, request: registry_pb2.RegisterIssuerRequest,
                             context: Context) -> registry_pb2.RegisterIssuerResponse:
        """Register an issuer under the calling agency, with a did:web and a fresh signing key."""
        return await self._run(context, request, self.commands.register_issuer)

    async def AccreditIssuer(self, request: registry_pb2.AccreditIssuerRequest,
                             context: Context) -> registry_pb2.AccreditIssuerResponse:
        """Record an accreditation / QA decision for one of the caller's issuers."""
        return await self._run(context, request, self.commands.accredit_issuer)

    async def SuspendAccreditation(self, request: registry_pb2.SuspendAccreditationRequest,
                                   context: Context) -> registry_pb2.SuspendAccreditationResponse:
        """Suspend an accreditation (a new accreditation decision can restore it)."""
        return await self._run(context, request, self.commands.suspend_accreditation)

    async def WithdrawAccreditation(self, request: registry_pb2.WithdrawAccreditationRequest,
                                    context: Context) -> registry_pb2.WithdrawAccreditationResponse:
        """Withdraw an accreditation for good; the issuer cannot issue under it from then on."""
        return await self._run(context, request, self.commands.withdraw_accreditation)

    async def RotateIssuerKey(self, request: registry_pb2.RotateIssuerKeyRequest,
                              context: Context) -> registry_pb2.RotateIssuerKeyResponse:
        """Generate the issuer's next key (``#key-(n+1)``) and retire the current one at ``retire_at`` (or now)."""
        return await self._run(context, request, self.commands.rotate_issuer_key)

    async def GetIssuer(self, request: registry_pb2.GetIssuerRequest,
                        context: Context) -> registry_pb2.GetIssuerResponse:
        """One issuer: for its agency, or for the issuer itself."""
        return await self._run(context, request, self.commands.get_issuer)

    async def ListIssuers(self, request: registry_pb2.ListIssuersRequest,
                          context: Context) -> registry_pb2.ListIssuersResponse:
        """A page of the caller's agency's issuers (an issuer sees only itself), ordered by id."""
        return await self._run(context, request, self.commands.list_issuers)

    async def ListAgencies(self, request: registry_pb2.ListAgenciesRequest,
                           context: Context) -> registry_pb2.ListAgenciesResponse:
        """Platform operator only: a page of the registered agencies, ordered by id."""
        return await self._run(context, request, self.commands.list_agencies)

    async def RetireIssuerKey(self, request: registry_pb2.RetireIssuerKeyRequest,
                              context: Context) -> registry_pb2.RetireIssuerKeyResponse:
        """Retire one key of one of the caller's issuers without adding one (never the last current key)."""
        return await self._run(context, request, self.commands.retire_issuer_key)
