"""Our wallet as an OpenID4VP 1.0 responder (issue 21): pure logic, no I/O.

* :func:`parse_link`: an ``openid4vp://?client_id=…&request_uri=…`` link (request by reference only), and its
  ``request_uri_method``: with ``post`` (§5.10) the wallet POSTs its :func:`wallet_metadata` and a fresh
  ``wallet_nonce`` there, and the request object must carry that nonce back (else an older object was replayed).
* :func:`check_request_object`: the request object the verifier serves at ``request_uri`` (RFC 9101). With
  ``x509_san_dns:<host>`` the ``x5c`` chain must reach one of the wallet's trust anchors, the leaf must name
  ``<host>`` as a SAN dNSName and its key must sign the JWT (ES256/384/512); with ``x509_hash:<hash>`` (the
  prefix HAIP 1.0 has verifiers use) the same, except that the client identifier is the base64url SHA-256 of
  the leaf's DER, and the learner is shown the leaf's first SAN dNSName; with ``redirect_uri:<uri>`` the
  spec forbids a signature (``alg: none``) and ``response_uri`` must be ``<uri>``, so the verifier is *not*
  authenticated (``verified`` is False and the learner is told so). Anything else is refused.
* :func:`match`: which of the learner's SD-JWT VCs meets each DCQL credential query, and with which claim sets
  (each discloses all its claims). The DCQL semantics are the shared :mod:`microcred.oid4vp.dcql` (the very
  code the gateway evaluates answers with), applied here to every claim the credential holds.
* :func:`plan_answer`: the learner's :class:`Choice` of a credential (and claim set) per credential query, when
  it makes an answer the wallet may send (§6.4): whole claim sets, every required credential query or set met;
  otherwise :class:`AnswerError` (the learner refuses instead, ``access_denied``).
* :func:`build_presentation`: the SD-JWT with only the Disclosures of the chosen claim set (and the Disclosures
  of the objects that contain them) and a Key Binding JWT (``typ: kb+jwt``, ``iat``, ``aud`` = client_id,
  ``nonce``, ``sd_hash`` with the credential's own ``_sd_alg``, RFC 9901 §4.3.1) signed with the holder key the
  credential binds (``cnf.jwk``).
* :func:`answer_form` / :func:`refusal_form`: the ``direct_post`` form, or for ``direct_post.jwt`` a JWE
  (ECDH-ES to the request's ``client_metadata.jwks`` key, made with joserfc); a refusal is
  ``error=access_denied`` (OpenID4VP §8.5).
* :func:`continue_to`: the ``redirect_uri`` a verifier answers the POST with in a same-device flow (§8.2): the
  wallet sends the learner's browser there (an https URL; http only on a loopback host).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from joserfc import jwe
from joserfc.errors import JoseError as JoserfcError
from joserfc.jwk import ECKey

from microcred.oid4vp.dcql import (
    SD_JWT,
    ClaimQuery,
    CredentialQuery,
    DcqlError,
    DcqlQuery,
    Presented,
    aka_vcts_of,
    evaluate,
    parse_query,
    select,
)
from microcred.oid4vp.page_url import page_url_problem
from microcred.oid4vp.request import x509_hash
from microcred.sdjwt.core import (
    DEFAULT_HASH,
    SdJwtError,
    SdJwtParts,
    digest,
    disclose,
    key_binding_jwt,
    split_sd_jwt,
)
from microcred.sdjwt.jose import (
    JoseError,
    PrivateKey,
    algorithm_for_key,
    b64url_decode,
    jwk_to_public_key,
    public_jwk,
    strict_json_loads,
    verify_jws_signature,
)
from microcred.sdjwt.x5c import ChainError, authority_key_ids, validate_x5c

__all__ = [
    "INCOMPLETE", "KB_ALGS", "NOT_ASKED", "NO_MATCH", "AnswerError", "Candidate", "Choice", "ClaimOption", "Holding",
    "Link", "Planned", "PresentationRequestError", "RefusedRequest", "VerifierRequest", "answer_form", "answerable",
    "build_presentation", "check_request_object", "continue_to", "disclosed_values", "error_form", "match",
    "parse_holding", "parse_link", "plan_answer", "refusal_form", "same_key", "wallet_metadata",
]

X509_SAN_DNS, X509_HASH, REDIRECT_URI = "x509_san_dns:", "x509_hash:", "redirect_uri:"
PREFIXES = (X509_SAN_DNS, X509_HASH, REDIRECT_URI)
REQUEST_TYP = "oauth-authz-req+jwt"
RESPONSE_MODES = ("direct_post", "direct_post.jwt")
SIGNED_ALGS = ("ES256", "ES384", "ES512")
#: What the learners' holder keys sign KB-JWTs with: ES256 (P-256) and EdDSA (Ed25519, the default key), as
#: :func:`microcred.sdjwt.jose.algorithm_for_key` names them (services.wallet.adapters.holder_keys.HOLDER_KEY_ALGS).
KB_ALGS = ("ES256", "EdDSA")
#: The JWE key agreement of encrypted answers (§8.3: a verifier's key naming another ``alg`` is not used).
JWE_ALG = "ECDH-ES"
#: Content encryption we use, in order of preference, among those the verifier lists (HAIP 1.0 §5: a wallet
#: supporting both "SHOULD use A256GCM"; a verifier listing none takes the default, A128GCM).
ENC_PREFERENCE = ("A256GCM", "A128GCM")
MAX_LINK, MAX_REQUEST_OBJECT = 4096, 256 * 1024


class PresentationRequestError(ValueError):
    """A link, request object or choice we cannot act on; ``field`` names what is wrong."""

    def __init__(self, field_name: str, problem: str) -> None:
        super().__init__(f"{field_name}: {problem}")
        self.field = field_name
        self.problem = problem


class RefusedRequest(PresentationRequestError):
    """An authenticated request the wallet refuses with an Authorization Error Response (OpenID4VP 1.0 §8.5):
    ``error`` is the OAuth error code, posted with the request's ``state`` to its ``response_uri``
    (:func:`error_form`)."""

    def __init__(self, field_name: str, problem: str, *, error: str, response_uri: str, state: str | None) -> None:
        super().__init__(field_name, problem)
        self.error = error
        self.response_uri = response_uri
        self.state = state


@dataclass(frozen=True)
class Link:
    """What an ``openid4vp://`` link carries."""

    client_id: str
    request_uri: str
    request_uri_method: str = "get"


