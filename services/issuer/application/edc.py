"""EDC format at issuance: render + JAdES-seal the items of a chunk that asked for ``CREDENTIAL_FORMAT_EDC``,
optionally SHACL-checked before they are answered.

The seal key is the issuer's document key from the
:class:`~services.issuer.application.ports.DocumentSigning` port (in development the P-256 key derived from the
issuer's key-store key and certified by the platform PKI, the same key and ``x5c`` as its SD-JWT VCs; in production
the port is backed by a PKCS#11 HSM or a remote QSCD holding a qualified seal certificate, docs/elm-edc.md).
Rendering and sealing cost a few milliseconds per credential, so a chunk is sealed in one worker thread, off the
event loop. Each EDC names its credential's Token Status List entry as ``credentialStatus``
(:mod:`microcred.elm.status`).

SHACL (0.15-0.4 s per document) is the test gate and the verifier's FORMAT check; at issuance it is optional
(:class:`EdcCheck`, ``MICROCRED_EDC_SHACL_CHECK``): ``off``; ``sample``: N sealed documents per chunk, chosen
with :class:`secrets.SystemRandom` so a caller cannot predict (and craft around) which items are checked; ``all``.
What is checked is the sealed payload, exactly what was signed. A document with a violation is not issued: the
platform rendered something non-conformant, so the item is refused ``INTERNAL`` naming the first violated shape
path (never a value). In ``sample`` mode one failing sample refuses every EDC item of the chunk: they come from the
same renderer and were not checked, and checking them all instead would cost up to a chunk's size times the
per-document cost, past the chunk's deadline. Validation runs in a worker thread, one at a time per event loop
(pure-Python pyshacl holds the GIL anyway), each within ``timeout_seconds``: past it the document's conformance is
unknown, so it is not issued either (``UNAVAILABLE``, retriable); the thread cannot be stopped, so the slot stays
taken until it ends and the cost stays bounded.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from cryptography.hazmat.primitives.asymmetric import ec
from google.rpc import code_pb2  # type: ignore[import-untyped, unused-ignore]

from microcred.elm.issue import elm_issuer, sealed_edc
from microcred.elm.shacl import validate_edc
from microcred.gen.microcred.v1 import elements_pb2 as pb
from microcred.gen.microcred.v1 import registry_pb2
from microcred.metrics import EDC_SHACL_CHECKS
from microcred.sdjwt.issue import IssuerKey, StatusReference

__all__ = ["EdcCheck", "EdcResult", "ShaclMode", "ShaclValidator", "seal_edcs", "shacl_paths"]

log = logging.getLogger(__name__)

ShaclMode = Literal["off", "sample", "all"]
#: The check's port: the violated shape paths of an EDC JSON-LD document, first first (empty: it conforms).
ShaclValidator = Callable[[Mapping[str, Any]], Sequence[str]]
#: One SHACL validation at a time per event loop (as the verifier's FORMAT check).
_SLOTS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = weakref.WeakKeyDictionary()
_CHOOSER = secrets.SystemRandom()


def shacl_paths(document: Mapping[str, Any]) -> Sequence[str]:
    """The real validator: ``EDC-generic-no-cv`` (the profile every platform EDC meets, as the verifier checks)."""
    return validate_edc(document).paths


@dataclass(frozen=True)
class EdcCheck:
    """The optional SHACL check at issuance: ``mode``, documents per chunk in ``sample`` mode, the time bound of
    one validation, and the validator (the port; :func:`shacl_paths` in the service)."""

    mode: ShaclMode = "off"
    sample: int = 1
    timeout_seconds: float = 20.0
    validator: ShaclValidator = shacl_paths


@dataclass(frozen=True)
class EdcResult:
    """One item's EDC: the sealed JSON text, or why there is none: a ``google.rpc`` code and a message.
    ``INVALID_ARGUMENT``: the model cannot be expressed in ELM (the request's fault); ``INTERNAL``: the platform
    is at fault (no status entry to name, a non-conformant rendering); ``UNAVAILABLE``: the check did not finish."""

    text: str = ""
    error: str = ""
    code: int = code_pb2.OK
    reason: str = ""


def _seal_all(key: IssuerKey, issuer: registry_pb2.Issuer, credentials: Mapping[str, pb.MicroCredential],
              now: datetime, statuses: Mapping[str, StatusReference]) -> dict[str, EdcResult]:
    sealer = elm_issuer(issuer, key.iss)
    if not isinstance(key.key, ec.EllipticCurvePrivateKey):  # JAdES seals here are ES256/384/512
        return {cid: EdcResult(error="EDC could not be sealed: the issuer's document key is not an EC key",
                               code=code_pb2.INTERNAL) for cid in credentials}
    out: dict[str, EdcResult] = {}
    for cid, mc in credentials.items():
        status = statuses.get(cid)
        if status is None:  # never an EDC its issuer could not revoke or suspend; the platform's layout is at fault
            out[cid] = EdcResult(error="EDC could not be sealed: the credential has no Token Status List entry to "
                                       "name as its credentialStatus", code=code_pb2.INTERNAL)
            continue
        try:
            out[cid] = EdcResult(sealed_edc(mc, issuer=sealer, credential_id=cid, issued_at=now, key=key.key,
                                            x5c=key.x5c, status=status))
        except ValueError as exc:  # e.g. one organisation id naming two organisations (they would merge in RDF)
            out[cid] = EdcResult(error=f"cannot be issued as EDC: {exc}", code=code_pb2.INVALID_ARGUMENT,
                                 reason="EDC_UNRENDERABLE")
    return out


def _slot() -> asyncio.Semaphore:
    loop = asyncio.get_running_loop()
    slot = _SLOTS.get(loop)
    if slot is None:
        slot = _SLOTS[loop] = asyncio.Semaphore(1)
    return slot


def _payload(sealed: str) -> Mapping[str, Any]:
    """The sealed (``b64: false``) payload of a JAdES document this module produced: what was signed."""
    document = json.loads(json.loads(sealed)["payload"])
    if not isinstance(document, dict):
        raise TypeError("the sealed payload is not a JSON object")
    return document


async def _validate(check: EdcCheck, sealed: str) -> EdcResult | None:
    """None when the document conforms; else the refusal (violation, timeout, a check that failed to run)."""
    slot = _slot()
    await slot.acquire()
    task = asyncio.ensure_future(asyncio.to_thread(lambda: tuple(check.validator(_payload(sealed)))))
    try:
        done, _ = await asyncio.wait({task}, timeout=check.timeout_seconds)
    except BaseException:  # cancelled (the chunk's deadline): the thread runs on, so the slot waits for it
        task.add_done_callback(lambda _: slot.release())
        raise
    if not done:
        task.add_done_callback(lambda _: slot.release())
        EDC_SHACL_CHECKS.labels("timeout").inc()
        return EdcResult(error=f"EDC not issued: its SHACL check did not finish within {check.timeout_seconds:g} s; "
                               "retry", code=code_pb2.UNAVAILABLE, reason="EDC_SHACL_TIMEOUT")
    slot.release()
    try:
        paths = task.result()
    except Exception as exc:  # the check could not run: conformance unknown, so not issued (a platform fault)
        EDC_SHACL_CHECKS.labels("error").inc()
        return EdcResult(error=f"EDC not issued: its SHACL check failed to run ({type(exc).__name__})",
                         code=code_pb2.INTERNAL, reason="EDC_SHACL_ERROR")
    if not paths:
        EDC_SHACL_CHECKS.labels("conforms").inc()
        return None
    EDC_SHACL_CHECKS.labels("violation").inc()
    return EdcResult(error=f"EDC not issued: the platform rendered a document that violates the EDC application "
                           f"profile (EDC-generic-no-cv) at {paths[0]} ({len(paths)} violation(s))",
                     code=code_pb2.INTERNAL, reason="EDC_SHACL_VIOLATION")


async def _check(check: EdcCheck, issuer_id: str, results: dict[str, EdcResult]) -> None:
    """Apply ``check`` to the sealed documents of ``results`` (in place): see the module docstring."""
    sealed = [cid for cid, r in results.items() if r.text]
    if check.mode == "off" or not sealed:
        return
    chosen = sealed if check.mode == "all" else _CHOOSER.sample(sealed, min(check.sample, len(sealed)))
    for cid in chosen:
        refused = await _validate(check, results[cid].text)
        if refused is None:
            continue
        log.warning("EDC refused by the SHACL check at issuance", extra={
            "issuer_id": issuer_id, "credential_id": cid, "mode": check.mode, "reason": refused.reason,
            "problem": refused.error})  # shape paths only: no value of the document
        results[cid] = refused
        if check.mode == "sample":  # the chunk's other EDCs share the renderer and were not checked
            detail = refused.error.removeprefix("EDC not issued: ")
            for other in sealed:
                if other != cid:
                    results[other] = EdcResult(
                        error=f"EDC not issued: another EDC of this batch, sampled for the SHACL check, was refused "
                              f"({detail}); the batch's EDCs share one renderer, so none of them is issued",
                        code=refused.code, reason=refused.reason)
            return


async def seal_edcs(key: IssuerKey, issuer: registry_pb2.Issuer, credentials: Mapping[str, pb.MicroCredential],
                    now: datetime, statuses: Mapping[str, StatusReference],
                    check: EdcCheck | None = None) -> dict[str, EdcResult]:
    """An :class:`EdcResult` per credential id; ``statuses``: each credential's Token Status List entry (its
    revocation list's token list, at its revocation index), sealed as its ``credentialStatus``. A credential
    without one gets an error, not an EDC that cannot be revoked. ``check``: the optional SHACL check."""
    if not credentials:
        return {}
    results = await asyncio.to_thread(_seal_all, key, issuer, dict(credentials), now, dict(statuses))
    if check is not None:
        await _check(check, issuer.issuer_id, results)
    return results
