"""The revocation side of a correction: a credential's state, and revoking it as superseded.

:class:`GrpcSupersession` calls the revocation service (``GetCredentialStatus``, ``SupersedeCredential``) over
mTLS with the issuer service's own ``service`` certificate, after the issuer service authenticated the issuer;
:class:`InMemorySupersession` is the twin for unit tests.
"""

from __future__ import annotations

import grpc

from microcred.gen.microcred.v1 import revocation_pb2, revocation_pb2_grpc
from services.issuer.application.ports import CredentialState, RevocationUnavailable

__all__ = ["GrpcSupersession", "InMemorySupersession"]


class GrpcSupersession:
    """:class:`~services.issuer.application.ports.Supersession` over the revocation service's gRPC API."""

    def __init__(self, stub: revocation_pb2_grpc.RevocationServiceStub, timeout: float = 30.0) -> None:
        self._stub, self._timeout = stub, timeout

    async def state(self, credential_id: str) -> CredentialState | None:
        """The credential's issuer and revocation bit (None: the revocation service does not know it)."""
        try:
            reply = await self._stub.GetCredentialStatus(
                revocation_pb2.GetCredentialStatusRequest(credential_id=credential_id), timeout=self._timeout)
        except grpc.aio.AioRpcError as exc:
            if exc.code() == grpc.StatusCode.NOT_FOUND:
                return None
            raise RevocationUnavailable(f"revocation service: {exc.code().name}: {exc.details()}") from exc
        return CredentialState(reply.status.credential_id, reply.status.issuer_id, reply.status.revoked)

    async def supersede(self, credential_id: str, superseded_by: str, issuer_id: str, actor: str) -> None:
        """``SupersedeCredential`` (idempotent on the revocation side)."""
        request = revocation_pb2.SupersedeCredentialRequest(credential_id=credential_id, superseded_by=superseded_by,
                                                            issuer_id=issuer_id, actor=actor)
        try:
            await self._stub.SupersedeCredential(request, timeout=self._timeout)
        except grpc.aio.AioRpcError as exc:
            raise RevocationUnavailable(f"revocation service: {exc.code().name}: {exc.details()}") from exc


class InMemorySupersession:
    """Twin for unit tests: credentials known by id, what was superseded, and a failure to inject once."""

    def __init__(self) -> None:
        self.known: dict[str, CredentialState] = {}
        self.superseded: dict[str, tuple[str, str]] = {}  # credential id -> (replacement, actor)
        self.fail_next: RevocationUnavailable | None = None

    async def state(self, credential_id: str) -> CredentialState | None:
        """The known state, or None."""
        return self.known.get(credential_id)

    async def supersede(self, credential_id: str, superseded_by: str, issuer_id: str, actor: str) -> None:
        """Mark it revoked (or raise ``fail_next`` once); refuse, as the revocation service does (NOT_FOUND,
        PERMISSION_DENIED, both RevocationUnavailable here), an unknown credential or another issuer's."""
        if self.fail_next is not None:
            error, self.fail_next = self.fail_next, None
            raise error
        state = self.known.get(credential_id)
        if state is None:
            raise RevocationUnavailable(f"revocation service: NOT_FOUND: credential {credential_id!r} is not known")
        if state.issuer_id != issuer_id:
            raise RevocationUnavailable(f"revocation service: PERMISSION_DENIED: credential {credential_id!r} was "
                                        f"not issued by {issuer_id!r}")
        self.known[credential_id] = CredentialState(credential_id, issuer_id, True)
        self.superseded.setdefault(credential_id, (superseded_by, actor))