def wallet_metadata(client_id: str) -> dict[str, Any]:
    """What the wallet sends a verifier with ``request_uri_method=post`` (§10: the formats, prefixes and
    algorithms it takes) for a link with ``client_id``: no ``request_object_signing_alg_values_supported`` when
    its prefix precludes signed request objects (``redirect_uri:``, §5.10 "MUST NOT include")."""
    metadata: dict[str, Any] = {
        "vp_formats_supported": {SD_JWT: {"sd-jwt_alg_values": ["ES256", "ES384", "ES512", "EdDSA", "Ed25519"],
                                          "kb-jwt_alg_values": list(KB_ALGS)}},
        "client_id_prefixes_supported": [p.rstrip(":") for p in PREFIXES]}
    if not client_id.startswith(REDIRECT_URI):
        metadata["request_object_signing_alg_values_supported"] = list(SIGNED_ALGS)
    return {**metadata, "authorization_encryption_alg_values_supported": [JWE_ALG],
            "authorization_encryption_enc_values_supported": list(ENC_PREFERENCE)}


#: Schemes of the links that invoke a wallet for a presentation: OpenID4VP's own, HAIP 1.0's ``haip-vp`` (and its
#: drafts' ``haip``), the EUDI wallets' ``eudi-openid4vp``, and a verifier's claimed ``https`` link.
LINK_SCHEMES = frozenset({"openid4vp", "haip-vp", "haip", "eudi-openid4vp", "https"})


