"""Verifiable Presentations signed with the learner's holder key for a verifier's challenge and domain.

The presentation is a W3C VC 2.0 ``VerifiablePresentation`` whose ``holder`` is the learner's did:key and
whose ``verifiableCredential`` holds the credentials exactly as issued. Its proof is a Data Integrity
``eddsa-rdfc-2022`` proof with ``proofPurpose: authentication`` carrying the verifier's ``challenge`` and
``domain``, so it cannot be replayed to another verifier or for another request.

:func:`verify_presentation_binding` checks what makes a presentation the holder's answer to *this* request:
the proof verifies, it is for authentication, challenge and domain match, and the signing key belongs to
the ``holder``. It does not verify the embedded credentials (the verifier gateway does that, per check).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from microcred.crypto.data_integrity import VerificationCode, sign_eddsa_rdfc_2022, verify_data_integrity
from microcred.crypto.did_key import resolve_key, verification_method_id
from microcred.jsonld.compacted import compaction_problem

VC_V2_CONTEXT = "https://www.w3.org/ns/credentials/v2"
PRESENTATION_TYPE = "VerifiablePresentation"
AUTHENTICATION = "authentication"


class BindingCode(StrEnum):
    """Outcome codes of :func:`verify_presentation_binding` (proof codes plus presentation-level ones)."""

    OK = "OK"
    NOT_A_PRESENTATION = "NOT_A_PRESENTATION"
    NO_HOLDER = "NO_HOLDER"
    HOLDER_MISMATCH = "HOLDER_MISMATCH"


@dataclass(frozen=True, slots=True)
class PresentationCheck:
    """``verified`` is True (bound), False (definitely not) or None (could not be checked)."""

    verified: bool | None
    code: str
    message: str
    subjects_bound: bool | None = None


def build_presentation(credentials: Sequence[Mapping[str, Any]], holder_did: str) -> dict[str, Any]:
    """An unsigned presentation of ``credentials`` by ``holder_did``."""
    return {
        "@context": [VC_V2_CONTEXT],
        "id": f"urn:uuid:{uuid.uuid4()}",
        "type": [PRESENTATION_TYPE],
        "holder": holder_did,
        "verifiableCredential": [dict(c) for c in credentials],
    }


def sign_presentation(presentation: Mapping[str, Any], key: Ed25519PrivateKey, challenge: str, domain: str,
                      created: datetime | None = None) -> dict[str, Any]:
    """``presentation`` with an ``eddsa-rdfc-2022`` authentication proof by its holder's key."""
    holder = presentation["holder"]
    return sign_eddsa_rdfc_2022(presentation, key, verification_method_id(holder), proof_purpose=AUTHENTICATION,
                                created=created, challenge=challenge, domain=domain)


def _types(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _subjects_bound(vp: Mapping[str, Any], holder: str) -> bool | None:
    """True when every credential's subject id is the holder; None when some subject has no id."""
    subject_ids: list[Any] = []
    for credential in _types(vp.get("verifiableCredential") or []):
        subjects = _types(credential.get("credentialSubject")) if isinstance(credential, Mapping) else [None]
        subject_ids.extend(s.get("id") if isinstance(s, Mapping) else None for s in subjects)
    if not subject_ids or any(not isinstance(s, str) for s in subject_ids):
        return None
    return all(s == holder for s in subject_ids)


def verify_presentation_binding(vp: Mapping[str, Any], challenge: str, domain: str,
                                now: datetime | None = None) -> PresentationCheck:
    """Is ``vp`` the holder's own answer to this challenge and domain? (did:key holders)."""
    refused = compaction_problem(vp)  # what is read below must be what was signed
    if refused is not None:
        return PresentationCheck(False, refused.reason, f"{refused.path}: {refused.problem}")
    if PRESENTATION_TYPE not in _types(vp.get("type")):
        return PresentationCheck(False, BindingCode.NOT_A_PRESENTATION, "type lacks VerifiablePresentation")
    holder = vp.get("holder")
    if isinstance(holder, Mapping):
        holder = holder.get("id")
    if not isinstance(holder, str) or not holder:
        return PresentationCheck(False, BindingCode.NO_HOLDER, "presentation names no holder")
    outcome = verify_data_integrity(vp, resolve_key, expected_proof_purpose=AUTHENTICATION,
                                    expected_challenge=challenge, expected_domain=domain, now=now)
    if outcome.verified is not True:
        return PresentationCheck(outcome.verified, outcome.code.value, outcome.message)
    proofs = vp["proof"] if isinstance(vp["proof"], list) else [vp["proof"]]
    signers = {str(p.get("verificationMethod", "")).split("#", 1)[0] for p in proofs}
    if signers != {holder}:
        return PresentationCheck(False, BindingCode.HOLDER_MISMATCH, "the proof was not made by the holder's key")
    return PresentationCheck(True, VerificationCode.OK.value, "presentation is bound to its holder",
                             _subjects_bound(vp, holder))
