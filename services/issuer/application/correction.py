"""Correcting an issued credential: the use case behind ``CorrectCredential`` (``mcred credential correct``).

A correction replaces one of the caller's credentials by a corrected one and links the two:

1. the request is validated (INVALID_ARGUMENT with every field violation; nothing changes);
2. the old credential must be the caller's (another issuer's is PERMISSION_DENIED, an unknown one NOT_FOUND)
   and not revoked (FAILED_PRECONDITION: a revoked credential is final, issue a new one instead);
3. the corrected credential is issued through :class:`~services.issuer.application.issuance.Issuance` under an
   idempotency key derived from the old credential's id (:func:`correction_key`), so its id is fixed by the old
   one: a retried correction answers the same replacement and never issues a second one, and a second,
   different correction of the same credential is refused (FAILED_PRECONDITION: correct the replacement).
   Its ``CredentialIssued`` names the old credential in ``replaces``;
4. only then the old credential is revoked with reason "superseded" by the revocation service, whose
   ``CredentialRevoked`` names the replacement in ``superseded_by``. Issuing first means a learner is never
   left with neither credential; a failure in between answers UNAVAILABLE and the retry completes it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from google.rpc import code_pb2  # type: ignore[import-untyped, unused-ignore]

from microcred.credential.ids import credential_id_for
from microcred.gen.microcred.v1 import elements_pb2 as pb
from microcred.gen.microcred.v1 import issuer_pb2
from microcred.model.errors import INVALID_FORMAT, OUT_OF_RANGE, REQUIRED, FieldViolation
from services.issuer.application.issuance import CORRECTION_KEY_PREFIX, Caller, Issuance, IssueItem, Refusal
from services.issuer.application.ports import CredentialStore, RevocationUnavailable, StoreNotReady, Supersession

__all__ = ["MAX_REASON_LENGTH", "Corrected", "Correction", "correction_key", "correction_violations"]

MAX_ID_LENGTH = 512
MAX_REASON_LENGTH = 1_000
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def correction_key(credential_id: str) -> str:
    """The idempotency key of the correction of ``credential_id`` (one replacement per credential, ever)."""
    return CORRECTION_KEY_PREFIX + credential_id


def correction_violations(credential_id: str, has_credential: bool, reason: str) -> list[FieldViolation]:
    """What is wrong with a correction request (the corrected elements are validated when issued)."""
    found: list[FieldViolation] = []
    if not credential_id:
        found.append(FieldViolation("credential_id", "is required: the id of the credential to correct", REQUIRED))
    elif len(credential_id) > MAX_ID_LENGTH or _CONTROL.search(credential_id):
        found.append(FieldViolation("credential_id", f"must be at most {MAX_ID_LENGTH} characters without control "
                                                     "characters", INVALID_FORMAT))
    if not has_credential:
        found.append(FieldViolation("credential", "is required: the corrected credential, in full", REQUIRED))
    if not reason.strip():
        found.append(FieldViolation("reason", "is required: say why the credential is corrected", REQUIRED))
    elif len(reason) > MAX_REASON_LENGTH:
        found.append(FieldViolation("reason", f"must be at most {MAX_REASON_LENGTH} characters", OUT_OF_RANGE))
    return found


@dataclass(frozen=True)
class Corrected:
    """A correction done: the replacement, the superseded credential's id, and whether it was done before."""

    replacement: issuer_pb2.IssuedCredential
    superseded: str
    already_corrected: bool


class Correction:
    """Corrects credentials; see the module docstring."""

    def __init__(self, issuance: Issuance, store: CredentialStore, supersession: Supersession) -> None:
        self._issuance, self._store, self._supersession = issuance, store, supersession

    async def correct(self, caller: Caller, credential_id: str, credential: pb.MicroCredential | None,
                      reason: str) -> Corrected | Refusal:
        """Replace ``credential_id`` by ``credential`` (see the module docstring); never raises for bad input."""
        violations = correction_violations(credential_id, credential is not None, reason)
        if violations:
            summary = "; ".join(f"{v.field}: {v.description}" for v in violations)
            return Refusal(code_pb2.INVALID_ARGUMENT, f"invalid correction: {summary}", tuple(violations))
        assert credential is not None
        try:
            old = await self._store.get(caller.issuer_id, credential_id)
            state = await self._supersession.state(credential_id)
        except (StoreNotReady, RevocationUnavailable) as exc:
            return Refusal(code_pb2.UNAVAILABLE, str(exc))
        if old is None:
            if state is not None and state.issuer_id != caller.issuer_id:
                return Refusal(code_pb2.PERMISSION_DENIED, f"credential {credential_id!r} was issued by another "
                                                           "issuer; an issuer corrects only its own credentials",
                               reason="NOT_YOUR_CREDENTIAL")
            return Refusal(code_pb2.NOT_FOUND, f"no credential {credential_id!r} issued by {caller.issuer_id!r}")
        if state is None:  # it learns of credentials from Kafka, normally within milliseconds
            return Refusal(code_pb2.UNAVAILABLE, f"the revocation service has not seen credential {credential_id!r} "
                                                 "yet; retry shortly")
        key = correction_key(credential_id)
        replacement_id = credential_id_for(caller.issuer_id, key)
        if state.revoked and not await self._replaced(caller, replacement_id):
            return Refusal(code_pb2.FAILED_PRECONDITION, f"credential {credential_id!r} is revoked and cannot be "
                                                         "corrected; issue a new credential instead",
                           reason="CREDENTIAL_REVOKED")
        [outcome] = await self._issuance.issue(caller, [IssueItem(key, credential, replaces=credential_id,
                                                                  correction_reason=reason)])
        if isinstance(outcome, Refusal):
            if outcome.reason != "IDEMPOTENCY_KEY_REUSED":
                return outcome
            # Corrected before, with other content: complete that correction if it was interrupted, then refuse.
            problem = await self._supersede(caller, credential_id, replacement_id)
            fields = ", ".join(v.field for v in outcome.violations)
            return Refusal(code_pb2.FAILED_PRECONDITION,
                           f"credential {credential_id!r} was already corrected: it is superseded by "
                           f"{replacement_id!r} (this request differs in {fields}); to change it again, "
                           f"correct {replacement_id!r}" + (f" ({problem})" if problem else ""),
                           reason="ALREADY_SUPERSEDED")
        problem = await self._supersede(caller, credential_id, outcome.credential_id)
        if problem:
            return Refusal(code_pb2.UNAVAILABLE, f"the replacement {outcome.credential_id!r} was issued, but "
                                                 f"{credential_id!r} could not be revoked yet ({problem}); retry the "
                                                 "same correction: it completes it and issues nothing twice")
        return Corrected(outcome, credential_id, outcome.already_issued and state.revoked)

    async def _replaced(self, caller: Caller, replacement_id: str) -> bool:
        """True when the correction's replacement exists (issued, or signed and pending)."""
        issued, pending = await self._store.lookup(caller.issuer_id, [replacement_id])
        return replacement_id in issued or replacement_id in pending

    async def _supersede(self, caller: Caller, credential_id: str, replacement_id: str) -> str:
        """Revoke ``credential_id`` as superseded; '' when done, else why not."""
        try:
            await self._supersession.supersede(credential_id, replacement_id, caller.issuer_id, caller.actor)
        except RevocationUnavailable as exc:
            return str(exc)
        return ""