def parse_link(link: Any) -> Link:
    """Read an ``openid4vp://`` (or ``haip-vp://``...: :data:`LINK_SCHEMES`) link: exactly one ``client_id`` and
    one ``request_uri``."""
    if not isinstance(link, str) or not link or len(link) > MAX_LINK:
        raise PresentationRequestError("link", f"must be a text of 1..{MAX_LINK} characters")
    try:
        parts = urlsplit(link.strip())
    except ValueError:  # e.g. an unclosed IPv6 literal
        raise PresentationRequestError("link", "must be an openid4vp:// link") from None
    if parts.scheme not in LINK_SCHEMES:
        raise PresentationRequestError("link", "must be an openid4vp:// (or haip-vp://) link")
    query = parse_qs(parts.query)
    found: dict[str, str] = {}
    for name in ("client_id", "request_uri"):
        values = query.get(name, [])
        if len(values) != 1 or not values[0]:
            raise PresentationRequestError(f"link.{name}", "missing, or given more than once")
        found[name] = values[0]
    if "request" in query:
        raise PresentationRequestError("link.request", "requests by value are not accepted, only request_uri")
    if not found["client_id"].startswith(PREFIXES):
        raise PresentationRequestError("link.client_id", "only the x509_san_dns:, x509_hash: and redirect_uri: "
                                                         "prefixes")
    methods = query.get("request_uri_method", ["get"])
    if len(methods) != 1 or methods[0] not in ("get", "post"):
        raise PresentationRequestError("link.request_uri_method", "must be get or post (invalid_request_uri_method)")
    return Link(found["client_id"], found["request_uri"], methods[0])


@dataclass(frozen=True)
class VerifierRequest:
    """A request object we accepted."""

    client_id: str
    verified: bool  # True: x509_san_dns or x509_hash with a trusted chain; False: redirect_uri (development)
    claims: Mapping[str, Any]
    query: DcqlQuery
    certified: str = ""  # the host the trusted certificate names (x509_san_dns, x509_hash)
    kb_algs: frozenset[str] | None = None  # the KB-JWT algorithms the verifier takes (None: it names none)

    @property
    def nonce(self) -> str:
        return str(self.claims["nonce"])

    @property
    def state(self) -> str | None:
        state = self.claims.get("state")
        return state if isinstance(state, str) else None

    @property
    def response_uri(self) -> str:
        return str(self.claims["response_uri"])

    @property
    def response_mode(self) -> str:
        return str(self.claims["response_mode"])

    @property
    def host(self) -> str:
        """Who is asking, as people read it: the certified host, or the response URI's host."""
        if self.certified:
            return self.certified
        return urlsplit(self.response_uri).hostname or self.response_uri

    @property
    def purpose(self) -> str | None:
        """A ``purpose`` the verifier may give (a claim outside the spec's core; shown only when it is text)."""
        value = self.claims.get("purpose")
        return value if isinstance(value, str) and value else None


def _segment(text: str, name: str) -> Any:
    try:
        value = strict_json_loads(b64url_decode(text))
    except (JoseError, ValueError) as exc:
        raise PresentationRequestError(name, f"not base64url JSON ({exc})") from None
    if not isinstance(value, dict):
        raise PresentationRequestError(name, "must be a JSON object")
    return value


