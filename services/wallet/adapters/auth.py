"""OpenID Connect bearer tokens: who the learner is.

Every learner endpoint needs ``Authorization: Bearer <JWT>``. :class:`TokenVerifier` checks the token's
signature against the provider's JWKS (fetched over HTTP by :class:`HttpJwks` and cached, refetched at once
when a token names an unknown ``kid``, at most every few seconds; or read from a local file by
:class:`FileJwks`), then ``iss``, ``aud``, ``exp``/``nbf``/``iat`` (with a small leeway) and ``sub``. Only
asymmetric algorithms are accepted, so a token can never be "signed" with a public key as an HMAC secret.

Dev login. In ``dev``/``test`` environments :class:`DevTokenMinter` signs tokens with a private JWK set
(``MICROCRED_OIDC_DEV_SIGNING_KEY_FILE``) so the learner page can be used without an identity provider; in
``dev`` with no OIDC settings at all the wallet generates that key set under its data directory and trusts
it. ``prod`` refuses both at start (see :mod:`services.wallet.config`).
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

from microcred.crypto.jwks import TOKEN_ALGORITHMS, select_jwks_key
from services.wallet.config import Settings
from services.wallet.domain.accounts import LearnerClaims
from services.wallet.domain.errors import NotAuthenticated, ProviderUnavailable

ALGORITHMS: tuple[str, ...] = TOKEN_ALGORITHMS
DEV_ISSUER = "urn:microcred:dev-oidc"
DEV_AUDIENCE = "microcred-wallet"


class JwksSource(Protocol):
    """Where the provider's public keys come from."""

    async def keys(self, refresh: bool = False) -> Mapping[str, Any]:
        """The JWKS document; ``refresh`` asks for a fresh copy (a token named an unknown key)."""
        ...


class HttpJwks:
    """A JWKS fetched over HTTP, cached for ``ttl`` seconds; refreshes are rate limited."""

    def __init__(self, url: str, ttl: float = 300.0, min_refresh_interval: float = 5.0,
                 client: httpx.AsyncClient | None = None) -> None:
        self.url, self.ttl, self.min_refresh = url, ttl, min_refresh_interval
        self._client = client or httpx.AsyncClient(timeout=5.0, follow_redirects=False)
        self._cached: Mapping[str, Any] | None = None
        self._fetched_at = 0.0
        self._lock = asyncio.Lock()

    async def keys(self, refresh: bool = False) -> Mapping[str, Any]:
        """The cached key set, fetched when stale or when a refresh is due."""
        async with self._lock:
            age = time.monotonic() - self._fetched_at
            if self._cached is not None and age < self.ttl and not (refresh and age >= self.min_refresh):
                return self._cached
            try:
                response = await self._client.get(self.url, headers={"Accept": "application/json"})
                response.raise_for_status()
                document = response.json()
            except (httpx.HTTPError, ValueError) as exc:
                if self._cached is not None:  # keep serving the last good key set while the provider is down
                    return self._cached
                raise ProviderUnavailable(f"cannot fetch the provider's keys: {type(exc).__name__}") from None
            if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
                raise ProviderUnavailable("the provider's JWKS has no keys list")
            self._cached, self._fetched_at = document, time.monotonic()
            return document

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self._client.aclose()


class FileJwks:
    """A JWKS read from a local file (tests, air-gapped setups); re-read when the file changes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._cached: Mapping[str, Any] | None = None
        self._mtime = -1.0

    async def keys(self, refresh: bool = False) -> Mapping[str, Any]:
        """The file's key set."""
        mtime = self.path.stat().st_mtime
        if self._cached is None or mtime != self._mtime:
            self._cached, self._mtime = public_jwks(json.loads(self.path.read_text())), mtime
        return self._cached


def public_jwks(jwks: Mapping[str, Any]) -> dict[str, Any]:
    """The public half of a JWK set (private members such as ``d`` removed)."""
    private = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}
    return {"keys": [{k: v for k, v in key.items() if k not in private} for key in jwks.get("keys", [])]}


def _scopes(claims: Mapping[str, Any]) -> frozenset[str]:
    scope, scp = claims.get("scope"), claims.get("scp")
    if isinstance(scope, str):
        return frozenset(scope.split())
    return frozenset(s for s in scp if isinstance(s, str)) if isinstance(scp, list) else frozenset()


