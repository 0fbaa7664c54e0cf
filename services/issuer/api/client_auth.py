"""Wallet authentication at the authorization server's PAR and token endpoints (HAIP 1.0: "Wallets MUST use, and
Issuers MUST require, an OAuth2 Client authentication mechanism"; the mechanism it names is wallet attestation,
``attest_jwt_client_auth``, checked by :func:`microcred.oid4vci.client_attestation.check_client_attestation`).

With no wallet-provider trust anchors configured, wallets are public clients as before and attestation headers
are not read. With anchors, a wallet that sends the two headers must pass the check (and its PoP's ``jti`` is
spent once, across replicas); one that sends none is still served unless attestation is required. A ``client_id``
in the form must be the attestation's ``sub``. Every refusal is ``invalid_client``, answered 400 without
``WWW-Authenticate`` (:mod:`.oauth_errors`: RFC 6749 §5.2 has a 401 and a challenge only for a client that
authenticated through the ``Authorization`` header, which these do not).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime

from cryptography import x509

from microcred.oid4vci.client_attestation import (
    ATTESTATION_HEADER,
    AUTH_METHOD,
    POP_HEADER,
    ClientAttestation,
    check_client_attestation,
)
from microcred.oid4vci.errors import OAuthError

__all__ = ["ClientAuthentication"]


class ClientAuthentication:
    """The authorization server's client authentication policy (module docstring)."""

    def __init__(self, anchors: Sequence[x509.Certificate], required: bool,
                 spend: Callable[[str], Awaitable[bool]]) -> None:
        """``spend(jti)``: True the first time a PoP's ``jti`` is seen (the offers' store, shared by replicas)."""
        if required and not anchors:
            raise ValueError("requiring wallet attestation needs the wallet providers' trust anchors")
        self._anchors, self._required, self._spend = tuple(anchors), required, spend

    @property
    def methods(self) -> tuple[str, ...]:
        """``token_endpoint_auth_methods_supported``."""
        if not self._anchors:
            return ("none",)
        return (AUTH_METHOD,) if self._required else (AUTH_METHOD, "none")

    async def check(self, headers: Mapping[str, str], form: Mapping[str, str],
                    authorization_server: str) -> ClientAttestation | None:
        """The wallet's checked attestation, None for a public client; :class:`OAuthError` ``invalid_client``."""
        if not self._anchors:
            return None
        attestation, pop = headers.get(ATTESTATION_HEADER), headers.get(POP_HEADER)
        if attestation is None and pop is None:
            if self._required:
                raise OAuthError("invalid_client", f"this authorization server authenticates wallets by their "
                                 f"attestation ({AUTH_METHOD}): send {ATTESTATION_HEADER} and {POP_HEADER}", 401)
            return None
        if attestation is None or pop is None:
            raise OAuthError("invalid_client", f"{ATTESTATION_HEADER} and {POP_HEADER} go together", 401)
        checked = check_client_attestation(attestation, pop, authorization_server=authorization_server,
                                           anchors=self._anchors, now=datetime.now(UTC))
        if "client_id" in form and form["client_id"] != checked.client_id:
            raise OAuthError("invalid_client", "client_id is not the one the wallet attestation names", 401)
        if not await self._spend(checked.jti):
            raise OAuthError("invalid_client", "this client attestation PoP was used before (jti replayed)", 401)
        return checked
