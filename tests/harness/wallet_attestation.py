"""A test wallet provider: its CA and signing certificate, and the wallet attestations (OpenID4VCI Appendix E) and
PoPs it and its wallet instances sign, and the key attestations it signs (Appendix D), written from the spec for the
issuer's client authentication and key attestation tests."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from microcred import pki
from microcred.sdjwt.jose import public_jwk, sign_jws
from microcred.sdjwt.x5c import x5c_header

ATTESTATION_TYP, POP_TYP = "oauth-client-attestation+jwt", "oauth-client-attestation-pop+jwt"
KEY_ATTESTATION_TYP = "key-attestation+jwt"


@dataclass
class WalletProvider:
    """A provider CA, its attestation-signing certificate, and one wallet instance's key."""

    ca: pki.CertifiedKey = field(default_factory=lambda: pki.create_ca(
        "Test Wallet Provider CA", not_before=dt.datetime.now(dt.UTC) - dt.timedelta(days=1)))
    instance: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))

    def __post_init__(self) -> None:
        self.cert = pki.create_signing_cert(self.ca, issuer_uri="https://wallet-provider.example",
                                            common_name="Test Wallet Provider",
                                            not_before=dt.datetime.now(dt.UTC) - dt.timedelta(days=1))
        key = serialization.load_pem_private_key(self.cert.key_pem, password=None)
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        self.key = key

    def attestation(self, client_id: str = "test-wallet", *, lifetime: int = 3600, **claims: Any) -> str:
        """A wallet attestation for this instance's key."""
        now = int(dt.datetime.now(dt.UTC).timestamp())
        body = {"iss": "https://wallet-provider.example", "sub": client_id, "iat": now, "exp": now + lifetime,
                "cnf": {"jwk": public_jwk(self.instance)}, "wallet_name": "Test Wallet", **claims}
        return sign_jws({"typ": ATTESTATION_TYP, "x5c": x5c_header([self.cert.cert_pem])}, body, self.key)

    def pop(self, audience: str, client_id: str = "test-wallet", *, key: ec.EllipticCurvePrivateKey | None = None,
            age: int = 0, **claims: Any) -> str:
        """A PoP for ``audience`` signed by the instance key (or ``key``)."""
        now = int(dt.datetime.now(dt.UTC).timestamp()) - age
        body = {"iss": client_id, "aud": audience, "jti": secrets.token_urlsafe(16), "iat": now, "exp": now + 60,
                **claims}
        return sign_jws({"typ": POP_TYP}, body, key or self.instance)

    def key_attestation(self, keys: list[dict[str, Any]], *, nonce: str | None = None, lifetime: int | None = 3600,
                        key_storage: Any = ("iso_18045_high",), user_authentication: Any = ("iso_18045_high",),
                        typ: str = KEY_ATTESTATION_TYP, **claims: Any) -> str:
        """A key attestation of the public JWKs ``keys`` (``lifetime`` None: no ``exp``; a claim given as None is
        left out)."""
        now = int(dt.datetime.now(dt.UTC).timestamp())
        body: dict[str, Any] = {"iss": "https://wallet-provider.example", "iat": now, "attested_keys": keys,
                                "key_storage": list(key_storage) if isinstance(key_storage, tuple) else key_storage,
                                "user_authentication": list(user_authentication)
                                if isinstance(user_authentication, tuple) else user_authentication}
        if lifetime is not None:
            body["exp"] = now + lifetime
        if nonce is not None:
            body["nonce"] = nonce
        body.update(claims)
        body = {k: v for k, v in body.items() if v is not None}
        return sign_jws({"typ": typ, "x5c": x5c_header([self.cert.cert_pem])}, body, self.key)


def attested_key_proof(key: ec.EllipticCurvePrivateKey, audience: str, nonce: str, attestation: str, *,
                       kid: str | None = None) -> str:
    """A ``jwt`` key proof carrying ``attestation`` in its ``key_attestation`` header, naming its key by ``jwk``, or
    by ``kid`` when given (e.g. its position in ``attested_keys``, as the spec's example does)."""
    header: dict[str, Any] = {"typ": "openid4vci-proof+jwt", "key_attestation": attestation}
    header.update({"kid": kid} if kid is not None else {"jwk": public_jwk(key)})
    return sign_jws(header, {"aud": audience, "iat": int(dt.datetime.now(dt.UTC).timestamp()), "nonce": nonce}, key)
