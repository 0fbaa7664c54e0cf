"""The learner sign-in of the authorization code grant (services/issuer/application/oid4vci_authorization.py and
services/issuer/adapters/learner_login.py), issue 20: who gets a code, and what the wallet hears otherwise. Pure:
an in-memory grant store and login stand in for Redis and the provider (their adapters are tested over real
Redis and an independent provider in tests/interop/test_issuer_learner_login.py); the provider client over
httpx's mock transport."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from microcred.oid4vci import authorization as az
from microcred.oid4vci.errors import OAuthError
from microcred.oid4vci.metadata import SD_JWT_CONFIGURATION
from microcred.oid4vci.offers import digest
from services.issuer.adapters.learner_login import ProviderClient, ProviderSettings
from services.issuer.adapters.oidc_login import LoginAttempt, LoginRejected, new_login
from services.issuer.application.oid4vci_authorization import AuthorizationCodes, Redirect, SignedInLearner

ISSUER = "https://issuer.example.eu"
CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"  # RFC 7636 Appendix B
EMAIL = "Ana.Andromeda@example.org"


@dataclass
class Grants:
    """The part of the grant store the authorization endpoint and the sign-in use."""

    states: dict[str, str] = field(default_factory=dict)
    offers: dict[str, str] = field(default_factory=dict)
    pushed: dict[str, str] = field(default_factory=dict)
    codes: dict[str, tuple[str, dict[str, str]]] = field(default_factory=dict)

    async def state_offer(self, state_digest: str) -> str:
        return self.states.get(state_digest, "")

    async def offer_state(self, offer_id: str) -> str:
        return self.offers.get(offer_id, "")

    async def push_request(self, uri_digest: str, request_json: str, ttl_seconds: int) -> None:
        self.pushed[uri_digest] = request_json

    async def take_request(self, uri_digest: str) -> str:
        return self.pushed.pop(uri_digest, "")

    async def add_code(self, code_digest: str, offer_id: str, request: dict[str, str], ttl_seconds: int) -> None:
        self.codes[code_digest] = (offer_id, request)


@dataclass
class Login:
    """A learner login whose provider says ``who`` signed in (or raises ``error``)."""

    who: SignedInLearner | None = None
    error: OAuthError | None = None
    attempts: dict[str, LoginAttempt] = field(default_factory=dict)

    async def begin(self, request_json: str, offer_id: str, credential_issuer: str) -> str:
        attempt = new_login(request_json, offer_id, credential_issuer)
        self.attempts[attempt.state] = attempt
        return f"https://login.example.eu/authorize?state={attempt.state}"

    async def take(self, state: str) -> LoginAttempt | None:
        return self.attempts.pop(state, None)

    async def learner(self, attempt: Any, answer: Mapping[str, str]) -> SignedInLearner:
        if self.error is not None:
            raise self.error
        assert self.who is not None
        return self.who


def _setup(login: Login, learner_email: str = EMAIL) -> tuple[AuthorizationCodes, Grants]:
    grants = Grants(states={digest("issuer-state"): "offer-1"}, offers={"offer-1": "offered"})

    async def email_of(offer_id: str) -> str:
        return learner_email if offer_id == "offer-1" else ""

    return AuthorizationCodes(grants, 300, login, email_of), grants  # type: ignore[arg-type]


async def _to_login(codes: AuthorizationCodes, grants: Grants, login: Login) -> str:
    """PAR and the authorization endpoint: the state of the sign-in attempt they start."""
    form = {"response_type": "code", "client_id": "wallet.example.org", "redirect_uri": "https://wallet.example.org/cb",
            "code_challenge": CHALLENGE, "code_challenge_method": "S256", "state": "wallet-state",
            "issuer_state": "issuer-state", "authorization_details": json.dumps(
                [{"type": "openid_credential", "credential_configuration_id": SD_JWT_CONFIGURATION}])}
    pushed = await codes.push(form)
    location = await codes.authorize({"client_id": "wallet.example.org", "request_uri": pushed["request_uri"]},
                                     ISSUER)
    assert location.startswith("https://login.example.eu/authorize?")  # to the provider, no code yet
    assert not grants.codes
    [attempt] = login.attempts.values()
    assert az.PushedRequest.from_json(attempt.request_json).issuer_state == ""  # the offer's secret is not kept
    return attempt.state


def _query(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


async def test_the_awards_learner_gets_a_code_for_the_wallet() -> None:
    login = Login(SignedInLearner("sub-1", " ana.andromeda@EXAMPLE.org"))
    codes, grants = _setup(login)
    state = await _to_login(codes, grants, login)
    location = await codes.signed_in({"state": state, "code": "provider-code"})
    query = _query(location)
    assert location.startswith("https://wallet.example.org/cb?")
    assert query["state"] == "wallet-state" and query["iss"] == ISSUER
    [(offer_id, request)] = grants.codes.values()
    assert offer_id == "offer-1" and request["code_challenge"] == CHALLENGE
    assert list(grants.codes) == [digest(query["code"])]
    with pytest.raises(OAuthError) as replayed:  # the sign-in is spent
        await codes.signed_in({"state": state, "code": "provider-code"})
    assert replayed.value.error == "invalid_request"


@pytest.mark.parametrize(("who", "learner_email", "offer_state", "why"), [
    (SignedInLearner("sub-2", "someone.else@example.org"), EMAIL, "offered", "not the one this offer is for"),
    (SignedInLearner("sub-1", ""), EMAIL, "offered", "no verified e-mail"),
    (SignedInLearner("sub-1", EMAIL), "", "offered", "not the one this offer is for"),  # learner data erased
    (SignedInLearner("sub-1", EMAIL), EMAIL, "redeemed", "already been redeemed"),
    (SignedInLearner("sub-1", EMAIL), EMAIL, "withdrawn", "withdrawn"),
    (SignedInLearner("sub-1", EMAIL), EMAIL, "", "expired"),
])
async def test_anyone_else_or_a_closed_offer_is_access_denied(who: SignedInLearner, learner_email: str,
                                                              offer_state: str, why: str) -> None:
    login = Login(who)
    codes, grants = _setup(login, learner_email)
    state = await _to_login(codes, grants, login)
    grants.offers["offer-1"] = offer_state
    with pytest.raises(Redirect) as denied:
        await codes.signed_in({"state": state, "code": "provider-code"})
    query = _query(denied.value.location)
    assert denied.value.location.startswith("https://wallet.example.org/cb?")
    assert query["error"] == "access_denied" and why in query["error_description"]
    assert query["state"] == "wallet-state" and query["iss"] == ISSUER
    assert not grants.codes


@pytest.mark.parametrize(("error", "heard"), [("temporarily_unavailable", "temporarily_unavailable"),
                                              ("access_denied", "access_denied"), ("server_error", "access_denied")])
async def test_a_failed_sign_in_is_told_to_the_wallet(error: str, heard: str) -> None:
    login = Login(error=LoginRejected(error, "the provider could not sign the learner in"))
    codes, grants = _setup(login)
    state = await _to_login(codes, grants, login)
    with pytest.raises(Redirect) as denied:
        await codes.signed_in({"state": state, "error": "access_denied"})
    assert _query(denied.value.location)["error"] == heard and not grants.codes


async def test_an_unknown_state_or_no_login_is_invalid_request() -> None:
    codes, _ = _setup(Login())
    with pytest.raises(OAuthError) as unknown:
        await codes.signed_in({"state": "guessed", "code": "x"})
    assert unknown.value.error == "invalid_request" and not isinstance(unknown.value, Redirect)
    without = AuthorizationCodes(Grants(), 300)  # type: ignore[arg-type]
    with pytest.raises(OAuthError) as none:
        await without.signed_in({"state": "x"})
    assert none.value.error == "invalid_request"


def _provider(documents: dict[str, httpx.Response]) -> ProviderClient:
    def answer(request: httpx.Request) -> httpx.Response:
        return documents.get(str(request.url.copy_with(query=None)), httpx.Response(404))
    return ProviderClient(ProviderSettings("https://login.example.eu", "microcred-issuer", "secret"),
                          httpx.AsyncClient(transport=httpx.MockTransport(answer)))


DISCOVERY = "https://login.example.eu/.well-known/openid-configuration"
GOOD = {"issuer": "https://login.example.eu", "authorization_endpoint": "https://login.example.eu/auth",
        "token_endpoint": "https://login.example.eu/token", "jwks_uri": "https://login.example.eu/jwks"}


async def test_the_providers_discovery_document_must_be_its_own_and_https() -> None:
    assert (await _provider({DISCOVERY: httpx.Response(200, json=GOOD)}).metadata())["token_endpoint"]
    for bad in ({**GOOD, "issuer": "https://evil.example"}, {**GOOD, "token_endpoint": "http://login.example.eu/t"},
                {k: v for k, v in GOOD.items() if k != "jwks_uri"}):
        with pytest.raises(LoginRejected) as refused:
            await _provider({DISCOVERY: httpx.Response(200, json=bad)}).metadata()
        assert refused.value.error == "temporarily_unavailable"
    with pytest.raises(LoginRejected, match="too large"):
        await _provider({DISCOVERY: httpx.Response(200, content=b"[" + b" " * 70_000 + b"]")}).metadata()


async def test_a_refused_code_exchange_is_access_denied() -> None:
    provider = _provider({DISCOVERY: httpx.Response(200, json=GOOD),
                          GOOD["token_endpoint"]: httpx.Response(400, json={"error": "invalid_grant"})})
    with pytest.raises(LoginRejected) as refused:
        await provider.exchange("code", "verifier", "https://issuer.example.eu/oid4vci/login/callback")
    assert refused.value.error == "access_denied"


WALLET_INITIATED = {"response_type": "code", "client_id": "wallet.example.org",
                    "redirect_uri": "https://wallet.example.org/cb", "code_challenge": CHALLENGE,
                    "code_challenge_method": "S256", "state": "wallet-state", "scope": SD_JWT_CONFIGURATION}


async def test_a_wallet_initiated_request_redeems_the_signed_in_learners_open_offer() -> None:
    login = Login(SignedInLearner("sub-1", EMAIL))
    grants = Grants(offers={"offer-0": "redeemed", "offer-1": "offered", "offer-2": "offered"})
    asked: list[str] = []

    async def email_of(offer_id: str) -> str:
        return EMAIL

    async def offers_to(email: str) -> list[str]:
        asked.append(email)
        return ["offer-2", "offer-0", "offer-1"]

    codes = AuthorizationCodes(grants, 300, login, email_of, offers_to)  # type: ignore[arg-type]
    assert codes.wallet_initiated
    pushed = await codes.push(WALLET_INITIATED)
    await codes.authorize({"client_id": "wallet.example.org", "request_uri": pushed["request_uri"]}, ISSUER)
    [attempt] = login.attempts.values()
    assert attempt.offer_id == ""  # no offer yet: the sign-in finds it
    location = await codes.signed_in({"state": attempt.state, "code": "provider-code"})
    assert "code" in _query(location) and asked == [EMAIL]
    [(offer_id, _)] = grants.codes.values()
    assert offer_id == "offer-1"  # the first open one in id order (offer-0 is redeemed)


async def test_a_wallet_initiated_sign_in_without_an_open_offer_is_access_denied() -> None:
    login = Login(SignedInLearner("sub-1", EMAIL))
    grants = Grants(offers={"offer-0": "withdrawn"})

    async def email_of(offer_id: str) -> str:
        return EMAIL

    async def offers_to(email: str) -> list[str]:
        return ["offer-0"]

    codes = AuthorizationCodes(grants, 300, login, email_of, offers_to)  # type: ignore[arg-type]
    pushed = await codes.push(WALLET_INITIATED)
    await codes.authorize({"client_id": "wallet.example.org", "request_uri": pushed["request_uri"]}, ISSUER)
    [attempt] = login.attempts.values()
    with pytest.raises(Redirect) as denied:
        await codes.signed_in({"state": attempt.state, "code": "provider-code"})
    assert _query(denied.value.location)["error"] == "access_denied" and not grants.codes


async def test_without_the_learner_index_issuer_state_stays_required() -> None:
    codes, _ = _setup(Login())  # a login, but no index of offers by learner
    assert not codes.wallet_initiated
    with pytest.raises(OAuthError) as refused:
        await codes.push(WALLET_INITIATED)
    assert refused.value.error == "invalid_request" and "issuer_state is required" in refused.value.description


def test_a_wallet_initiated_request_must_name_what_it_asks_for() -> None:
    form = {k: v for k, v in WALLET_INITIATED.items() if k != "scope"}
    with pytest.raises(OAuthError) as refused:
        az.check_pushed_request(form, [SD_JWT_CONFIGURATION], [SD_JWT_CONFIGURATION], wallet_initiated=True)
    assert refused.value.error == "invalid_scope"
    with pytest.raises(OAuthError) as unknown:  # a scope the issuer does not have does not count
        az.check_pushed_request({**form, "scope": "openid"}, [SD_JWT_CONFIGURATION], [SD_JWT_CONFIGURATION],
                                wallet_initiated=True)
    assert unknown.value.error == "invalid_scope"
    named = az.check_pushed_request(WALLET_INITIATED, [SD_JWT_CONFIGURATION], [SD_JWT_CONFIGURATION],
                                    wallet_initiated=True)
    assert named.issuer_state == "" and named.configuration == SD_JWT_CONFIGURATION
