"""A test wallet provider: its CA and signing certificate, and the wallet attestations (OpenID4VCI Appendix E) and
PoPs it and its wallet instances sign, written from the spec for the issuer's client authentication tests."""

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
