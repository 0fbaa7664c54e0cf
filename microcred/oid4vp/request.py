"""OpenID4VP 1.0 authorization requests: client identifiers, the request object (JAR, RFC 9101) and the link.

Three client identifier prefixes (§5.9):

- ``x509_san_dns:<host>`` for production: the request object is signed (ES256) with the key of a platform PKI
  certificate (:func:`microcred.pki.create_signing_cert`) whose SAN holds ``<host>``; its chain travels in
  ``x5c``. A wallet checks the chain and that ``<host>`` is a SAN dNSName of the leaf.
- ``x509_hash:<hash>`` (§5.9.3), the prefix HAIP 1.0 requires of verifiers for signed requests: the same key and
  chain, the client identifier being the base64url SHA-256 of the leaf certificate's DER. A wallet checks that
  hash and the signature (and, by its own policy, the chain).
- ``redirect_uri:<response_uri>`` for development: the spec forbids signing such a request, so the request object
  is an unsecured JWT (``alg: none``, RFC 7519 §6), still served by reference.

The request object is ``typ: oauth-authz-req+jwt`` with ``aud: https://self-issued.me/v2`` (§5.8), and carries
``response_type=vp_token``, ``response_mode`` (``direct_post`` or ``direct_post.jwt``), ``response_uri``,
``nonce``, ``state``, ``dcql_query`` and ``client_metadata`` (the ephemeral encryption key of
``direct_post.jwt`` per HAIP, and the formats the verifier accepts). Pure: keys and times are given.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, get_args
from urllib.parse import urlencode, urlsplit

from cryptography.hazmat.primitives.asymmetric import ec

from microcred.sdjwt.jose import b64url_encode, compact_json, sign_jws

__all__ = [
    "ENC_VALUES", "LINK_SCHEMES", "REQUEST_TYP", "RESPONSE_MODES", "SIOP_AUD", "ClientIdentity", "LinkScheme",
    "PresentationRequest",
    "authorization_link", "build_request", "client_metadata", "encode_request_object", "new_token", "request_object",
    "x509_hash",
]

REQUEST_TYP = "oauth-authz-req+jwt"
SIOP_AUD = "https://self-issued.me/v2"
RESPONSE_MODES = ("direct_post", "direct_post.jwt")
#: Content encryption the verifier accepts for direct_post.jwt (HAIP: A128GCM and A256GCM with ECDH-ES).
ENC_VALUES = ("A128GCM", "A256GCM")
VP_FORMATS: dict[str, Any] = {
    "dc+sd-jwt": {"sd-jwt_alg_values": ["ES256", "ES384", "EdDSA", "Ed25519"],
                  "kb-jwt_alg_values": ["ES256", "ES384", "EdDSA", "Ed25519"]},
    "ldp_vc": {"proof_type_values": ["DataIntegrityProof"], "cryptosuite_values": ["eddsa-rdfc-2022",
                                                                                   "ecdsa-rdfc-2019"]},
}


def x509_hash(leaf_der: bytes) -> str:
    """The ``x509_hash`` client identifier's value for a leaf certificate (§5.9.3): base64url (no padding) of
    the SHA-256 of its DER encoding."""
    return b64url_encode(hashlib.sha256(leaf_der).digest())


def new_token() -> str:
    """An unguessable nonce, state or request id (256 bits from :mod:`secrets`)."""
    return secrets.token_urlsafe(32)


@dataclass(frozen=True)
class ClientIdentity:
    """How the verifier names and proves itself: ``client_id`` with its prefix, and (x509_san_dns) the signing
    key with its certificate chain as base64 DER (leaf first)."""

    client_id: str
    key: ec.EllipticCurvePrivateKey | None = None
    x5c: tuple[str, ...] = ()

    @classmethod
    def x509_san_dns(cls, host: str, key: ec.EllipticCurvePrivateKey, x5c: Sequence[str]) -> ClientIdentity:
        """The production identity: ``x509_san_dns:<host>``, signing with ``key`` under ``x5c``."""
        if not host or "/" in host or ":" in host:
            raise ValueError("x509_san_dns needs a bare DNS host name")
        if not x5c:
            raise ValueError("x509_san_dns needs the certificate chain")
        return cls(f"x509_san_dns:{host}", key, tuple(x5c))

    @classmethod
    def x509_hash(cls, key: ec.EllipticCurvePrivateKey, x5c: Sequence[str]) -> ClientIdentity:
        """The HAIP identity: ``x509_hash:<base64url SHA-256 of the leaf's DER>``, signing with ``key`` under
        ``x5c`` (leaf first)."""
        if not x5c:
            raise ValueError("x509_hash needs the certificate chain")
        return cls(f"x509_hash:{x509_hash(base64.b64decode(x5c[0], validate=True))}", key, tuple(x5c))

    @classmethod
    def redirect_uri(cls, response_uri: str) -> ClientIdentity:
        """The development identity: ``redirect_uri:<response_uri>`` (requests unsigned, per the spec)."""
        if urlsplit(response_uri).scheme not in ("http", "https"):
            raise ValueError("redirect_uri needs an http(s) response URI")
        return cls(f"redirect_uri:{response_uri}")

    @property
    def signed(self) -> bool:
        """Whether request objects are signed (x509_san_dns, x509_hash) or unsecured (redirect_uri)."""
        return self.key is not None


@dataclass(frozen=True)
class PresentationRequest:
    """What the verifier keeps about one request (the request object is built from it)."""

    request_id: str
    client_id: str
    response_uri: str
    response_mode: str
    nonce: str
    state: str
    dcql_query: Mapping[str, Any]
    issued_at: int
    expires_at: int
    encryption_jwk: Mapping[str, Any] | None = None
    """The public ephemeral key a direct_post.jwt response is encrypted to (``kid``, ``use: enc``, ``alg``)."""
    expected_origins: tuple[str, ...] = ()
    """The origins of the pages that may ask a wallet through the Digital Credentials API (:mod:`.dc_api`)."""

    @property
    def encrypted(self) -> bool:
        """Whether answers must come encrypted to :attr:`encryption_jwk` (``direct_post.jwt``, and over the DC API
        ``dc_api.jwt``)."""
        return self.response_mode == "direct_post.jwt"

    def to_dict(self) -> dict[str, Any]:
        """JSON form (as stored)."""
        return {"request_id": self.request_id, "client_id": self.client_id, "response_uri": self.response_uri,
                "response_mode": self.response_mode, "nonce": self.nonce, "state": self.state,
                "dcql_query": dict(self.dcql_query), "issued_at": self.issued_at, "expires_at": self.expires_at,
                "encryption_jwk": dict(self.encryption_jwk) if self.encryption_jwk else None,
                "expected_origins": list(self.expected_origins)}

    @classmethod
    def from_dict(cls, value: Mapping[str, Any]) -> PresentationRequest:
        """Back from :meth:`to_dict` (a record kept before ``expected_origins`` existed has none)."""
        return cls(value["request_id"], value["client_id"], value["response_uri"], value["response_mode"],
                   value["nonce"], value["state"], value["dcql_query"], int(value["issued_at"]),
                   int(value["expires_at"]), value.get("encryption_jwk"), tuple(value.get("expected_origins", ())))


def build_request(*, client_id: str, response_uri: str, response_mode: str, dcql_query: Mapping[str, Any],
                  now: int, lifetime: int, encryption_jwk: Mapping[str, Any] | None = None,
                  request_id: str | None = None, expected_origins: Sequence[str] = ()) -> PresentationRequest:
    """A new request with fresh ``nonce``, ``state`` and (unless given) ``request_id``; direct_post.jwt needs
    ``encryption_jwk``; ``expected_origins``: the pages that may also ask for it over the DC API."""
    if response_mode not in RESPONSE_MODES:
        raise ValueError(f"response_mode must be one of {', '.join(RESPONSE_MODES)}")
    if response_mode == "direct_post.jwt" and not encryption_jwk:
        raise ValueError("direct_post.jwt needs the verifier's encryption key")
    return PresentationRequest(request_id or new_token(), client_id, response_uri, response_mode, new_token(),
                               new_token(), dcql_query, now, now + lifetime, encryption_jwk, tuple(expected_origins))


def client_metadata(request: PresentationRequest) -> dict[str, Any]:
    """The request's ``client_metadata``: the formats this verifier accepts, and (encrypted answers) the
    ephemeral key with the content encryption it takes."""
    metadata: dict[str, Any] = {"vp_formats_supported": VP_FORMATS}
    if request.encryption_jwk is not None:
        metadata["jwks"] = {"keys": [dict(request.encryption_jwk)]}
        metadata["encrypted_response_enc_values_supported"] = list(ENC_VALUES)
    return metadata


def request_object(request: PresentationRequest, identity: ClientIdentity, wallet_nonce: str | None = None) -> str:
    """The request object JWT the wallet fetches at ``request_uri`` (signed with x509_san_dns and x509_hash,
    unsecured with redirect_uri); ``wallet_nonce``: the one a wallet POSTed (§5.10), carried back as is."""
    if identity.client_id != request.client_id:
        raise ValueError("the request belongs to another client identifier")
    claims: dict[str, Any] = {
        "iss": identity.client_id, "aud": SIOP_AUD, "client_id": request.client_id,
        "response_type": "vp_token", "response_mode": request.response_mode, "response_uri": request.response_uri,
        "nonce": request.nonce, "state": request.state, "dcql_query": dict(request.dcql_query),
        "client_metadata": client_metadata(request), "iat": request.issued_at, "exp": request.expires_at,
    }
    if wallet_nonce is not None:
        claims["wallet_nonce"] = wallet_nonce
    return encode_request_object(claims, identity)


def encode_request_object(claims: Mapping[str, Any], identity: ClientIdentity) -> str:
    """``claims`` as a request object JWT (``typ: oauth-authz-req+jwt``): signed under a signed identity with its
    chain in ``x5c``, else unsecured (``alg: none``, an empty signature)."""
    if identity.key is None:
        header = {"alg": "none", "typ": REQUEST_TYP}
        return f"{b64url_encode(compact_json(header))}.{b64url_encode(compact_json(claims))}."
    return sign_jws({"typ": REQUEST_TYP, "x5c": list(identity.x5c)}, claims, identity.key)


#: The wallet-invoking schemes of the request links and QR codes: OpenID4VP's own and HAIP 1.0's (§5.1).
LinkScheme = Literal["openid4vp", "haip-vp"]
LINK_SCHEMES: tuple[LinkScheme, ...] = get_args(LinkScheme)


def authorization_link(client_id: str, request_uri: str, scheme: str = LINK_SCHEMES[0], *,
                       request_uri_method: str = "get") -> str:
    """The ``openid4vp://`` link (and QR code content): ``client_id`` and ``request_uri`` (§5.10), and
    ``request_uri_method=post`` when the wallet is asked to POST there (``get``, the default, is not written)."""
    params = {"client_id": client_id, "request_uri": request_uri}
    if request_uri_method == "post":
        params["request_uri_method"] = "post"
    elif request_uri_method != "get":
        raise ValueError("request_uri_method must be get or post")
    return f"{scheme}://?" + urlencode(params)
