"""The hosts that name this machine, on which plain ``http`` URLs are allowed for development (a wallet's or a
page's redirect target, an issuer's or a verifier's URL on a developer's machine): one definition for every
rule that makes that exception."""

from __future__ import annotations

__all__ = ["LOOPBACK_HOSTS"]

#: As ``urllib.parse.urlsplit(...).hostname`` gives them (lower case, an IPv6 address without brackets).
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
