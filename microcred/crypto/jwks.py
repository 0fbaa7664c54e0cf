"""Picking the key of a provider's JWK set that verifies a JWT (OpenID Connect tokens: learner bearer tokens at
the wallet, ID tokens at the issuer's learner sign-in).

Only asymmetric algorithms are accepted (:data:`TOKEN_ALGORITHMS`), so a public key can never be taken as an
HMAC secret. PyJWT's ``PyJWKClient`` does the same selection but fetches the set itself over HTTP; its callers
here hold the set already (cached, refreshed by their own rules, or read from a file), so only the choice is
written here: signing keys (``use`` absent or ``sig``), the one named by the token's ``kid`` or, without a
``kid``, the set's only signing key, whose algorithm must be the token's ``alg``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jwt

__all__ = ["TOKEN_ALGORITHMS", "select_jwks_key"]

TOKEN_ALGORITHMS: tuple[str, ...] = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384",
                                     "EdDSA")


def select_jwks_key(jwks: Mapping[str, Any], kid: str | None, alg: str) -> jwt.PyJWK | None:
    """The key of ``jwks`` that may verify a token with header ``kid`` and ``alg``, or None."""
    candidates = [k for k in jwks.get("keys", []) if isinstance(k, dict) and k.get("use", "sig") == "sig"]
    if kid is not None:
        candidates = [k for k in candidates if k.get("kid") == kid]
    elif len(candidates) != 1:
        return None
    for candidate in candidates:
        try:
            key = jwt.PyJWK(candidate, algorithm=candidate.get("alg", alg))
        except jwt.PyJWKError:
            continue
        if key.algorithm_name == alg:
            return key
    return None
