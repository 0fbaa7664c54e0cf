"""The ``application/x-www-form-urlencoded`` bodies wallets POST to the verifier (the authorization response at
``response_uri``, the request URI request of §5.10): bounded, strict, each member once. Pure."""

from __future__ import annotations

from urllib.parse import parse_qs

__all__ = ["FormError", "read_form"]


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
