"""Which of the learner's SD-JWT VCs answer an OpenID4VP 1.0 request (issue 21), pure logic, no I/O.

* :func:`parse_holding`: a held SD-JWT VC as the matching reads it (every Disclosure, the ``cnf`` key, the
  issuer's authorities).
* :func:`match`: which of the learner's SD-JWT VCs meets each DCQL credential query, and with which claim sets
  (each discloses all its claims). The DCQL semantics are the shared :mod:`microcred.oid4vp.dcql` (the very
  code the gateway evaluates answers with), applied here to every claim the credential holds.
* :func:`plan_answer`: the learner's :class:`Choice` of a credential (and claim set) per credential query, when
  it makes an answer the wallet may send (§6.4): whole claim sets, every required credential query or set met;
  otherwise :class:`AnswerError` (the learner refuses instead, ``access_denied``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from microcred.oid4vp.dcql import SD_JWT, ClaimQuery, CredentialQuery, DcqlQuery, Presented, aka_vcts_of, evaluate
from microcred.sdjwt.core import DEFAULT_HASH, SdJwtError, SdJwtParts, digest, disclose, split_sd_jwt
from microcred.sdjwt.jose import (
    JoseError,
    PrivateKey,
    algorithm_for_key,
    b64url_decode,
    jwk_to_public_key,
    public_jwk,
    strict_json_loads,
)
from microcred.sdjwt.x5c import ChainError, authority_key_ids
from services.wallet.domain.presentations_oid4vp import PresentationRequestError, VerifierRequest

__all__ = [
    "INCOMPLETE", "NOT_ASKED", "NO_MATCH", "AnswerError", "Candidate", "Choice", "ClaimOption", "Holding", "Planned",
    "answerable", "match", "parse_holding", "plan_answer", "same_key",
]


# --------------------------------------------------------------------------------------------- holdings


@dataclass(frozen=True)
class Holding:
    """One of the learner's SD-JWT VCs, as the wallet holds it (every Disclosure)."""

    credential_id: str
    parts: SdJwtParts
    claims: Mapping[str, Any]  # processed, with every Disclosure applied
    disclosures: tuple[tuple[tuple[str | int, ...], str], ...]  # (path as issued, encoded Disclosure)
    vct: str | None
    cnf_jwk: Mapping[str, Any] | None
    authority_key_ids: tuple[bytes, ...] = ()  # of the issuer's x5c: which trusted authorities it may meet
    sd_alg: str = DEFAULT_HASH  # its _sd_alg: the KB-JWT's sd_hash uses the same hash (RFC 9901 §4.3.1)

    @property
    def kb_alg(self) -> str | None:
        """The ``alg`` of the KB-JWTs its ``cnf`` key signs (None: no usable key)."""
        if self.cnf_jwk is None:
            return None
        try:
            return algorithm_for_key(jwk_to_public_key(self.cnf_jwk))
        except (JoseError, ValueError):
            return None


def parse_holding(credential_id: str, compact: str) -> Holding:
    """Read a held SD-JWT VC (the wallet verified it when it arrived; here only its structure is read)."""
    parts = split_sd_jwt(compact)
    segments = parts.issuer_jwt.split(".")
    if len(segments) != 3:
        raise SdJwtError("MALFORMED_SD_JWT", "the issuer-signed JWT is not a compact JWS")
    payload = strict_json_loads(b64url_decode(segments[1]))
    if not isinstance(payload, dict):
        raise SdJwtError("MALFORMED_SD_JWT", "the payload is not an object")
    header = strict_json_loads(b64url_decode(segments[0]))
    try:  # the chain was checked when the credential arrived; here it only says which authorities it names
        authorities = authority_key_ids(header.get("x5c")) if isinstance(header, dict) and "x5c" in header else ()
    except ChainError:
        authorities = ()
    processed = disclose(payload, parts.disclosures)
    alg = str(payload.get("_sd_alg", DEFAULT_HASH))
    encoded = {digest(d, alg): d for d in parts.disclosures}
    disclosures = tuple((item.path, encoded[item.digest]) for item in processed.disclosed)
    cnf = payload.get("cnf")
    jwk = cnf.get("jwk") if isinstance(cnf, Mapping) else None
    vct = payload.get("vct")
    return Holding(credential_id, parts, processed.claims, disclosures, vct if isinstance(vct, str) else None,
                   jwk if isinstance(jwk, Mapping) else None, authorities, alg)


