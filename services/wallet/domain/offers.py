"""Our wallet as an OpenID4VCI 1.0 client (issue 20): what its pieces share, without I/O: the grants, the refusal
codes and :class:`OfferError`, an issuer's answer as read (:class:`IssuerReply`), which issuers the wallet trusts
(:class:`MetadataTrust` for their metadata) and an issuer's error answer as a refusal (:func:`issuer_error`).
The HTTP is :mod:`services.wallet.adapters.oid4vci_client`, the order of the calls
:mod:`services.wallet.application.offers`; the rest of the domain logic is in
:mod:`~services.wallet.domain.credential_offer` (the link and the offer it carries),
:mod:`~services.wallet.domain.issuer_metadata` (the issuer's metadata and what this wallet can hold) and
:mod:`~services.wallet.domain.issuer_requests` (the requests of the pre-authorized code flow and the answers).

Written from the specification (OpenID4VCI 1.0 §4.1 offer, §6 token, §7 nonce, §8 credential, §11 notification,
§12.2 metadata, Appendix F.1 ``jwt`` key proof; RFC 8414 for the authorization server metadata), not from our
issuer's code: the wallet must take offers from any conformant issuer it is told to trust.

**Trust (no SSRF).** The wallet calls only Credential Issuers the operator listed
(``MICROCRED_WALLET_TRUSTED_ISSUERS``): a pasted link can make it fetch nothing else. :func:`trusted_issuer`
says which listed issuer a URL belongs to (same scheme, host and port, and a path under the issuer's path);
the offer's ``credential_issuer`` must be a listed identifier exactly, and every endpoint the metadata names must
be on that issuer's origin.

Every refusal is an :class:`OfferError` whose ``code`` the wallet page turns into plain language (English,
Polish, German, French: :mod:`services.wallet.api.offer_text`); the ``detail`` says what exactly, for a developer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509

PRE_AUTHORIZED_GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
AUTHORIZATION_CODE_GRANT = "authorization_code"
OPENID_CREDENTIAL = "openid_credential"  # the authorization details type of OpenID4VCI (§5.1.1)

# Codes the page explains in plain language (api/offer_text.py has one text per code and language).
LINK_INVALID = "OFFER_LINK_INVALID"
ISSUER_NOT_TRUSTED = "OFFER_ISSUER_NOT_TRUSTED"
UNSUPPORTED = "OFFER_UNSUPPORTED"
KEY_ATTESTATION_REQUIRED = "OFFER_KEY_ATTESTATION_REQUIRED"
KEY_UNSUPPORTED = "OFFER_KEY_UNSUPPORTED"
WALLET_ATTESTATION_REQUIRED = "OFFER_WALLET_ATTESTATION_REQUIRED"
GONE = "OFFER_GONE"
TX_CODE_REQUIRED = "OFFER_TX_CODE_REQUIRED"
TX_CODE_WRONG = "OFFER_TX_CODE_WRONG"
TX_CODE_FORMAT = "OFFER_TX_CODE_FORMAT"
ISSUER_REFUSED = "OFFER_ISSUER_REFUSED"
ISSUER_UNAVAILABLE = "OFFER_ISSUER_UNAVAILABLE"
ISSUER_ANSWER_INVALID = "OFFER_ISSUER_ANSWER_INVALID"
CREDENTIAL_REJECTED = "OFFER_CREDENTIAL_REJECTED"


class OfferError(ValueError):
    """A refused offer or a failed redemption: ``code`` for the learner, ``detail`` for a developer."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code, self.detail = code, detail


@dataclass(frozen=True)
class IssuerReply:
    """An issuer's answer as the HTTP adapter read it: status and JSON body (None when the body is not JSON), and
    the two headers DPoP servers speak through (RFC 9449 §8, §9): ``DPoP-Nonce`` and ``WWW-Authenticate``."""

    status: int
    body: Any
    dpop_nonce: str = ""
    www_authenticate: str = ""
    #: ``application/jwt`` (signed metadata: ``body`` is the token's text), else the JSON reading above.
    media_type: str = ""


