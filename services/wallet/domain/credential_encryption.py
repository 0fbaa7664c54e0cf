"""Encrypted credential requests and responses, from our wallet's side (OpenID4VCI 1.0 §10).

When an issuer's metadata offers them in a form this wallet can use (a P-256 ``ECDH-ES`` key with a ``kid`` in
``credential_request_encryption.jwks``; ``A256GCM``, else ``A128GCM``), the wallet encrypts every (deferred)
credential request; when it also offers ``credential_response_encryption`` with ``ECDH-ES``, it asks for the
response encrypted to a fresh key of its own, inside the encrypted request (§8.2: so that the key cannot be
swapped), and refuses a success answered in clear (§10: "SHOULD be rejected"). Encrypting whenever offered keeps
credentials out of reach of whatever terminates TLS in front of the issuer. An issuer that *requires* what this
wallet cannot do is refused up front, by name, rather than after a failed request. The JOSE work is shared with
the issuer (:mod:`microcred.oid4vci.encryption`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from microcred.oid4vci.encryption import ALG, JWT_MEDIA_TYPE, EncryptionKey, decrypt_message, encrypt_message
from microcred.oid4vci.errors import OAuthError
from services.wallet.domain.presentations_oid4vp import ENC_PREFERENCE  # HAIP's order, as for OpenID4VP answers

__all__ = ["EncryptionUnsupported", "IssuerEncryption", "UnreadableAnswer", "issuer_encryption", "open_answer",
           "seal_request"]

class EncryptionUnsupported(ValueError):
    """The issuer requires encryption this wallet cannot do."""


class UnreadableAnswer(ValueError):
    """An answer that should have been encrypted to this wallet's key and was not, or does not decrypt."""


@dataclass(frozen=True)
class IssuerEncryption:
    """What the wallet uses of an issuer's encryption metadata: the key and ``enc`` its requests are encrypted
    with, and the ``enc`` it asks responses in (None: responses in clear)."""

    key: Mapping[str, Any]
    enc: str
    response_enc: str | None


def _preferred(values: Any) -> str | None:
    offered = values if isinstance(values, list) else []
    return next((enc for enc in ENC_PREFERENCE if enc in offered), None)


def _usable_key(offered: Mapping[str, Any]) -> Mapping[str, Any] | None:
    jwks = offered.get("jwks")
    keys = jwks.get("keys") if isinstance(jwks, Mapping) else None
    for key in keys[:16] if isinstance(keys, list) else ():
        if isinstance(key, Mapping) and key.get("kty") == "EC" and key.get("crv") == "P-256" \
                and key.get("alg") == ALG and isinstance(key.get("kid"), str) and "d" not in key \
                and key.get("use", "enc") == "enc" and isinstance(key.get("x"), str) and isinstance(key.get("y"), str):
            return key
    return None


def issuer_encryption(metadata: Mapping[str, Any]) -> IssuerEncryption | None:
    """How to talk to the issuer whose Credential Issuer Metadata is ``metadata`` (None: in clear); raises
    :class:`EncryptionUnsupported` when it requires encryption this wallet cannot do."""
    request, response = metadata.get("credential_request_encryption"), metadata.get("credential_response_encryption")
    request = request if isinstance(request, Mapping) else {}
    response = response if isinstance(response, Mapping) else {}
    key, enc = _usable_key(request), _preferred(request.get("enc_values_supported"))
    algs = response.get("alg_values_supported")
    response_enc = _preferred(response.get("enc_values_supported")) if isinstance(algs, list) and ALG in algs \
        else None
    if key is None or enc is None:
        if request.get("encryption_required") is True or response.get("encryption_required") is True:
            raise EncryptionUnsupported("the issuer requires encrypted credential requests or responses, and its "
                                        "metadata offers no P-256 ECDH-ES key (with alg and kid) and A128GCM or "
                                        "A256GCM for them")
        return None
    if response_enc is None and response.get("encryption_required") is True:
        raise EncryptionUnsupported("the issuer requires encrypted credential responses, and its metadata offers "
                                    "no ECDH-ES with A128GCM or A256GCM for them")
    return IssuerEncryption(key, enc, response_enc)


def seal_request(encryption: IssuerEncryption, body: Mapping[str, Any]) -> tuple[str, EncryptionKey | None]:
    """``body`` as a JWE to the issuer's key, with ``credential_response_encryption`` inside when responses are to
    be encrypted; returns the JWE and the wallet's fresh key for the response (None: the response comes in
    clear)."""
    message = dict(body)
    mine = None
    if encryption.response_enc is not None:
        mine = EncryptionKey.fresh()
        message["credential_response_encryption"] = {"jwk": dict(mine.jwk), "enc": encryption.response_enc}
    return encrypt_message(message, encryption.key, encryption.enc), mine


def open_answer(status: int, media_type: str, body: Any, mine: EncryptionKey | None) -> Any:
    """The body of a (deferred) credential answer, decrypted when it was asked encrypted to ``mine``. Error
    answers come in clear (an issuer may not be able to read the request it refuses); a success in clear, when an
    encrypted one was asked, is refused (:class:`UnreadableAnswer`)."""
    if mine is None or status not in (200, 202):
        return body
    if media_type != JWT_MEDIA_TYPE:
        raise UnreadableAnswer("credential response: answered in clear, though an encrypted one was asked (§10)")
    try:
        return decrypt_message(body, mine.private, mine.kid, "credential response")
    except OAuthError as exc:
        raise UnreadableAnswer(exc.description) from None
