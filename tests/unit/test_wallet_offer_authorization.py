"""Our wallet's side of the OpenID4VCI authorization code flow, pure (services/wallet/domain/offer_authorization.py):
the authorization server it accepts, the request it pushes (PKCE S256 recomputed here from RFC 7636 §4.2), the
authorization response it takes (RFC 6749 §4.1.2, RFC 9207 ``iss``) and the token request it makes."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from services.wallet.domain import offer_authorization as oa
from services.wallet.domain.offers import ISSUER_ANSWER_INVALID, UNSUPPORTED, OfferError

ISSUER = "https://issuer.example.eu"
SERVER = {"issuer": ISSUER, "authorization_endpoint": f"{ISSUER}/authorize",
          "pushed_authorization_request_endpoint": f"{ISSUER}/par", "code_challenge_methods_supported": ["S256"],
          "grant_types_supported": ["authorization_code"], "authorization_response_iss_parameter_supported": True}


def refused(code: str, call: Any, *args: Any) -> str:
    with pytest.raises(OfferError) as caught:
        call(*args)
    assert caught.value.code == code, caught.value.detail
    return caught.value.detail


def pending(server: dict[str, Any] = SERVER) -> oa.PendingAuthorization:
    return oa.new_pending("acct-1", ISSUER, "eu_microcredential_sd_jwt", "http://127.0.0.1:8085",
                          "http://127.0.0.1:8085/", oa.authorization_server(server, ISSUER))


def test_the_authorization_server_must_be_the_issuers_and_take_pkce_s256() -> None:
    server = oa.authorization_server(SERVER, ISSUER)
    assert server.pushed_authorization_request_endpoint == f"{ISSUER}/par" and server.iss_in_response
    refused(ISSUER_ANSWER_INVALID, oa.authorization_server, {**SERVER, "issuer": "https://other.example"}, ISSUER)
    refused(ISSUER_ANSWER_INVALID, oa.authorization_server,
            {**SERVER, "authorization_endpoint": "https://evil.example/authorize"}, ISSUER)
    refused(ISSUER_ANSWER_INVALID, oa.authorization_server,
            {**SERVER, "pushed_authorization_request_endpoint": "https://evil.example/par"}, ISSUER)
    refused(UNSUPPORTED, oa.authorization_server, {**SERVER, "code_challenge_methods_supported": ["plain"]}, ISSUER)
    refused(UNSUPPORTED, oa.authorization_server, {k: v for k, v in SERVER.items()
                                                   if k != "authorization_endpoint"}, ISSUER)
    refused(UNSUPPORTED, oa.authorization_server, {**SERVER, "grant_types_supported": ["client_credentials"]},
            ISSUER)
    plain = oa.authorization_server({"issuer": ISSUER, "authorization_endpoint": f"{ISSUER}/authorize"}, ISSUER)
    assert plain.pushed_authorization_request_endpoint is None and not plain.iss_in_response


def test_the_pushed_request_carries_pkce_s256_issuer_state_and_what_is_asked_for() -> None:
    attempt = pending()
    form = oa.pushed_request_form(attempt, "offer-issuer-state")
    expected = base64.urlsafe_b64encode(hashlib.sha256(attempt.code_verifier.encode()).digest()).rstrip(b"=")
    assert form["code_challenge"] == expected.decode() and form["code_challenge_method"] == "S256"
    assert 43 <= len(attempt.code_verifier) <= 128 and len(attempt.state) >= 43
    assert form["issuer_state"] == "offer-issuer-state" and form["state"] == attempt.state
    assert json.loads(form["authorization_details"]) == [
        {"type": "openid_credential", "credential_configuration_id": "eu_microcredential_sd_jwt"}]
    assert "issuer_state" not in oa.pushed_request_form(attempt, "")
    url = oa.authorization_url(f"{ISSUER}/authorize?x=1", {"client_id": "c", "request_uri": "urn:r"})
    assert parse_qs(urlsplit(url).query) == {"x": ["1"], "client_id": ["c"], "request_uri": ["urn:r"]}
    assert oa.PendingAuthorization.from_json(attempt.to_json()) == attempt
    assert pending().state != attempt.state


def test_the_authorization_response_is_checked_for_iss_and_error() -> None:
    attempt = pending()
    assert oa.code_from_response({"code": "c-1", "state": attempt.state, "iss": ISSUER + "/"}, attempt) == "c-1"
    assert "mix-up" in refused(oa.AUTHORIZATION_DENIED, oa.code_from_response,
                               {"code": "c-1", "iss": "https://evil.example"}, attempt)
    refused(oa.AUTHORIZATION_DENIED, oa.code_from_response, {"code": "c-1"}, attempt)  # iss promised, missing
    assert oa.code_from_response({"code": "c-1"}, pending({**SERVER,
                                 "authorization_response_iss_parameter_supported": False})) == "c-1"
    detail = refused(oa.AUTHORIZATION_DENIED, oa.code_from_response,
                     {"error": "access_denied", "error_description": "no", "iss": ISSUER}, attempt)
    assert "access_denied" in detail
    refused(oa.AUTHORIZATION_DENIED, oa.code_from_response, {"iss": ISSUER}, attempt)
    assert oa.code_token_form("c-1", attempt) == {
        "grant_type": "authorization_code", "code": "c-1", "redirect_uri": "http://127.0.0.1:8085/",
        "client_id": "http://127.0.0.1:8085", "code_verifier": attempt.code_verifier}
    assert oa.state_digest(attempt.state) != attempt.state and len(oa.state_digest(attempt.state)) == 64
