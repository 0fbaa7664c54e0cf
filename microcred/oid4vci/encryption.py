"""Encrypted credential requests and responses (OpenID4VCI 1.0 §10), for the issuer and for our wallet.

A message is a JWT claims set (the request or response JSON) in a compact JWE, media type ``application/jwt``:
key agreement ``ECDH-ES`` on P-256 (the ``alg`` of the recipient's JWK, which must carry one), content encryption
``A128GCM`` or ``A256GCM`` (the algorithms HAIP 1.0 names for OpenID4VP's encrypted responses,
:data:`microcred.oid4vp.request.ENC_VALUES`: one set for the platform), no compression (``zip`` is neither
offered nor accepted). The JWE names the recipient key's ``kid`` when it has one (§10). joserfc does the JOSE
work; only the choice of algorithms and the checks are here.

The issuer offers both directions (``credential_request_encryption`` with its public key,
``credential_response_encryption``); a wallet that wants an encrypted response must encrypt its request, so that
the response key it sends cannot be swapped (§8.2). Errors are ``invalid_encryption_parameters`` (§8.3.1.2), or
``invalid_credential_request`` for a request that decrypts to something other than a JSON object.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from cryptography.hazmat.primitives.asymmetric import ec
from joserfc import jwe
from joserfc.errors import JoseError as JoseRfcError
from joserfc.jwk import ECKey

from microcred.oid4vci.errors import INVALID_CREDENTIAL_REQUEST, INVALID_ENCRYPTION_PARAMETERS, OAuthError
from microcred.oid4vci.signed_metadata import JWT_MEDIA_TYPE
from microcred.oid4vp.request import ENC_VALUES
from microcred.sdjwt.jose import JoseError, b64url_decode, public_jwk, strict_json_loads

__all__ = [
    "ALG", "ENC_VALUES", "JWT_MEDIA_TYPE", "MAX_JWE", "EncryptionKey", "RequestKeys", "ResponseEncryption",
    "decrypt_message", "decrypt_request", "encrypt_message", "read_response_encryption", "request_encryption_metadata",
    "response_encryption_metadata",
]

ALG = "ECDH-ES"
#: Bound on an encrypted message (a batch of credentials in a response is the largest).
MAX_JWE = 2 * 1024 * 1024


@dataclass(frozen=True)
class EncryptionKey:
    """A P-256 key-agreement key and its public JWK as metadata and requests carry it: ``kid`` (its RFC 7638
    thumbprint), ``use`` ``enc``, ``alg`` ECDH-ES."""

    private: ec.EllipticCurvePrivateKey
    jwk: Mapping[str, Any]

    def __repr__(self) -> str:  # never the private key
        return f"EncryptionKey(kid={self.kid!r})"

    @property
    def kid(self) -> str:
        """The key's ``kid``."""
        return str(self.jwk["kid"])

    @classmethod
    def of(cls, private: ec.EllipticCurvePrivateKey) -> EncryptionKey:
        """``private`` with its public JWK."""
        public = public_jwk(private)
        return cls(private, {**public, "kid": ECKey.import_key(public).thumbprint(), "use": "enc", "alg": ALG})

    @classmethod
    def fresh(cls) -> EncryptionKey:
        """A new key (a wallet's, for one response)."""
        return cls.of(ec.generate_private_key(ec.SECP256R1()))

    def current(self) -> EncryptionKey:
        """Itself: one key that never rotates is a :class:`RequestKeys` too."""
        return self

    def accepted(self) -> Sequence[EncryptionKey]:
        """Itself alone."""
        return (self,)


class RequestKeys(Protocol):
    """The keys an issuer takes encrypted credential requests to: the one its metadata lists now, and any it listed
    recently enough that a wallet holding that metadata may still encrypt to it (a rotation's previous key)."""

    def current(self) -> EncryptionKey:
        """The key the metadata lists now."""
        ...

    def accepted(self) -> Sequence[EncryptionKey]:
        """Every key a request may be encrypted to, the current one first."""
        ...


def request_encryption_metadata(issuer_jwk: Mapping[str, Any], required: bool) -> dict[str, Any]:
    """The issuer metadata's ``credential_request_encryption`` (§12.2.4) for the issuer's key ``issuer_jwk``."""
    return {"jwks": {"keys": [dict(issuer_jwk)]}, "enc_values_supported": list(ENC_VALUES),
            "encryption_required": required}


def response_encryption_metadata(required: bool) -> dict[str, Any]:
    """The issuer metadata's ``credential_response_encryption`` (§12.2.4)."""
    return {"alg_values_supported": [ALG], "enc_values_supported": list(ENC_VALUES), "encryption_required": required}


@dataclass(frozen=True)
class ResponseEncryption:
    """How a response is to be encrypted: to ``jwk`` (public, P-256, ``alg`` ECDH-ES) with ``enc``."""

    jwk: Mapping[str, Any]
    enc: str


def _problem(description: str) -> OAuthError:
    return OAuthError(INVALID_ENCRYPTION_PARAMETERS, description)


