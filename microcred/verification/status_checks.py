"""REVOCATION and SUSPENSION: Bitstring Status List entries checked against verified, current lists.

For each purpose the credential's ``BitstringStatusListEntry`` items of that purpose are checked (all must be
unset). Each list comes from the :class:`~.ports.StatusListSource` with the time it was obtained (shown in
the report as ``obtained_at`` / ``age_seconds``); its proofs are verified with the same key resolver as
credentials (cached by list digest) and, when ``status_list_signers`` is configured, its issuer must be one of
them. Then :func:`microcred.status.check.check_status` applies the Recommendation's validation algorithm.

Outcomes: bit clear -> valid; bit set -> invalid (REVOKED / SUSPENDED); the credential's own entry malformed
-> invalid; anything about the *list* that prevents an answer (not obtainable, proof not verified, expired,
too short, index out of range) -> unknown with the Recommendation's error code. A credential without an entry
for a purpose cannot be revoked/suspended: valid with NO_STATUS_ENTRY, unless it carries a status entry of a
type this verifier does not support, which makes both checks unknown. A credential with more than
:data:`MAX_STATUS_ENTRIES` status entries is not looked at further: both checks are unknown with
TOO_MANY_STATUS_ENTRIES (each entry can cost a list fetch and a signature check; ours carry two).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, cast

from microcred.jsonld.compacted import compaction_problem
from microcred.jsonld.loader import CanonicalizationError, ContextIntegrityError, RemoteContextRefused, TooComplex
from microcred.status.check import (
    ENTRY_TYPE,
    StatusEntry,
    StatusResult,
    check_status,
    parse_status_entries,
    prepared_list,
    status_in,
)
from microcred.status.errors import (
    MalformedValueError,
    RangeError,
    StatusListLengthError,
    StatusListValidityError,
    StatusVerificationError,
)
from microcred.verification.cache import ResultCache, document_digest
from microcred.verification.canonical import default_canonicalizer
from microcred.verification.checks import CheckId, CheckResult, Reason, invalid, unknown, valid
from microcred.verification.document import as_list, issuer_id, parse_datetime, proofs
from microcred.verification.keys import controller_of
from microcred.verification.ports import KeyLookup, VerificationPorts
from microcred.verification.signature import resolve_proof_keys, verify_cached

__all__ = ["MAX_STATUS_ENTRIES", "check_statuses"]

MAX_STATUS_ENTRIES = 16
"""Status entries checked per credential at most (the platform issues one per purpose)."""

_PURPOSES = {
    "revocation": (CheckId.REVOCATION, Reason.NOT_REVOKED, Reason.REVOKED),
    "suspension": (CheckId.SUSPENSION, Reason.NOT_SUSPENDED, Reason.SUSPENDED),
}


async def check_statuses(document: Mapping[str, Any], ports: VerificationPorts, now: datetime) -> list[CheckResult]:
    """The REVOCATION and SUSPENSION results for ``document``."""
    items = as_list(document.get("credentialStatus"))
    if len(items) > MAX_STATUS_ENTRIES:
        return [unknown(check, Reason.TOO_MANY_STATUS_ENTRIES, count=len(items), limit=MAX_STATUS_ENTRIES)
                for check, _, _ in _PURPOSES.values()]
    other_types = sorted({str(t) for item in items if isinstance(item, Mapping)
                          for t in as_list(item.get("type")) if ENTRY_TYPE not in as_list(item.get("type"))})
    try:
        entries = parse_status_entries(document)
    except MalformedValueError as exc:
        return [invalid(check, Reason.MALFORMED_STATUS_ENTRY, problem=exc.message) for check, _, _ in
                _PURPOSES.values()]
    results = []
    # One verification reads one list for both purposes: its trust is decided once per list object here.
    trusted_lists: dict[int, tuple[Mapping[str, Any], str | None]] = {}
    for purpose, (check, _, _) in _PURPOSES.items():
        mine = [e for e in entries if e.purpose == purpose]
        if not mine:
            if other_types:
                results.append(unknown(check, Reason.UNSUPPORTED_STATUS_TYPE, status_type=other_types))
            else:
                results.append(valid(check, Reason.NO_STATUS_ENTRY, purpose=purpose))
            continue
        entry_results = [await _check_entry(entry, check, ports, now, trusted_lists) for entry in mine]
        results.append(_worst(entry_results))
    return results


def _worst(results: list[CheckResult]) -> CheckResult:
    order = {"invalid": 0, "unknown": 1, "valid": 2}
    return min(results, key=lambda r: order[r.status._value_])


async def _check_entry(entry: StatusEntry, check: CheckId, ports: VerificationPorts, now: datetime,
                       trusted_lists: dict[int, tuple[Mapping[str, Any], str | None]]) -> CheckResult:
    """One entry's result; ``trusted_lists``: the trust decided for list objects earlier in this verification."""
    _, ok_reason, set_reason = _PURPOSES[entry.purpose]
    details: dict[str, Any] = {"list_url": entry.list_credential, "index": entry.index, "purpose": entry.purpose}
    try:
        fetched = await ports.status.get(entry.list_credential)
    except Exception as exc:  # a broken source is an unreachable list
        fetched, details["problem"] = None, str(exc)[:300]
    if fetched is None:
        details.setdefault("problem", f"no copy of {entry.list_credential} is available")
        return unknown(check, Reason.STATUS_RETRIEVAL_ERROR, **details)
    list_credential, obtained_at = fetched
    details["obtained_at"] = obtained_at.isoformat()
    details["age_seconds"] = round(max(0.0, (now - obtained_at).total_seconds()), 1)
    if isinstance(list_credential.get("validUntil"), str):
        details["list_valid_until"] = list_credential["validUntil"]
    memo = trusted_lists.get(id(list_credential))
    if memo is not None and memo[0] is list_credential:
        trusted = memo[1]
    else:
        trusted = await _list_trusted(list_credential, ports, now)
        trusted_lists[id(list_credential)] = (list_credential, trusted)  # holding it keeps its id
    if trusted is not None:
        return unknown(check, Reason.STATUS_VERIFICATION_ERROR, problem=trusted, **details)
    try:
        result = _checked(entry, list_credential, now, ports.cache)
    except StatusListValidityError as exc:
        return unknown(check, Reason.STATUS_LIST_EXPIRED, problem=exc.message, **details)
    except StatusVerificationError as exc:
        return unknown(check, Reason.STATUS_VERIFICATION_ERROR, problem=exc.message, **details)
    except StatusListLengthError as exc:
        return unknown(check, Reason.STATUS_LIST_LENGTH_ERROR, problem=exc.message, **details)
    except RangeError as exc:
        return unknown(check, Reason.RANGE_ERROR, problem=exc.message, **details)
    except MalformedValueError as exc:
        return unknown(check, Reason.STATUS_VERIFICATION_ERROR, problem=exc.message, **details)
    if result.warnings:
        details["warnings"] = [w.value for w in result.warnings]
    if result.message:
        details["status_message"] = result.message
    if result.valid:
        return valid(check, ok_reason, **details)
    return invalid(check, set_reason, status=result.status, **details)


