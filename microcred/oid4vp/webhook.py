"""Signed webhooks for OpenID4VP results (pure: keys, times and the allow-list are given).

When an employer names a ``webhook`` URL at request creation, the gateway POSTs the final result (the JSON of
``GET /v1/presentation-results/{result_id}``) to it, signed. docs/oid4vp.md ("Signed webhook") has the receiver's
side; this module holds the three rules both sides share:

* **the URL policy** (:class:`WebhookPolicy`): ``https`` only (``http`` only in dev/test), no user info, no
  fragment, and the host must be in the operator's allow-list, so the gateway cannot be made to POST to an
  arbitrary (internal) address;
* **the signature** (:func:`sign_delivery`): a JWS (RFC 7515) with *detached content* (Appendix F): the body is
  sent as is, and the ``Microcred-Webhook-Signature`` header holds ``<protected header>..<signature>``, the
  signing input being ``<protected header>.<base64url(body)>`` as for any compact JWS, so any JOSE library
  verifies it by putting the encoded body back between the dots. It is made with the gateway's OpenID4VP
  ``x509_san_dns`` key (ES256 for P-256) and carries its chain in ``x5c``; the protected header replicates the
  claims a receiver needs against replays (RFC 7519 §5.3): ``iat`` (when this attempt was signed), ``aud``
  (the URL it was sent to) and ``request_id``; ``typ`` is :data:`WEBHOOK_TYP` (explicit typing, RFC 8725 §3.11:
  the same key signs request objects, which are ``oauth-authz-req+jwt``);
* **the verification** (:func:`verify_delivery`), as a receiver does it: chain to the platform CA, the leaf's
  SAN naming the gateway's host, the signature over the exact body, ``typ``, ``aud``, ``iat`` within a window,
  and the body's ``request_id`` equal to the header's.

Why a JWS and not HTTP Message Signatures (RFC 9421): the gateway already has a certified signing key whose
chain wallets check (``x5c``), and JOSE libraries that verify detached JWS exist on every platform; RFC 9421
would need a new library and a separate way to publish and certify the key.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509

from microcred.sdjwt.jose import (
    JoseError,
    PrivateKey,
    b64url_decode,
    b64url_encode,
    compact_json,
    sign_jws,
    strict_json_loads,
    verify_jws_signature,
)
from microcred.sdjwt.x5c import ChainError, validate_x5c

__all__ = ["MAX_URL_LENGTH", "SIGNATURE_HEADER", "WEBHOOK_TYP", "WebhookPolicy", "WebhookSignatureError",
           "WebhookUrlError", "sign_delivery", "verify_delivery"]

#: The HTTP header carrying the detached JWS.
SIGNATURE_HEADER = "Microcred-Webhook-Signature"
#: ``typ`` of the JWS: nothing else the gateway signs has it.
WEBHOOK_TYP = "oid4vp-result+jws"
MAX_URL_LENGTH = 2048
_MAX_SIGNATURE_LENGTH = 16_384
_ALGORITHMS = ("ES256", "ES384", "ES512")


class WebhookUrlError(ValueError):
    """A webhook URL the policy refuses (``problem`` says why; the field is ``webhook``)."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


