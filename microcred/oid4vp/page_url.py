"""The rule for a web page a wallet sends the learner's browser to after answering (OpenID4VP §8.2
``redirect_uri``): shared by the verifier that accepts one from a request's creator and the wallet that
follows one. Pure."""

from __future__ import annotations

from urllib.parse import urlsplit

from microcred.loopback import LOOPBACK_HOSTS

__all__ = ["MAX_PAGE_URL", "page_url_problem"]

MAX_PAGE_URL = 2048


def page_url_problem(uri: str, *, fragment: bool) -> str | None:
    """Why ``uri`` is not such a page (None: it is): an absolute https URL of at most :data:`MAX_PAGE_URL` ASCII
    characters without white space or user information (http only on a loopback host, for development); a
    fragment only when ``fragment`` allows it."""
    if not uri or len(uri) > MAX_PAGE_URL or not uri.isascii() or any(c.isspace() for c in uri):
        return f"must be an absolute URL of 1..{MAX_PAGE_URL} ASCII characters"
    try:
        parts = urlsplit(uri)
        host = parts.hostname
        parts.port  # noqa: B018 (raises ValueError for a port out of range or not a number)
    except ValueError:
        return "not a URL"
    if parts.scheme not in ("https", "http") or not host:
        return "must be an https URL"
    if parts.scheme == "http" and host not in LOOPBACK_HOSTS:
        return "must be an https URL (http only for localhost)"
    if parts.username is not None or parts.password is not None:
        return "must not carry user information"
    if not fragment and (parts.fragment or "#" in uri):
        return "must not have a fragment (the gateway adds the response_code there)"
    return None
