"""Our wallet as an OpenID4VP 1.0 responder (issue 21), pure logic, no I/O: the link and the request object, and
what the wallet's other OpenID4VP modules share (the errors, the verifier's accepted :class:`VerifierRequest`,
how an answer is encrypted). Matching the learner's credentials and planning the answer are
:mod:`~services.wallet.domain.oid4vp_matching`; building the presentations and the forms posted to the verifier,
:mod:`~services.wallet.domain.oid4vp_answers`.

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
* :func:`answer_encryption`: for ``direct_post.jwt``, the request's ``client_metadata.jwks`` key (ECDH-ES) and
  content encryption; a request without a usable one is refused before the learner chooses.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from microcred.oid4vp.dcql import SD_JWT, DcqlError, DcqlQuery, parse_query
from microcred.oid4vp.request import x509_hash
from microcred.sdjwt.jose import JoseError, b64url_decode, strict_json_loads, verify_jws_signature
from microcred.sdjwt.x5c import ChainError, validate_x5c

__all__ = [
    "KB_ALGS", "Link", "PresentationRequestError", "RefusedRequest", "VerifierRequest", "answer_encryption",
    "check_request_object", "parse_link", "wallet_metadata",
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
    if "request" in query:  # named before request_uri is missed: a request object by value (§5.1, RFC 9101)
        raise PresentationRequestError("link.request", "requests by value are not accepted, only request_uri")
    found: dict[str, str] = {}
    for name in ("client_id", "request_uri"):
        values = query.get(name, [])
        if len(values) != 1 or not values[0]:
            raise PresentationRequestError(f"link.{name}", "missing, or given more than once")
        found[name] = values[0]
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
        answer_encryption(claims)  # refuse now, not after the learner chose
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


# --------------------------------------------------------------------------------------------- the answer


def answer_encryption(claims: Mapping[str, Any]) -> tuple[Mapping[str, Any], str]:
    """How an answer to the request with ``claims`` is encrypted (``direct_post.jwt``): the verifier's
    ``client_metadata.jwks`` key for :data:`JWE_ALG` and the content encryption of :data:`ENC_PREFERENCE` it
    takes."""
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

