"""The same-device flow of OpenID4VP 1.0 (§8.2, §13.3; HAIP 1.0 requires it of verifiers): the page that made a
request is on the learner's phone, beside the wallet.

When the request names a ``redirect_uri`` (the caller's page), the gateway answers the wallet's POST with
``{"redirect_uri": "<it>#response_code=<code>"}``; the wallet sends the learner's browser there. The result is
then released only with that ``response_code`` (``?response_code=`` on the result URL): someone who started the
request on their own device and got a victim to answer it (session fixation, §13.3) never sees the code, so
never the result. The code is kept as its digest; it is unguessable (256 bits) and one per answer.

Pure: validation, the code, the redirect and the release rule.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from microcred.oid4vp.page_url import MAX_PAGE_URL, page_url_problem

__all__ = ["MAX_REDIRECT_URI", "RedirectUriError", "check_redirect_uri", "new_response_code", "redirect_to",
           "released"]

MAX_REDIRECT_URI = MAX_PAGE_URL
#: The result's member holding the code's digest (never shown).
CODE_DIGEST = "response_code_sha256"


class RedirectUriError(ValueError):
    """A ``redirect_uri`` the gateway will not send wallets to; ``problem`` says why."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


def check_redirect_uri(uri: str) -> str:
    """``uri`` if it is an absolute https URL without user info or fragment (http only for a loopback host, for
    development: :func:`~microcred.oid4vp.page_url.page_url_problem`); :class:`RedirectUriError` otherwise."""
    problem = page_url_problem(uri, fragment=False)
    if problem is not None:
        raise RedirectUriError(problem)
    return uri


def new_response_code() -> tuple[str, str]:
    """A fresh ``response_code`` and its digest (what the result keeps)."""
    code = secrets.token_urlsafe(32)
    return code, _digest(code)


def redirect_to(uri: str, code: str) -> str:
    """Where the wallet sends the browser: ``uri`` with the code in its fragment (not sent to servers on the way,
    not in Referer headers)."""
    return f"{uri}#response_code={code}"


def released(result: dict[str, Any], response_code: str | None) -> dict[str, Any]:
    """The result as shown to whoever asks: without the code's digest; when the request was answered in a
    same-device flow, its outcome only with the matching ``response_code`` (else the status alone, and that the
    code is required)."""
    kept = result.pop(CODE_DIGEST, None)
    if kept is None or (response_code is not None and hmac.compare_digest(_digest(response_code), str(kept))):
        return result
    return {"status": result.get("status"), "request_id": result.get("request_id"),
            "answered_at": result.get("answered_at"), "response_code_required": True}


def _digest(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()