class WebhookSignatureError(ValueError):
    """A delivery whose signature a receiver must refuse (``problem`` says why)."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


@dataclass(frozen=True)
class WebhookPolicy:
    """Where the gateway may POST results: ``hosts`` (lower-case names or IP literals, matched exactly, any
    port); ``allow_http`` only in development and tests."""

    hosts: frozenset[str]
    allow_http: bool = False

    @classmethod
    def of(cls, hosts: Sequence[str], environment: str) -> WebhookPolicy:
        """The policy from settings (``environment`` ``dev`` or ``test`` allows ``http``)."""
        return cls(frozenset(h.strip().lower().strip("[]") for h in hosts if h.strip()),
                   environment in ("dev", "test"))

    @property
    def enabled(self) -> bool:
        """Whether any webhook can be accepted (an empty allow-list refuses them all)."""
        return bool(self.hosts)

    def check(self, url: str) -> str:
        """``url`` when it may be called; raises :class:`WebhookUrlError` otherwise."""
        if not self.hosts:
            raise WebhookUrlError("webhooks are not enabled on this gateway (no allowed hosts configured)")
        if len(url) > MAX_URL_LENGTH:
            raise WebhookUrlError(f"longer than {MAX_URL_LENGTH} characters")
        if any(c.isspace() or ord(c) < 0x21 or ord(c) > 0x7E for c in url):
            raise WebhookUrlError("must be an ASCII URL without spaces or control characters")
        try:
            parts = urlsplit(url)
            port = parts.port  # raises ValueError for a port out of range or not a number
        except ValueError as exc:
            raise WebhookUrlError(f"not a URL ({exc})") from None
        allowed = ("https", "http") if self.allow_http else ("https",)
        if parts.scheme not in allowed:
            raise WebhookUrlError("must be an https URL" if not self.allow_http else "must be an http(s) URL")
        if parts.username is not None or parts.password is not None:
            raise WebhookUrlError("must not carry user information")
        if parts.fragment:
            raise WebhookUrlError("must not have a fragment")
        host = (parts.hostname or "").lower()
        if not host:
            raise WebhookUrlError("has no host")
        if port == 0:
            raise WebhookUrlError("port 0 cannot be called")
        if host not in self.hosts:
            raise WebhookUrlError(f"host {host} is not in the gateway's webhook allow-list")
        return url


def sign_delivery(result: Mapping[str, Any], *, key: PrivateKey, x5c: Sequence[str], url: str, request_id: str,
                  now: int) -> tuple[bytes, str]:
    """``(body, signature)`` for one delivery attempt: the result as compact JSON and the detached JWS over it."""
    header = {"typ": WEBHOOK_TYP, "x5c": list(x5c), "iat": now, "aud": url, "request_id": request_id}
    protected, encoded, signature = sign_jws(header, result, key).split(".")
    body = b64url_decode(encoded)
    assert body == compact_json(result)  # what is sent is exactly what was signed
    return body, f"{protected}..{signature}"


def _names_host(leaf: x509.Certificate, host: str) -> bool:
    try:
        names = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    return host.lower() in (n.lower() for n in names.get_values_for_type(x509.DNSName))


def verify_delivery(body: bytes, signature: str, *, trust_anchors: Sequence[x509.Certificate], host: str,
                    url: str, now: int, max_age: int = 300) -> dict[str, Any]:
    """A receiver's check of one delivery: returns the result (the parsed body), raises
    :class:`WebhookSignatureError` for anything to refuse. ``host``: the gateway's ``x509_san_dns`` host;
    ``url``: the receiver's own webhook URL; ``max_age``: how old (or how far ahead) ``iat`` may be. Refusing a
    second delivery of a ``request_id`` already processed is the receiver's part (a retry carries the same one)."""
    if len(signature) > _MAX_SIGNATURE_LENGTH:
        raise WebhookSignatureError("the signature is too long")
    segments = signature.split(".")
    if len(segments) != 3 or segments[1] or not segments[0] or not segments[2]:
        raise WebhookSignatureError("not a detached compact JWS (<header>..<signature>)")
    try:
        header = strict_json_loads(b64url_decode(segments[0]))
    except JoseError as exc:
        raise WebhookSignatureError(f"header: {exc}") from None
    if not isinstance(header, dict) or header.get("typ") != WEBHOOK_TYP or "crit" in header:
        raise WebhookSignatureError(f"header: typ must be {WEBHOOK_TYP} (and no crit)")
    if header.get("alg") not in _ALGORITHMS:
        raise WebhookSignatureError("header: alg must be ES256, ES384 or ES512")
    try:
        leaf, key = validate_x5c(header.get("x5c"), trust_anchors, dt.datetime.fromtimestamp(now, dt.UTC))
    except ChainError as exc:
        raise WebhookSignatureError(f"x5c: {exc.reason}") from None
    if not _names_host(leaf, host):
        raise WebhookSignatureError(f"x5c: the certificate does not name {host}")
    try:
        if not verify_jws_signature(f"{segments[0]}.{b64url_encode(body)}.{segments[2]}", key, _ALGORITHMS):
            raise WebhookSignatureError("the signature does not verify over this body")
    except JoseError as exc:
        raise WebhookSignatureError(f"signature: {exc}") from None
    if header.get("aud") != url:
        raise WebhookSignatureError("aud: not this webhook URL")
    iat = header.get("iat")
    if not isinstance(iat, int) or isinstance(iat, bool) or abs(now - iat) > max_age:
        raise WebhookSignatureError("iat: missing, or outside the accepted window (a replay?)")
    try:
        result = strict_json_loads(body)
    except JoseError as exc:
        raise WebhookSignatureError(f"body: {exc}") from None
    if not isinstance(result, dict) or result.get("request_id") != header.get("request_id"):
        raise WebhookSignatureError("request_id: the body and the signature name different requests")
    return result
