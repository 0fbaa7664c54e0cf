"""European Digital Credentials (EDC, ELM 3.3) sealed in JAdES, through the same report and verdict policy.

A request's document is an EDC when it is a JAdES JWS JSON serialisation (``payload`` + ``signatures``,
:func:`is_jades`). The checks, over exactly the text the seal covers (the ``b64: false`` payload):

* SIGNATURE: the JAdES seal with ``x5c[0]`` (:func:`microcred.elm.jades.verify_jades`); a document that is not a
  seal this verifier supports is FORMAT ``invalid`` and every other check ``unknown`` / ``NOT_CHECKED``.
* ISSUER_IDENTITY: the chain to :attr:`VerificationPorts.x509_anchors` (PEM anchors and EU trusted lists) at the
  seal's ``sigT``, and the seal certificate names the issuer (a SAN URI equal to the issuer id, or its
  ``organizationIdentifier`` equal to the issuer's ``eIDASIdentifier``). No anchor reached: ``unknown``, so the
  verdict is undetermined, never valid.
* FORMAT: SHACL against the EC's ``EDC-generic-no-cv`` shapes (:func:`microcred.elm.shacl.validate_edc`), run only
  for a payload whose seal verified **and** whose seal certificate chains to a trusted anchor: the seal is checked
  with ``x5c[0]``, so anyone can seal with a self-signed certificate, and 157 KB cost 0.6 s of pyshacl CPU holding
  the GIL. Otherwise FORMAT is ``unknown`` ``DATA_MODEL_UNCHECKED`` (``cause`` ``untrusted-seal``; the verdict is
  undetermined by ISSUER_IDENTITY anyway). It runs in a worker thread, one at a time per process, waiting at most
  :data:`SHACL_WAIT_SECONDS` for that slot (then ``unknown`` ``DATA_MODEL_UNCHECKED``, ``cause`` ``busy``) and
  within :data:`SHACL_TIMEOUT_SECONDS` (past it: ``unknown`` ``TOO_COMPLEX``); the payload size is bounded by
  :data:`microcred.elm.jades.MAX_DOCUMENT_BYTES` and its shape by :data:`MAX_DEPTH` / :data:`MAX_OBJECTS` /
  :data:`MAX_VALUES` before any JSON-LD work.
* EU_ELEMENTS (:mod:`microcred.elm.elements`): all 11 mandatory Annex I elements present makes the EDC an EU
  micro-credential (EU_ELEMENTS and ACCREDITATION then required); an EDC lacking some does not claim to be one
  (the generic profile does not require them): ``unknown`` ``NOT_A_MICRO_CREDENTIAL`` naming what is missing.
* ACCREDITATION of the issuer id in the trust registry, VALIDITY_WINDOW (``validFrom``/``expirationDate``).
* REVOCATION / SUSPENSION: from the Token Status List entry named by the sealed payload's ``credentialStatus``
  (one ``xsd:anyURI``, ``{list token URI}#{index}``, :mod:`microcred.elm.status`), read only after the seal
  verified, so what is checked is what was signed. The list token comes from
  :attr:`VerificationPorts.token_status` (the gateway's fetches only under its configured platform prefixes) and
  is checked as an SD-JWT VC's (:func:`microcred.status.token_status_list.check_token_status`: signature, ``x5c``
  chain to the anchors, validity, the 2-bit value): revoked / suspended are ``invalid``; no source, a URI outside
  the trusted prefixes, an unreachable or untrusted list are ``unknown`` with the reason (verdict undetermined,
  never valid); a ``credentialStatus`` this verifier cannot read is ``unknown`` (another URI form) or ``invalid``
  (not one ``xsd:anyURI``). A document naming no ``credentialStatus`` (the EC's sample) has no status to check:
  ``valid`` ``NO_STATUS_ENTRY``, saying so in its ``note``.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import weakref
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from cryptography import x509
from cryptography.x509.oid import NameOID

from microcred.elm.elements import eqf_level, issuer_id, missing_elements
from microcred.elm.jades import JadesError, JadesVerdict, TrustState, verify_jades
from microcred.elm.shacl import validate_edc
from microcred.elm.status import EdcStatusError, read_status_reference, status_uri
from microcred.sdjwt.result import SdJwtCheck
from microcred.status.token_status_list import check_token_status
from microcred.verification.accreditation import check_issuer_accreditation
from microcred.verification.checks import CheckId, CheckResult, CheckStatus, Reason, invalid, unknown, valid
from microcred.verification.document import parse_datetime
from microcred.verification.policy import ALWAYS_REQUIRED, MICRO_CREDENTIAL_REQUIRED, decide
from microcred.verification.ports import VerificationPorts
from microcred.verification.report import VerificationReport
from microcred.verification.validity import check_validity_window

__all__ = ["ORDER", "SHACL_TIMEOUT_SECONDS", "SHACL_WAIT_SECONDS", "is_jades", "verify_edc_credential"]

log = logging.getLogger(__name__)

ORDER: tuple[CheckId, ...] = (
    CheckId.FORMAT, CheckId.EU_ELEMENTS, CheckId.SIGNATURE, CheckId.ISSUER_IDENTITY, CheckId.ACCREDITATION,
    CheckId.VALIDITY_WINDOW, CheckId.REVOCATION, CheckId.SUSPENSION,
)
_POSITION = {check: i for i, check in enumerate(ORDER)}
_STATUS_CHECKS = (CheckId.REVOCATION, CheckId.SUSPENSION)
#: Longest a SHACL validation may take before FORMAT is reported unknown (0.15-0.4 s of CPU is typical).
SHACL_TIMEOUT_SECONDS = 20.0
#: Longest a request waits for the process's SHACL slot before FORMAT is reported unknown (busy): without a bound,
#: requests piled up behind one slow validation.
SHACL_WAIT_SECONDS = 2.0
_SHACL_RULE = "EDC-generic-no-cv (SHACL)"
#: One SHACL validation at a time per event loop (pure-Python pyshacl holds the GIL anyway).
_SHACL_SLOTS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = weakref.WeakKeyDictionary()
_MAX_VIOLATIONS_SHOWN = 10
#: JSON limits before SHACL (as the Data Integrity path's; the EC's Annex I sample has ~200 objects).
MAX_DEPTH, MAX_OBJECTS, MAX_VALUES = 24, 2_000, 10_000


def is_jades(document: Any) -> bool:
    """Whether a request's document is a JAdES JSON serialisation (an EDC seal) rather than a JSON-LD VC."""
    return (isinstance(document, Mapping) and "@context" not in document and "payload" in document
            and ("signatures" in document or "signature" in document))


