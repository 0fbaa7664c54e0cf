"""A test wallet for OpenID4VCI 1.0 (pre-authorized code flow), written from the specification, not from the
server's code: it uses only httpx, PyJWT and cryptography (jwcrypto for encrypted requests and responses, §10).

Flow (§3.5): follow the offer link (``openid-credential-offer://?credential_offer_uri=...``, §4.1.3) to the
Credential Offer; read the Credential Issuer metadata (§12.2.2: ``/.well-known/openid-credential-issuer``) and
the authorization server metadata (RFC 8414); redeem the pre-authorized code at the token endpoint (§6.1,
form-encoded, with ``tx_code`` when asked; with ``dpop_key``, a DPoP proof per RFC 9449); get a ``c_nonce``
from the nonce endpoint (§7); send one key proof
per wanted instance (Appendix F.1: ``typ: openid4vci-proof+jwt``, ES256, ``jwk`` header, ``aud``, ``iat``,
``nonce``) to the credential endpoint (§8); optionally notify (§11).

Authorization code flow (§5, RFC 9126 PAR, RFC 7636 PKCE, RFC 9207 ``iss``): push the authorization request
(``issuer_state`` from the offer's ``authorization_code`` grant, S256 challenge), open the authorization endpoint
with the ``request_uri`` (the wallet plays the browser, without following the redirect), read ``code``, ``state``
and ``iss`` from the redirect and exchange the code with the ``code_verifier``. Deferred issuance (§9): a 202
credential response carries ``transaction_id`` and ``interval``; the wallet asks the deferred credential
endpoint with the same access token.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from joserfc import jws
from joserfc.jwk import OKPKey
from jwcrypto.jwe import JWE
from jwcrypto.jwk import JWK
from jwt.algorithms import ECAlgorithm

PRE_AUTH = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
AUTH_CODE = "authorization_code"


def pkce_pair() -> tuple[str, str]:
    """A fresh (code_verifier, S256 code_challenge) (RFC 7636 §4.1, §4.2)."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode()
    return verifier, challenge


@dataclass
class Authorization:
    """What the wallet keeps between PAR and the token request."""

    client_id: str
    redirect_uri: str
    verifier: str
    state: str
    request_uri: str = ""
    code: str = ""


def public_jwk_of(key: ec.EllipticCurvePrivateKey) -> dict[str, Any]:
    """The public JWK (RFC 7517) of a P-256 key."""
    jwk = ECAlgorithm.to_jwk(key.public_key(), as_dict=True)
    return {k: jwk[k] for k in ("kty", "crv", "x", "y")}


def key_proof(key: ec.EllipticCurvePrivateKey, audience: str, nonce: str | None, *, iat: float | None = None,
              typ: str = "openid4vci-proof+jwt") -> str:
    """An OpenID4VCI ``jwt`` key proof (Appendix F.1)."""
    claims: dict[str, Any] = {"aud": audience, "iat": int(time.time() if iat is None else iat)}
    if nonce is not None:
        claims["nonce"] = nonce
    return jwt.encode(claims, key, algorithm="ES256", headers={"typ": typ, "jwk": public_jwk_of(key)})


def ed25519_proof(key: OKPKey, audience: str, nonce: str, jwk: dict[str, Any] | None = None,
                  alg: str = "EdDSA") -> str:
    """A key proof of an Ed25519 key (``alg`` EdDSA, or RFC 9864's Ed25519), made with joserfc (another JOSE
    library than the PyJWT the issuer checks with); ``jwk``: another key to show in the header than the one that
    signs."""
    header = {"typ": "openid4vci-proof+jwt", "alg": alg, "jwk": jwk or key.as_dict(private=False)}
    claims = {"aud": audience, "iat": int(time.time()), "nonce": nonce}
    return jws.serialize_compact(header, json.dumps(claims).encode(), key, algorithms=[alg])


def dpop_proof(key: ec.EllipticCurvePrivateKey, method: str, url: str, access_token: str | None = None,
               jti: str | None = None) -> str:
    """A DPoP proof (RFC 9449 §4.2): typ dpop+jwt, jwk, jti, htm, htu, iat and, with a token, ath."""
    claims: dict[str, Any] = {"jti": jti or secrets.token_urlsafe(16), "htm": method, "htu": url,
                              "iat": int(time.time())}
    if access_token is not None:
        digest = hashlib.sha256(access_token.encode("ascii")).digest()
        claims["ath"] = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    return jwt.encode(claims, key, algorithm="ES256", headers={"typ": "dpop+jwt", "jwk": public_jwk_of(key)})