def read_response_encryption(value: Any) -> ResponseEncryption:
    """A request's ``credential_response_encryption`` (§8.2), checked so that encrypting the response cannot fail
    after the credential is made: a public P-256 JWK whose ``alg`` is ECDH-ES, an ``enc`` offered, no ``zip``."""
    if not isinstance(value, Mapping):
        raise _problem("credential_response_encryption: not an object")
    jwk, enc = value.get("jwk"), value.get("enc")
    if "zip" in value:
        raise _problem("credential_response_encryption.zip: this issuer compresses no responses")
    if enc not in ENC_VALUES:
        raise _problem(f"credential_response_encryption.enc: one of {', '.join(ENC_VALUES)}")
    if not isinstance(jwk, Mapping) or jwk.get("alg") != ALG:
        raise _problem(f"credential_response_encryption.jwk: a JWK with alg {ALG} is needed")
    if jwk.get("kty") != "EC" or jwk.get("crv") != "P-256" or "d" in jwk:
        raise _problem("credential_response_encryption.jwk: a public EC P-256 key is needed")
    if "kid" in jwk and not isinstance(jwk["kid"], str):
        raise _problem("credential_response_encryption.jwk.kid: not a string")
    try:
        ECKey.import_key({k: jwk[k] for k in ("kty", "crv", "x", "y")})
    except (JoseRfcError, ValueError, TypeError, KeyError) as exc:
        raise _problem("credential_response_encryption.jwk: not a P-256 public key") from exc
    return ResponseEncryption(dict(jwk), str(enc))


def encrypt_message(payload: Mapping[str, Any], jwk: Mapping[str, Any], enc: str) -> str:
    """``payload`` as a compact JWE to the public ``jwk`` (its ``alg``, its ``kid`` when it has one)."""
    header: dict[str, Any] = {"alg": jwk.get("alg", ALG), "enc": enc, "typ": "JWT"}
    if isinstance(jwk.get("kid"), str):
        header["kid"] = jwk["kid"]
    key = ECKey.import_key({k: jwk[k] for k in ("kty", "crv", "x", "y")})
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    return jwe.encrypt_compact(header, body, key, algorithms=[ALG, *ENC_VALUES])


def decrypt_request(token: Any, keys: RequestKeys, what: str = "credential request") -> dict[str, Any]:
    """The JSON object of a request encrypted to one of ``keys``: the one its JWE header's ``kid`` names (§10: a
    wallet names the key it chose), the current one when it names none. A ``kid`` naming no key taken (retired by
    a rotation, or never this issuer's) is refused by name before any key agreement."""
    if not isinstance(token, str) or not token or len(token) > MAX_JWE:
        raise _problem(f"{what}: not a compact JWE of at most {MAX_JWE} bytes")
    # only the header's kid is read here, to choose the key; joserfc reads and checks the whole JWE after
    try:
        header = strict_json_loads(b64url_decode(token.strip().split(".", 1)[0]))
    except (JoseError, ValueError) as exc:
        raise _problem(f"{what}: not a compact JWE (its protected header is not base64url JSON)") from exc
    kid = header.get("kid") if isinstance(header, dict) else None
    if not isinstance(header, dict) or (kid is not None and not isinstance(kid, str)):
        raise _problem(f"{what}: the JWE's protected header must be an object, its kid a string")
    accepted = keys.accepted()
    key = accepted[0] if kid is None else next((k for k in accepted if k.kid == kid), None)
    if key is None:
        raise _problem(f"{what}: encrypted to a key this issuer does not take (kid {str(kid)[:64]!r}: retired by a "
                       "rotation, or not this issuer's); read the Credential Issuer Metadata again")
    return decrypt_message(token, key.private, key.kid, what)


def decrypt_message(token: Any, key: ec.EllipticCurvePrivateKey, kid: str | None, what: str,
                    bad_payload: str = INVALID_CREDENTIAL_REQUEST) -> dict[str, Any]:
    """The JSON object a compact JWE to ``key`` carries. Anything but ECDH-ES with A128GCM or A256GCM is refused
    before any key agreement; so is a ``kid`` other than ``kid`` and a ``zip``. ``what`` names the message in
    errors: ``invalid_encryption_parameters``, or ``bad_payload`` when it decrypts to something else than JSON."""
    if not isinstance(token, str) or not token or len(token) > MAX_JWE:
        raise _problem(f"{what}: not a compact JWE of at most {MAX_JWE} bytes")
    try:
        decrypted = jwe.decrypt_compact(token.strip(), ECKey.import_key(key), algorithms=[ALG, *ENC_VALUES])
    except (JoseRfcError, ValueError, TypeError, KeyError) as exc:
        raise _problem(f"{what}: cannot be decrypted ({type(exc).__name__}); ECDH-ES with "
                       f"{' or '.join(ENC_VALUES)}, uncompressed, to the key named") from exc
    header = decrypted.protected
    if header.get("alg") != ALG or header.get("enc") not in ENC_VALUES or "zip" in header:
        raise _problem(f"{what}: alg must be {ALG}, enc {' or '.join(ENC_VALUES)}, and nothing compressed")
    if kid is not None and header.get("kid", kid) != kid:
        raise _problem(f"{what}: encrypted to another key (kid)")
    try:
        payload = strict_json_loads(decrypted.plaintext or b"")
    except (JoseError, ValueError) as exc:
        raise OAuthError(bad_payload, f"{what}: the decrypted payload is not JSON") from exc
    if not isinstance(payload, dict):
        raise OAuthError(bad_payload, f"{what}: the decrypted payload is not a JSON object")
    return payload