class TokenVerifier:
    """Checks bearer tokens against the configured provider."""

    def __init__(self, source: JwksSource, issuer: str, audience: str, leeway: int = 30,
                 algorithms: Sequence[str] = ALGORITHMS) -> None:
        self.source, self.issuer, self.audience = source, issuer, audience
        self.leeway, self.algorithms = leeway, tuple(algorithms)

    async def verify(self, token: str) -> LearnerClaims:
        """The learner's claims, or :class:`NotAuthenticated` with the reason."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise NotAuthenticated("malformed bearer token") from None
        alg, kid = header.get("alg"), header.get("kid")
        if alg not in self.algorithms:
            raise NotAuthenticated(f"token algorithm {alg!r} is not accepted")
        key = select_jwks_key(await self.source.keys(), kid, alg)
        if key is None:
            key = select_jwks_key(await self.source.keys(refresh=True), kid, alg)
        if key is None:
            raise NotAuthenticated("token signed by an unknown key")
        try:
            claims = jwt.decode(token, key, algorithms=[alg], audience=self.audience, issuer=self.issuer,
                                leeway=self.leeway, options={"require": ["exp", "iat", "iss", "aud", "sub"]})
        except jwt.PyJWTError as exc:
            raise NotAuthenticated(f"invalid token: {exc}") from None
        sub = claims.get("sub")
        if not isinstance(sub, str) or not sub:
            raise NotAuthenticated("token has no subject")
        email = claims.get("email")
        verified = claims.get("email_verified") in (True, "true")
        return LearnerClaims(sub=sub, provider=self.issuer, email=email if isinstance(email, str) else None,
                             email_verified=verified, scopes=_scopes(claims))


@dataclass(frozen=True)
class DevTokenMinter:
    """Signs learner tokens with a local private key (dev/test only; the key set is also trusted)."""

    private_jwks: Mapping[str, Any]
    issuer: str
    audience: str

    def mint(self, sub: str, email: str | None = None, email_verified: bool = True, scopes: Sequence[str] = (),
             ttl_seconds: int = 3600) -> str:
        """A signed token for ``sub``."""
        jwk = self.private_jwks["keys"][0]
        key = jwt.PyJWK(jwk, algorithm=jwk.get("alg"))
        now = int(time.time())
        claims: dict[str, Any] = {"iss": self.issuer, "aud": self.audience, "sub": sub, "iat": now,
                                  "nbf": now, "exp": now + ttl_seconds}
        if email:
            claims.update(email=email, email_verified=email_verified)
        if scopes:
            claims["scope"] = " ".join(scopes)
        return jwt.encode(claims, key.key, algorithm=key.algorithm_name, headers={"kid": jwk.get("kid", "")})


def generate_private_jwks(kid: str = "dev-1") -> dict[str, Any]:
    """A fresh ES256 private JWK set."""
    jwk = ECAlgorithm.to_jwk(ec.generate_private_key(ec.SECP256R1()), as_dict=True)
    return {"keys": [{**jwk, "kid": kid, "alg": "ES256", "use": "sig"}]}


def _dev_key_file(settings: Settings) -> Path | None:
    if settings.oidc_dev_signing_key_file is not None:
        return settings.oidc_dev_signing_key_file
    if settings.environment != "dev" or settings.oidc_jwks_url or settings.oidc_jwks_file:
        return None
    path = settings.data_dir / "dev-oidc.json"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(generate_private_jwks(), fh)
    return path


def build_auth(settings: Settings) -> tuple[TokenVerifier, DevTokenMinter | None]:
    """The token verifier the settings describe, and the dev minter when the environment allows one."""
    dev_file = _dev_key_file(settings) if settings.is_dev else None
    minter = None
    issuer = settings.oidc_issuer or (DEV_ISSUER if dev_file else None)
    audience = settings.oidc_audience or (DEV_AUDIENCE if dev_file else None)
    if issuer is None or audience is None:
        raise ValueError("set MICROCRED_OIDC_ISSUER and MICROCRED_OIDC_AUDIENCE")
    source: JwksSource
    if settings.oidc_jwks_url:
        source = HttpJwks(settings.oidc_jwks_url, ttl=settings.oidc_jwks_cache_seconds)
    elif settings.oidc_jwks_file is not None:
        source = FileJwks(settings.oidc_jwks_file)
    elif dev_file is not None:
        source = FileJwks(dev_file)
    else:
        raise ValueError("set MICROCRED_OIDC_JWKS_URL (or MICROCRED_OIDC_JWKS_FILE in dev/test)")
    if dev_file is not None:
        minter = DevTokenMinter(json.loads(dev_file.read_text()), issuer, audience)
    return TokenVerifier(source, issuer, audience, settings.oidc_leeway_seconds), minter