def _check_signed(token: str, header: Mapping[str, Any], client_id: str, anchors: Sequence[x509.Certificate],
                  now: dt.datetime) -> str:
    """A signed request object's certificate and signature for ``client_id`` (x509_san_dns or x509_hash): the
    host its trusted leaf certifies."""
    prefix = X509_SAN_DNS if client_id.startswith(X509_SAN_DNS) else X509_HASH
    if header.get("alg") not in SIGNED_ALGS:
        raise PresentationRequestError("request.alg", f"an {prefix[:-1]} request must be signed with ES256/384/512")
    try:
        leaf, key = validate_x5c(header.get("x5c"), anchors, now)
    except ChainError as exc:
        raise PresentationRequestError("request.x5c", f"{exc.reason}: {exc.problem}") from None
    try:
        names = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        dns = names.get_values_for_type(x509.DNSName)
    except x509.ExtensionNotFound:
        dns = []
    if prefix == X509_SAN_DNS:
        host = client_id.removeprefix(X509_SAN_DNS)
        if host not in dns:
            raise PresentationRequestError("request.x5c", f"the certificate does not name {host} (SAN dNSName)")
    else:  # §5.9.3: base64url (unpadded) SHA-256 of the leaf's DER
        if client_id.removeprefix(X509_HASH) != x509_hash(leaf.public_bytes(serialization.Encoding.DER)):
            raise PresentationRequestError("request.x5c", "the certificate is not the one the x509_hash client "
                                                          "identifier names")
        if not dns:
            raise PresentationRequestError("request.x5c", "the certificate names no host (SAN dNSName) to show")
        host = dns[0]
    try:
        ok = verify_jws_signature(token, key, SIGNED_ALGS)
    except JoseError:
        ok = False
    if not ok:
        raise PresentationRequestError("request.signature", "does not verify with the x5c certificate's key")
    return host


def check_request_object(token: str, client_id: str, anchors: Sequence[x509.Certificate],
                         now: dt.datetime, wallet_nonce: str | None = None) -> VerifierRequest:
    """Check the request object fetched for a link with ``client_id`` (``wallet_nonce``: the one the wallet
    POSTed for it, which it must carry) and return what it asks."""
    if not isinstance(token, str) or len(token) > MAX_REQUEST_OBJECT or not token.isascii():
        raise PresentationRequestError("request", "not a request object")
    segments = token.strip().split(".")
    if len(segments) != 3:
        raise PresentationRequestError("request", "not a compact JWT")
    header, claims = _segment(segments[0], "request.header"), _segment(segments[1], "request.payload")
    if header.get("typ") != REQUEST_TYP:
        raise PresentationRequestError("request.typ", f"must be {REQUEST_TYP}")
    certified = ""
    if client_id.startswith((X509_SAN_DNS, X509_HASH)):
        certified = _check_signed(token.strip(), header, client_id, anchors, now)
        verified = True
    elif client_id.startswith(REDIRECT_URI):
        if header.get("alg") != "none" or segments[2]:
            raise PresentationRequestError("request.alg", "a redirect_uri: request must be unsigned (alg none)")
        if claims.get("response_uri") != client_id.removeprefix(REDIRECT_URI):
            raise PresentationRequestError("request.response_uri", "must be the redirect_uri: client id")
        verified = False
    else:
        raise PresentationRequestError("client_id", "only the x509_san_dns:, x509_hash: and redirect_uri: prefixes")
    if claims.get("client_id") != client_id:
        raise PresentationRequestError("request.client_id", "does not match the link's client_id")
    if wallet_nonce is not None and claims.get("wallet_nonce") != wallet_nonce:
        raise PresentationRequestError("request.wallet_nonce", "is not the nonce this wallet sent for it (a "
                                                               "request object made for another fetch)")
    if claims.get("response_type") != "vp_token":
        raise PresentationRequestError("request.response_type", "must be vp_token")
    if claims.get("response_mode") not in RESPONSE_MODES:
        raise PresentationRequestError("request.response_mode", "must be direct_post or direct_post.jwt")
    exp = claims.get("exp")
    if isinstance(exp, int) and not isinstance(exp, bool) and exp <= now.timestamp():
        raise PresentationRequestError("request.exp", "the request has expired")
    for name in ("nonce", "response_uri"):
        if not isinstance(claims.get(name), str) or not claims[name]:
            raise PresentationRequestError(f"request.{name}", "missing")
    try:
        scheme = urlsplit(claims["response_uri"]).scheme
    except ValueError:  # e.g. an unclosed IPv6 literal
        scheme = ""
    if scheme not in ("https", "http"):
        raise PresentationRequestError("request.response_uri", "must be an https URL")
    # From here the request is authenticated (or, redirect_uri:, answers its own client id): what is refused is
    # told to its response_uri as an error response (§8.5), not only to the learner.
    def refuse(field_name: str, problem: str, error: str = "invalid_request") -> RefusedRequest:
        state = claims.get("state")
        return RefusedRequest(field_name, problem, error=error, response_uri=claims["response_uri"],
                              state=state if isinstance(state, str) else None)
    if "redirect_uri" in claims:  # §8.2: with response_uri (direct_post, direct_post.jwt) "MUST return invalid_request"
        raise refuse("request.redirect_uri", "must not be present with response_mode direct_post(.jwt)")
    if "transaction_data" in claims:  # §5: "Wallets that do not support this parameter MUST reject requests [with it]"
        raise refuse("request.transaction_data", "this wallet does not support transaction data")
    kb_algs = _verifier_kb_algs(claims, refuse)
    try:
        query = parse_query(claims.get("dcql_query"), lenient=True)  # another verifier's query: §6 (dcql.py)
    except DcqlError as exc:
        raise PresentationRequestError(f"request.dcql_query.{exc.field}", exc.problem) from None
    if claims["response_mode"] == "direct_post.jwt":
        _encryption_key(claims)  # refuse now, not after the learner chose
    return VerifierRequest(client_id, verified, claims, query, certified, kb_algs)


