"""``request_uri_method=post`` (OpenID4VP 1.0 §5.10): a wallet POSTs to ``request_uri`` before it gets the request
object, sending its metadata and a nonce of its own.

The wallet's form (``application/x-www-form-urlencoded``, both members optional):

- ``wallet_nonce``: the verifier MUST put it, as is, in the request object's ``wallet_nonce`` claim; the wallet
  then knows the signed object was made for this fetch and is not a replay of an older one;
- ``wallet_metadata``: a JSON object (§10: ``vp_formats_supported``, ``client_id_prefixes_supported``,
  ``request_object_signing_alg_values_supported``, …).

The gateway has one client identifier and signs with ES256 only, so there is nothing to tailor: metadata that says
the wallet supports neither (a prefix list without ours, an alg list without ES256) is refused with a reason the
wallet can show, rather than answered with a request it will reject. Other members are read for their form only.
Request objects are not encrypted to the wallet's keys (the optional part of §5.10.2). Pure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from microcred.oid4vp.form import FormError, read_form
from microcred.sdjwt.jose import JoseError, strict_json_loads

__all__ = ["MAX_FORM_BYTES", "WalletFetch", "WalletFetchError", "read_wallet_fetch"]

#: Bound on the POSTed form: metadata is a few hundred bytes in practice.
MAX_FORM_BYTES = 16 * 1024
_MAX_NONCE = 512
#: The algorithm every request object of the gateway is signed with.
_SIGNING_ALG = "ES256"


class WalletFetchError(ValueError):
    """The wallet's POST to ``request_uri`` is refused (``invalid_request``, with this reason)."""


@dataclass(frozen=True)
class WalletFetch:
    """What a wallet sent with its POST to ``request_uri``."""

    wallet_nonce: str | None
    wallet_metadata: Mapping[str, Any] | None


def _nonce(value: str | None) -> str | None:
    if value is None:
        return None
    if not 0 < len(value) <= _MAX_NONCE or not value.isprintable() or not value.isascii():
        raise WalletFetchError(f"wallet_nonce: must be 1..{_MAX_NONCE} printable ASCII characters")
    return value


def _strings(metadata: Mapping[str, Any], name: str) -> list[str] | None:
    value = metadata.get(name)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise WalletFetchError(f"wallet_metadata.{name}: must be an array of strings")
    return value


def _metadata(value: str | None, client_id: str) -> Mapping[str, Any] | None:
    if value is None:
        return None
    try:
        metadata = strict_json_loads(value)
    except JoseError as exc:
        raise WalletFetchError(f"wallet_metadata: not JSON ({exc})") from None
    if not isinstance(metadata, dict):
        raise WalletFetchError("wallet_metadata: must be a JSON object")
    prefixes = _strings(metadata, "client_id_prefixes_supported")
    prefix = client_id.split(":", 1)[0]
    if prefixes is not None and prefix not in prefixes:
        raise WalletFetchError(f"wallet_metadata.client_id_prefixes_supported: this verifier's client identifier "
                               f"uses {prefix}, which the wallet does not support")
    algs = _strings(metadata, "request_object_signing_alg_values_supported")
    if algs is not None and prefix != "redirect_uri" and _SIGNING_ALG not in algs:
        raise WalletFetchError(f"wallet_metadata.request_object_signing_alg_values_supported: this verifier signs "
                               f"with {_SIGNING_ALG}, which the wallet does not support")
    formats = metadata.get("vp_formats_supported")
    if formats is not None and not isinstance(formats, dict):
        raise WalletFetchError("wallet_metadata.vp_formats_supported: must be a JSON object")
    return metadata


def read_wallet_fetch(body: bytes, client_id: str) -> WalletFetch:
    """Read a wallet's POST to ``request_uri`` for a request of ``client_id``; raises :class:`WalletFetchError`
    naming the member at fault. Members other than the two of §5.10.1 are ignored (as OAuth parameters are)."""
    try:  # blank members kept: an empty wallet_nonce is refused, not taken as absent
        form = read_form(body, max_bytes=MAX_FORM_BYTES, max_fields=16, keep_blank_values=True)
    except FormError as exc:
        raise WalletFetchError(str(exc)) from None
    return WalletFetch(_nonce(form.get("wallet_nonce")), _metadata(form.get("wallet_metadata"), client_id))
