"""PKCE S256 (RFC 7636), as HAIP 1.0 requires for the authorization code flow.

Only ``S256`` is accepted (``plain`` is refused, HAIP §5). A ``code_verifier`` is 43..128 characters of
``[A-Za-z0-9-._~]`` (RFC 7636 §4.1); the ``code_challenge`` is ``BASE64URL(SHA256(ASCII(code_verifier)))`` without
padding (§4.2), compared in constant time. Hand-written because it is three lines of hashing: neither pyjwt nor
joserfc exposes a PKCE helper, and the check must raise our OAuth error codes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

from microcred.oid4vci.errors import INVALID_GRANT, INVALID_REQUEST, OAuthError

__all__ = ["S256", "check_challenge", "s256_challenge", "verify"]

S256 = "S256"
_VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")
# A challenge is the unpadded base64url of 32 bytes: exactly 43 characters.
_CHALLENGE = re.compile(r"[A-Za-z0-9\-_]{43}")


def s256_challenge(code_verifier: str) -> str:
    """The S256 ``code_challenge`` of a ``code_verifier`` (RFC 7636 §4.2)."""
    hashed = hashlib.sha256(code_verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(hashed).rstrip(b"=").decode("ascii")


def check_challenge(code_challenge: str | None, method: str | None) -> str:
    """Check the ``code_challenge`` of an authorization (or PAR) request; return it.

    Raises ``invalid_request`` when it is missing, malformed, or its method is not ``S256``.
    """
    if method != S256:
        raise OAuthError(INVALID_REQUEST, "code_challenge_method must be S256")
    if not isinstance(code_challenge, str) or not _CHALLENGE.fullmatch(code_challenge):
        raise OAuthError(INVALID_REQUEST, "code_challenge must be 43 base64url characters (S256)")
    return code_challenge


def verify(code_verifier: str | None, code_challenge: str) -> None:
    """Check the token request's ``code_verifier`` against the kept ``code_challenge``.

    A missing or malformed verifier is ``invalid_request``; one that does not match is ``invalid_grant``
    (RFC 7636 §4.6).
    """
    if not isinstance(code_verifier, str) or not _VERIFIER.fullmatch(code_verifier):
        raise OAuthError(INVALID_REQUEST, "code_verifier must be 43..128 characters of [A-Za-z0-9-._~]")
    if not hmac.compare_digest(s256_challenge(code_verifier), code_challenge):
        raise OAuthError(INVALID_GRANT, "code_verifier does not match the code_challenge")