def _verifier_kb_algs(claims: Mapping[str, Any],
                      refuse: Callable[[str, str, str], RefusedRequest]) -> frozenset[str] | None:
    """The KB-JWT algorithms the verifier's ``client_metadata.vp_formats_supported`` takes for ``dc+sd-jwt``
    (None: it names none, so any); a verifier taking no SD-JWT VC, or none of the algorithms our holder keys
    sign with, is refused with ``vp_formats_not_supported`` (§8.5)."""
    metadata = claims.get("client_metadata")
    formats = metadata.get("vp_formats_supported") if isinstance(metadata, Mapping) else None
    if not isinstance(formats, Mapping):
        return None
    name = "request.client_metadata.vp_formats_supported"
    if SD_JWT not in formats:
        raise refuse(name, f"the verifier takes no {SD_JWT}, the only format this wallet presents",
                     "vp_formats_not_supported")
    entry = formats[SD_JWT]
    listed = entry.get("kb-jwt_alg_values") if isinstance(entry, Mapping) else None
    if listed is None:
        return None
    algs = frozenset(a for a in listed if isinstance(a, str)) if isinstance(listed, list) else frozenset()
    if not algs & set(KB_ALGS):
        raise refuse(f"{name}.{SD_JWT}.kb-jwt_alg_values", f"none of {', '.join(KB_ALGS)}, which the holder keys "
                                                           "sign with", "vp_formats_not_supported")
    return algs


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


def _reaches(disclosed: tuple[str | int, ...], wanted: tuple[str | int | None, ...]) -> bool:
    """Whether a Disclosure at ``disclosed`` is needed to show the claim at ``wanted``: it lies on the way to it
    (a containing object or array element) or inside it."""
    n = min(len(disclosed), len(wanted))
    return all((w is None and isinstance(d, int)) or w == d for d, w in zip(disclosed[:n], wanted[:n], strict=True))


def build_presentation(planned: Planned, key: PrivateKey, *, nonce: str, aud: str, iat: int) -> str:
    """The SD-JWT+KB presenting ``planned.holding`` with the Disclosures of its chosen claim set only (and of the
    objects containing them): §6.4 "MUST NOT send selectively disclosable claims that have not been selected"."""
    holding = planned.holding
    if not same_key(holding.cnf_jwk, key):
        raise PresentationRequestError("credential_id", "the credential is not bound to this holder key")
    paths = [c.path for c in planned.option.claims]  # no claims: the credential only, no Disclosure (§6.4.1)
    kept = tuple(encoded for path, encoded in holding.disclosures if any(_reaches(path, p) for p in paths))
    parts = SdJwtParts(holding.parts.issuer_jwt, kept, None)
    return parts.without_key_binding + key_binding_jwt(parts, key, nonce=nonce, aud=aud, iat=iat, alg=holding.sd_alg)


