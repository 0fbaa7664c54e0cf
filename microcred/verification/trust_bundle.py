"""The trust bundle: what ``mcred verify --trust-bundle`` verifies with when it has no network at all.

``mcred trust export`` writes one JSON file holding what the platform's verifier gateway reads at run time:

* ``registry``: a snapshot of the trust registry (agencies and issuers as the ``registry.proto`` messages in their
  JSON form, so each issuer's DID, keys with their validity windows and accreditations), the issuers' DID
  documents (for people and other tools; verification reads the keys from the issuers), and when it was fetched;
* ``status_lists``: each Bitstring Status List credential as signed by the revocation service, with the time it
  was fetched and how long it may be used (``max_age_seconds``); ``status_signers``: who signs them;
* ``token_status_lists``: the Token Status List tokens (SD-JWT VC status) when the service serves them, kept for
  other tools (``mcred verify`` reads JSON-LD credentials only);
* ``created_at`` and ``limits`` (``registry_max_age_seconds``, default 24 h; ``status_max_age_seconds``, default
  each list's own ``validUntil``).

Integrity: the file carries ``digest``, SHA-256 over its RFC 8785 (JCS) canonical form without ``digest`` and
``seal``; a file whose content does not match is refused (DIGEST_MISMATCH). A digest detects damage and edits made
without recomputing it, not a deliberate forger. Hence ``seal`` (:mod:`~.bundle_seal`): the exporting operator's
signature with the client certificate the platform CA issued to it; given the CA (``--trust-ca``), a bundle
whose seal does not hold is refused (NOT_SEALED, SEAL_UNTRUSTED, SEAL_INVALID). Without it the seal is not
checked, and the bundle's origin is the operator's responsibility. What the bundle holds still has to stand on its
own where it can: every status list's proof is verified (by the signer named in the bundle) exactly as the
gateway verifies it.

Freshness (:func:`freshness_problem`): a part of the bundle older than its limit at the verification time, or
fetched more than :data:`CLOCK_SKEW` after it, is not used: the checks that needed it are ``unknown`` with
"trust bundle too old (age X > limit Y)", hence the verdict is undetermined, never valid.

This module is pure: parsing, sealing and the freshness rules. The ports over a bundle are in
:mod:`~.bundle_sources`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import rfc8785
from google.protobuf import json_format

from microcred.gen.microcred.v1 import registry_pb2
from microcred.registry.did_web import build_did_document
from microcred.verification.bundle_seal import Seal, SealError, canonical_content, check_seal, seal_of

__all__ = ["BUNDLE_TYPE", "BUNDLE_VERSION", "CLOCK_SKEW", "DEFAULT_REGISTRY_MAX_AGE", "MAX_BUNDLE_BYTES",
           "BundleRefusal", "FetchedList", "FetchedToken", "TrustBundle", "TrustBundleError", "build_bundle",
           "digest_of", "freshness_problem", "human_duration", "list_max_age", "parse_bundle"]

BUNDLE_TYPE = "microcred-trust-bundle"
BUNDLE_VERSION = 1
DEFAULT_REGISTRY_MAX_AGE = timedelta(hours=24)
CLOCK_SKEW = timedelta(minutes=1)
"""How far the verification time may lie before a fetch time (clocks of two machines)."""
_MAX_LIMIT_SECONDS = 100 * 366 * 86_400
"""A limit beyond a century is a mistake (and beyond what ``timedelta`` holds, a crash)."""
MAX_BUNDLE_BYTES = 64 * 1024 * 1024
"""Larger files are refused before parsing (a list credential is some 20 KiB; a registry a few MiB at most)."""


class BundleRefusal(StrEnum):
    """Why a file is not used as a trust bundle (named in the error, stable for scripts)."""

    NOT_JSON = "NOT_JSON"
    TOO_LARGE = "TOO_LARGE"
    NOT_A_BUNDLE = "NOT_A_BUNDLE"
    UNSUPPORTED_VERSION = "UNSUPPORTED_VERSION"
    NOT_SEALED = "NOT_SEALED"
    DIGEST_MISMATCH = "DIGEST_MISMATCH"
    SEAL_UNTRUSTED = "SEAL_UNTRUSTED"
    SEAL_INVALID = "SEAL_INVALID"
    MALFORMED = "MALFORMED"


class TrustBundleError(ValueError):
    """A file refused as a trust bundle: ``reason`` and what exactly is wrong."""

    def __init__(self, reason: BundleRefusal, message: str) -> None:
        super().__init__(f"{reason.value}: {message}")
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class FetchedList:
    """A status list credential as fetched, and until when it may be used (``fetched_at + max_age``)."""

    url: str
    fetched_at: datetime
    max_age: timedelta | None
    credential: Mapping[str, Any]


@dataclass(frozen=True)
class FetchedToken:
    """A Token Status List token (compact JWT) as fetched."""

    url: str
    fetched_at: datetime
    token: str


@dataclass(frozen=True)
class TrustBundle:
    """A parsed, digest-checked trust bundle."""

    created_at: datetime
    registry_fetched_at: datetime
    registry_max_age: timedelta
    agencies: tuple[registry_pb2.Agency, ...]
    issuers: tuple[registry_pb2.Issuer, ...]
    status_lists: Mapping[str, FetchedList]
    status_signers: frozenset[str] = frozenset()
    token_status_lists: Mapping[str, FetchedToken] = field(default_factory=dict)
    source: Mapping[str, Any] = field(default_factory=dict)
    digest: str = ""
    seal: Seal | None = None
    """Who sealed the bundle, and whether that was checked against a trusted CA (None: not sealed)."""


def _xsd(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _seconds(delta: timedelta | None) -> int | None:
    return None if delta is None else max(0, int(delta.total_seconds()))


def digest_of(content: Mapping[str, Any]) -> str:
    """``sha256:<hex>`` of the RFC 8785 canonical JSON of ``content`` without its ``digest`` and ``seal``."""
    return "sha256:" + hashlib.sha256(canonical_content(content)).hexdigest()


def list_max_age(credential: Mapping[str, Any], fetched_at: datetime, configured: timedelta | None) -> timedelta | None:
    """How long a list fetched at ``fetched_at`` may be used: ``configured`` when given, else until its own
    ``validUntil``, else its ``ttl``; None when it says neither (the registry's limit then applies)."""
    if configured is not None:
        return configured
    until = credential.get("validUntil")
    if isinstance(until, str):
        try:
            parsed = datetime.fromisoformat(until)
        except ValueError:
            parsed = None
        if parsed is not None and parsed.tzinfo is not None:
            return max(timedelta(0), parsed - fetched_at)
    subject = credential.get("credentialSubject")
    ttl = subject.get("ttl") if isinstance(subject, Mapping) else None
    if isinstance(ttl, int) and not isinstance(ttl, bool) and ttl > 0:
        return timedelta(milliseconds=ttl)
    return None


def build_bundle(*, created_at: datetime, registry_fetched_at: datetime, agencies: Iterable[registry_pb2.Agency],
                 issuers: Iterable[registry_pb2.Issuer], status_lists: Iterable[FetchedList],
                 status_signers: Iterable[str] = (), token_status_lists: Iterable[FetchedToken] = (),
                 registry_max_age: timedelta = DEFAULT_REGISTRY_MAX_AGE, status_max_age: timedelta | None = None,
                 source: Mapping[str, Any] | None = None,
                 seal_with: tuple[bytes, bytes] | None = None) -> dict[str, Any]:
    """The bundle as JSON-ready data with its digest, and sealed with ``seal_with`` (client certificate and key,
    PEM) when given. ``status_max_age`` is recorded; each list's own ``max_age`` is what verification applies
    (:func:`list_max_age`)."""
    issuer_list = sorted(issuers, key=lambda i: i.issuer_id)
    content: dict[str, Any] = {
        "type": BUNDLE_TYPE,
        "version": BUNDLE_VERSION,
        "created_at": _xsd(created_at),
        "limits": {"registry_max_age_seconds": _seconds(registry_max_age),
                   "status_max_age_seconds": _seconds(status_max_age)},
        "source": dict(source or {}),
        "registry": {
            "fetched_at": _xsd(registry_fetched_at),
            "agencies": [json_format.MessageToDict(a, preserving_proto_field_name=True)
                         for a in sorted(agencies, key=lambda a: a.agency_id)],
            "issuers": [json_format.MessageToDict(i, preserving_proto_field_name=True) for i in issuer_list],
            "did_documents": {i.did: build_did_document(i) for i in issuer_list if i.did},
        },
        "status_signers": sorted(set(status_signers)),
        "status_lists": [{"url": f.url, "fetched_at": _xsd(f.fetched_at), "max_age_seconds": _seconds(f.max_age),
                          "credential": dict(f.credential)} for f in sorted(status_lists, key=lambda f: f.url)],
        "token_status_lists": [{"url": t.url, "fetched_at": _xsd(t.fetched_at), "token": t.token}
                               for t in sorted(token_status_lists, key=lambda t: t.url)],
    }
    content["digest"] = digest_of(content)
    if seal_with is not None:
        content["seal"] = seal_of(content, *seal_with)
    return content


# ----------------------------------------------------------------------------------------------------- parsing


def _bad(path: str, problem: str) -> TrustBundleError:
    return TrustBundleError(BundleRefusal.MALFORMED, f"{path}: {problem}")


def _get(data: Mapping[str, Any], key: str, kind: type | tuple[type, ...], path: str) -> Any:
    value = data.get(key)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise _bad(f"{path}{key}", f"missing or not a {getattr(kind, '__name__', 'value')}")
    return value


def _moment(data: Mapping[str, Any], key: str, path: str) -> datetime:
    text = _get(data, key, str, path)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise _bad(f"{path}{key}", f"{text[:40]!r} is not an ISO 8601 date-time") from None
    if moment.tzinfo is None:
        raise _bad(f"{path}{key}", f"{text[:40]!r} lacks a time zone")
    try:
        return moment.astimezone(UTC)  # in UTC, so that no later subtraction can overflow
    except OverflowError:
        raise _bad(f"{path}{key}", f"{text[:40]!r} is out of range") from None


def _age_limit(data: Mapping[str, Any], key: str, path: str) -> timedelta | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= _MAX_LIMIT_SECONDS:
        raise _bad(f"{path}{key}", f"must be a whole number of seconds from 0 to {_MAX_LIMIT_SECONDS}")
    return timedelta(seconds=value)


def _messages(items: Any, message: type[Any], path: str) -> tuple[Any, ...]:
    if not isinstance(items, list):
        raise _bad(path, "must be a list")
    out = []
    for n, item in enumerate(items):
        try:
            out.append(json_format.ParseDict(item, message()))
        except (json_format.ParseError, TypeError, ValueError) as exc:
            raise _bad(f"{path}[{n}]", str(exc)[:200]) from None
    return tuple(out)


def parse_bundle(data: bytes, trusted_ca: bytes | None = None) -> TrustBundle:
    """Read a trust bundle; raises :class:`TrustBundleError` naming the reason (refused before any use). With
    ``trusted_ca`` (PEM), its seal must have been made by a client certificate that CA issued."""
    if len(data) > MAX_BUNDLE_BYTES:
        raise TrustBundleError(BundleRefusal.TOO_LARGE, f"{len(data)} bytes; at most {MAX_BUNDLE_BYTES}")
    try:
        content = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise TrustBundleError(BundleRefusal.NOT_JSON, str(exc)[:200]) from None
    if not isinstance(content, dict) or content.get("type") != BUNDLE_TYPE:
        raise TrustBundleError(BundleRefusal.NOT_A_BUNDLE, f"not a {BUNDLE_TYPE} (written by mcred trust export)")
    if content.get("version") != BUNDLE_VERSION:
        raise TrustBundleError(BundleRefusal.UNSUPPORTED_VERSION,
                               f"version {content.get('version')!r}; this mcred reads version {BUNDLE_VERSION}")
    sealed = content.get("digest")
    if not isinstance(sealed, str) or not sealed.startswith("sha256:"):
        raise TrustBundleError(BundleRefusal.NOT_SEALED, "the bundle has no sha256 digest")
    try:
        actual = digest_of(content)
    except (rfc8785.CanonicalizationError, ValueError, TypeError, RecursionError) as exc:
        raise TrustBundleError(BundleRefusal.MALFORMED, f"cannot be canonicalised: {exc}"[:200]) from None
    if actual != sealed:
        raise TrustBundleError(BundleRefusal.DIGEST_MISMATCH,
                               f"the content does not match its digest (sealed {sealed}, content {actual}): "
                               "the file was changed after export")
    limits = _get(content, "limits", dict, "")
    registry = _get(content, "registry", dict, "")
    registry_limit = _age_limit(limits, "registry_max_age_seconds", "limits.")
    lists: dict[str, FetchedList] = {}
    for n, item in enumerate(_get(content, "status_lists", list, "")):
        path = f"status_lists[{n}]."
        if not isinstance(item, dict):
            raise _bad(path[:-1], "must be an object")
        url = _get(item, "url", str, path)
        lists[url] = FetchedList(url, _moment(item, "fetched_at", path), _age_limit(item, "max_age_seconds", path),
                                 _get(item, "credential", dict, path))
    tokens: dict[str, FetchedToken] = {}
    token_items = content.get("token_status_lists") or []
    if not isinstance(token_items, list):
        raise _bad("token_status_lists", "must be a list")
    for n, item in enumerate(token_items):
        path = f"token_status_lists[{n}]."
        if not isinstance(item, dict):
            raise _bad(path[:-1], "must be an object")
        url = _get(item, "url", str, path)
        tokens[url] = FetchedToken(url, _moment(item, "fetched_at", path), _get(item, "token", str, path))
    signers = content.get("status_signers") or []
    if not isinstance(signers, list) or not all(isinstance(s, str) for s in signers):
        raise _bad("status_signers", "must be a list of DIDs")
    source = content.get("source") or {}
    created_at = _moment(content, "created_at", "")
    try:
        seal = check_seal(content, created_at, trusted_ca)
    except SealError as exc:
        raise TrustBundleError(BundleRefusal(exc.reason), str(exc)) from None
    return TrustBundle(
        created_at=created_at,
        registry_fetched_at=_moment(registry, "fetched_at", "registry."),
        registry_max_age=DEFAULT_REGISTRY_MAX_AGE if registry_limit is None else registry_limit,
        agencies=_messages(registry.get("agencies", []), registry_pb2.Agency, "registry.agencies"),
        issuers=_messages(registry.get("issuers", []), registry_pb2.Issuer, "registry.issuers"),
        status_lists=lists, status_signers=frozenset(signers), token_status_lists=tokens,
        source=source if isinstance(source, dict) else {}, digest=sealed, seal=seal)


# --------------------------------------------------------------------------------------------------- freshness


def human_duration(delta: timedelta) -> str:
    """``1d02h03m04s``, ``5m00s``, ``42s``: short and exact to the second."""
    total = int(abs(delta.total_seconds()))
    days, rest = divmod(total, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, seconds = divmod(rest, 60)
    sign = "-" if delta < timedelta(0) else ""
    if days:
        return f"{sign}{days}d{hours:02d}h{minutes:02d}m{seconds:02d}s"
    if hours:
        return f"{sign}{hours}h{minutes:02d}m{seconds:02d}s"
    if minutes:
        return f"{sign}{minutes}m{seconds:02d}s"
    return f"{sign}{seconds}s"


def freshness_problem(fetched_at: datetime, limit: timedelta | None, at: datetime) -> str | None:
    """Why data fetched at ``fetched_at`` may not be used at ``at`` under ``limit`` (None: it may).

    Too old: its age exceeds the limit. Fetched after the verification time (beyond :data:`CLOCK_SKEW`): it may
    show changes (a revocation) made after that time, so it does not say what held then either.
    """
    age = at - fetched_at
    if age < -CLOCK_SKEW:
        return (f"trust bundle fetched after the verification time (fetched {_xsd(fetched_at)}, "
                f"verifying at {_xsd(at)})")
    if limit is not None and age > limit:
        return f"trust bundle too old (age {human_duration(age)} > limit {human_duration(limit)})"
    return None
