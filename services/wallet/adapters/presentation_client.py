"""The wallet's outbound HTTP to OpenID4VP verifiers: fetch a request object, post an answer.

These are the only calls the wallet makes to a party it does not know in advance (the ``request_uri`` and
``response_uri`` come from a link the learner pasted), so they are fenced in:

* only ``https``; ``http`` only to ``localhost``/loopback and only in the ``dev``/``test`` environments;
* no redirects followed (a verifier could otherwise bounce the wallet anywhere);
* a timeout (connect, read, write: ``TIMEOUT_SECONDS``) and a bound on what is read (``MAX_BODY_BYTES``; the
  body is streamed and the read stops past the bound, whatever ``Content-Length`` claims); no content coding
  (asked for ``identity``; a gzip/br/zstd answer is refused, see :mod:`~.bounded_http`).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from microcred.credential.jsontext import parse
from services.wallet.adapters.bounded_http import EncodedAnswer, TooLarge, read_bounded
from services.wallet.domain.errors import Unavailable, Unprocessable

TIMEOUT_SECONDS = 5.0
MAX_BODY_BYTES = 256 * 1024
_LOOPBACK_NAMES = frozenset({"localhost"})


def _loopback(host: str) -> bool:
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(url: str, field: str, *, allow_loopback_http: bool) -> str:
    """``url`` if the wallet may call it (see the module docstring), else Unprocessable naming ``field``."""
    problem = Unprocessable(f"{field}: not an absolute URL with a host", code="INVALID_PRESENTATION_REQUEST")
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:  # e.g. an unclosed IPv6 literal
        raise problem from None
    if not host or parts.username or parts.password:
        raise problem
    if parts.scheme == "https" or (parts.scheme == "http" and allow_loopback_http and _loopback(host)):
        return url
    raise Unprocessable(f"{field}: only https URLs are called", code="INVALID_PRESENTATION_REQUEST")


@dataclass(frozen=True)
class VerifierReply:
    """What a verifier answered to a posted response (status and its JSON body, or its text cut short)."""

    status: int
    body: Any


class VerifierClient:
    """HTTP to verifiers, with the fences above."""

    def __init__(self, *, allow_loopback_http: bool, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.allow_loopback_http = allow_loopback_http
        self._http = httpx.AsyncClient(timeout=TIMEOUT_SECONDS, follow_redirects=False, transport=transport,
                                       headers={"user-agent": "microcred-wallet"})

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def _read(self, method: str, url: str, **kwargs: Any) -> tuple[int, str, bytes]:
        try:
            answer = await read_bounded(self._http, method, url, MAX_BODY_BYTES, **kwargs)
        except TooLarge:
            raise Unprocessable(f"{url.split('?')[0]}: the verifier's answer is larger than {MAX_BODY_BYTES} bytes",
                                code="INVALID_PRESENTATION_REQUEST") from None
        except EncodedAnswer as exc:
            raise Unprocessable(f"{url.split('?')[0]}: the verifier's answer has {exc}",
                                code="INVALID_PRESENTATION_REQUEST") from None
        except httpx.HTTPError as exc:
            raise Unavailable(f"the verifier could not be reached ({type(exc).__name__})",
                              code="VERIFIER_UNREACHABLE") from None
        return answer.status, answer.content_type, answer.body

    async def fetch_request_object(self, request_uri: str, posted: Mapping[str, str] | None = None) -> str:
        """GET ``request_uri`` (or, with ``posted``, POST that form there: ``request_uri_method=post``): the
        request object (a JWT), or Unprocessable saying why not."""
        check_url(request_uri, "link.request_uri", allow_loopback_http=self.allow_loopback_http)
        accept = {"accept": "application/oauth-authz-req+jwt"}
        if posted is None:
            status, content_type, body = await self._read("GET", request_uri, headers=accept)
        else:
            status, content_type, body = await self._read("POST", request_uri, data=dict(posted), headers=accept)
        if status != 200:
            raise Unprocessable(f"request_uri: the verifier answered {status} (expired or unknown request)",
                                code="PRESENTATION_REQUEST_GONE")
        if not content_type.startswith(("application/oauth-authz-req+jwt", "application/jwt")):
            raise Unprocessable("request_uri: not a request object (content type)",
                                code="INVALID_PRESENTATION_REQUEST")
        try:
            return body.decode("ascii")
        except UnicodeDecodeError:
            raise Unprocessable("request_uri: not a request object", code="INVALID_PRESENTATION_REQUEST") from None

    async def post_response(self, response_uri: str, form: Mapping[str, str]) -> VerifierReply:
        """POST the answer form to ``response_uri``; the verifier's status and JSON answer."""
        check_url(response_uri, "request.response_uri", allow_loopback_http=self.allow_loopback_http)
        status, content_type, body = await self._read("POST", response_uri, data=dict(form))
        parsed: Any
        if content_type.startswith("application/json"):
            try:
                parsed = parse(body)
            except ValueError:
                parsed = None
        else:
            parsed = body[:500].decode("utf-8", "replace")
        return VerifierReply(status, parsed)
