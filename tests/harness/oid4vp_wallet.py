"""A test OpenID4VP 1.0 wallet, written from the spec (not from the gateway's code): it follows an
``openid4vp://`` link, fetches and checks the request object (RFC 9101; x509_san_dns or x509_hash: the ``x5c``
leaf signs it and names the host as a SAN dNSName, or is the certificate the hash names; redirect_uri: unsigned,
the response_uri is the client id), builds the
presentation the DCQL query asks for and posts it to ``response_uri``.

SD-JWT VC presentations are put together here from RFC 9901: the chosen Disclosures, and a Key Binding JWT
(``typ: kb+jwt``, ``iat``, ``aud`` = client_id, ``nonce``, ``sd_hash`` = base64url SHA-256 of the presentation
up to its last ``~``), signed with pyjwt. ``direct_post.jwt`` answers are JWEs (ECDH-ES, A128GCM by default) to
the key in ``client_metadata.jwks``, made with joserfc. An ``ldp_vp`` is signed with the Data Integrity
signer the tests already use (RDF canonicalisation is not something to rewrite in a test).
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from joserfc import jwe
from joserfc.jwk import ECKey

__all__ = ["FetchedRequest", "TestWallet", "sd_jwt_presentation"]


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_json(segment: str) -> Any:
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


def sd_jwt_presentation(compact: str, holder: ec.EllipticCurvePrivateKey, *, nonce: str, aud: str,
                        withhold: Iterable[str] = (), iat: int | None = None) -> str:
    """An SD-JWT+KB from an issued SD-JWT (``compact``), without the Disclosures of the ``withhold`` claims."""
    parts = compact.split("~")
    issuer_jwt, disclosures = parts[0], [d for d in parts[1:-1] if d]
    hidden = set(withhold)
    kept = [d for d in disclosures if not (len(_b64url_json(d)) == 3 and _b64url_json(d)[1] in hidden)]
    presented = issuer_jwt + "~" + "".join(d + "~" for d in kept)
    sd_hash = _b64url(hashlib.sha256(presented.encode("ascii")).digest())
    kb = jwt.encode({"iat": iat or int(time.time()), "aud": aud, "nonce": nonce, "sd_hash": sd_hash}, holder,
                    algorithm="ES256", headers={"typ": "kb+jwt"})
    return presented + kb


@dataclass
class FetchedRequest:
    """A request object the wallet accepted, and its claims."""

    client_id: str
    claims: dict[str, Any]
    header: dict[str, Any]

    @property
    def nonce(self) -> str:
        return str(self.claims["nonce"])

    @property
    def dcql_query(self) -> dict[str, Any]:
        return dict(self.claims["dcql_query"])


class TestWallet:
    """Answers OpenID4VP requests over HTTP."""

    __test__ = False  # a helper, not a pytest test class

    def __init__(self, http: httpx.AsyncClient, trust_anchor: x509.Certificate | None = None) -> None:
        self.http, self.anchor = http, trust_anchor

    async def fetch(self, link: str, *, wallet_nonce: str | None = None,
                    wallet_metadata: Mapping[str, Any] | None = None) -> FetchedRequest:
        """Follow the link: GET request_uri, or POST there (with ``wallet_nonce`` and ``wallet_metadata`` when
        given) when the link says ``request_uri_method=post`` (§5.10); check the request object (§5, RFC 9101)
        and that it carries back the wallet's nonce."""
        query = parse_qs(urlsplit(link).query)
        client_id, request_uri = query["client_id"][0], query["request_uri"][0]
        if query.get("request_uri_method") == ["post"]:
            form = {"wallet_nonce": wallet_nonce, "wallet_metadata": None if wallet_metadata is None
                    else json.dumps(wallet_metadata)}
            response = await self.http.post(request_uri, data={k: v for k, v in form.items() if v is not None},
                                            headers={"accept": "application/oauth-authz-req+jwt"})
        else:
            assert wallet_nonce is None and wallet_metadata is None, "only a POST carries them"
            response = await self.http.get(request_uri)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("application/oauth-authz-req+jwt")
        token = response.text
        header = _b64url_json(token.split(".")[0])
        assert header["typ"] == "oauth-authz-req+jwt"
        if client_id.startswith(("x509_san_dns:", "x509_hash:")):
            der = base64.b64decode(header["x5c"][0])
            leaf = x509.load_der_x509_certificate(der)
            if self.anchor is not None:  # the chain: here a leaf issued directly by the anchor
                leaf.verify_directly_issued_by(self.anchor)
            if client_id.startswith("x509_hash:"):  # base64url of the leaf DER's SHA-256 (OpenID4VP 1.0 §5.9.3)
                digest = base64.urlsafe_b64encode(hashlib.sha256(der).digest()).rstrip(b"=").decode()
                assert client_id == f"x509_hash:{digest}"
            else:
                sans = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
                assert client_id.removeprefix("x509_san_dns:") in sans.get_values_for_type(x509.DNSName)
            claims = jwt.decode(token, leaf.public_key(), algorithms=["ES256"],  # type: ignore[arg-type]
                                audience="https://self-issued.me/v2")
        else:
            assert client_id.startswith("redirect_uri:") and header["alg"] == "none" and token.endswith(".")
            claims = _b64url_json(token.split(".")[1])
            assert claims["response_uri"] == client_id.removeprefix("redirect_uri:")
        assert claims["client_id"] == client_id and claims["response_type"] == "vp_token"
        assert claims.get("wallet_nonce") == wallet_nonce  # this fetch's, never an older object replayed
        return FetchedRequest(client_id, claims, header)

    async def answer(self, request: FetchedRequest, vp_token: Mapping[str, list[Any]], *, enc: str = "A128GCM",
                     state: str | None = None, tamper: Callable[[dict[str, Any]], None] | None = None
                     ) -> httpx.Response:
        """Post ``vp_token`` in the request's response mode (``state``: override; ``tamper``: edit the form)."""
        payload = {"vp_token": dict(vp_token), "state": state if state is not None else request.claims["state"]}
        form: dict[str, Any]
        if request.claims["response_mode"] == "direct_post.jwt":
            jwk = request.claims["client_metadata"]["jwks"]["keys"][0]
            assert enc in request.claims["client_metadata"]["encrypted_response_enc_values_supported"]
            token = jwe.encrypt_compact({"alg": "ECDH-ES", "enc": enc, "kid": jwk["kid"]},
                                        json.dumps(payload).encode(), ECKey.import_key(jwk))
            form = {"response": token}
        else:
            form = {"vp_token": json.dumps(payload["vp_token"]), "state": payload["state"]}
        if tamper is not None:
            tamper(form)
        return await self.post(request, form)

    async def post(self, request: FetchedRequest, form: Mapping[str, str]) -> httpx.Response:
        """Post a raw form to the request's response_uri."""
        return await self.http.post(request.claims["response_uri"], data=dict(form))

    async def refuse(self, request: FetchedRequest) -> httpx.Response:
        """The learner declined: ``error=access_denied`` (§8.5)."""
        return await self.post(request, {"error": "access_denied", "state": request.claims["state"]})
