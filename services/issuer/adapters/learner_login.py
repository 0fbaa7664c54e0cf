"""The platform's learner login, as the issuer's OpenID4VCI authorization endpoint uses it (issue 20).

:class:`ProviderClient` talks to the OpenID Connect provider: its discovery document (cached), its token endpoint
(the authorization code exchange, ``client_secret_basic`` and the PKCE verifier) and its key set. These are
three plain HTTP requests, written over httpx here rather than through an OAuth client library: the part that
needs care, the ID token's checks, is PyJWT's (:func:`.oidc_login.verify_id_token`), and the rest is one form
POST. Answers are size-bounded and time-bounded, so a slow or hostile provider cannot hold a worker.

:class:`OidcLearnerLogin` joins it to the sign-in attempts (:class:`.oidc_login.LoginStates`): it is the
:class:`~services.issuer.application.oid4vci_authorization.LearnerLogin` port.
"""

from __future__ import annotations

import hmac
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from microcred.credential.jsontext import parse
from microcred.crypto.keystore import resolve_service_kek
from microcred.lifecycle import RedisClient
from services.issuer.adapters.oidc_login import (
    LoginAttempt,
    LoginRejected,
    LoginStates,
    authorization_url,
    new_login,
    verify_id_token,
)
from services.issuer.application.oid4vci_authorization import SignedInLearner
from services.issuer.config import Settings

__all__ = ["OidcLearnerLogin", "ProviderClient", "ProviderSettings", "learner_index_key", "learner_login"]

MAX_ANSWER_BYTES = 64 * 1024
_UNAVAILABLE = "temporarily_unavailable"  # RFC 6749 §4.1.2.1: the provider could not be used just now


@dataclass(frozen=True)
class ProviderSettings:
    """Who the provider is and who the issuer is to it."""

    issuer: str
    client_id: str
    client_secret: str
    verify: ssl.SSLContext | bool = True  # the provider's TLS trust (a CA file's context, or the system's)
    timeout_seconds: float = 5.0
    metadata_seconds: float = 300.0


def _same_origin_https(url: str, issuer: str) -> bool:
    """An endpoint the discovery document may name: https, or http on a loopback host like the issuer."""
    parts, origin = urlsplit(url), urlsplit(issuer)
    return parts.scheme == "https" or (parts.scheme == origin.scheme == "http" and parts.hostname == origin.hostname)