@dataclass
class Wallet:
    """One wallet session against one Credential Issuer (``http`` trusts its TLS certificate)."""

    http: httpx.AsyncClient
    keys: list[ec.EllipticCurvePrivateKey] = field(default_factory=list)
    offer: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    as_metadata: dict[str, Any] = field(default_factory=dict)
    access_token: str = ""
    #: With a key, the wallet uses DPoP (a proof per request; the token is bound to this key).
    dpop_key: ec.EllipticCurvePrivateKey | None = None
    last_dpop: str = ""

    def _auth(self, method: str, url: str) -> dict[str, str]:
        if self.dpop_key is None:
            return {"Authorization": f"Bearer {self.access_token}"}
        self.last_dpop = dpop_proof(self.dpop_key, method, url, self.access_token)
        return {"Authorization": f"DPoP {self.access_token}", "DPoP": self.last_dpop}

    async def take_offer(self, link: str) -> dict[str, Any]:
        """Resolve an ``openid-credential-offer://`` link and read both metadata documents."""
        await self.resolve(link)
        await self.discover(self.offer["credential_issuer"])
        return self.offer

    async def resolve(self, link: str) -> dict[str, Any]:
        """Fetch the Credential Offer an ``openid-credential-offer://`` link refers to (``credential_offer_uri``),
        without reading the metadata (a wallet that has it already)."""
        parts = urlsplit(link)
        assert parts.scheme == "openid-credential-offer", link
        [uri] = parse_qs(parts.query)["credential_offer_uri"]
        response = await self.http.get(uri)
        response.raise_for_status()
        self.offer = response.json()
        return self.offer

    async def discover(self, issuer: str) -> None:
        """Read the Credential Issuer's and its authorization server's metadata (a wallet-initiated flow starts
        here, without an offer)."""
        self.metadata = (await self.http.get(f"{issuer}/.well-known/openid-credential-issuer")).json()
        assert self.metadata["credential_issuer"] == issuer
        self.as_metadata = (await self.http.get(f"{issuer}/.well-known/oauth-authorization-server")).json()

    @property
    def issuer(self) -> str:
        """The Credential Issuer identifier (of the offer; in a wallet-initiated flow, of the metadata read)."""
        return str(self.offer["credential_issuer"] if self.offer else self.metadata["credential_issuer"])

    async def token(self, tx_code: str | None = None, code: str | None = None) -> httpx.Response:
        """POST the pre-authorized code (and tx_code) to the token endpoint; keeps the access token."""
        grant = self.offer["grants"][PRE_AUTH]
        form = {"grant_type": PRE_AUTH, "pre-authorized_code": code or grant["pre-authorized_code"]}
        if tx_code is not None:
            form["tx_code"] = tx_code
        url = self.as_metadata["token_endpoint"]
        headers = {} if self.dpop_key is None else {"DPoP": dpop_proof(self.dpop_key, "POST", url)}
        response = await self.http.post(url, data=form, headers=headers)
        if response.status_code == 200:
            self.access_token = response.json()["access_token"]
        return response

    async def push_authorization(self, *, client_id: str = "wallet.example.org",
                                 redirect_uri: str = "https://wallet.example.org/cb", method: str = "S256",
                                 issuer_state: str | None = None, configuration: str | None = None,
                                 dpop_key: ec.EllipticCurvePrivateKey | None = None,
                                 **extra: str) -> tuple[httpx.Response, Authorization]:
        """PAR (RFC 9126 §2.1) for the offer's authorization code grant, asking (``authorization_details``) for
        ``configuration``, else the offer's first; with ``dpop_key``, a DPoP proof by it (the code is then bound
        to it, RFC 9449 §10.1); without an offer (wallet-initiated, after :meth:`discover`) no ``issuer_state``
        is sent. Returns the response and the session."""
        verifier, challenge = pkce_pair()
        state = secrets.token_urlsafe(16)
        grant = self.offer["grants"][AUTH_CODE] if self.offer else {"issuer_state": ""}
        wanted = configuration or self.offer["credential_configuration_ids"][0]
        form = {"response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri,
                "code_challenge": verifier if method == "plain" else challenge, "code_challenge_method": method,
                "state": state, "issuer_state": grant["issuer_state"] if issuer_state is None else issuer_state,
                "authorization_details": json.dumps([{"type": "openid_credential",
                                                      "credential_configuration_id": wanted}]), **extra}
        if not form["issuer_state"]:
            del form["issuer_state"]
        url = self.as_metadata["pushed_authorization_request_endpoint"]
        headers = {} if dpop_key is None else {"DPoP": dpop_proof(dpop_key, "POST", url)}
        response = await self.http.post(url, data=form, headers=headers)
        session = Authorization(client_id, redirect_uri, verifier, state)
        if response.status_code == 201:
            session.request_uri = response.json()["request_uri"]
        return response, session

    async def authorize(self, session: Authorization) -> httpx.Response:
        """Open the authorization endpoint with the request_uri (as the browser would) and read the redirect:
        ``code`` (checked against ``state`` and ``iss``) is kept in the session."""
        response = await self.http.get(self.as_metadata["authorization_endpoint"],
                                       params={"client_id": session.client_id, "request_uri": session.request_uri})
        if response.status_code == 302:
            location, expected = urlsplit(response.headers["location"]), urlsplit(session.redirect_uri)
            assert (location.scheme, location.netloc, location.path) == (expected.scheme, expected.netloc,
                                                                         expected.path)
            query = {k: v[0] for k, v in parse_qs(location.query).items()}
            assert query.get("state") == session.state
            assert query.get("iss") == self.as_metadata["issuer"]  # RFC 9207 mix-up defence
            session.code = query.get("code", "")
        return response

    async def exchange(self, session: Authorization, verifier: str | None = None) -> httpx.Response:
        """The token request of the authorization code grant (RFC 6749 §4.1.3 with the PKCE code_verifier)."""
        form = {"grant_type": AUTH_CODE, "code": session.code, "redirect_uri": session.redirect_uri,
                "client_id": session.client_id, "code_verifier": verifier or session.verifier}
        url = self.as_metadata["token_endpoint"]
        headers = {} if self.dpop_key is None else {"DPoP": dpop_proof(self.dpop_key, "POST", url)}
        response = await self.http.post(url, data=form, headers=headers)
        if response.status_code == 200:
            self.access_token = response.json()["access_token"]
        return response

    async def deferred(self, transaction_id: str) -> httpx.Response:
        """POST a deferred credential request (§9.1)."""
        url = self.metadata["deferred_credential_endpoint"]
        return await self.http.post(url, json={"transaction_id": transaction_id}, headers=self._auth("POST", url))

    async def nonce(self) -> str:
        """A fresh c_nonce."""
        response = await self.http.post(self.metadata["nonce_endpoint"])
        response.raise_for_status()
        assert response.headers.get("cache-control") == "no-store"
        return str(response.json()["c_nonce"])

    async def credential(self, proofs: list[Any], configuration: str | None = None,
                         proof_type: str = "jwt") -> httpx.Response:
        """POST a credential request with ``proofs.<proof_type>`` (``jwt``, ``attestation``, or ``di_vp``: objects)."""
        wanted = configuration or self.offer["credential_configuration_ids"][0]
        url = self.metadata["credential_endpoint"]
        return await self.http.post(url, json={"credential_configuration_id": wanted,
                                               "proofs": {proof_type: proofs}}, headers=self._auth("POST", url))

    async def receive(self, count: int = 1, configuration: str | None = None) -> httpx.Response:
        """New keys, one nonce, ``count`` proofs, one credential request (for ``configuration``, else the offer's
        first: any id of the offer's ``credential_configuration_ids``, e.g. the ``ldp_vc`` one)."""
        if configuration is not None:
            assert not self.offer or configuration in self.offer["credential_configuration_ids"], "not offered"
            assert configuration in self.metadata["credential_configurations_supported"], "not in the metadata"
        nonce = await self.nonce()
        new = [ec.generate_private_key(ec.SECP256R1()) for _ in range(count)]
        self.keys.extend(new)
        return await self.credential([key_proof(k, self.issuer, nonce) for k in new], configuration)

    async def notify(self, notification_id: str, event: str = "credential_accepted") -> httpx.Response:
        """POST to the notification endpoint."""
        url = self.metadata["notification_endpoint"]
        return await self.http.post(url, json={"notification_id": notification_id, "event": event},
                                    headers=self._auth("POST", url))

    async def encrypted(self, endpoint: str, body: dict[str, Any], *, enc: str = "A256GCM",
                        response_enc: str | None = "A128GCM") -> tuple[httpx.Response, dict[str, Any] | None]:
        """§10: POST ``body`` to the metadata's ``endpoint`` (``credential_endpoint``, ``deferred_credential_endpoint``)
        as a JWE to the issuer's ``credential_request_encryption`` key, asking (unless ``response_enc`` is None) for
        the response encrypted to a fresh key of this wallet; returns the response and, when it is an encrypted
        one, its JSON. The JOSE work is jwcrypto's: another implementation than the issuer's joserfc."""
        offered = self.metadata["credential_request_encryption"]
        issuer_key = offered["jwks"]["keys"][0]
        message = dict(body)
        mine = None
        if response_enc is not None:
            mine = JWK.generate(kty="EC", crv="P-256")
            message["credential_response_encryption"] = {
                "jwk": {**json.loads(mine.export_public()), "alg": "ECDH-ES", "kid": "wallet-1"}, "enc": response_enc}
        token = JWE(json.dumps(message).encode(),
                    protected=json.dumps({"alg": issuer_key["alg"], "enc": enc, "kid": issuer_key["kid"]}))
        token.add_recipient(JWK(**issuer_key))
        url = self.metadata[endpoint]
        response = await self.http.post(url, content=token.serialize(compact=True),
                                        headers={**self._auth("POST", url), "content-type": "application/jwt"})
        if mine is None or response.headers.get("content-type") != "application/jwt":
            return response, None
        answer = JWE()
        answer.deserialize(response.text, key=mine)
        assert answer.jose_header["kid"] == "wallet-1" and answer.jose_header["enc"] == response_enc
        return response, json.loads(answer.payload)