def same_key(jwk: Mapping[str, Any] | None, key: PrivateKey) -> bool:
    """Whether the ``cnf.jwk`` is the public half of ``key``."""
    if jwk is None:
        return False
    mine = public_jwk(key)
    return all(jwk.get(name) == value for name, value in mine.items())


@dataclass(frozen=True)
class ClaimOption:
    """One way a held credential meets a credential query: the index of the claim set it meets (None: the query
    has no ``claim_sets``) and the claims it then discloses, every one of them (§6.4.1)."""

    claim_set: int | None
    claims: tuple[ClaimQuery, ...]

    @property
    def labels(self) -> tuple[str, ...]:
        """The claims as people read them (``credentialSubject.level``)."""
        return tuple(c.label() for c in self.claims)


@dataclass(frozen=True)
class Candidate:
    """A held credential that meets a credential query, with each claim set it meets in the verifier's order of
    preference (the first is presented unless the learner picks another)."""

    query_id: str
    credential_id: str
    options: tuple[ClaimOption, ...]

    @property
    def claims(self) -> tuple[str, ...]:
        """The claims the first option discloses."""
        return self.options[0].labels


def _options(request: VerifierRequest, query: CredentialQuery, holding: Holding) -> tuple[ClaimOption, ...]:
    """The claim sets of ``query`` that ``holding`` meets (empty: it does not meet the query, and is treated as
    if the wallet did not hold it, §6.4.2)."""
    if query.format != SD_JWT:
        return ()  # ldp_vc answers are not built by this responder yet; other formats are never met
    if request.kb_algs is not None and holding.cnf_jwk is not None and holding.kb_alg not in request.kb_algs:
        return ()  # its KB-JWT would be signed with an algorithm the verifier does not take
    everything = Presented(SD_JWT, holding.claims, vct=holding.vct, holder_bound=holding.cnf_jwk is not None,
                           authority_key_ids=holding.authority_key_ids, aka_vcts=aka_vcts_of(holding.claims))

    def met(claims: tuple[ClaimQuery, ...]) -> bool:
        alone = replace(query, claims=claims, claim_sets=())
        return evaluate(DcqlQuery((alone,)), {query.id: [everything]}).satisfied

    if not query.claim_sets:
        return (ClaimOption(None, query.claims),) if met(query.claims) else ()
    by_id = {c.id: c for c in query.claims}
    sets = ((i, tuple(by_id[x] for x in ids)) for i, ids in enumerate(query.claim_sets))
    return tuple(ClaimOption(i, claims) for i, claims in sets if met(claims))


def match(request: VerifierRequest, holdings: Sequence[Holding]) -> list[Candidate]:
    """Every (credential query, held credential) pair where the credential meets the query, with its options."""
    found: list[Candidate] = []
    for query in request.query.credentials:
        for holding in holdings:
            options = _options(request, query, holding)
            if options:
                found.append(Candidate(query.id, holding.credential_id, options))
    return found


def answerable(query: DcqlQuery, met: Iterable[str]) -> bool:
    """Whether the credential queries ``met`` (by a credential the learner holds) can satisfy ``query``: every
    credential query (without ``credential_sets``), or one option of every required set (§6.4.2)."""
    ids = set(met)
    if not query.credential_sets:
        return all(c.id in ids for c in query.credentials)
    return all(any(set(o) <= ids for o in s.options) for s in query.credential_sets if s.required)


# --------------------------------------------------------------------------------------------- the learner's choice

#: Why an answer is not sent (the wallet API's error codes).
NO_MATCH, INCOMPLETE, NOT_ASKED = "CREDENTIAL_DOES_NOT_MATCH", "ANSWER_INCOMPLETE", "INVALID_ANSWER"


class AnswerError(PresentationRequestError):
    """An answer the wallet does not send (``code``: :data:`NO_MATCH`, :data:`INCOMPLETE`, :data:`NOT_ASKED`)."""

    def __init__(self, field_name: str, problem: str, code: str) -> None:
        super().__init__(field_name, problem)
        self.code = code


@dataclass(frozen=True)
class Choice:
    """The learner's pick for one credential query: which held credential, which of its claim sets (None: the
    first it meets), and, when the caller passes them, the claims the learner saw (they must be that set)."""

    query_id: str
    credential_id: str
    claim_set: int | None = None
    disclose: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Planned:
    """One presentation of the answer: the credential query, the credential and the claims it discloses."""

    query: CredentialQuery
    holding: Holding
    option: ClaimOption