def _checked(entry: StatusEntry, list_credential: Mapping[str, Any], now: datetime,
             cache: ResultCache | None) -> StatusResult:
    """:func:`check_status`, reusing the list-level work (type, purpose, decoded bitstring) done for the same
    list object and purpose, whichever entry asked: many credentials each read their own index of one list.

    The key is the list object (held in the value so that its id is not reused): a new list version, as after
    a revocation, is a new object and is prepared afresh. Only the validity window depends on ``now``; it is
    checked again on every hit. The entry's own bit is read every time.
    """
    if cache is None:
        return check_status(entry, list_credential, now, proofs_verified=True)
    key = ("status-list", id(list_credential), entry.purpose)
    hit = cache.get(key)
    if isinstance(hit, tuple) and hit[0] is list_credential:
        valid_from, valid_until, decoded = hit[1], hit[2], hit[3]
        if (valid_from is None or now >= valid_from) and (valid_until is None or now <= valid_until):
            return status_in(entry, decoded)
    decoded = prepared_list(entry.purpose, list_credential, now)  # raises outside the window
    window = (parse_datetime(list_credential.get("validFrom")), parse_datetime(list_credential.get("validUntil")))
    cache.put(key, (list_credential, *window, decoded))
    return status_in(entry, decoded)


def _digest(list_credential: Mapping[str, Any], cache: ResultCache) -> str:
    """The list's digest, remembered per list object (a cache hands out the same object until a new version)."""
    key = ("list-digest", id(list_credential))
    hit = cache.get(key)
    if isinstance(hit, tuple) and hit[0] is list_credential:
        return str(hit[1])
    digest = document_digest(list_credential)
    cache.put(key, (list_credential, digest))  # holding the object keeps its id from being reused
    return digest


