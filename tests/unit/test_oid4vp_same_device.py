"""The same-device flow's pure rules (services/verifier/api/same_device.py): which redirect URIs the gateway
sends wallets to, the response code, and what a result shows without it."""

from __future__ import annotations

import pytest

from services.verifier.api.same_device import (
    CODE_DIGEST,
    RedirectUriError,
    check_redirect_uri,
    new_response_code,
    redirect_to,
    released,
)


@pytest.mark.parametrize("uri", ["https://jobs.example/apply?x=1", "http://localhost:8080/back",
                                 "http://127.0.0.1/r", "https://jobs.example"])
def test_https_pages_and_loopback_development_pages_are_accepted(uri: str) -> None:
    assert check_redirect_uri(uri) == uri


@pytest.mark.parametrize("uri", ["", "jobs.example/apply", "ftp://jobs.example/", "http://jobs.example/",
                                 "https://jobs.example/#frag", "https://user:pw@jobs.example/",
                                 "https://jobs.example/a b", "https://jöbs.example/", "https://", "javascript:x",
                                 "https://jobs.example/" + "a" * 2048, "https://[::1/"])
def test_other_uris_are_refused_with_a_reason(uri: str) -> None:
    with pytest.raises(RedirectUriError) as caught:
        check_redirect_uri(uri)
    assert caught.value.problem


def test_codes_are_fresh_and_only_the_matching_one_releases_the_outcome() -> None:
    (code, kept), (other, _) = new_response_code(), new_response_code()
    assert code != other and len(code) >= 43 and code not in kept
    assert redirect_to("https://jobs.example/a?b=1", code) == f"https://jobs.example/a?b=1#response_code={code}"
    answered = {"status": "verified", "request_id": "r", "answered_at": "t", "en": {"verdict": "valid"},
                CODE_DIGEST: kept}
    assert released(dict(answered), None) == {"status": "verified", "request_id": "r", "answered_at": "t",
                                              "response_code_required": True}
    assert released(dict(answered), other)["response_code_required"] is True
    shown = released(dict(answered), code)
    assert shown["en"] == {"verdict": "valid"} and CODE_DIGEST not in shown
    pending = {"status": "pending", "link": "openid4vp://…"}  # no answer yet, no code: shown as it is
    assert released(dict(pending), None) == pending
