"""The ``application/x-www-form-urlencoded`` bodies wallets POST to the verifier (the authorization response at
``response_uri``, the request URI request of §5.10): bounded, strict, each member once; and the same members
posted as a JSON object (:func:`read_json_form`: a page relaying a Digital Credentials API answer). Pure."""

from __future__ import annotations

import json
from urllib.parse import parse_qs

from microcred.sdjwt.jose import JoseError, strict_json_loads

__all__ = ["FormError", "read_form", "read_json_form"]


class FormError(ValueError):
    """A body that is not an acceptable form (``invalid_request``, with this reason)."""


def read_form(body: bytes, *, max_bytes: int, max_fields: int, what: str = "form",
              keep_blank_values: bool = False) -> dict[str, str]:
    """The members of ``body`` (none for an empty body); raises :class:`FormError` when it is over ``max_bytes``
    (named ``what`` in the reason), not an ASCII form, over ``max_fields`` members, or repeats a member."""
    if len(body) > max_bytes:
        raise FormError(f"the {what} is too large")
    if not body:
        return {}
    try:
        parsed = parse_qs(body.decode("ascii"), max_num_fields=max_fields, strict_parsing=True,
                          keep_blank_values=keep_blank_values)
    except (UnicodeDecodeError, ValueError):
        raise FormError("the body is not a form") from None
    if any(len(values) != 1 for values in parsed.values()):
        raise FormError("a form member is repeated")
    return {name: values[0] for name, values in parsed.items()}


def read_json_form(body: bytes, *, max_bytes: int, max_fields: int, what: str = "form") -> dict[str, str]:
    """The members of a JSON object ``body`` under the limits of :func:`read_form`, as a form's: strings as they
    are, other values as compact JSON (a ``vp_token`` object)."""
    if len(body) > max_bytes:
        raise FormError(f"the {what} is too large")
    try:
        value = strict_json_loads(body)
    except (JoseError, ValueError) as exc:
        raise FormError("the body is not JSON") from exc
    if not isinstance(value, dict) or len(value) > max_fields:
        raise FormError(f"the body must be a JSON object of at most {max_fields} members")
    return {str(k): v if isinstance(v, str) else json.dumps(v, separators=(",", ":")) for k, v in value.items()}
