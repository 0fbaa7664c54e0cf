"""OpenID4VP 1.0 authorization responses: reading them (direct_post and the encrypted direct_post.jwt) and
checking them against their request.

:func:`read_response` takes the form a wallet posted to the request's ``response_uri``: ``vp_token`` and
``state`` (direct_post), or ``response``, a JWE (ECDH-ES with A128GCM/A256GCM, HAIP) to the request's ephemeral
key whose payload holds them (direct_post.jwt; decrypted with joserfc, a kept JOSE library: pyjwt has no JWE).
A wallet's refusal (``error``) is read as such. An answer over the Digital Credentials API (``dc_api``,
``dc_api.jwt``: :mod:`.dc_api`), posted by the page, has the same members, without ``state``. Anything else is a
:class:`ResponseError` with the OAuth error code and a description naming the member, and the state of the
request is untouched by the caller.

:func:`check_response` verifies every presentation of the ``vp_token`` (a JSON object: credential query id ->
array of presentations) with :mod:`microcred.verification` and this request's ``nonce`` and ``client_id`` (over
the Digital Credentials API: ``origin:`` + the page's origin instead, :mod:`.dc_api`): an SD-JWT VC's Key Binding
JWT must name them as ``nonce`` and ``aud``; an ``ldp_vp``'s proof as ``challenge`` and ``domain``. Each
presentation gets the same per-check report as a posted credential; then the disclosed claims are evaluated
against the DCQL query (:mod:`.dcql`), a "query" result naming what is missing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from joserfc import jwe
from joserfc.errors import JoseError as JoseRfcError
from joserfc.jwk import ECKey

from microcred.oid4vp.dcql import (
    LDP,
    SD_JWT,
    DcqlError,
    DcqlQuery,
    Presented,
    QueryResult,
    aka_vcts_of,
    evaluate,
    parse_query,
)
from microcred.oid4vp.ldp_types import credential_types
from microcred.oid4vp.request import ENC_VALUES, PresentationRequest
from microcred.sdjwt.core import SdJwtError, disclose, split_sd_jwt
from microcred.sdjwt.jose import JoseError, parse_jws, strict_json_loads
from microcred.sdjwt.x5c import ChainError, authority_key_ids
from microcred.vcdm import is_presentation
from microcred.verification.checks import CheckId, CheckStatus
from microcred.verification.document import as_list
from microcred.verification.pipeline import verify_credential, verify_presentation
from microcred.verification.policy import Verdict, combine
from microcred.verification.ports import VerificationPorts
from microcred.verification.report import VerificationReport
from microcred.verification.sd_jwt import verify_sd_jwt_credential

__all__ = [
    "MAX_RESPONSE_BYTES", "PresentationOutcome", "ResponseError", "WalletResponse", "check_response",
    "decrypt_response", "read_response",
]

#: A response larger than this is refused before it is parsed (bounded memory/CPU for hostile input).
MAX_RESPONSE_BYTES = 512 * 1024
MAX_PRESENTATIONS = 16
#: Presentations in one response, over all its credential queries (each is verified: bounded work per answer).
MAX_TOTAL_PRESENTATIONS = 32


class ResponseError(ValueError):
    """A response the verifier refuses: ``error`` is the OAuth error code, ``description`` says why."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description


@dataclass(frozen=True)
class WalletResponse:
    """What a wallet answered: a ``vp_token`` or an ``error`` (a refusal), with the ``state`` it names."""

    state: str | None
    vp_token: Mapping[str, list[Any]] | None = None
    error: str | None = None
    error_description: str | None = None
    encrypted: bool = False