def _names_issuer(cert: x509.Certificate, document: Mapping[str, Any]) -> bool:
    issuer = document.get("issuer")
    wanted = issuer_id(document)
    try:
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        if wanted is not None and wanted in sans.get_values_for_type(x509.UniformResourceIdentifier):
            return True
    except x509.ExtensionNotFound:
        pass
    eidas = issuer.get("eIDASIdentifier") if isinstance(issuer, Mapping) else None
    notation = eidas.get("notation") if isinstance(eidas, Mapping) else None
    org_ids = [a.value for a in cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_IDENTIFIER)]
    return isinstance(notation, str) and notation in org_ids


def _identity(verdict: JadesVerdict, leaf: x509.Certificate | None, document: Mapping[str, Any]) -> CheckResult:
    details = {"subject": verdict.signer_subject, "problem": verdict.trust_reason, "notes": list(verdict.notes)}
    if verdict.trust == "unknown":
        return unknown(CheckId.ISSUER_IDENTITY, Reason.NO_TRUST_ANCHORS, **details)
    if verdict.trust == "untrusted":  # no path to a configured anchor: who sealed it is not known, not false
        return unknown(CheckId.ISSUER_IDENTITY, Reason.CHAIN_UNTRUSTED, **details)
    if leaf is None or not _names_issuer(leaf, document):
        return invalid(CheckId.ISSUER_IDENTITY, Reason.ISSUER_NOT_IN_CERTIFICATE, issuer=issuer_id(document),
                       **details)
    return valid(CheckId.ISSUER_IDENTITY, Reason.ISSUER_CERTIFICATE_VALID, anchor="a configured anchor", **details)


def _slot() -> asyncio.Semaphore:
    loop = asyncio.get_running_loop()
    slot = _SHACL_SLOTS.get(loop)
    if slot is None:
        slot = _SHACL_SLOTS[loop] = asyncio.Semaphore(1)
    return slot


