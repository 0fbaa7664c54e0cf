"""The issuer as an OpenID Connect relying party of the platform's learner login (issue 20).

With ``MICROCRED_OID4VCI_LOGIN_ISSUER`` set, the OpenID4VCI authorization endpoint signs the learner in here
before it gives a wallet a code (docs/oid4vci.md, "Learner sign-in"). :class:`OidcLearnerLogin` is that
endpoint's :class:`~services.issuer.application.oid4vci_authorization.LearnerLogin`; its parts:

* :func:`new_login` — a fresh login attempt: ``state``, ``nonce`` and a PKCE S256 verifier/challenge, all from
  :mod:`secrets`, and :func:`authorization_url`, the provider's authorization request carrying them.
* :class:`LoginStates` — the attempts in Redis under the SHA-256 of their ``state`` (never the state itself),
  expiring, and taken with ``GETDEL`` so a state is used once across every replica.
* :func:`verify_id_token` — the provider's ID token checked with PyJWT (the JOSE library the wallet's
  :mod:`services.wallet.adapters.auth` already uses): an asymmetric signature by a key of the provider's JWKS,
  then ``iss``, ``aud``, ``exp``/``iat`` (small leeway), ``sub`` and the attempt's ``nonce``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlencode

import jwt

from microcred.crypto.jwks import TOKEN_ALGORITHMS, select_jwks_key
from microcred.lifecycle import RedisClient
from microcred.oid4vci.errors import OAuthError
from microcred.oid4vci.pkce import s256_challenge

# Asymmetric only: a JWKS's public key can then never be taken as an HMAC secret.
ID_TOKEN_ALGORITHMS: tuple[str, ...] = TOKEN_ALGORITHMS
LEEWAY_SECONDS = 30


class LoginRejected(OAuthError):
    """The provider's answer cannot sign the learner in; ``error`` is the OAuth error to give the wallet."""


@dataclass(frozen=True)
class LoginAttempt:
    """One learner sign-in in progress, bound to the wallet's pushed authorization request."""

    state: str
    nonce: str
    code_verifier: str
    #: The pushed request the sign-in completes, without its issuer_state (the offer's secret is not kept for the
    #: sign-in's ten minutes), and the offer that issuer_state named.
    request_json: str
    offer_id: str
    credential_issuer: str  # the identifier the wallet used (the ``iss`` of the redirect back to it, RFC 9207)

    @property
    def code_challenge(self) -> str:
        """The PKCE S256 challenge of :attr:`code_verifier` (RFC 7636 §4.2)."""
        return s256_challenge(self.code_verifier)


def new_login(request_json: str, offer_id: str, credential_issuer: str) -> LoginAttempt:
    """A fresh attempt with unguessable ``state``, ``nonce`` and PKCE verifier (43+ characters, RFC 7636)."""
    return LoginAttempt(secrets.token_urlsafe(32), secrets.token_urlsafe(32), secrets.token_urlsafe(48),
                        request_json, offer_id, credential_issuer)


def authorization_url(endpoint: str, client_id: str, redirect_uri: str, attempt: LoginAttempt) -> str:
    """The provider's authorization request (code flow, ``openid`` scope, PKCE S256, state and nonce)."""
    query = urlencode({
        "response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri, "scope": "openid email",
        "state": attempt.state, "nonce": attempt.nonce,
        "code_challenge": attempt.code_challenge, "code_challenge_method": "S256",
    })
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"


def _state_digest(state: str) -> str:
    return hashlib.sha256(state.encode("utf-8")).hexdigest()


class LoginStates:
    """Sign-in attempts in Redis: kept for ``ttl_seconds``, each taken at most once (``GETDEL``)."""

    def __init__(self, redis: RedisClient, prefix: str, ttl_seconds: int = 600) -> None:
        self._redis, self._p, self._ttl = redis, prefix, ttl_seconds

    def _key(self, state: str) -> str:
        return f"{self._p}:o4i:login:{_state_digest(state)}"

    async def put(self, attempt: LoginAttempt) -> None:
        """Keep an attempt (``NX``: a state is never overwritten)."""
        await self._redis.set(self._key(attempt.state), json.dumps(asdict(attempt)), ex=self._ttl, nx=True)

    async def take(self, state: str) -> LoginAttempt | None:
        """The attempt of a ``state``, removed in the same step; ``None`` if unknown, expired or already used."""
        if not state or len(state) > 200:  # bounded work on hostile input
            return None
        raw = await self._redis.getdel(self._key(state))
        if raw is None:
            return None
        data = json.loads(raw)
        attempt = LoginAttempt(**data)
        # The stored state must be the one presented (defence in depth beyond the digest lookup).
        return attempt if hmac.compare_digest(attempt.state, state) else None


def verify_id_token(token: str, jwks: Mapping[str, Any], issuer: str, client_id: str, nonce: str) -> dict[str, Any]:
    """The claims of a valid ID token (OpenID Connect Core §3.1.3.7); :class:`LoginRejected` otherwise."""
    if len(token) > 16_384:
        raise LoginRejected("access_denied", "the ID token is too large")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise LoginRejected("access_denied", "the ID token is not a JWS") from None
    alg = header.get("alg")
    if alg not in ID_TOKEN_ALGORITHMS:
        raise LoginRejected("access_denied", "the ID token's alg is not an accepted asymmetric algorithm")
    key = select_jwks_key(jwks, header.get("kid"), str(alg))
    if key is None:
        raise LoginRejected("access_denied", "no key of the provider's JWKS matches the ID token")
    try:
        claims: dict[str, Any] = jwt.decode(
            token, key=key, algorithms=[str(alg)], audience=client_id, issuer=issuer, leeway=LEEWAY_SECONDS,
            options={"require": ["iss", "aud", "exp", "iat", "sub", "nonce"]},
        )
    except jwt.MissingRequiredClaimError as exc:
        raise LoginRejected("access_denied", f"the ID token has no {exc.claim} claim") from None
    except jwt.PyJWTError as exc:
        raise LoginRejected("access_denied", f"the ID token is not valid: {type(exc).__name__}") from None
    # More than one audience: azp must then be this client (OpenID Connect Core §3.1.3.7 items 4-5).
    if isinstance(claims.get("aud"), list) and len(claims["aud"]) > 1 and claims.get("azp") != client_id:
        raise LoginRejected("access_denied", "the ID token names other audiences without azp for this client")
    if not isinstance(claims.get("nonce"), str) or not hmac.compare_digest(claims["nonce"], nonce):
        raise LoginRejected("access_denied", "the ID token's nonce is not this sign-in's")
    if not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise LoginRejected("access_denied", "the ID token has no subject")
    return claims
