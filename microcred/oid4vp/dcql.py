"""DCQL (OpenID4VP 1.0 §6): the query model, its validation, and its evaluation against presented credentials.

Pure code: :func:`parse_query` turns the JSON a verifier sends into a :class:`DcqlQuery` (refusing what the
spec does not allow, naming the field), and :func:`evaluate` says, for the claims each presented credential
disclosed, whether the query is satisfied, with one :class:`QueryOutcome` per credential query naming what is
missing. Hand-written: no kept Python library implements DCQL (the spec is small and its semantics are exact).

Claims path pointers (§7): a string selects an object member, ``null`` every element of an array, a non-negative
integer one element; processing aborts (nothing selected) where a component meets a selected element of the
wrong kind, as §7.1 says. An index names the element's place in the credential as issued, also when an SD-JWT's
holder withheld elements before it. ``values`` matches when a selected value equals one of them (strings,
integers, booleans).
Formats handled: ``dc+sd-jwt`` (``meta.vct_values``) and ``ldp_vc`` (``meta.type_values``: the credential's
``type`` must contain every type of one inner list).

Two ways to read a query. The verifier's (the default, ``lenient=False``) is strict: it makes the queries it sends,
so it refuses what it could not evaluate (another format, an unknown member, an id past 64 characters: a bound of
its public API). A wallet reads a query another verifier made (``lenient=True``), as §6 says a wallet must: unknown
members are ignored ("Implementations MUST ignore any unknown properties"), a credential query of a format not
handled here is kept, unread, and never met (§6.4.2: such a credential is "treated as if [it] would not exist in
the Wallet"; :attr:`CredentialQuery.supported` is False), and an id is any non-empty run of ``A-Z a-z 0-9 _ -``
(§6.1, §6.3: no length is set).

``trusted_authorities`` (§6.1.1; HAIP 1.0 requires the ``aki`` type): a credential meets the query only if an
Authority Key Identifier in its issuer's certificate chain is one of the values (base64url ``keyIdentifier``s) of
an ``aki`` entry. The evaluation counts only chains that were validated to a trust anchor (a forged certificate
can name any authority): :class:`Presented` carries them only then. Other types (``etsi_tl``,
``openid_federation``) are read but cannot be checked here, so they are never met (:data:`CHECKED_AUTHORITIES`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from microcred.credential.jsontext import lone_surrogate_path
from microcred.sdjwt.core import issued_indexes
from microcred.sdjwt.jose import JoseError, b64url_decode

__all__ = [
    "CHECKED_AUTHORITIES", "FORMATS", "ClaimQuery", "CredentialQuery", "CredentialSetQuery", "DcqlError",
    "DcqlQuery", "Presented",
    "QueryOutcome", "QueryResult", "TrustedAuthority", "aka_vcts_of", "evaluate", "parse_query", "select",
]

SD_JWT, LDP = "dc+sd-jwt", "ldp_vc"
FORMATS = (SD_JWT, LDP)
_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_ANY_ID = re.compile(r"^[A-Za-z0-9_-]+$")  # §6.1, §6.3: "a non-empty string consisting of alphanumeric, _ or -"
#: Bounds on hostile queries (a verifier's own employer sends them, but through a public API).
MAX_CREDENTIALS, MAX_CLAIMS, MAX_PATH, MAX_VALUES, MAX_SETS = 16, 64, 16, 64, 32
#: The trusted authority types this code can evaluate.
CHECKED_AUTHORITIES = ("aki",)


class DcqlError(ValueError):
    """A query that does not follow DCQL; ``field`` names the offending member (a JSON pointer-like path)."""

    def __init__(self, field_name: str, problem: str) -> None:
        super().__init__(f"{field_name}: {problem}")
        self.field = field_name
        self.problem = problem


@dataclass(frozen=True)
class ClaimQuery:
    """One claim a credential must disclose (``values``: one of them, when given)."""

    path: tuple[str | int | None, ...]
    id: str | None = None
    values: tuple[str | int | bool, ...] = ()

    def label(self) -> str:
        """The path as people read it (``credentialSubject.level``, ``[*]`` for every element)."""
        return ".".join("[*]" if p is None else str(p) for p in self.path)


@dataclass(frozen=True)
class TrustedAuthority:
    """One ``trusted_authorities`` entry: its ``type`` and ``values`` (for ``aki``, decoded key identifiers in
    ``key_ids``)."""

    type: str
    values: tuple[str, ...]
    key_ids: tuple[bytes, ...] = ()


@dataclass(frozen=True)
class CredentialQuery:
    """One requested credential."""

    id: str
    format: str
    vct_values: tuple[str, ...] = ()
    type_values: tuple[tuple[str, ...], ...] = ()
    claims: tuple[ClaimQuery, ...] = ()
    claim_sets: tuple[tuple[str, ...], ...] = ()
    multiple: bool = False
    require_cryptographic_holder_binding: bool = True
    trusted_authorities: tuple[TrustedAuthority, ...] = ()

    @property
    def supported(self) -> bool:
        """Whether its format is one handled here (a lenient reading keeps the others, never met)."""
        return self.format in FORMATS


@dataclass(frozen=True)
class CredentialSetQuery:
    """Alternatives of credential query ids (``required``: one option must be met)."""

    options: tuple[tuple[str, ...], ...]
    required: bool = True


@dataclass(frozen=True)
class DcqlQuery:
    """A parsed DCQL query and the JSON it came from (what the request object carries)."""

    credentials: tuple[CredentialQuery, ...]
    credential_sets: tuple[CredentialSetQuery, ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False)

    def by_id(self, query_id: str) -> CredentialQuery | None:
        """The credential query with ``query_id``."""
        return next((c for c in self.credentials if c.id == query_id), None)


def _list(value: Any, name: str, limit: int, *, empty: bool = False) -> list[Any]:
    if not isinstance(value, list) or (not value and not empty):
        raise DcqlError(name, "must be a non-empty array")
    if len(value) > limit:
        raise DcqlError(name, f"at most {limit} entries")
    return value


def _ident(value: Any, name: str, lenient: bool = False) -> str:
    if lenient:
        if not isinstance(value, str) or not _ANY_ID.match(value):
            raise DcqlError(name, "must be a non-empty string of A-Z a-z 0-9 _ -")
    elif not isinstance(value, str) or not _ID.match(value):
        raise DcqlError(name, "must be 1-64 characters of A-Z a-z 0-9 _ -")
    return value


def _path(value: Any, name: str) -> tuple[str | int | None, ...]:
    out: list[str | int | None] = []
    for i, part in enumerate(_list(value, name, MAX_PATH)):
        index = isinstance(part, int) and not isinstance(part, bool) and part >= 0
        if part is None or (isinstance(part, str) and part) or index:
            out.append(part)
        else:
            raise DcqlError(f"{name}[{i}]", "a path element is a string, null or a non-negative integer")
    return tuple(out)


def _claim(value: Any, name: str, with_id: bool, lenient: bool) -> ClaimQuery:
    if not isinstance(value, Mapping):
        raise DcqlError(name, "must be an object")
    claim_id = _ident(value["id"], f"{name}.id", lenient) if "id" in value else None
    if with_id and claim_id is None:
        raise DcqlError(f"{name}.id", "required when claim_sets is present")
    values: list[str | int | bool] = []
    if "values" in value:
        for i, v in enumerate(_list(value["values"], f"{name}.values", MAX_VALUES)):
            if not isinstance(v, str | int | bool) or isinstance(v, float):
                raise DcqlError(f"{name}.values[{i}]", "values are strings, integers or booleans")
            values.append(v)
    return ClaimQuery(_path(value.get("path"), f"{name}.path"), claim_id, tuple(values))


def _meta(value: Any, fmt: str, name: str) -> tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]:
    if not isinstance(value, Mapping):
        raise DcqlError(name, "must be an object")
    if fmt == SD_JWT:
        vcts = _list(value.get("vct_values"), f"{name}.vct_values", MAX_VALUES)
        if not all(isinstance(v, str) and v for v in vcts):
            raise DcqlError(f"{name}.vct_values", "must be strings")
        return tuple(vcts), ()
    lists = _list(value.get("type_values"), f"{name}.type_values", MAX_VALUES)
    types: list[tuple[str, ...]] = []
    for i, inner in enumerate(lists):
        inner_list = _list(inner, f"{name}.type_values[{i}]", MAX_VALUES)
        if not all(isinstance(t, str) and t for t in inner_list):
            raise DcqlError(f"{name}.type_values[{i}]", "must be strings")
        types.append(tuple(inner_list))
    return (), tuple(types)


def _trusted_authorities(value: Any, name: str) -> tuple[TrustedAuthority, ...]:
    out = []
    for i, entry in enumerate(_list(value, name, MAX_SETS)):
        where = f"{name}[{i}]"
        if not isinstance(entry, Mapping):
            raise DcqlError(where, "must be an object")
        kind = entry.get("type")
        if not isinstance(kind, str) or not kind:
            raise DcqlError(f"{where}.type", "must be a string")
        values = _list(entry.get("values"), f"{where}.values", MAX_VALUES)
        if not all(isinstance(v, str) and v for v in values):
            raise DcqlError(f"{where}.values", "must be strings")
        key_ids: list[bytes] = []
        if kind == "aki":
            for j, v in enumerate(values):
                try:
                    key_ids.append(b64url_decode(v))
                except JoseError:
                    raise DcqlError(f"{where}.values[{j}]", "an aki value is a base64url key identifier") from None
        out.append(TrustedAuthority(kind, tuple(values), tuple(key_ids)))
    return tuple(out)


def _credential(value: Any, name: str, lenient: bool) -> CredentialQuery:
    if not isinstance(value, Mapping):
        raise DcqlError(name, "must be an object")
    query_id = _ident(value.get("id"), f"{name}.id", lenient)
    fmt = value.get("format")
    if fmt not in FORMATS:
        if lenient and isinstance(fmt, str) and fmt:  # another format's meta and claims are not ours to read
            return CredentialQuery(query_id, fmt)
        raise DcqlError(f"{name}.format", f"supported formats: {', '.join(FORMATS)}")
    vcts, types = _meta(value.get("meta"), fmt, f"{name}.meta")
    claim_sets_raw = value.get("claim_sets")
    claims = tuple(_claim(c, f"{name}.claims[{i}]", claim_sets_raw is not None, lenient)
                   for i, c in enumerate(_list(value.get("claims"), f"{name}.claims", MAX_CLAIMS)))\
        if "claims" in value else ()
    claim_sets: list[tuple[str, ...]] = []
    if claim_sets_raw is not None:
        if not claims:
            raise DcqlError(f"{name}.claim_sets", "needs claims")
        known = {c.id for c in claims}
        if len(known) != len(claims):
            raise DcqlError(f"{name}.claims", "claim ids must be unique")
        for i, option in enumerate(_list(claim_sets_raw, f"{name}.claim_sets", MAX_SETS)):
            ids = tuple(_ident(x, f"{name}.claim_sets[{i}]", lenient) for x in _list(option, f"{name}.claim_sets[{i}]",
                                                                             MAX_CLAIMS))
            if not set(ids) <= known:
                raise DcqlError(f"{name}.claim_sets[{i}]", "names a claim id the claims do not define")
            claim_sets.append(ids)
    for flag in ("multiple", "require_cryptographic_holder_binding"):
        if flag in value and not isinstance(value[flag], bool):
            raise DcqlError(f"{name}.{flag}", "must be a boolean")
    authorities = _trusted_authorities(value["trusted_authorities"], f"{name}.trusted_authorities") \
        if "trusted_authorities" in value else ()
    return CredentialQuery(query_id, fmt, vcts, types, claims, tuple(claim_sets), bool(value.get("multiple", False)),
                           bool(value.get("require_cryptographic_holder_binding", True)), authorities)


def parse_query(value: Any, *, lenient: bool = False) -> DcqlQuery:
    """A :class:`DcqlQuery` from its JSON (:class:`DcqlError` naming the field otherwise); ``lenient``: a
    wallet's reading of another verifier's query (see the module docstring)."""
    if not isinstance(value, Mapping):
        raise DcqlError("dcql_query", "must be an object")
    unknown = set(value) - {"credentials", "credential_sets"}
    if unknown and not lenient:
        raise DcqlError(f"dcql_query.{sorted(unknown)[0]}", "unknown member")
    # The query is signed into the request object a wallet fetches: a string that is not Unicode text (a lone
    # surrogate, which JSON escaping allows) could not be written, and every fetch failed.
    where = lone_surrogate_path(value)
    if where is not None:
        raise DcqlError(where, "a string holds a lone surrogate (not Unicode text)")
    credentials = tuple(_credential(c, f"credentials[{i}]", lenient)
                        for i, c in enumerate(_list(value.get("credentials"), "credentials", MAX_CREDENTIALS)))
    ids = [c.id for c in credentials]
    if len(set(ids)) != len(ids):
        raise DcqlError("credentials", "credential query ids must be unique")
    sets: list[CredentialSetQuery] = []
    for i, raw in enumerate(_list(value["credential_sets"], "credential_sets", MAX_SETS)
                            if "credential_sets" in value else []):
        if not isinstance(raw, Mapping):
            raise DcqlError(f"credential_sets[{i}]", "must be an object")
        options = []
        for j, option in enumerate(_list(raw.get("options"), f"credential_sets[{i}].options", MAX_SETS)):
            members = tuple(_ident(x, f"credential_sets[{i}].options[{j}]", lenient)
                            for x in _list(option, f"credential_sets[{i}].options[{j}]", MAX_CREDENTIALS))
            if not set(members) <= set(ids):
                raise DcqlError(f"credential_sets[{i}].options[{j}]", "names an unknown credential query id")
            options.append(members)
        required = raw.get("required", True)
        if not isinstance(required, bool):
            raise DcqlError(f"credential_sets[{i}].required", "must be a boolean")
        sets.append(CredentialSetQuery(tuple(options), required))
    return DcqlQuery(credentials, tuple(sets), dict(value))


_MISSING = object()


def select(document: Any, path: Sequence[str | int | None],
           hidden: frozenset[tuple[str | int, ...]] = frozenset()) -> list[Any]:
    """The values a claims path pointer selects in ``document``, processed as OpenID4VP 1.0 §7.1 says (empty:
    nothing there, or the processing aborted: a string met a selected element that is not an object, or ``null``
    or an index one that is not an array).

    ``hidden``: the paths, as issued, of the array elements an SD-JWT's holder withheld. They are absent from the
    processed claims, so the elements after them moved up; an index names the element's place in the credential
    as issued, which is recovered here (:func:`microcred.sdjwt.core.issued_indexes`, as for the type metadata's
    claim paths).
    """
    current: list[tuple[tuple[str | int, ...], Any]] = [((), document)]
    for part in path:
        selected: list[tuple[tuple[str | int, ...], Any]] = []
        for at, node in current:
            if isinstance(part, str):
                if not isinstance(node, Mapping):
                    return []
                if part in node:
                    selected.append(((*at, part), node[part]))
                continue
            if not isinstance(node, list):
                return []
            for index, item in zip(issued_indexes(at, len(node), hidden), node, strict=True):
                if part is None or part == index:
                    selected.append(((*at, index), item))
        current = selected
        if not current:
            return []
    return [node for _, node in current]


def _equal(a: Any, b: Any) -> bool:
    # True == 1 in Python; DCQL compares JSON values, where a boolean is never a number.
    return type(a) is type(b) and a == b


def _claim_missing(claim: ClaimQuery, presented: Presented) -> str | None:
    found = select(presented.claims, claim.path, presented.hidden)
    if not found:
        return "not disclosed"
    if claim.values and not any(_equal(v, want) for v in found for want in claim.values):
        return "value not among " + ", ".join(map(str, claim.values))
    return None


def aka_vcts_of(claims: Mapping[str, Any]) -> tuple[str, ...]:
    """The ``aka_vcts`` of an SD-JWT VC's processed claims: its strings (the verifier's format check refuses a
    credential whose ``aka_vcts`` is anything else; here only what could count is taken)."""
    value = claims.get("aka_vcts")
    return tuple(t for t in value if isinstance(t, str)) if isinstance(value, list) else ()


@dataclass(frozen=True)
class Presented:
    """A credential the wallet presented for a credential query: its format, type(s) and the claims it
    disclosed (SD-JWT VC: the processed claims; ldp_vc: the credential document)."""

    format: str
    claims: Mapping[str, Any]
    vct: str | None = None
    types: tuple[str, ...] = ()
    aka_vcts: tuple[str, ...] = ()
    """SD-JWT VC: the more types its issuer says it also is (``aka_vcts``, SD-JWT VC draft -18 §2.2.2.2), which
    meet ``vct_values`` as its ``vct`` does."""
    holder_bound: bool = True
    verified: bool = True
    """False when the credential did not verify: then its claims count for nothing."""
    authority_key_ids: tuple[bytes, ...] = ()
    """The Authority Key Identifiers of its issuer's certificate chain, only when that chain was validated to a
    trust anchor (empty otherwise: no ``aki`` trusted authority is then met)."""
    hidden: frozenset[tuple[str | int, ...]] = frozenset()
    """SD-JWT VC: the paths, as issued, of the array elements the holder withheld (see :func:`select`)."""


@dataclass(frozen=True)
class QueryOutcome:
    """Whether one credential query was met, and what is missing when not (one line each)."""

    query_id: str
    satisfied: bool
    missing: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"query": self.query_id, "satisfied": self.satisfied, "missing": list(self.missing)}


@dataclass(frozen=True)
class QueryResult:
    """The whole query: satisfied when every required credential set (or, without sets, every credential
    query) is met."""

    satisfied: bool
    outcomes: tuple[QueryOutcome, ...]
    missing: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"satisfied": self.satisfied, "credentials": [o.to_dict() for o in self.outcomes],
                "missing": list(self.missing)}


def _one(query: CredentialQuery, presented: Presented) -> list[str]:
    """What ``presented`` lacks for ``query`` (empty: it meets it)."""
    if not presented.verified:
        return ["the credential did not verify, so its claims cannot count"]
    if not query.supported:
        return [f"format {query.format} is not supported"]
    if presented.format != query.format:
        return [f"format {presented.format} instead of {query.format}"]
    if query.vct_values and presented.vct not in query.vct_values \
            and not any(t in query.vct_values for t in presented.aka_vcts):
        also = f" (nor is any of aka_vcts {', '.join(presented.aka_vcts)})" if presented.aka_vcts else ""
        return [f"vct {presented.vct} is not one of {', '.join(query.vct_values)}{also}"]
    if query.type_values and not any(set(t) <= set(presented.types) for t in query.type_values):
        return ["type is not one of " + " | ".join("+".join(t) for t in query.type_values)]
    if query.require_cryptographic_holder_binding and not presented.holder_bound:
        return ["no proof of possession (holder binding)"]
    if query.trusted_authorities and not _trusted(query.trusted_authorities, presented):
        return ["the issuer is not under one of the trusted authorities ("
                + "; ".join(f"{t.type}: {', '.join(t.values)}" for t in query.trusted_authorities) + ")"
                + ("" if presented.authority_key_ids else ": its certificate chain was not established")]
    if not query.claims:
        return []
    problems = {c.id or c.label(): _claim_missing(c, presented) for c in query.claims}
    labels = {c.id or c.label(): c.label() for c in query.claims}
    if not query.claim_sets:
        return [f"{labels[k]}: {why}" for k, why in problems.items() if why]
    best: list[str] | None = None
    for option in query.claim_sets:  # the first option met wins; otherwise report the closest one
        lacking = [f"{labels[k]}: {problems[k]}" for k in option if problems[k]]
        if not lacking:
            return []
        if best is None or len(lacking) < len(best):
            best = lacking
    return best or []


def _trusted(authorities: Sequence[TrustedAuthority], presented: Presented) -> bool:
    """An ``aki`` entry names an Authority Key Identifier of the validated chain (other types cannot be checked
    here: never met)."""
    return any(t.type == "aki" and set(t.key_ids) & set(presented.authority_key_ids) for t in authorities)


def evaluate(query: DcqlQuery, presented: Mapping[str, Sequence[Presented]]) -> QueryResult:
    """Evaluate ``query`` against the credentials presented per credential query id."""
    outcomes: list[QueryOutcome] = []
    met: set[str] = set()
    for cq in query.credentials:
        items = list(presented.get(cq.id, ()))
        if not items:
            outcomes.append(QueryOutcome(cq.id, False, ("no credential presented",)))
            continue
        if len(items) > 1 and not cq.multiple:
            outcomes.append(QueryOutcome(cq.id, False, ("more than one credential presented, multiple is false",)))
            continue
        lacking = [f"#{i + 1} {why}" if len(items) > 1 else why for i, p in enumerate(items) for why in _one(cq, p)]
        outcomes.append(QueryOutcome(cq.id, not lacking, tuple(lacking)))
        if not lacking:
            met.add(cq.id)
    extra = sorted(set(presented) - {c.id for c in query.credentials})
    missing: list[str] = [f"{x}: not requested" for x in extra]
    if query.credential_sets:
        for i, cs in enumerate(query.credential_sets):
            if cs.required and not any(set(option) <= met for option in cs.options):
                missing.append(f"credential set {i + 1}: none of the options "
                               + " | ".join("+".join(o) for o in cs.options) + " was met")
    else:
        missing += [f"{o.query_id}: not satisfied" for o in outcomes if not o.satisfied]
    return QueryResult(not missing, tuple(outcomes), tuple(missing))