def _too_complex(document: Any) -> str | None:
    """The size limit the payload passes (None), or the one it exceeds: the limits of the Data Integrity path
    (docs/verification.md, bounded cost), checked on the JSON before any JSON-LD or SHACL work."""
    objects = values = 0
    stack: list[tuple[Any, int]] = [(document, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            return f"nesting deeper than {MAX_DEPTH}"
        if isinstance(node, Mapping):
            objects += 1
            stack.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node)
        else:
            values += 1
        if objects > MAX_OBJECTS or values > MAX_VALUES:
            return f"more than {MAX_OBJECTS} objects or {MAX_VALUES} values"
    return None


async def _format(document: Mapping[str, Any], trust: TrustState) -> CheckResult:
    too_complex = _too_complex(document)
    if too_complex is not None:
        return unknown(CheckId.FORMAT, Reason.TOO_COMPLEX, field="payload", problem=too_complex)
    if trust != "trusted":
        return unknown(CheckId.FORMAT, Reason.DATA_MODEL_UNCHECKED, rule=_SHACL_RULE, field="payload",
                       cause="untrusted-seal", problem="SHACL is run only for a seal whose certificate chains to a "
                       "trusted anchor, and this one does not")
    slot = _slot()
    try:
        await asyncio.wait_for(slot.acquire(), SHACL_WAIT_SECONDS)
    except TimeoutError:
        return unknown(CheckId.FORMAT, Reason.DATA_MODEL_UNCHECKED, rule=_SHACL_RULE, field="payload", cause="busy",
                       problem=f"busy: the SHACL validator stayed taken for {SHACL_WAIT_SECONDS:g} s; retry later",
                       limit_seconds=SHACL_WAIT_SECONDS)
    task = asyncio.ensure_future(asyncio.to_thread(validate_edc, document))
    done, _ = await asyncio.wait({task}, timeout=SHACL_TIMEOUT_SECONDS)
    if not done:  # the thread cannot be stopped: its slot stays taken until it ends, so the cost stays bounded
        task.add_done_callback(lambda _: slot.release())
        return unknown(CheckId.FORMAT, Reason.TOO_COMPLEX, field="payload", problem="SHACL validation took "
                       f"longer than {SHACL_TIMEOUT_SECONDS:g} s", limit_seconds=SHACL_TIMEOUT_SECONDS)
    slot.release()
    try:
        report = task.result()
    except Exception as exc:  # a remote context refused, RDF that cannot be read: not checked, never valid
        return unknown(CheckId.FORMAT, Reason.JSONLD_ERROR, problem=f"{type(exc).__name__}: {exc}"[:300])
    if report.violations:
        shown = [str(v) for v in report.violations[:_MAX_VIOLATIONS_SHOWN]]
        return invalid(CheckId.FORMAT, Reason.DATA_MODEL_VIOLATION, rule=_SHACL_RULE,
                       field="payload", problem=shown[0][:300], violations=shown, count=len(report.violations))
    return valid(CheckId.FORMAT, Reason.FORMAT_OK, kind="European Digital Credential", vc_version="1.1",
                 profile="EDC-generic-no-cv")


def _leaf(document: Mapping[str, Any]) -> x509.Certificate | None:
    """The seal certificate (``x5c[0]``), already validated by :func:`verify_jades`."""
    try:
        signature = document["signatures"][0] if "signatures" in document else document
        protected = signature["protected"]
        header = json.loads(base64.urlsafe_b64decode(protected + "=" * (-len(protected) % 4)))
        return x509.load_der_x509_certificate(base64.b64decode(header["x5c"][0]))
    except (KeyError, IndexError, TypeError, ValueError):
        return None


def _from_token(check: SdJwtCheck, details: Mapping[str, Any]) -> CheckResult:
    """The report's form of a Token Status List check (same ids, statuses and reason codes by construction)."""
    try:
        return CheckResult(CheckId(check.id), CheckStatus(check.status.value), Reason(check.reason_code),
                           check.message, {**details, **check.details})
    except ValueError:  # a code the report does not know: never passed off as valid
        log.error("unmapped token status check", extra={"check": check.id, "reason": check.reason_code})
        return unknown(CheckId(check.id), Reason.INTERNAL_ERROR, problem=f"unmapped result {check.reason_code}")


async def _statuses(payload: Mapping[str, Any], ports: VerificationPorts, now: datetime) -> list[CheckResult]:
    """REVOCATION and SUSPENSION from the Token Status List entry the *sealed* payload names (module docstring).

    Never valid without an answer from a list whose signature chains to an anchor: an unreadable reference, no
    source, a URI outside the trusted platform prefixes or an unreachable list are ``unknown`` with the reason.
    """
    try:
        reference = read_status_reference(payload)
    except EdcStatusError as exc:
        if exc.unsupported:
            return [unknown(c, Reason.UNSUPPORTED_STATUS_TYPE, status_type="credentialStatus URI that names no "
                            "Token Status List entry", problem=str(exc)) for c in _STATUS_CHECKS]
        return [invalid(c, Reason.MALFORMED_STATUS_ENTRY, problem=str(exc)) for c in _STATUS_CHECKS]
    if reference is None:  # the EC's sample, or an EDC from an issuer that publishes no status for it
        note = ("the sealed credential names no credentialStatus, so its issuer offers no revocation or suspension "
                "status for it to check")
        return [valid(CheckId.REVOCATION, Reason.NO_STATUS_ENTRY, purpose="revocation", note=note),
                valid(CheckId.SUSPENSION, Reason.NO_STATUS_ENTRY, purpose="suspension", note=note)]
    details: dict[str, Any] = {"status_uri": status_uri(reference), "list_uri": reference.uri,
                               "index": reference.idx, "read_from": "sealed payload"}
    source, fetched, problem = ports.token_status, None, ""
    if source is None:
        problem = "no Token Status List source is configured"
    else:
        try:
            fetched = await source.get(reference.uri)
        except Exception as exc:  # the source failed: the status is unknown, never assumed
            log.warning("token status list unavailable", extra={"error": type(exc).__name__})
        problem = "the list is not under a trusted platform status URL, or could not be obtained from it"
    if fetched is None:
        return [unknown(c, Reason.STATUS_RETRIEVAL_ERROR, problem=problem, **details) for c in _STATUS_CHECKS]
    token, obtained_at = fetched
    details["obtained_at"] = obtained_at.isoformat()
    revocation, suspension = check_token_status(reference, token, trust_anchors=tuple(ports.x509_anchors), now=now)
    return [_from_token(revocation, details), _from_token(suspension, details)]


async def verify_edc_credential(document: Mapping[str, Any], ports: VerificationPorts,
                                now: datetime | None = None) -> VerificationReport:
    """Verify a JAdES-sealed EDC at ``now`` (module docstring)."""
    now = now or datetime.now(UTC)
    try:
        verdict = verify_jades(document, anchors=tuple(ports.x509_anchors))
        payload = json.loads(verdict.payload)
        if not isinstance(payload, dict):
            raise JadesError("the sealed payload is not a JSON object")
    except (JadesError, ValueError, TypeError, KeyError, IndexError) as exc:  # any malformed seal: named, never 5xx
        checks: tuple[CheckResult, ...] = (
            invalid(CheckId.FORMAT, Reason.MALFORMED_PROOF, problem=str(exc)[:300], format="JAdES"),
            *(unknown(c, Reason.NOT_CHECKED, problem="not a JAdES seal this verifier supports")
              for c in ORDER[1:]))
        return VerificationReport("credential", decide(checks, ALWAYS_REQUIRED), checks, now, ALWAYS_REQUIRED)
    missing = missing_elements(payload)
    micro = not missing
    required = ALWAYS_REQUIRED | (MICRO_CREDENTIAL_REQUIRED if micro else frozenset())
    issuer = issuer_id(payload)
    results: list[CheckResult] = [
        valid(CheckId.SIGNATURE, Reason.SIGNATURE_VALID, suite="JAdES B-B seal", signing_time=(
            verdict.signing_time.isoformat() if verdict.signing_time else None), notes=list(verdict.notes))
        if verdict.signature == "valid" else invalid(CheckId.SIGNATURE, Reason.INVALID_SIGNATURE, format="JAdES")]
    if verdict.signature != "valid":
        why = "the seal does not verify: nothing it covers is read"
        results += [unknown(c, Reason.NOT_CHECKED, problem=why) for c in ORDER if c is not CheckId.SIGNATURE]
    else:
        results.append(await _format(payload, verdict.trust))
        results.append(_identity(verdict, _leaf(document), payload))
        results.append(valid(CheckId.EU_ELEMENTS, Reason.EU_ELEMENTS_PRESENT, withheld=[]) if micro
                       else unknown(CheckId.EU_ELEMENTS, Reason.NOT_A_MICRO_CREDENTIAL, missing=missing))
        issued = parse_datetime(payload.get("issued") or payload.get("issuanceDate"), require_zone=False) or now
        results.append(await check_issuer_accreditation(issuer or "?", eqf_level(payload), issued,
                                                        ports.trust_directory(), now))
        results.append(check_validity_window(payload, now))
        results += await _statuses(payload, ports, now)
    ordered = tuple(sorted(results, key=lambda c: _POSITION[c.id]))
    document_id = payload.get("id") if isinstance(payload.get("id"), str) else None
    return VerificationReport("credential", decide(ordered, required), ordered, now, required, document_id, issuer,
                              micro)