def decrypt_response(token: str, private_jwk: Mapping[str, Any]) -> Mapping[str, Any]:
    """The JSON payload of a direct_post.jwt ``response`` JWE encrypted to ``private_jwk`` (ECDH-ES, A128GCM or
    A256GCM; anything else refused)."""
    if len(token) > MAX_RESPONSE_BYTES:
        raise ResponseError("invalid_request", "response: too large")
    try:
        key = ECKey.import_key(dict(private_jwk))
        # Only the algorithms HAIP names: a JWE asking for anything else is refused before any key agreement.
        decrypted = jwe.decrypt_compact(token, key, algorithms=["ECDH-ES", *ENC_VALUES])
    except (JoseRfcError, ValueError, TypeError, KeyError) as exc:
        raise ResponseError("invalid_request", f"response: cannot be decrypted ({type(exc).__name__})") from exc
    header = decrypted.protected
    if header.get("alg") != "ECDH-ES" or header.get("enc") not in ENC_VALUES:
        raise ResponseError("invalid_request", "response: alg must be ECDH-ES and enc A128GCM or A256GCM")
    if "kid" in header and header["kid"] != private_jwk.get("kid"):
        raise ResponseError("invalid_request", "response: encrypted to another key (kid)")
    try:
        payload = strict_json_loads(decrypted.plaintext or b"")
    except (JoseError, ValueError) as exc:
        raise ResponseError("invalid_request", "response: the payload is not JSON") from exc
    if not isinstance(payload, dict):
        raise ResponseError("invalid_request", "response: the payload is not a JSON object")
    return payload


def _vp_token(value: Any) -> Mapping[str, list[Any]]:
    if isinstance(value, str):
        try:
            value = strict_json_loads(value)
        except (JoseError, ValueError) as exc:
            raise ResponseError("invalid_request", "vp_token: not JSON") from exc
    if not isinstance(value, dict) or not value:
        raise ResponseError("invalid_request", "vp_token: must be a non-empty JSON object keyed by query id")
    if sum(len(items) for items in value.values() if isinstance(items, list)) > MAX_TOTAL_PRESENTATIONS:
        raise ResponseError("invalid_request", f"vp_token: more than {MAX_TOTAL_PRESENTATIONS} presentations")
    out: dict[str, list[Any]] = {}
    for query_id, items in value.items():
        if not isinstance(items, list) or not items or len(items) > MAX_PRESENTATIONS:
            raise ResponseError("invalid_request", f"vp_token.{query_id}: must be a non-empty array of presentations")
        if not all(isinstance(item, str | dict) for item in items):
            raise ResponseError("invalid_request", f"vp_token.{query_id}: a presentation is a string or an object")
        out[str(query_id)] = items
    return out


def read_response(form: Mapping[str, str], request: PresentationRequest,
                  private_jwk: Mapping[str, Any] | None) -> WalletResponse:
    """Read a posted form for ``request`` (its ``response_mode`` decides which form is allowed)."""
    if "error" in form:  # a refusal: allowed in either mode, in the clear (§8.5)
        return WalletResponse(form.get("state"), error=form["error"][:100],
                              error_description=(form.get("error_description") or "")[:500] or None)
    fields: Mapping[str, Any] = form
    encrypted = request.encrypted
    if encrypted:
        if "vp_token" in form:
            raise ResponseError("invalid_request", "vp_token: this request asks for an encrypted response")
        if "response" not in form:
            raise ResponseError("invalid_request", "response: missing")
        if private_jwk is None:
            raise ResponseError("server_error", "response: the request's decryption key is gone")
        fields = decrypt_response(form["response"], private_jwk)
        if "error" in fields:
            return WalletResponse(_str(fields.get("state")), error=str(fields["error"])[:100], encrypted=True)
    elif "response" in form:
        raise ResponseError("invalid_request", "response: this request asks for direct_post")
    if "vp_token" not in fields:
        raise ResponseError("invalid_request", "vp_token: missing")
    vp_token = _vp_token(fields["vp_token"])
    _check_keys(vp_token, request)
    return WalletResponse(_str(fields.get("state")), vp_token, encrypted=encrypted)


