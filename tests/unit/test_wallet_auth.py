"""OIDC bearer tokens (no network): signature, issuer, audience, expiry, key selection, JWKS caching."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from services.wallet.adapters.auth import (
    DevTokenMinter,
    FileJwks,
    HttpJwks,
    TokenVerifier,
    build_auth,
    generate_private_jwks,
    public_jwks,
)
from services.wallet.config import Settings
from services.wallet.domain.errors import NotAuthenticated, ProviderUnavailable
from tests.harness.wallet.oidc import public, rsa_jwk

ISS, AUD = "https://idp.example", "wallet"
KEY = rsa_jwk("k1")


class StaticJwks:
    def __init__(self, *jwks: dict[str, Any]) -> None:
        self.document = {"keys": [public(k) for k in jwks]}
        self.refreshes = 0

    async def keys(self, refresh: bool = False) -> Mapping[str, Any]:
        self.refreshes += refresh
        return self.document


def token(jwk: dict[str, Any] = KEY, alg: str = "RS256", **claims: Any) -> str:
    now = int(time.time())
    body = {"iss": ISS, "aud": AUD, "sub": "learner-1", "iat": now, "exp": now + 300, **claims}
    body = {k: v for k, v in body.items() if v is not None}
    return jwt.encode(body, jwt.PyJWK(jwk, algorithm="RS256").key, algorithm=alg, headers={"kid": jwk["kid"]})


def verifier(*jwks: dict[str, Any]) -> TokenVerifier:
    return TokenVerifier(StaticJwks(*(jwks or (KEY,))), ISS, AUD, leeway=0)


async def test_valid_token_gives_claims() -> None:
    claims = await verifier().verify(token(email="Ana@Example.org", email_verified=True, scope="a b"))
    assert (claims.sub, claims.provider, claims.email_verified) == ("learner-1", ISS, True)
    assert claims.verified_email == "ana@example.org" and claims.scopes == frozenset({"a", "b"})
    assert claims.account_id.startswith("lrn_") and "learner-1" not in claims.account_id


async def test_unverified_email_is_not_used() -> None:
    claims = await verifier().verify(token(email="ana@example.org", email_verified=False))
    assert claims.verified_email is None


@pytest.mark.parametrize("bad", [
    token(aud="other"), token(iss="https://evil.example"), token(exp=int(time.time()) - 10),
    token(sub=None), token(jwk=rsa_jwk("k1")), token(jwk=rsa_jwk("unknown")), "garbage", "a.b.c",
    token(nbf=int(time.time()) + 600),
])
async def test_bad_tokens_are_refused(bad: str) -> None:
    with pytest.raises(NotAuthenticated):
        await verifier().verify(bad)


async def test_symmetric_and_none_algorithms_are_refused() -> None:
    now = int(time.time())
    claims = {"iss": ISS, "aud": AUD, "sub": "x", "iat": now, "exp": now + 60}
    hs = jwt.encode(claims, "a-secret-of-at-least-32-bytes-long!!", algorithm="HS256", headers={"kid": "k1"})
    unsigned = jwt.encode(claims, "", algorithm="none")
    for bad in (hs, unsigned):
        with pytest.raises(NotAuthenticated, match="algorithm"):
            await verifier().verify(bad)


async def test_unknown_kid_triggers_one_refresh() -> None:
    source = StaticJwks(KEY)
    with pytest.raises(NotAuthenticated):
        await TokenVerifier(source, ISS, AUD).verify(token(jwk=rsa_jwk("new")))
    assert source.refreshes == 1


async def test_http_jwks_is_cached_refreshed_and_kept_when_the_provider_fails() -> None:
    calls: list[int] = []
    state = {"fail": False}

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        if state["fail"]:
            return httpx.Response(500)
        return httpx.Response(200, json={"keys": [public(KEY)]})

    source = HttpJwks("https://idp.example/jwks", ttl=300, min_refresh_interval=0,
                      client=httpx.AsyncClient(transport=httpx.MockTransport(handler)))
    tokens = TokenVerifier(source, ISS, AUD)
    await tokens.verify(token())
    await tokens.verify(token())
    assert len(calls) == 1  # cached
    state["fail"] = True
    await source.keys(refresh=True)  # provider down: the last good key set is kept
    assert (await tokens.verify(token())).sub == "learner-1"
    await source.aclose()

    cold = HttpJwks("https://idp.example/jwks", client=httpx.AsyncClient(transport=httpx.MockTransport(handler)))
    with pytest.raises(ProviderUnavailable):
        await cold.keys()
    await cold.aclose()


async def test_file_jwks_strips_private_members(tmp_path: Path) -> None:
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [KEY]}))
    document = await FileJwks(path).keys()
    assert "d" not in document["keys"][0] and document == public_jwks({"keys": [KEY]})
    assert (await TokenVerifier(FileJwks(path), ISS, AUD).verify(token())).sub == "learner-1"


async def test_dev_minter_tokens_verify_against_the_same_key_set() -> None:
    private = generate_private_jwks()
    minter = DevTokenMinter(private, ISS, AUD)

    class Source:
        async def keys(self, refresh: bool = False) -> Mapping[str, Any]:
            return public_jwks(private)

    claims = await TokenVerifier(Source(), ISS, AUD).verify(minter.mint("dev-user", "dev@example.org",
                                                                         scopes=["s1"]))
    assert (claims.sub, claims.verified_email, claims.scopes) == ("dev-user", "dev@example.org", frozenset({"s1"}))


def test_build_auth_generates_a_dev_provider_only_in_dev(tmp_path: Path) -> None:
    dev = Settings(kafka_bootstrap="k:1", redis_url="redis://r", environment="dev", data_dir=tmp_path)
    tokens, minter = build_auth(dev)
    assert minter is not None and (tmp_path / "dev-oidc.json").exists()
    assert tokens.issuer == "urn:microcred:dev-oidc"
    test_env = Settings(kafka_bootstrap="k:1", redis_url="redis://r", environment="test", data_dir=tmp_path,
                        oidc_issuer=ISS, oidc_audience=AUD, oidc_jwks_url="http://127.0.0.1:1/jwks")
    assert build_auth(test_env)[1] is None  # no dev key configured: no dev login
    with pytest.raises(ValueError, match="MICROCRED_OIDC"):
        build_auth(Settings(kafka_bootstrap="k:1", redis_url="redis://r", environment="test", data_dir=tmp_path))
