"""The wallet's outbound HTTP to OpenID4VCI Credential Issuers (httpx), fenced in:

* only the issuers the operator listed (``MICROCRED_WALLET_TRUSTED_ISSUERS``): every URL is checked against them
  before it is called, whatever domain code decided before (:func:`services.wallet.domain.offers.trusted_issuer`);
* no redirects followed (an issuer could otherwise bounce the wallet anywhere);
* a timeout (connect, read, write, pool: ``TIMEOUT_SECONDS``) and a bound on what is read (``MAX_BODY_BYTES``: the
  body is streamed and the read stops past the bound, whatever ``Content-Length`` says; no content coding: asked
  for ``identity``, a gzip/br/zstd answer is refused, see :mod:`~.bounded_http`); JSON parsed with
  :func:`~microcred.sdjwt.jose.strict_json_loads` (bounded depth, no duplicate names);
* TLS verified against the system's CAs, or the PEM file ``MICROCRED_WALLET_ISSUER_TLS_CA_FILE`` (a private CA,
  e.g. the development platform's).

Nothing here logs a URL or a body: offer URIs, codes, tokens and credentials are secrets or personal data.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx

from microcred.oid4vci.signed_metadata import JWT_MEDIA_TYPE
from microcred.sdjwt.jose import JoseError, strict_json_loads
from services.wallet.adapters.bounded_http import EncodedAnswer, TooLarge, read_bounded
from services.wallet.domain.offers import ISSUER_UNAVAILABLE, IssuerReply, OfferError, require_trusted

TIMEOUT_SECONDS = 10.0
MAX_BODY_BYTES = 512 * 1024


class IssuerClient:
    """HTTP to trusted Credential Issuers (see the module docstring)."""

    def __init__(self, trusted: Sequence[str], *, ca_file: Path | None = None,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.trusted = tuple(trusted)
        verify: ssl.SSLContext | bool = True
        if ca_file is not None:
            verify = ssl.create_default_context(cafile=str(ca_file))
        self._http = httpx.AsyncClient(timeout=TIMEOUT_SECONDS, follow_redirects=False, verify=verify,
                                       transport=transport, trust_env=False,
                                       headers={"user-agent": "microcred-wallet", "accept": "application/json"})

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def _call(self, method: str, url: str, **kwargs: Any) -> IssuerReply:
        require_trusted(url, "url", self.trusted)
        try:
            answer = await read_bounded(self._http, method, url, MAX_BODY_BYTES, **kwargs)
        except TooLarge:
            raise OfferError(ISSUER_UNAVAILABLE, f"the issuer's answer is larger than {MAX_BODY_BYTES} bytes") from None
        except EncodedAnswer as exc:
            raise OfferError(ISSUER_UNAVAILABLE, f"the issuer's answer has {exc}") from None
        except httpx.HTTPError as exc:
            raise OfferError(ISSUER_UNAVAILABLE, f"the issuer could not be reached ({type(exc).__name__})") from None
        status, kind, body = answer.status, answer.content_type, answer.body
        parsed: Any = None
        media_type = kind.partition(";")[0].strip().lower()
        if media_type == JWT_MEDIA_TYPE:  # signed metadata, an encrypted answer: the token's text, for the domain
            parsed = body.decode("ascii", "replace").strip()
        elif "json" in kind and body:
            try:
                parsed = strict_json_loads(body)
            except (JoseError, ValueError):
                parsed = None
        # DPoP servers speak through two headers (RFC 9449 §8, §9); bounded as any header the wallet reads
        return IssuerReply(status, parsed, answer.headers.get("dpop-nonce", "")[:1024],
                           answer.headers.get("www-authenticate", "")[:4096], media_type)

    def trust(self, authorization_server: str) -> None:
        """Also call ``authorization_server`` (and what is under it): a trusted issuer's metadata names it
        (``authorization_servers``); the domain checked it is an https identifier. For this client only, which
        serves one learner's request."""
        self.trusted = (*self.trusted, authorization_server)

    async def get(self, url: str, accept: str = "application/json") -> IssuerReply:
        """GET a JSON document (offer, metadata), or signed metadata when ``accept`` asks for it."""
        return await self._call("GET", url, headers={"accept": accept})

    async def post_form(self, url: str, form: Mapping[str, str], dpop: str | None = None) -> IssuerReply:
        """POST a form (token request), with a ``DPoP`` proof header when given."""
        return await self._call("POST", url, data=dict(form), headers={"dpop": dpop} if dpop else {})

    async def post_json(self, url: str, body: Mapping[str, Any] | None, access_token: str | None = None,
                        dpop: str | None = None) -> IssuerReply:
        """POST JSON (nonce, credential, notification), with the access token when given: ``Bearer``, or
        ``DPoP`` with the proof ``dpop`` (RFC 9449 §7.1)."""
        headers = {}
        if access_token:
            headers["authorization"] = f"{'DPoP' if dpop else 'Bearer'} {access_token}"
        if dpop:
            headers["dpop"] = dpop
        if body is None:
            return await self._call("POST", url, headers=headers)
        return await self._call("POST", url, json=dict(body), headers=headers)

    async def post_jwt(self, url: str, token: str, access_token: str, dpop: str | None = None) -> IssuerReply:
        """POST an encrypted (deferred) credential request (``application/jwt``, OpenID4VCI §10), with the
        access token as :meth:`post_json` sends it."""
        headers = {"authorization": f"{'DPoP' if dpop else 'Bearer'} {access_token}", "content-type": JWT_MEDIA_TYPE}
        if dpop:
            headers["dpop"] = dpop
        return await self._call("POST", url, content=token.encode("ascii"), headers=headers)
