"""DPoP for one redemption in our wallet (RFC 9449; HAIP asks wallets to use it wherever it is offered), pure.

A :class:`DpopSession` holds the redemption's key (fresh per redemption, so two redemptions cannot be linked by
it) and the nonces its servers handed out. A server may demand that proofs carry a nonce it chose: the
authorization server answers the token request 400 ``use_dpop_nonce`` (§8), a resource server (the credential,
deferred and notification endpoints) 401 with ``WWW-Authenticate: DPoP error="use_dpop_nonce"`` (§9); either sends
the nonce in ``DPoP-Nonce``, and may send a fresh one with any answer. The wallet keeps the latest nonce of each
server (the token endpoint's apart from the others, as the two servers' nonces are distinct) and retries a
request once with it.

Written from the RFC, not from our issuer (which asks for no nonce).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping

from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePrivateKey

from services.wallet.domain.issuer_requests import dpop_proof
from services.wallet.domain.offers import IssuerReply

__all__ = ["DpopSession", "challenge_error"]

USE_DPOP_NONCE = "use_dpop_nonce"
# RFC 9449 §8.1: nonce = 1*NQCHAR (%x21 / %x23-5B / %x5D-7E); bounded here (a hostile server's header)
_NONCE = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]{1,512}")
# One item of a WWW-Authenticate header (RFC 9110 §11.6.1): a token alone starts a challenge (its scheme), a
# token = value is a parameter of the current one (value a token or a quoted string, which may hold commas).
_ITEM = re.compile(r'([!#$%&\'*+.^_`|~0-9A-Za-z-]+)(?:[ \t]*=[ \t]*("(?:[^"\\]|\\.)*"|[^\s,]*))?')
MAX_CHALLENGE = 4096


def challenge_error(www_authenticate: str) -> str | None:
    """The ``error`` of the ``DPoP`` challenge in a ``WWW-Authenticate`` header (RFC 9449 §7.1, RFC 6750 §3), if
    any; other schemes' challenges (``Bearer``) are ignored."""
    scheme = ""
    for item in _ITEM.finditer(www_authenticate[:MAX_CHALLENGE]):
        name, value = item.group(1), item.group(2)
        if value is None:
            scheme = name.lower()
        elif scheme == "dpop" and name.lower() == "error":
            return value[1:-1] if value.startswith('"') and len(value) > 1 else value
    return None


class DpopSession:
    """The DPoP key of one redemption and the nonces its servers gave (module docstring); ``key`` None: the
    redemption uses no DPoP (the server offers none, or bound no token to it)."""

    def __init__(self, key: EllipticCurvePrivateKey | None, token_url: str = "") -> None:
        self.key, self.token_url = key, token_url
        self._nonces: dict[str, str] = {}

    def __repr__(self) -> str:  # the key and nonces stay out of any log line
        return f"DpopSession(active={self.key is not None})"

    def _server(self, url: str) -> str:
        return "authorization" if url == self.token_url else "resource"

    def proof(self, url: str, access_token: str | None, now: int) -> str | None:
        """A fresh proof for a POST to ``url`` (with the server's latest nonce), or None without DPoP."""
        if self.key is None:
            return None
        return dpop_proof(self.key, "POST", url, jti=secrets.token_urlsafe(16), iat=now, access_token=access_token,
                          nonce=self._nonces.get(self._server(url)))

    def learn(self, url: str, reply: IssuerReply) -> bool:
        """Keep the nonce ``reply`` carries for ``url``'s server; True when the reply refused the proof for want
        of that nonce (then the request is sent once more)."""
        if self.key is None or not _NONCE.fullmatch(reply.dpop_nonce):
            return False
        server = self._server(url)
        fresh = self._nonces.get(server) != reply.dpop_nonce
        self._nonces[server] = reply.dpop_nonce
        error = reply.body.get("error") if isinstance(reply.body, Mapping) else None
        asked = (reply.status == 400 and error == USE_DPOP_NONCE) or (
            reply.status == 401 and challenge_error(reply.www_authenticate) == USE_DPOP_NONCE)
        return asked and fresh
