"""OAuth 2.0 client credentials (RFC 6749 §4.4) for the issuer's REST API, each client bound to one issuer.

A client is registered in a JSON file (``MICROCRED_OAUTH_CLIENTS_FILE``)::

    [{"client_id": "...", "client_secret_sha256": "<hex>", "issuer_id": "...", "agency_id": "..."}]

Only the SHA-256 of the secret is kept. ``POST /oauth2/token`` (``grant_type=client_credentials``, the client
authenticated by HTTP Basic or ``client_id``/``client_secret`` form fields) returns an opaque bearer token valid
for :data:`TOKEN_SECONDS`; the token stands for that client's issuer and agency exactly as a client certificate
with OU ``issuer`` does (the trust registry then decides what the issuer may issue). Tokens live in this
process's memory only: a restart asks clients for a new token, which the standard flow does anyway.
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

__all__ = ["TOKEN_SECONDS", "OAuthClient", "OAuthError", "TokenIssuer", "load_clients"]

TOKEN_SECONDS = 3600
_MAX_TOKENS = 10_000


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


class TokenIssuer:
    """Checks client credentials and issues/resolves bearer tokens (hashes of tokens kept, never tokens)."""

    def __init__(self, clients: Mapping[str, OAuthClient], clock: Callable[[], float] = time.monotonic) -> None:
        self._clients = dict(clients)
        self._tokens: dict[bytes, tuple[OAuthClient, float]] = {}
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
        now = self._clock()
        self._tokens = {k: v for k, v in self._tokens.items() if v[1] > now}
        if len(self._tokens) >= _MAX_TOKENS:
            raise OAuthError("temporarily_unavailable", "too many live tokens; retry later", 503)
        token = secrets.token_urlsafe(32)
        self._tokens[hashlib.sha256(token.encode()).digest()] = (client, now + TOKEN_SECONDS)
        return {"access_token": token, "token_type": "Bearer", "expires_in": TOKEN_SECONDS}

    def resolve(self, authorization: str | None) -> OAuthClient | None:
        """The client a ``Bearer`` Authorization header stands for (None: absent, unknown or expired)."""
        if not authorization or not authorization.startswith("Bearer "):
            return None
        found = self._tokens.get(hashlib.sha256(authorization[7:].strip().encode()).digest())
        if found is None or found[1] <= self._clock():
            return None
        return found[0]

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