@dataclass(frozen=True)
class MetadataTrust:
    """How the wallet takes an issuer's metadata (OpenID4VCI §12.2.3, HAIP 1.0 §4.1): with ``anchors`` it asks
    for the signed form and checks it against them (the agencies' document-signing CAs); ``required``: an
    unsigned answer is refused."""

    anchors: tuple[x509.Certificate, ...] = ()
    required: bool = False


# ------------------------------------------------------------------------------------------------ the trust


def normalize_issuer(url: str) -> str:
    """A Credential Issuer identifier without a trailing slash (identifiers are compared as strings, §12.2.1)."""
    return url.rstrip("/")


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = -1
    default = {"https": 443, "http": 80}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), port if port is not None else default


def trusted_issuer(url: str, trusted: Sequence[str]) -> str | None:
    """The listed issuer ``url`` belongs to (same origin, path at or under the issuer's path), else None. A URL
    with user information, a fragment or no host never belongs to one."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises ValueError for a port out of range or not a number)
    except ValueError:
        return None
    if not parts.hostname or parts.username or parts.password or parts.fragment or "\\" in url:
        return None
    for issuer in trusted:
        base = urlsplit(issuer)
        path = base.path.rstrip("/")
        if _origin(url) == _origin(issuer) and (parts.path == path or parts.path.startswith(path + "/")):
            return normalize_issuer(issuer)
    return None


def require_trusted(url: str, field: str, trusted: Sequence[str]) -> str:
    """``url`` if it belongs to a listed issuer, else ``OFFER_ISSUER_NOT_TRUSTED`` naming ``field``."""
    if not isinstance(url, str) or trusted_issuer(url, trusted) is None:
        raise OfferError(ISSUER_NOT_TRUSTED, f"{field}: {str(url)[:200]!r} is not one of this wallet's trusted "
                                             "credential issuers")
    return url


def same_origin(url: str, issuer: str) -> bool:
    """Whether ``url`` is on the issuer's origin (where its endpoints must be)."""
    try:
        parts = urlsplit(url)
        return bool(parts.hostname) and not parts.username and _origin(url) == _origin(issuer)
    except ValueError:
        return False


def well_known(issuer: str, name: str) -> str:
    """``/.well-known/{name}`` inserted between the host and the issuer's path (§12.2.2, RFC 8414 §3.1)."""
    parts = urlsplit(issuer)
    path = parts.path.rstrip("/")
    return f"{parts.scheme}://{parts.netloc}/.well-known/{name}{path}"


def server_metadata_urls(server: str) -> list[str]:
    """Where an authorization server's metadata may be, in the order asked: RFC 8414 §3.1 (well-known path
    inserted), then appended as many servers (Keycloak realms) publish it, then OpenID Connect Discovery
    (``openid-configuration`` appended). Each answer's ``issuer`` must still be ``server``."""
    base = server.rstrip("/")
    found = [well_known(server, "oauth-authorization-server"), f"{base}/.well-known/oauth-authorization-server",
             f"{base}/.well-known/openid-configuration"]
    return list(dict.fromkeys(found))


# -------------------------------------------------------------------------------------------- issuer errors


def issuer_error(stage: str, status: int, body: Any, *, tx_code_sent: bool = False) -> OfferError:
    """An issuer's error answer at ``stage`` (offer, metadata, token, nonce, credential, deferred) as the learner's
    plain-language code. The OAuth ``error`` decides (§6.3, §8.3.1); its ``error_description`` is kept for the
    detail only (issuers word it freely)."""
    error = body.get("error") if isinstance(body, Mapping) else None
    said = body.get("error_description") if isinstance(body, Mapping) else None
    detail = f"{stage}: the issuer answered {status}" + (f" {error}" if isinstance(error, str) else "") + (
        f" ({said[:200]})" if isinstance(said, str) else "")
    if status >= 500 or status in (408, 429):
        return OfferError(ISSUER_UNAVAILABLE, detail)
    if stage == "offer" and status in (404, 410):
        return OfferError(GONE, detail)
    if stage == "token" and error == "invalid_grant":
        return OfferError(TX_CODE_WRONG if tx_code_sent else GONE, detail)
    return OfferError(ISSUER_REFUSED, detail)
