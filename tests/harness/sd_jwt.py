"""An accredited did:web issuer signing SD-JWT VCs under a test agency CA, its Token Status List served by a dict,
and the verification ports over both (``tests.verifier_support.World`` holds the registry side)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from microcred import pki
from microcred.sdjwt.issue import IssuedSdJwtVc, IssuerKey, StatusReference, issue_micro_credential
from microcred.sdjwt.x5c import load_certificates, x5c_header
from microcred.status.token_status_list import TokenStatusList, status_list_token
from tests.harness.factories import valid_micro_credential
from tests.verifier_support import World

__all__ = ["HOST", "ISS", "ISSUER_ID", "LIST_URI", "NOW", "SdWorld", "Tokens", "make_world"]

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)  # the test CA is made on the real clock
HOST, ISSUER_ID = "uniz.example", "uni-zed"
ISS = f"https://{HOST}/issuers/{ISSUER_ID}"
LIST_URI = "https://status.uniz.example/token-status/rev-1"


@dataclass
class Tokens:
    """Status List Tokens by URI, as the gateway's source gives them (None: unreachable)."""

    tokens: dict[str, str] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)

    async def get(self, uri: str) -> tuple[str, dt.datetime] | None:
        self.asked.append(uri)
        token = self.tokens.get(uri)
        return None if token is None else (token, NOW)


@dataclass
class SdWorld:
    world: World
    issuer: IssuerKey
    anchors: tuple[x509.Certificate, ...]
    tokens: Tokens
    statuses: TokenStatusList

    def publish(self) -> None:
        self.tokens.tokens[LIST_URI] = status_list_token(self.statuses, uri=LIST_URI, signer=self.issuer,
                                                         now=NOW, ttl=60, lifetime=3600)

    def issue(self, **kwargs: Any) -> IssuedSdJwtVc:
        kwargs.setdefault("status", StatusReference(LIST_URI, 17))
        return issue_micro_credential(kwargs.pop("mc", None) or valid_micro_credential(), issuer=self.issuer,
                                      now=NOW, **kwargs)

    def ports(self, **overrides: Any) -> Any:
        return self.world.ports(**{"x509_anchors": self.anchors, "token_status": self.tokens, **overrides})


def make_world(iss: str = ISS) -> SdWorld:
    ca = pki.create_ca("Agency CA", agency="agency-ie", not_before=NOW - dt.timedelta(days=30))
    cert = pki.create_signing_cert(ca, issuer_uri=iss, common_name="University of Zed",
                                   not_before=NOW - dt.timedelta(days=30))
    key = serialization.load_pem_private_key(cert.key_pem, password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    sd = SdWorld(World(host=HOST, issuer_id=ISSUER_ID), IssuerKey(iss, key, tuple(x5c_header([cert.cert_pem]))),
                 tuple(load_certificates(ca.cert_pem)), Tokens(), TokenStatusList(1024, bits=2))
    sd.publish()
    return sd
