"""OAuth 2.0 client credentials (RFC 6749 §4.4) for the issuer's REST API, each client bound to one issuer.

A client is registered in a JSON file (``MICROCRED_OAUTH_CLIENTS_FILE``)::

    [{"client_id": "...", "client_secret_sha256": "<hex>", "issuer_id": "...", "agency_id": "..."}]

Only the SHA-256 of the secret is kept. ``POST /oauth2/token`` (``grant_type=client_credentials``, the client
authenticated by HTTP Basic or ``client_id``/``client_secret`` form fields) returns an opaque bearer token valid
for :data:`TOKEN_SECONDS`; the token stands for that client's issuer and agency exactly as a client certificate
with OU ``issuer`` does (the trust registry then decides what the issuer may issue).

**Tokens are checked by any replica, with no state.** A token names its client and expiry and carries an HMAC
over them and the client's registered secret digest, under a key every replica derives from the same key-store
seed (:func:`services.issuer.adapters.shared_seed.shared_key`); nothing is stored. Before, tokens lived in one
process's memory, so behind a load balancer a token from one replica was refused by the next. A token stops
working when it expires, when its client leaves the clients file, or when the client's secret changes (the MAC
covers the digest), on every replica alike. Wall-clock time, since replicas compare expiries.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

__all__ = ["TOKEN_KEY_ID", "TOKEN_MAC", "TOKEN_SECONDS", "OAuthClient", "OAuthError", "TokenIssuer", "load_clients"]

TOKEN_SECONDS = 3600
#: The key-store seed the tokens' MAC key is derived from, and the derivation's label.
TOKEN_KEY_ID = "rest-oauth-tokens"
TOKEN_MAC = b"microcred/issuer/rest/oauth-token-mac/v1"
_PREFIX = "mct1"
#: A token is short; anything longer is not one of ours (and is not hashed or split at length).
_MAX_TOKEN_CHARS = 512


@dataclass(frozen=True)
class OAuthClient:
    """A registered client and the issuer it acts for."""

    client_id: str
    secret_sha256: str
    issuer_id: str
    agency_id: str


class OAuthError(Exception):
    """An RFC 6749 §5.2 error (``error`` code, description, HTTP status)."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error, self.description, self.status = error, description, status


def load_clients(path: Path | None) -> dict[str, OAuthClient]:
    """The registered clients by id ({} without a file). Raises ValueError for a malformed file."""
    if path is None:
        return {}
    items = json.loads(path.read_text(encoding="utf-8"))
    clients: dict[str, OAuthClient] = {}
    for i, item in enumerate(items if isinstance(items, list) else []):
        try:
            client = OAuthClient(str(item["client_id"]), str(item["client_secret_sha256"]).lower(),
                                 str(item["issuer_id"]), str(item["agency_id"]))
        except (KeyError, TypeError) as exc:
            raise ValueError(f"{path}: client {i} lacks {exc}") from None
        if len(client.secret_sha256) != 64:
            raise ValueError(f"{path}: client {client.client_id!r}: client_secret_sha256 must be 64 hex digits")
        clients[client.client_id] = client
    return clients


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenIssuer:
    """Checks client credentials and issues/resolves stateless bearer tokens (module docstring)."""

    def __init__(self, clients: Mapping[str, OAuthClient], key: bytes,
                 clock: Callable[[], float] = time.time) -> None:
        """``key``: the MAC key, the same on every replica (at least 32 bytes)."""
        if len(key) < 32:
            raise ValueError("the token MAC key must have at least 32 bytes")
        self._clients = dict(clients)
        self._key = key
        self._clock = clock

    @property
    def enabled(self) -> bool:
        """Whether any client is registered."""
        return bool(self._clients)

    def token(self, form: Mapping[str, str], authorization: str | None) -> dict[str, object]:
        """The token response for a token request (form fields and the Authorization header)."""
        if form.get("grant_type") != "client_credentials":
            raise OAuthError("unsupported_grant_type", "only grant_type=client_credentials is supported")
        client_id, secret = self._credentials(form, authorization)
        client = self._clients.get(client_id)
        digest = hashlib.sha256(secret.encode()).hexdigest()
        # compare even for an unknown client, so timing does not tell which ids exist
        expected = client.secret_sha256 if client is not None else "0" * 64
        if not hmac.compare_digest(digest, expected) or client is None:
            raise OAuthError("invalid_client", "client authentication failed", 401)
        body = ".".join((_PREFIX, _b64(client.client_id.encode()), str(int(self._clock()) + TOKEN_SECONDS),
                         _b64(secrets.token_bytes(16))))
        return {"access_token": f"{body}.{self._mac(body, client)}", "token_type": "Bearer",
                "expires_in": TOKEN_SECONDS}

    def resolve(self, authorization: str | None) -> OAuthClient | None:
        """The client a ``Bearer`` Authorization header stands for (None: absent, malformed, forged, expired,
        or its client gone or its secret changed)."""
        if not authorization or not authorization.startswith("Bearer ") or len(authorization) > _MAX_TOKEN_CHARS:
            return None
        parts = authorization[7:].strip().split(".")
        if len(parts) != 5 or parts[0] != _PREFIX or not parts[2].isdigit():
            return None
        try:
            client = self._clients.get(_unb64(parts[1]).decode())
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return None
        if client is None or not hmac.compare_digest(parts[4], self._mac(".".join(parts[:4]), client)):
            return None
        return client if int(parts[2]) > self._clock() else None

    def _mac(self, body: str, client: OAuthClient) -> str:
        message = f"{body}\n{client.secret_sha256}".encode()
        return _b64(hmac.digest(self._key, message, "sha256"))

    @staticmethod
    def _credentials(form: Mapping[str, str], authorization: str | None) -> tuple[str, str]:
        if authorization and authorization.startswith("Basic "):
            try:
                decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                raise OAuthError("invalid_client", "malformed Basic credentials", 401) from None
            client_id, sep, secret = decoded.partition(":")
            if sep:
                return unquote(client_id), unquote(secret)  # RFC 6749 §2.3.1: form-urlencoded, then Basic
        client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        if not client_id or not secret:
            raise OAuthError("invalid_client", "client credentials are required", 401)
        return client_id, secret