def _check_keys(vp_token: Mapping[str, Any], request: PresentationRequest) -> None:
    """§8.1: the keys of a ``vp_token`` are ids of the request's credential queries; any other is refused
    (``invalid_request``) before anything is verified or the request is spent."""
    credentials = request.dcql_query.get("credentials") if isinstance(request.dcql_query, Mapping) else None
    ids = {c.get("id") for c in credentials if isinstance(c, Mapping)} if isinstance(credentials, list) else set()
    for query_id in vp_token:
        if query_id not in ids:
            raise ResponseError("invalid_request", f"vp_token.{query_id}: not a credential query of this request")


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


@dataclass(frozen=True)
class PresentationOutcome:
    """The verdict on a whole response: one report per presentation, and the DCQL evaluation. A presentation
    whose report is ``invalid`` is discarded (§8.6: "the affected Presentation MUST be discarded"): the query is
    evaluated on the others, and the verdict is theirs and the query's; the discarded ones stay in ``reports``,
    marked, so the employer sees what was presented and why it did not count."""

    verdict: Verdict
    reports: tuple[tuple[str, VerificationReport], ...]
    query: QueryResult

    def to_dict(self, lang: str = "en") -> dict[str, Any]:
        """JSON form: ``verdict``, ``query`` (satisfied, per credential query what is missing) and
        ``presentations`` (the query id, whether it was discarded, and the per-check report of each)."""
        return {"verdict": self.verdict.value, "query": self.query.to_dict(),
                "presentations": [{"query": q, "discarded": r.verdict is Verdict.INVALID, "report": r.to_dict(lang)}
                                  for q, r in self.reports]}


def _sd_jwt_claims(text: str, report: VerificationReport, authorities: bool) -> Presented:
    """The disclosed claims of an SD-JWT VC whose signature and Disclosures verified (otherwise a Presented
    marked unverified: its claims count for nothing); with ``authorities`` (the query names trusted
    authorities), also its validated chain's Authority Key Identifiers (decoded only then: a hot path)."""
    unverified = Presented(SD_JWT, {}, verified=False)
    for check in (CheckId.SIGNATURE, CheckId.DISCLOSURES):
        result = report.check(check)
        if result is None or result.status is not CheckStatus.VALID:
            return unverified
    try:  # re-reads what verify_sd_jwt_credential verified (pure hashing; the report does not carry claims)
        parts = split_sd_jwt(text)
        jws = parse_jws(parts.issuer_jwt, max_length=len(text))
        processed = disclose(jws.payload, parts.disclosures)
        # the chain's authorities count (DCQL trusted_authorities) only once it was validated to an anchor
        identity = report.check(CheckId.ISSUER_IDENTITY)
        key_ids = authority_key_ids(jws.header.get("x5c")) \
            if authorities and identity is not None and identity.status is CheckStatus.VALID else ()
    except (SdJwtError, JoseError, ChainError, ValueError):
        return unverified
    claims = processed.claims
    vct = claims.get("vct")
    return Presented(SD_JWT, claims, vct if isinstance(vct, str) else None, holder_bound=_bound(report),
                     authority_key_ids=key_ids, aka_vcts=aka_vcts_of(claims),
                     hidden=processed.hidden_array_elements)


def _bound(report: VerificationReport) -> bool:
    binding = report.check(CheckId.HOLDER_BINDING)
    return binding is not None and binding.status is CheckStatus.VALID


def _ldp_claim(vc: Mapping[str, Any], report: VerificationReport, *, holder_bound: bool) -> Presented:
    # the terms as written and their IRIs: type_values names IRIs (B.1.1), earlier queries named terms
    types = credential_types(vc)
    # A credential that did not verify discloses nothing a query can count on.
    return Presented(LDP, vc, types=types, holder_bound=holder_bound, verified=report.verdict is not Verdict.INVALID)


def _ldp_claims(vp: Mapping[str, Any], report: VerificationReport) -> list[Presented]:
    out = [_ldp_claim(vc, vc_report, holder_bound=_bound(report))
           for vc, vc_report in zip([v for v in as_list(vp.get("verifiableCredential")) if isinstance(v, Mapping)],
                                    report.credentials, strict=False)]
    if not out:
        out.append(Presented(LDP, {}, holder_bound=False, verified=False))
    return out


