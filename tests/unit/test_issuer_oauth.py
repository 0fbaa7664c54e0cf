"""OAuth 2.0 client credentials of the issuer's REST API: client authentication, token lifetime, no secrets kept,
tokens any replica checks (one shared MAC key, no state)."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest

from services.issuer.api.oauth import TOKEN_SECONDS, OAuthClient, OAuthError, TokenIssuer, load_clients

CLIENT = OAuthClient("c1", hashlib.sha256(b"s3cret").hexdigest(), "uni-a", "ie-qqi")
FORM = {"grant_type": "client_credentials", "client_id": "c1", "client_secret": "s3cret"}
KEY = b"k" * 32


def test_form_and_basic_authentication_give_a_token_bound_to_the_issuer() -> None:
    now = [1000.0]
    tokens = TokenIssuer({"c1": CLIENT}, KEY, clock=lambda: now[0])
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
        TokenIssuer({"c1": CLIENT}, KEY).token(form, None)
    assert refused.value.error == error


def test_unknown_or_malformed_bearer_tokens_resolve_to_nobody() -> None:
    tokens = TokenIssuer({"c1": CLIENT}, KEY)
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


def test_a_token_from_one_replica_is_taken_by_another_sharing_the_key() -> None:
    # two replicas behind one load balancer: same clients file, same key-store seed, nothing else shared
    first, second = TokenIssuer({"c1": CLIENT}, KEY), TokenIssuer({"c1": CLIENT}, KEY)
    token = str(first.token(FORM, None)["access_token"])
    assert second.resolve(f"Bearer {token}") == CLIENT
    assert TokenIssuer({"c1": CLIENT}, b"o" * 32).resolve(f"Bearer {token}") is None  # another deployment's key


def test_forged_altered_or_orphaned_tokens_resolve_to_nobody() -> None:
    other = OAuthClient("c2", hashlib.sha256(b"other").hexdigest(), "uni-b", "ie-qqi")
    tokens = TokenIssuer({"c1": CLIENT, "c2": other}, KEY)
    token = str(tokens.token(FORM, None)["access_token"])
    prefix, client, expiry, nonce, mac = token.split(".")
    c2 = base64.urlsafe_b64encode(b"c2").rstrip(b"=").decode()
    for altered in (f"{prefix}.{c2}.{expiry}.{nonce}.{mac}",           # another client's id under c1's MAC
                    f"{prefix}.{client}.{int(expiry) + 86400}.{nonce}.{mac}",  # a later expiry
                    f"{prefix}.{client}.{expiry}.{nonce}.{mac[:-2]}AA",
                    f"{prefix}.{client}.{expiry}.{nonce}", token + "." + mac, "x" * 600):
        assert tokens.resolve(f"Bearer {altered}") is None, altered
    assert tokens.resolve(f"Bearer {token}") == CLIENT
    # the client leaves the clients file, or its secret is changed: its tokens stop at once, on every replica
    assert TokenIssuer({"c2": other}, KEY).resolve(f"Bearer {token}") is None
    rotated = OAuthClient("c1", hashlib.sha256(b"new secret").hexdigest(), "uni-a", "ie-qqi")
    assert TokenIssuer({"c1": rotated}, KEY).resolve(f"Bearer {token}") is None


def test_a_short_mac_key_is_refused() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        TokenIssuer({"c1": CLIENT}, b"short")