class ProviderClient:
    """The provider's discovery document, token endpoint and key set (see the module docstring)."""

    def __init__(self, settings: ProviderSettings, http: httpx.AsyncClient | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._s, self._clock = settings, clock
        self._http = http or httpx.AsyncClient(verify=settings.verify, timeout=settings.timeout_seconds,
                                               follow_redirects=False)
        self._metadata: dict[str, Any] | None = None
        self._fetched = 0.0

    @property
    def issuer(self) -> str:
        """The provider's issuer identifier (what its ID tokens' ``iss`` must be)."""
        return self._s.issuer

    @property
    def client_id(self) -> str:
        """The issuer service's client id at the provider."""
        return self._s.client_id

    async def _json(self, method: str, url: str, **kwargs: Any) -> tuple[int, dict[str, Any]]:
        try:
            async with self._http.stream(method, url, **kwargs) as response:
                body = b""
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > MAX_ANSWER_BYTES:
                        raise LoginRejected(_UNAVAILABLE, "the login provider's answer is too large")
                status = response.status_code
        except httpx.HTTPError as exc:
            raise LoginRejected(_UNAVAILABLE, f"the login provider cannot be reached ({type(exc).__name__})") from None
        try:
            document = parse(body)
        except ValueError:
            document = None
        if not isinstance(document, dict):
            raise LoginRejected(_UNAVAILABLE, f"the login provider answered {status} without a JSON object")
        return status, document

    async def metadata(self) -> dict[str, Any]:
        """The discovery document (OpenID Connect Discovery §4), cached; its ``issuer`` must be the configured one
        and its endpoints https (or http on the issuer's own loopback host)."""
        if self._metadata is not None and self._clock() - self._fetched < self._s.metadata_seconds:
            return self._metadata
        status, document = await self._json("GET", self._s.issuer.rstrip("/") + "/.well-known/openid-configuration")
        if status != 200 or document.get("issuer") != self._s.issuer:
            raise LoginRejected(_UNAVAILABLE, "the login provider's discovery document is not its own")
        for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            if not isinstance(document.get(name), str) or not _same_origin_https(document[name], self._s.issuer):
                raise LoginRejected(_UNAVAILABLE, f"the login provider's {name} is missing or not https")
        self._metadata, self._fetched = document, self._clock()
        return document

    async def exchange(self, code: str, verifier: str, redirect_uri: str) -> str:
        """The ID token for an authorization code (OpenID Connect Core §3.1.3)."""
        metadata = await self.metadata()
        status, answer = await self._json("POST", metadata["token_endpoint"], data={
            "grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
            "code_verifier": verifier}, auth=(self._s.client_id, self._s.client_secret),
            headers={"Accept": "application/json"})
        if status != 200 or not isinstance(answer.get("id_token"), str):
            # the provider's own error code is not the wallet's business; it is a failed sign-in
            raise LoginRejected("access_denied", f"the login provider refused the code ({status})")
        return str(answer["id_token"])

    async def jwks(self) -> dict[str, Any]:
        """The provider's key set, read per sign-in (sign-ins are few; a rotated key is then seen at once)."""
        status, document = await self._json("GET", (await self.metadata())["jwks_uri"])
        if status != 200 or not isinstance(document.get("keys"), list):
            raise LoginRejected(_UNAVAILABLE, "the login provider's key set cannot be read")
        return document

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self._http.aclose()


class OidcLearnerLogin:
    """Sign-in attempts kept in Redis and completed at the provider (the application's ``LearnerLogin``)."""

    def __init__(self, states: LoginStates, provider: ProviderClient, callback_url: Callable[[], str]) -> None:
        """``callback_url``: this issuer's ``/oid4vci/login/callback`` (registered at the provider)."""
        self._states, self._provider, self._callback = states, provider, callback_url

    async def begin(self, request_json: str, offer_id: str, credential_issuer: str) -> str:
        """Keep a new attempt for the pushed request and answer the provider's authorization URL."""
        attempt = new_login(request_json, offer_id, credential_issuer)
        endpoint = (await self._provider.metadata())["authorization_endpoint"]
        await self._states.put(attempt)
        return authorization_url(endpoint, self._provider.client_id, self._callback(), attempt)

    async def take(self, state: str) -> LoginAttempt | None:
        """The attempt a callback's ``state`` names, once."""
        return await self._states.take(state)

    async def learner(self, attempt: LoginAttempt, answer: Mapping[str, str]) -> SignedInLearner:
        """Who signed in, from the provider's authorization response (RFC 6749 §4.1.2, RFC 9207 ``iss``);
        :class:`LoginRejected` when nobody did."""
        if "iss" in answer and not hmac.compare_digest(answer["iss"], self._provider.issuer):
            raise LoginRejected("access_denied", "the authorization response is from another provider (iss)")
        if "error" in answer:
            raise LoginRejected("access_denied", "the learner did not sign in at the login provider")
        code = answer.get("code", "")
        if not code or len(code) > 2048:
            raise LoginRejected("access_denied", "the login provider sent no code")
        id_token = await self._provider.exchange(code, attempt.code_verifier, self._callback())
        claims = verify_id_token(id_token, await self._provider.jwks(), self._provider.issuer,
                                 self._provider.client_id, attempt.nonce)
        email = claims.get("email")
        verified = claims.get("email_verified") is True and isinstance(email, str)
        return SignedInLearner(subject=str(claims["sub"]), verified_email=str(email) if verified else "")

    async def aclose(self) -> None:
        """Close the provider client."""
        await self._provider.aclose()


def learner_login(settings: Settings, redis: RedisClient,
                  issuer_url: Callable[[], str | None]) -> OidcLearnerLogin | None:
    """The learner login the settings configure (None without ``MICROCRED_OID4VCI_LOGIN_ISSUER``); its callback
    is ``<Credential Issuer>/oid4vci/login/callback``."""
    if settings.oid4vci_login_issuer is None or settings.oid4vci_login_client_secret_file is None:
        return None
    secret = settings.oid4vci_login_client_secret_file.read_text(encoding="utf-8").strip()
    verify: ssl.SSLContext | bool = True
    if settings.oid4vci_login_ca_file is not None:
        verify = ssl.create_default_context(cafile=str(settings.oid4vci_login_ca_file))
    provider = ProviderClient(ProviderSettings(settings.oid4vci_login_issuer, settings.oid4vci_login_client_id,
                                               secret, verify))
    return OidcLearnerLogin(LoginStates(redis, settings.issuer_redis_prefix), provider,
                            lambda: f"{issuer_url() or ''}/oid4vci/login/callback")


def learner_index_key(settings: Settings) -> bytes:
    """The HMAC key of the offers' learner index: derived (HKDF-SHA256, its own ``info``) from the service's
    key-encryption key, which every replica already shares, so no further secret is configured. A new KEK files
    new offers under new hashes; offers filed before stay redeemable through their own ``issuer_state``."""
    kek = resolve_service_kek(settings.data_dir, settings.environment, settings.kek_file)
    return HKDF(hashes.SHA256(), 32, salt=None, info=b"microcred issuer: OpenID4VCI offers by learner").derive(kek)