def disclosed_values(holding: Holding, option: ClaimOption) -> dict[str, list[Any]]:
    """What each claim of ``option`` would show (for the learner to see before sending)."""
    return {c.label(): select(holding.claims, c.path) for c in option.claims}


# --------------------------------------------------------------------------------------------- the answer


def _encryption_key(claims: Mapping[str, Any]) -> tuple[Mapping[str, Any], str]:
    metadata = claims.get("client_metadata")
    jwks = metadata.get("jwks") if isinstance(metadata, Mapping) else None
    keys = jwks.get("keys") if isinstance(jwks, Mapping) else None
    # §8.3: "The JWE alg algorithm used MUST be equal to the alg value of the chosen jwk" (a key without one is
    # taken: the gateways of OpenID4VP drafts sent none)
    usable = [k for k in keys if isinstance(k, Mapping) and k.get("kty") == "EC" and k.get("crv") == "P-256"
              and k.get("use", "enc") == "enc" and k.get("alg", JWE_ALG) == JWE_ALG] if isinstance(keys, list) else []
    if not usable:
        raise PresentationRequestError("request.client_metadata.jwks", f"no P-256 encryption key for {JWE_ALG}")
    offered = metadata.get("encrypted_response_enc_values_supported", ["A128GCM"]) \
        if isinstance(metadata, Mapping) else []
    enc = next((e for e in ENC_PREFERENCE if isinstance(offered, list) and e in offered), None)
    if enc is None:
        raise PresentationRequestError("request.client_metadata.encrypted_response_enc_values_supported",
                                       "none of A128GCM, A256GCM")
    return usable[0], enc


def answer_form(request: VerifierRequest, vp_token: Mapping[str, list[Any]]) -> dict[str, str]:
    """The form to POST to ``response_uri`` carrying ``vp_token`` in the request's response mode."""
    payload: dict[str, Any] = {"vp_token": dict(vp_token)}
    if request.state is not None:
        payload["state"] = request.state
    if request.response_mode != "direct_post.jwt":
        return {"vp_token": json.dumps(payload["vp_token"]), **({"state": request.state} if request.state else {})}
    jwk, enc = _encryption_key(request.claims)
    header = {"alg": JWE_ALG, "enc": enc, **({"kid": jwk["kid"]} if isinstance(jwk.get("kid"), str) else {})}
    try:
        token = jwe.encrypt_compact(header, json.dumps(payload).encode(), ECKey.import_key(dict(jwk)))
    except (JoserfcError, ValueError) as exc:
        raise PresentationRequestError("request.client_metadata.jwks", f"unusable key ({exc})") from None
    return {"response": token}


def error_form(error: str, description: str, state: str | None) -> dict[str, str]:
    """An Authorization Error Response (OpenID4VP §8.5) to POST to ``response_uri``, in the clear in either mode
    (§8.3.1: a wallet "MAY send an error response without encryption")."""
    form = {"error": error, "error_description": description}
    if state is not None:
        form["state"] = state
    return form


def refusal_form(request: VerifierRequest) -> dict[str, str]:
    """The learner declined (OpenID4VP §8.5): ``error=access_denied``."""
    return error_form("access_denied", "the holder declined", request.state)


def continue_to(answer: Any) -> str | None:
    """The page to send the learner's browser to after the verifier took the answer (its ``redirect_uri``, §8.2),
    or None: none given, or not such a page (:func:`~microcred.oid4vp.page_url.page_url_problem`; its fragment
    carries the response code)."""
    uri = answer.get("redirect_uri") if isinstance(answer, Mapping) else None
    if not isinstance(uri, str) or page_url_problem(uri, fragment=True) is not None:
        return None
    return uri