async def check_response(request: PresentationRequest, vp_token: Mapping[str, list[Any]],
                         ports: VerificationPorts, now: datetime, audience: str | None = None) -> PresentationOutcome:
    """Verify every presentation in ``vp_token`` for ``request`` and evaluate its DCQL query; the presentations
    must name ``audience`` (a KB-JWT's ``aud``, an ``ldp_vp``'s ``domain``): the request's ``client_id`` unless
    given (an answer over the DC API names ``origin:`` + the page's origin, :mod:`.dc_api`).

    Holder binding is required for ``valid`` as the credential query asks (``require_cryptographic_holder_binding``,
    true by default; B.3: without it an SD-JWT may come without its KB-JWT, B.1: an ``ldp_vc`` as the credential
    itself rather than a presentation). :class:`ResponseError` (``invalid_request``) for a key that is not a
    credential query of the request, before anything is verified."""
    audience = audience or request.client_id
    try:
        query = parse_query(request.dcql_query)
    except DcqlError as exc:  # stored requests were parsed when made: this is a bug, never a pass
        raise ResponseError("server_error", f"the stored query is unusable: {exc}") from exc
    _check_keys(vp_token, request)
    reports: list[tuple[str, VerificationReport]] = []
    presented: dict[str, list[tuple[Presented, Verdict]]] = {}
    for query_id, items in vp_token.items():
        cq = query.by_id(query_id)
        assert cq is not None
        bound = cq.require_cryptographic_holder_binding
        for item in items:
            if isinstance(item, str):
                report = await verify_sd_jwt_credential(item, ports, now, nonce=request.nonce, audience=audience,
                                                        require_holder_binding=bound)
                found = [Presented(SD_JWT, {}, holder_bound=_bound(report)) if cq.format != SD_JWT
                         else _sd_jwt_claims(item, report, bool(cq.trusted_authorities))]
            elif isinstance(item, Mapping) and not bound and cq.format == LDP and not is_presentation(item):
                report = await verify_credential(item, ports, now)  # B.1: the credential itself, unbound
                found = [_ldp_claim(item, report, holder_bound=False)]
            elif isinstance(item, Mapping):
                report = await verify_presentation(item, request.nonce, audience, ports, now)
                found = _ldp_claims(item, report)
            else:
                raise ResponseError("invalid_request", f"vp_token.{query_id}: a presentation is a string or object")
            presented.setdefault(query_id, []).extend((p, report.verdict) for p in found)
            reports.append((query_id, report))
    result = evaluate(query, _kept(query, presented))
    verdicts = [r.verdict for _, r in reports if r.verdict is not Verdict.INVALID]
    return PresentationOutcome(combine([*verdicts, Verdict.VALID if result.satisfied else Verdict.INVALID]),
                               tuple(reports), result)


def _kept(query: DcqlQuery, presented: Mapping[str, list[tuple[Presented, Verdict]]]) -> dict[str, list[Presented]]:
    """The presentations the query is evaluated on: per credential query, those whose report is not invalid
    (§8.6: the others are discarded); when none is left, all of them marked as not verified (so the query is
    not met, and what is missing says why rather than "no credential presented")."""
    out: dict[str, list[Presented]] = {}
    for query_id, items in presented.items():
        kept = [p for p, verdict in items if verdict is not Verdict.INVALID]
        if not kept:
            cq = query.by_id(query_id)
            binding = cq is None or cq.require_cryptographic_holder_binding
            # one that already fails the query says its own reason (no holder binding); the others, which an
            # invalid report must keep from counting, are marked as not verified
            kept = [p if not p.verified or (binding and not p.holder_bound) else replace(p, verified=False)
                    for p, _ in items]
        out[query_id] = kept
    return out


def json_form(outcome: PresentationOutcome, lang: str = "en") -> str:
    """The outcome as compact JSON (what the gateway stores for the employer)."""
    return json.dumps(outcome.to_dict(lang), separators=(",", ":"), default=str)