async def _prepared(list_credential: Mapping[str, Any], ports: VerificationPorts
                    ) -> tuple[str | None, str | Exception | None]:
    """``(problem, nquads)``: why the list is not read at all, or None and the list's proof-less canonical
    N-Quads (or the error computing them), computed once per list object through the bounded canonicaliser.
    Like a credential, a list is read only in the compacted form of its pinned contexts (a ``validUntil``
    under its IRI would otherwise hide that a replayed old list is out of date)."""
    key = ("list-canon", id(list_credential))
    hit = ports.cache.get(key) if ports.cache is not None else None
    if isinstance(hit, tuple) and hit[0] is list_credential:
        return cast("tuple[str | None, str | Exception | None]", hit[1])
    result: tuple[str | None, str | Exception | None]
    refused = compaction_problem(list_credential)
    if refused is not None:
        result = (f"the list is not read: {refused.reason} at {refused.path}: {refused.problem}", None)
    else:
        unsecured = {k: v for k, v in list_credential.items() if k != "proof"}
        try:
            result = (None, (await (ports.canon or default_canonicalizer()).process(unsecured)).nquads)
        except (CanonicalizationError, RemoteContextRefused, ContextIntegrityError) as exc:
            result = (None, exc)
    if ports.cache is not None and not isinstance(result[1], TooComplex):  # holding the object keeps its id
        ports.cache.put(key, (list_credential, result))
    return result


async def _list_trusted(list_credential: Mapping[str, Any], ports: VerificationPorts, now: datetime) -> str | None:
    """None when the list's proofs verify and were made by its (allowed) issuer, else the problem."""
    issuer = issuer_id(list_credential)
    if ports.status_list_signers is not None and issuer not in ports.status_list_signers:
        return f"the list's issuer {issuer!r} is not a trusted status list signer"
    cache: ResultCache | None = ports.cache
    problem, nquads = await _prepared(list_credential, ports)
    if problem is not None:
        return problem
    digest = _digest(list_credential, cache) if cache is not None else None
    lookups = await resolve_proof_keys(list_credential, ports.keys, now)
    # The rest is a pure function of the list object and the key lookups just made (a proof with ``expires``
    # aside): once per list object and lookups, held with the answer so that their ids are not reused.
    key: tuple[Any, ...] | None = None
    if cache is not None and not any("expires" in p for p in proofs(list_credential)):
        key = ("list-trusted", id(list_credential), tuple((m, id(lk)) for m, lk in lookups.items()))
        hit = cache.get(key)
        if isinstance(hit, tuple) and hit[0] is list_credential and hit[1] == tuple(lookups.values()):
            return cast("str | None", hit[2])
    problem = _signed_by_issuer(list_credential, issuer, lookups, now, digest, cache, nquads)
    if key is not None and cache is not None:
        cache.put(key, (list_credential, tuple(lookups.values()), problem))
    return problem


def _signed_by_issuer(list_credential: Mapping[str, Any], issuer: str | None, lookups: Mapping[str, KeyLookup],
                      now: datetime, digest: str | None, cache: ResultCache | None,
                      nquads: str | Exception | None) -> str | None:
    outcome = verify_cached(list_credential, lookups, now, digest=digest, cache=cache, nquads=nquads)
    if outcome.verified is not True:
        return f"list proof: {outcome.code.value} {outcome.message}"
    for method, lookup in lookups.items():
        if issuer is None or (issuer not in lookup.controllers and controller_of(method) != issuer):
            return f"the list was signed by {method}, not by its issuer {issuer!r}"
    return None
