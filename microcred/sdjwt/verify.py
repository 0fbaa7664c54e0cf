"""Verifying an SD-JWT VC (or SD-JWT+KB) as pure functions, check by check (RFC 9901 §7, SD-JWT VC §2.4).

:func:`verify_sd_jwt_vc` returns an :class:`SdJwtVerification` whose checks use the verification report's ids,
statuses and, where the meaning is the same, reason codes (see :mod:`microcred.sdjwt.result`):

==================  ===============================================================================
format              compact form, strict JSON, ``typ``, ``alg``, registered claims well-typed
issuer_identity     ``x5c`` chain to the configured trust anchors, and the leaf certificate names ``iss``
                    (or, for ecosystems without X.509, a key pinned for ``iss`` in the policy)
signature           the Issuer-signed JWT's signature with that key
disclosures         every Disclosure referenced exactly once, no collisions, none of the claims SD-JWT VC
                    keeps in clear disclosed selectively
type_metadata       ``vct`` known, ``vct#integrity`` matches the document, claims follow its claim metadata
validity_window     ``iat``, ``nbf``, ``exp`` against ``now`` (with clock skew)
holder_binding      the KB-JWT: ``typ``, signature by ``cnf.jwk``, ``sd_hash``, ``nonce``, ``aud``, ``iat``
==================  ===============================================================================

Nothing is read from a payload whose signature did not verify: those checks are ``unknown`` with
``NOT_CHECKED``. The Token Status List check needs the list (I/O) and lives in
:mod:`microcred.status.token_status_list`; :attr:`SdJwtVerification.status_reference` is its input.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509

from microcred.sdjwt import result as r
from microcred.sdjwt.core import (
    DEFAULT_HASH,
    KB_JWT_TYP,
    Disclosed,
    Processed,
    SdJwtError,
    SdJwtParts,
    disclose,
    sd_hash,
    split_sd_jwt,
)
from microcred.sdjwt.issue import SD_JWT_VC_TYP, StatusReference
from microcred.sdjwt.jose import (
    ASYMMETRIC_ALGORITHMS,
    JoseError,
    JwsParts,
    PublicKey,
    jwk_to_public_key,
    parse_jws,
    verify_jws_signature,
)
from microcred.sdjwt.type_metadata import (
    TypeMetadataRegistry,
    claim_metadata_violations,
    default_registry,
    document_claim_rules,
    integrity_matches,
    parsed_type_metadata,
)
from microcred.sdjwt.x5c import ChainError, certificate_names, issuer_named_by, validate_x5c

__all__ = ["SdJwtVerification", "VerifierPolicy", "looks_like_sd_jwt", "verify_sd_jwt_vc"]

_MAX_JWT = 200_000
#: JWS signature algorithms (RFC 7518) with a public verification key that this verifier does not implement.
_OTHER_SIGNATURE_ALGORITHMS = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256K"})
#: Registered claims SD-JWT VC §2.2.2.3 (draft -19) forbids to disclose selectively, their sub-claims included.
_CLEAR_ONLY = frozenset({"iss", "nbf", "exp", "cnf", "vct", "vct#integrity", "aka_vcts", "status"})
#: Depth to which a clear-only claim is searched for digests (deeper is malformed for these small claims anyway).
_CLEAR_ONLY_DEPTH = 16
_FORMAT, _SIGNATURE, _ISSUER = r.FORMAT, r.SIGNATURE, r.ISSUER_IDENTITY
_VALIDITY, _HOLDER = r.VALIDITY_WINDOW, r.HOLDER_BINDING
_ORDER = (_FORMAT, _ISSUER, _SIGNATURE, r.DISCLOSURES, r.TYPE_METADATA, _VALIDITY, _HOLDER)


@dataclass(frozen=True)
class VerifierPolicy:
    """What the verifier trusts and requires.

    ``trust_anchors``: CA certificates an ``x5c`` chain must reach. ``pinned_issuer_keys``: ``iss`` -> public JWK
    for issuers without X.509 (the spec examples). ``expected_typ``: None accepts any ``typ`` (plain SD-JWT).
    ``type_metadata``: the known types, by default the platform's own (None: type metadata is not processed,
    reported ``unknown``);
    ``require_type_metadata``: an unknown ``vct`` fails instead of being ``unknown``.
    ``expected_nonce``/``expected_aud``: what a KB-JWT must say; ``require_key_binding``: a presentation
    without one fails. ``max_kb_age`` and ``clock_skew`` are in seconds.
    """

    trust_anchors: Sequence[x509.Certificate] = ()
    pinned_issuer_keys: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    expected_typ: str | None = SD_JWT_VC_TYP
    type_metadata: TypeMetadataRegistry | None = field(default_factory=default_registry)
    require_type_metadata: bool = True
    require_key_binding: bool = False
    expected_nonce: str | None = None
    expected_aud: str | None = None
    max_kb_age: int = 300
    clock_skew: int = 60
    algorithms: tuple[str, ...] = ASYMMETRIC_ALGORITHMS


@dataclass(frozen=True)
class SdJwtVerification:
    """The checks, and what the credential says when its signature and Disclosures verified."""

    checks: tuple[r.SdJwtCheck, ...]
    claims: Mapping[str, Any] | None = None
    disclosed: tuple[Disclosed, ...] = ()
    header: Mapping[str, Any] = field(default_factory=dict)
    issuer: str | None = None
    vct: str | None = None
    status_reference: StatusReference | None = None
    issuer_certificate: x509.Certificate | None = None

    def check(self, check_id: str) -> r.SdJwtCheck | None:
        """The result of one check, or None."""
        return next((c for c in self.checks if c.id == check_id), None)

    @property
    def failed(self) -> tuple[r.SdJwtCheck, ...]:
        """The checks that were carried out and failed."""
        return tuple(c for c in self.checks if c.status is r.CheckStatus.INVALID)

    def to_dict(self, lang: str = "en") -> dict[str, Any]:
        """JSON form of the checks (and the disclosed claims when verified)."""
        return {"checks": [c.to_dict(lang) for c in self.checks], "issuer": self.issuer, "vct": self.vct,
                "claims": dict(self.claims) if self.claims is not None else None}


@dataclass
class _Run:
    policy: VerifierPolicy
    now: dt.datetime
    checks: dict[str, r.SdJwtCheck] = field(default_factory=dict)

    def add(self, check: r.SdJwtCheck) -> None:
        self.checks.setdefault(check.id, check)

    def skip_rest(self, why: str) -> None:
        for check_id in _ORDER:
            self.add(r.check_unknown(check_id, "NOT_CHECKED", problem=why))

    def result(self, **kwargs: Any) -> SdJwtVerification:
        return SdJwtVerification(tuple(self.checks[c] for c in _ORDER if c in self.checks), **kwargs)


def _number(payload: Mapping[str, Any], name: str) -> int | float | None:
    value = payload.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise JoseError(f"{name} must be a NumericDate")
    return value


def _format(run: _Run, jws: JwsParts) -> StatusReference | None:
    """The format check (added to ``run``); returns the status reference when the format is valid."""
    header, payload = jws.header, jws.payload
    typ = header.get("typ")
    if run.policy.expected_typ is not None and typ != run.policy.expected_typ:
        run.add(r.check_invalid(_FORMAT, "WRONG_TYP", typ=typ, expected=run.policy.expected_typ))
        return None
    alg = header.get("alg")
    if alg not in run.policy.algorithms:
        # a registered signature algorithm this verifier does not implement (RSA) could not be checked: unknown;
        # "none", a MAC (no issuer key can be public) or anything else is refused
        known = alg in _OTHER_SIGNATURE_ALGORITHMS
        run.add((r.check_unknown if known else r.check_invalid)(_FORMAT, "UNSUPPORTED_ALGORITHM", alg=alg))
        return None
    problems: list[tuple[str, str]] = []
    status = payload.get("status")
    if run.policy.expected_typ == SD_JWT_VC_TYP and isinstance(status, Mapping) and "status_list" not in status \
            and _holds_digests(status, _CLEAR_ONLY_DEPTH):
        # SD-JWT VC (draft -19 §2.2.2.3) forbids Disclosures for iss, cnf, status... and their sub-claims, not
        # digests: one without a Disclosure reads as a decoy (SD-JWT §4.2.5 allows decoys in any _sd array, and
        # the specification's reference implementation adds some to every object), and a Disclosure presented
        # for one is refused as MISPLACED_DISCLOSURE by the disclosures check. What the verdict reads must still
        # be in clear: a status whose status_list may be a withheld Disclosure would hide a revocation.
        problems.append(("status", "holds digests but no status_list in clear, which may have been withheld"))
    for name in ("iat", "nbf", "exp"):
        try:
            _number(payload, name)
        except JoseError as exc:
            problems.append((name, str(exc)))
    if run.policy.expected_typ == SD_JWT_VC_TYP and not (isinstance(payload.get("vct"), str) and payload["vct"]):
        problems.append(("vct", "an SD-JWT VC needs a vct string"))
    if "aka_vcts" in payload:  # draft -18 §2.2.2.2: more types, a non-empty array of strings other than vct
        aka = payload["aka_vcts"]
        if not (isinstance(aka, list) and aka and all(isinstance(t, str) and t for t in aka)) \
                or payload.get("vct") in aka:
            problems.append(("aka_vcts", "must be a non-empty array of type strings without the vct"))
    if "iss" in payload and not isinstance(payload["iss"], str):
        problems.append(("iss", "must be a string"))
    cnf = payload.get("cnf")
    if cnf is not None and not isinstance(cnf, Mapping):  # RFC 7800: an object; jwk is one method of several
        problems.append(("cnf", "must be an object"))
    reference = None
    if status is not None and not isinstance(status, Mapping):
        problems.append(("status", "must be an object (Token Status List: status.status_list)"))
    elif status is not None:
        status_list = status.get("status_list")
        idx = status_list.get("idx") if isinstance(status_list, Mapping) else None
        uri = status_list.get("uri") if isinstance(status_list, Mapping) else None
        if isinstance(idx, int) and not isinstance(idx, bool) and idx >= 0 and isinstance(uri, str) and uri:
            reference = StatusReference(uri, idx)
        elif status_list is not None:
            problems.append(("status.status_list", "needs a non-negative integer idx and a uri string"))
    if problems:
        run.add(r.check_invalid(_FORMAT, "MALFORMED_CLAIM", field=problems[0][0], problem=problems[0][1]))
        return None
    run.add(r.check_valid(_FORMAT, "SD_JWT_FORMAT_OK", typ=typ))
    return reference


def _issuer_key(run: _Run, jws: JwsParts) -> tuple[PublicKey | None, x509.Certificate | None]:
    iss = jws.payload.get("iss")
    if "x5c" in jws.header:
        try:
            leaf, key = validate_x5c(jws.header["x5c"], run.policy.trust_anchors, run.now)
        except ChainError as exc:
            status = r.check_unknown if exc.reason == "NO_TRUST_ANCHORS" else r.check_invalid
            run.add(status(_ISSUER, exc.reason, problem=exc.problem))
            return None, None
        if isinstance(iss, str) and not issuer_named_by(iss, leaf):
            run.add(r.check_invalid(_ISSUER, "ISSUER_NOT_IN_CERTIFICATE", issuer=iss))
            return None, leaf
        subject, anchor = certificate_names(leaf)
        run.add(r.check_valid(_ISSUER, "ISSUER_CERTIFICATE_VALID", subject=subject, anchor=anchor, issuer=iss))
        return key, leaf
    pinned = run.policy.pinned_issuer_keys.get(iss) if isinstance(iss, str) else None
    if pinned is None:
        run.add(r.check_unknown(_ISSUER, "KEY_NOT_FOUND", problem="no x5c header and no key configured for the "
                                                                    "issuer"))
        return None, None
    try:
        key = jwk_to_public_key(pinned)
    except JoseError as exc:
        run.add(r.check_unknown(_ISSUER, "KEY_NOT_FOUND", problem=f"the configured key is unusable: {exc}"))
        return None, None
    run.add(r.check_valid(_ISSUER, "ISSUER_KEY_PINNED", issuer=iss))
    return key, None


_FIRST_SECOND = -62_135_596_800  # 0001-01-01T00:00:00Z, the first moment a datetime holds
_LAST_SECOND = 253_402_300_799  # 9999-12-31T23:59:59Z, the last


def _validity(run: _Run, claims: Mapping[str, Any]) -> None:
    now, skew = run.now.timestamp(), run.policy.clock_skew
    try:
        iat, nbf, exp = (_number(claims, name) for name in ("iat", "nbf", "exp"))
    except JoseError as exc:
        run.add(r.check_invalid(_VALIDITY, "MALFORMED_CLAIM", field="iat", problem=str(exc)))
        return
    for name, value in (("iat", iat), ("nbf", nbf), ("exp", exp)):
        # a NumericDate outside the calendar (years 1-9999) is no date at all: said so, instead of the OSError or
        # OverflowError its rendering raised, which made the whole verification fail
        if value is not None and not _FIRST_SECOND <= value <= _LAST_SECOND:
            run.add(r.check_invalid(_VALIDITY, "MALFORMED_CLAIM", field=name,
                                    problem=f"{name} is not a date between the years 1 and 9999"))
            return

    def iso(value: float) -> str:
        return dt.datetime.fromtimestamp(value, dt.UTC).isoformat()

    if iat is not None and iat > now + skew:
        run.add(r.check_invalid(_VALIDITY, "ISSUED_IN_FUTURE", iat=iso(iat)))
    elif nbf is not None and nbf > now + skew:
        run.add(r.check_invalid(_VALIDITY, "NOT_YET_VALID", valid_from=iso(nbf)))
    elif exp is not None and exp <= now - skew:
        run.add(r.check_invalid(_VALIDITY, "EXPIRED", valid_until=iso(exp)))
    else:
        run.add(r.check_valid(_VALIDITY, "WITHIN_VALIDITY"))


@functools.lru_cache(maxsize=256)
def _integrity_matches(document: bytes, declared: str) -> bool:
    """:func:`integrity_matches` remembered per (type metadata document, declared ``vct#integrity``): a pure
    function of the two, so the document is hashed once per ``vct`` and value, not once per credential (an
    unsupported algorithm raises, and is not remembered)."""
    return integrity_matches(document, declared)


def _type_metadata(run: _Run, payload: Mapping[str, Any], processed: Processed) -> None:
    registry, vct = run.policy.type_metadata, payload.get("vct")
    if registry is None or not isinstance(vct, str):
        run.add(r.check_unknown(r.TYPE_METADATA, "NOT_CHECKED", problem="type metadata is not processed"))
        return
    document = registry.get(vct)
    if document is None:
        status = r.check_invalid if run.policy.require_type_metadata else r.check_unknown
        run.add(status(r.TYPE_METADATA, "UNKNOWN_VCT", vct=vct))
        return
    declared = payload.get("vct#integrity")
    if declared is not None:
        try:
            if not (_integrity_matches(document, declared) if isinstance(declared, str)
                    else integrity_matches(document, declared)):
                run.add(r.check_invalid(r.TYPE_METADATA, "INTEGRITY_MISMATCH", problem=f"vct#integrity of {vct}"))
                return
        except ValueError as exc:
            run.add(r.check_invalid(r.TYPE_METADATA, "MALFORMED_CLAIM", field="vct#integrity", problem=str(exc)))
            return
    try:
        metadata = parsed_type_metadata(document)
    except JoseError as exc:
        run.add(r.check_unknown(r.TYPE_METADATA, "NOT_CHECKED", problem=f"the type metadata is not JSON: {exc}"))
        return
    if not isinstance(metadata, Mapping) or metadata.get("vct") != vct:
        run.add(r.check_invalid(r.TYPE_METADATA, "INTEGRITY_MISMATCH", problem="the document describes another vct"))
        return
    violations = claim_metadata_violations(document_claim_rules(document), processed)
    if violations:
        path, problem = violations[0]
        run.add(r.check_invalid(r.TYPE_METADATA, "CLAIM_METADATA_VIOLATION", path=path, problem=problem,
                                violations=len(violations)))
        return
    run.add(r.check_valid(r.TYPE_METADATA, "TYPE_METADATA_VALID", vct=vct))


def _holder_binding(run: _Run, parts: SdJwtParts, payload: Mapping[str, Any]) -> None:
    policy = run.policy
    if parts.key_binding_jwt is None:
        status = r.check_invalid if policy.require_key_binding else r.check_unknown
        run.add(status(_HOLDER, "NO_KEY_BINDING"))
        return
    cnf = payload.get("cnf")
    if not isinstance(cnf, Mapping):
        run.add(r.check_invalid(_HOLDER, "NO_HOLDER_KEY"))
        return
    if not isinstance(cnf.get("jwk"), Mapping):  # another confirmation method (RFC 7800: kid, jku...): not read
        run.add(r.check_unknown(_HOLDER, "UNSUPPORTED_HOLDER_KEY", methods=", ".join(sorted(map(str, cnf)))))
        return
    try:
        kb = parse_jws(parts.key_binding_jwt, max_length=_MAX_JWT)
        holder_key = jwk_to_public_key(cnf["jwk"])
    except JoseError as exc:
        run.add(r.check_invalid(_HOLDER, "KB_JWT_INVALID", problem=str(exc)))
        return
    if kb.header.get("typ") != KB_JWT_TYP or kb.header.get("alg") not in policy.algorithms:
        run.add(r.check_invalid(_HOLDER, "KB_JWT_INVALID", problem=f"typ must be {KB_JWT_TYP} with an accepted alg"))
        return
    try:
        signed = verify_jws_signature(kb.compact, holder_key, policy.algorithms)
    except JoseError as exc:
        signed = False
        problem = str(exc)
    else:
        problem = "the signature does not verify with the key in cnf"
    if not signed:
        run.add(r.check_invalid(_HOLDER, "KB_JWT_INVALID", problem=problem))
        return
    claims = kb.payload
    alg = payload.get("_sd_alg", DEFAULT_HASH)
    if claims.get("sd_hash") != sd_hash(parts, alg if isinstance(alg, str) else DEFAULT_HASH):
        run.add(r.check_invalid(_HOLDER, "SD_HASH_MISMATCH"))
        return
    iat = claims.get("iat")
    now, skew = run.now.timestamp(), policy.clock_skew
    if isinstance(iat, bool) or not isinstance(iat, int | float):
        run.add(r.check_invalid(_HOLDER, "KB_JWT_INVALID", problem="iat is missing or not a NumericDate"))
    elif iat > now + skew or iat < now - policy.max_kb_age - skew:
        run.add(r.check_invalid(_HOLDER, "KB_JWT_STALE", problem=f"iat {int(iat)}, now {int(now)}"))
    elif policy.expected_nonce is None or policy.expected_aud is None:
        run.add(r.check_unknown(_HOLDER, "NO_CHALLENGE"))
    elif claims.get("nonce") != policy.expected_nonce:
        run.add(r.check_invalid(_HOLDER, "CHALLENGE_MISMATCH"))
    elif claims.get("aud") != policy.expected_aud:
        run.add(r.check_invalid(_HOLDER, "DOMAIN_MISMATCH"))
    else:
        run.add(r.check_valid(_HOLDER, "KEY_BINDING_VALID"))


def _holds_digests(value: Any, depth: int) -> bool:
    """Whether ``value`` holds selective-disclosure digests (an ``_sd`` member, or a ``{"...": digest}`` array
    element) at any level (too deep counts as holding them: refused rather than searched further)."""
    if depth <= 0:
        return isinstance(value, dict | list)
    if isinstance(value, dict):
        return "_sd" in value or any(_holds_digests(v, depth - 1) for v in value.values())
    if isinstance(value, list):
        return any((isinstance(v, dict) and "..." in v) or _holds_digests(v, depth - 1) for v in value)
    return False


def _disclosures(run: _Run, jws: JwsParts, parts: SdJwtParts) -> Processed | None:
    try:
        processed = disclose(jws.payload, parts.disclosures)
    except SdJwtError as exc:
        run.add(r.check_invalid(r.DISCLOSURES, exc.reason, problem=exc.problem))
        return None
    if run.policy.expected_typ == SD_JWT_VC_TYP:
        # a clear-only claim, or one of its sub-claims, disclosed (its digests alone are taken for decoys)
        in_clear_only = sorted({str(d.path[0]) for d in processed.disclosed if d.path and d.path[0] in _CLEAR_ONLY})
        if in_clear_only:
            run.add(r.check_invalid(r.DISCLOSURES, "MISPLACED_DISCLOSURE",
                                    problem=f"{in_clear_only[0]} (and its sub-claims) must not be selectively "
                                            f"disclosable"))
            return None
    run.add(r.check_valid(r.DISCLOSURES, "DISCLOSURES_VALID", count=len(processed.disclosed)))
    return processed


def looks_like_sd_jwt(text: str) -> bool:
    """Whether ``text`` has the shape of a compact SD-JWT (``<JWT>~...``), so a caller can route it here rather
    than to the JSON-LD pipeline. Only the shape is looked at; :func:`verify_sd_jwt_vc` checks everything."""
    head, sep, _ = text.strip().partition("~")
    return bool(sep) and head.count(".") == 2 and head.startswith("eyJ")


def verify_sd_jwt_vc(text: str, policy: VerifierPolicy, now: dt.datetime) -> SdJwtVerification:
    """Verify an SD-JWT VC or SD-JWT+KB at time ``now`` under ``policy`` (see the module docstring)."""
    run = _Run(policy, now)
    try:
        parts = split_sd_jwt(text)
        jws = parse_jws(parts.issuer_jwt, max_length=_MAX_JWT)
    except SdJwtError as exc:
        run.add(r.check_invalid(_FORMAT, exc.reason, problem=exc.problem))
        run.skip_rest("the document is not an SD-JWT")
        return run.result()
    except JoseError as exc:
        run.add(r.check_invalid(_FORMAT, "MALFORMED_SD_JWT", problem=f"Issuer-signed JWT: {exc}"))
        run.skip_rest("the document is not an SD-JWT")
        return run.result()
    reference = _format(run, jws)
    common: dict[str, Any] = {"header": jws.header, "issuer": jws.payload.get("iss"), "vct": jws.payload.get("vct")}
    if run.checks[_FORMAT].status is not r.CheckStatus.VALID:
        run.skip_rest("the format check failed")
        return run.result(**common)
    key, leaf = _issuer_key(run, jws)
    if key is None:
        run.add(r.check_unknown(_SIGNATURE, "KEY_NOT_FOUND", problem="no trusted issuer key"))
        run.skip_rest("the issuer's signature could not be verified")
        return run.result(issuer_certificate=leaf, **common)
    try:
        signed = verify_jws_signature(jws.compact, key, policy.algorithms)
    except JoseError:
        signed = False
    if not signed:
        run.add(r.check_invalid(_SIGNATURE, "INVALID_SIGNATURE"))
        run.skip_rest("the issuer's signature did not verify")
        return run.result(issuer_certificate=leaf, **common)
    run.add(r.check_valid(_SIGNATURE, "SIGNATURE_VALID", suite=jws.header.get("alg")))
    processed = _disclosures(run, jws, parts)
    if processed is None:
        run.skip_rest("the disclosures did not verify")
        return run.result(issuer_certificate=leaf, **common)
    _type_metadata(run, jws.payload, processed)
    _validity(run, processed.claims)
    _holder_binding(run, parts, jws.payload)
    return run.result(claims=processed.claims, disclosed=processed.disclosed, status_reference=reference,
                      issuer_certificate=leaf, **common)