_REFUSE = "share it or refuse the request"


def plan_answer(request: VerifierRequest, holdings: Mapping[str, Holding],
                choices: Sequence[Choice]) -> tuple[Planned, ...]:
    """The presentations answering ``request`` with the learner's ``choices``, when they make an answer the
    wallet may send (OpenID4VP 1.0 §6.4): each credential meets its query with one whole claim set (§6.4.1:
    "If the Wallet cannot deliver all claims requested [...] it MUST NOT return the respective Credential"),
    no claim beyond it, and together they meet every required credential query or set (§6.4.2: "If the Wallet
    cannot deliver all non-optional Credentials [...] it MUST NOT return any Credential(s)"). A learner who
    does not want to share that refuses the request instead (``access_denied``)."""
    if not choices:
        raise AnswerError("answers", "nothing chosen: choose what to present, or refuse the request", INCOMPLETE)
    planned: list[Planned] = []
    for i, choice in enumerate(choices):
        where = f"answers[{i}]"
        query = request.query.by_id(choice.query_id)
        if query is None:
            raise AnswerError(f"{where}.query", f"the verifier asks for no credential {choice.query_id}", NOT_ASKED)
        holding = holdings.get(choice.credential_id)
        options = _options(request, query, holding) if holding is not None else ()
        if holding is None or not options:
            raise AnswerError(f"{where}.credential_id", f"this credential does not meet what the verifier asks for "
                                                        f"({query.id})", NO_MATCH)
        option = options[0] if choice.claim_set is None else \
            next((o for o in options if o.claim_set == choice.claim_set), None)
        if option is None:
            raise AnswerError(f"{where}.claim_set", f"the credential does not meet claim set {choice.claim_set} of "
                                                    f"{query.id}", NO_MATCH)
        if choice.disclose is not None:
            _same_claims(f"{where}.disclose", query, option, choice.disclose)
        if any(p.query.id == query.id and (p.holding.credential_id == holding.credential_id or not query.multiple)
               for p in planned):
            raise AnswerError(f"{where}.query", f"{query.id} is answered once (multiple is false)" if not query.multiple
                              else f"{query.id}: the same credential twice", NOT_ASKED)
        planned.append(Planned(query, holding, option))
    _complete(request.query, {p.query.id for p in planned})
    return tuple(planned)


def _same_claims(where: str, query: CredentialQuery, option: ClaimOption, disclose: Sequence[str]) -> None:
    """``disclose`` (what the learner saw) must be the claims of ``option``: none more, none fewer."""
    asked = {c.label() for c in query.claims}
    beyond = [x for x in dict.fromkeys(disclose) if x not in option.labels]
    if beyond:
        why = "not asked for by the verifier" if any(x not in asked for x in beyond) else "not in the chosen claim set"
        raise AnswerError(where, f"{why}: {', '.join(beyond)}", NOT_ASKED)
    withheld = [x for x in option.labels if x not in disclose]
    if withheld:
        raise AnswerError(where, f"the verifier needs {', '.join(withheld)} as well (a credential goes with every "
                                 f"claim asked for, or not at all): {_REFUSE}", INCOMPLETE)


def _complete(query: DcqlQuery, answered: set[str]) -> None:
    """The answered credential queries meet ``query`` (§6.4.2), and each is part of what it asks."""
    if not query.credential_sets:
        missing = [c.id for c in query.credentials if c.id not in answered]
        if missing:
            raise AnswerError("answers", f"the verifier needs {', '.join(missing)} as well: {_REFUSE}", INCOMPLETE)
        return
    for i, cs in enumerate(query.credential_sets):
        if cs.required and not any(set(o) <= answered for o in cs.options):
            needed = " | ".join("+".join(o) for o in cs.options)
            raise AnswerError("answers", f"credential set {i + 1} needs one of {needed}: {_REFUSE}", INCOMPLETE)
    used = {x for cs in query.credential_sets for o in cs.options if set(o) <= answered for x in o}
    stray = sorted(answered - used)
    if stray:
        raise AnswerError("answers", f"not part of a whole option of the credential sets: {', '.join(stray)}",
                          NOT_ASKED)
