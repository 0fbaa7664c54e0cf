"""gRPC PrivacyService (hosted by the issuer service): erase a learner, export what is held about them.

The caller's client certificate decides what it may do (:mod:`services.issuer.application.learner_data`); errors
are the shared vocabulary's gRPC codes, bad input INVALID_ARGUMENT with every field violation.
"""

from __future__ import annotations

from typing import Any

from google.rpc import code_pb2  # type: ignore[import-untyped, unused-ignore]

from microcred.errors import InvalidArgument, MicrocredError, grpc_code
from microcred.gen.microcred.v1 import privacy_pb2, privacy_pb2_grpc
from microcred.grpc_server import abort_with_details, caller_identity
from microcred.model.errors import to_bad_request
from microcred.pki import Identity
from services.issuer.application.learner_data import LearnerData

__all__ = ["PrivacyApi"]


class PrivacyApi(privacy_pb2_grpc.PrivacyServiceServicer):
    """DeleteLearnerData and GetLearnerData over :class:`LearnerData`."""

    def __init__(self, learners: LearnerData) -> None:
        self._learners = learners

    async def _caller(self, context: Any) -> Identity:
        identity = caller_identity(context)
        if identity is None:
            await abort_with_details(context, code_pb2.UNAUTHENTICATED, "a client certificate is required")
        return identity

    @staticmethod
    async def _refuse(context: Any, exc: MicrocredError) -> None:
        if isinstance(exc, InvalidArgument):
            await abort_with_details(context, code_pb2.INVALID_ARGUMENT, str(exc), to_bad_request(exc.violations))
        await abort_with_details(context, grpc_code(exc), str(exc))

    async def DeleteLearnerData(self, request: privacy_pb2.DeleteLearnerDataRequest,
                                context: Any) -> privacy_pb2.DeleteLearnerDataResponse:
        """Erase the learner named by DID or e-mail, recording the reason."""
        caller = await self._caller(context)
        try:
            done = await self._learners.erase(caller, request.learner.did, request.learner.email, request.reason)
        except MicrocredError as exc:
            await self._refuse(context, exc)
            raise
        return privacy_pb2.DeleteLearnerDataResponse(learner_pseudonyms=done.pseudonyms,
                                                     credential_ids=done.credential_ids,
                                                     key_destroyed=done.key_destroyed)

    async def GetLearnerData(self, request: privacy_pb2.GetLearnerDataRequest,
                             context: Any) -> privacy_pb2.GetLearnerDataResponse:
        """Everything held about the learner, as JSON."""
        caller = await self._caller(context)
        try:
            pseudonyms, document = await self._learners.export(caller, request.learner.did, request.learner.email)
        except MicrocredError as exc:
            await self._refuse(context, exc)
            raise
        return privacy_pb2.GetLearnerDataResponse(learner_pseudonyms=pseudonyms, export_json=document)
