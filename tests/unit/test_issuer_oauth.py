"""OAuth 2.0 client credentials of the issuer's REST API: client authentication, token lifetime, no secrets kept."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest

from services.issuer.api.oauth import TOKEN_SECONDS, OAuthClient, OAuthError, TokenIssuer, load_clients

CLIENT = OAuthClient("c1", hashlib.sha256(b"s3cret").hexdigest(), "uni-a", "ie-qqi")
FORM = {"grant_type": "client_credentials", "client_id": "c1", "client_secret": "s3cret"}


def test_form_and_basic_authentication_give_a_token_bound_to_the_issuer() -> None:
    now = [1000.0]
    tokens = TokenIssuer({"c1": CLIENT}, clock=lambda: now[0])
    by_form = tokens.token(FORM, None)
    basic = "Basic " + base64.b64encode(b"c1:s3cret").decode()
    by_basic = tokens.token({"grant_type": "client_credentials"}, basic)
    assert by_form["token_type"] == "Bearer" and by_form["expires_in"] == TOKEN_SECONDS
    for answer in (by_form, by_basic):
        assert tokens.resolve(f"Bearer {answer['access_token']}") == CLIENT
    now[0] += TOKEN_SECONDS + 1
    assert tokens.resolve(f"Bearer {by_form['access_token']}") is None


@pytest.mark.parametrize(("form", "error"), [
    ({**FORM, "client_secret": "wrong"}, "invalid_client"),
    ({**FORM, "client_id": "nobody"}, "invalid_client"),
    ({"grant_type": "client_credentials"}, "invalid_client"),
    ({**FORM, "grant_type": "password"}, "unsupported_grant_type"),
])
def test_bad_requests_are_refused(form: dict[str, str], error: str) -> None:
    with pytest.raises(OAuthError) as refused:
        TokenIssuer({"c1": CLIENT}).token(form, None)
    assert refused.value.error == error


def test_unknown_or_malformed_bearer_tokens_resolve_to_nobody() -> None:
    tokens = TokenIssuer({"c1": CLIENT})
    assert tokens.resolve(None) is None and tokens.resolve("Bearer nope") is None and tokens.resolve("Basic x") is None


def test_clients_file(tmp_path: Path) -> None:
    path = tmp_path / "clients.json"
    path.write_text(json.dumps([{"client_id": "c1", "client_secret_sha256": CLIENT.secret_sha256.upper(),
                                 "issuer_id": "uni-a", "agency_id": "ie-qqi"}]))
    assert load_clients(path) == {"c1": CLIENT}
    path.write_text(json.dumps([{"client_id": "c1", "client_secret_sha256": "short", "issuer_id": "x",
                                 "agency_id": "y"}]))
    with pytest.raises(ValueError, match="64 hex"):
        load_clients(path)
    assert load_clients(None) == {}
