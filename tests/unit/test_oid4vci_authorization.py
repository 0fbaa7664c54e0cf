"""The authorization code flow's pure checks (microcred.oid4vci.authorization): pushed requests (RFC 9126, PKCE
S256 only, redirect URIs per RFC 6749 §3.1.2 and RFC 8252), the redirect, the code exchange; the metadata and
offer documents that advertise them."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from microcred.oid4vci import authorization as az
from microcred.oid4vci.errors import OAuthError
from microcred.oid4vci.metadata import (
    AUTHORIZATION_CODE_GRANT,
    PRE_AUTHORIZED_GRANT,
    SD_JWT_CONFIGURATION,
    authorization_server_metadata,
    credential_issuer_metadata,
)
from microcred.oid4vci.offers import credential_offer

# RFC 7636 Appendix B
VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
ISSUER = "https://issuer.example.eu"
CONFIGS = (SD_JWT_CONFIGURATION, "ob3_achievement_credential_ldp")


def form(**change: str | None) -> dict[str, str]:
    base = {"response_type": "code", "client_id": "wallet", "redirect_uri": "https://wallet.example/cb",
            "code_challenge": CHALLENGE, "code_challenge_method": "S256", "state": "s1", "issuer_state": "st"}
    base.update({k: v for k, v in change.items() if v is not None})
    return {k: v for k, v in base.items() if change.get(k, "x") is not None}


def error_of(**change: str | None) -> str:
    with pytest.raises(OAuthError) as err:
        az.check_pushed_request(form(**change), SD_JWT_CONFIGURATION, CONFIGS)
    return err.value.error


def test_a_good_pushed_request_round_trips_through_the_store() -> None:
    request = az.check_pushed_request(form(), SD_JWT_CONFIGURATION, CONFIGS)
    assert request == az.PushedRequest("wallet", "https://wallet.example/cb", CHALLENGE, "s1", "st",
                                       SD_JWT_CONFIGURATION)
    assert az.PushedRequest.from_json(request.to_json()) == request


@pytest.mark.parametrize(("change", "code"), [
    ({"code_challenge_method": "plain"}, "invalid_request"),
    ({"code_challenge_method": None}, "invalid_request"),
    ({"code_challenge": None}, "invalid_request"),
    ({"code_challenge": "short"}, "invalid_request"),
    ({"response_type": "token"}, "unsupported_response_type"),
    ({"response_type": None}, "unsupported_response_type"),
    ({"client_id": None}, "invalid_request"),
    ({"client_id": "c" * 3000}, "invalid_request"),
    ({"redirect_uri": None}, "invalid_request"),
    ({"issuer_state": None}, "invalid_request"),
    ({"request_uri": "urn:ietf:params:oauth:request_uri:abc"}, "invalid_request"),
    ({"authorization_details": "not json"}, "invalid_authorization_details"),
    ({"authorization_details": "[]"}, "invalid_authorization_details"),
    ({"authorization_details": '[{"type": "other"}]'}, "invalid_authorization_details"),
    ({"authorization_details": '[{"type": "openid_credential", "credential_configuration_id": "x"}]'},
     "invalid_authorization_details"),
    ({"scope": "ob3_achievement_credential_ldp"}, "invalid_scope"),
])
def test_each_bad_pushed_request_names_its_error(change: dict[str, Any], code: str) -> None:
    assert error_of(**change) == code


def test_what_is_asked_must_be_what_is_offered() -> None:
    details = json.dumps([{"type": "openid_credential", "credential_configuration_id": SD_JWT_CONFIGURATION}])
    for asked in ({"authorization_details": details}, {"scope": f"openid {SD_JWT_CONFIGURATION} unknown-scope"},
                  {"scope": "unknown-scope"}, {}):
        assert az.check_pushed_request(form(**asked), SD_JWT_CONFIGURATION, CONFIGS).configuration == \
            SD_JWT_CONFIGURATION


@pytest.mark.parametrize("uri", ["https://wallet.example/cb", "https://wallet.example/cb?keep=1",
                                 "http://localhost:8080/cb", "http://127.0.0.1/cb", "http://[::1]:9/cb",
                                 "eu.europa.ec.wallet:/callback", "eudi-openid4ci://authorize"])
def test_allowed_redirect_uris(uri: str) -> None:
    assert az.check_redirect_uri(uri) == uri


@pytest.mark.parametrize("uri", ["/relative/cb", "https://wallet.example/cb#frag", "javascript:alert(1)",
                                 "data:text/html,x", "http://wallet.example/cb", "https:///nohost", "file:///etc",
                                 "http://[bad"])
def test_refused_redirect_uris(uri: str) -> None:
    with pytest.raises(OAuthError) as err:
        az.check_redirect_uri(uri)
    assert err.value.error == "invalid_request"


def test_redirect_location_keeps_the_clients_query_and_drops_empty_values() -> None:
    location = az.redirect_location("https://wallet.example/cb?keep=1", {"code": "c d", "state": "", "iss": ISSUER})
    parts = urlsplit(location)
    assert parts.netloc == "wallet.example" and parts.path == "/cb"
    assert parse_qs(parts.query) == {"keep": ["1"], "code": ["c d"], "iss": [ISSUER]}
    assert az.redirect_location("eu.wallet:/cb", {"code": "x"}) == "eu.wallet:/cb?code=x"


def test_request_uri_secret() -> None:
    assert az.request_uri_secret(az.REQUEST_URI_PREFIX + "abc") == "abc"
    assert az.request_uri_secret("https://elsewhere/abc") == ""
    assert az.request_uri_secret(az.REQUEST_URI_PREFIX + "a" * 300) == ""


def test_code_exchange_checks_client_redirect_and_verifier() -> None:
    kept = {"client_id": "wallet", "redirect_uri": "https://wallet.example/cb", "code_challenge": CHALLENGE}
    good = {"client_id": "wallet", "redirect_uri": "https://wallet.example/cb", "code_verifier": VERIFIER}
    az.check_code_exchange(good, kept)
    for change, code in (({"client_id": "other"}, "invalid_grant"),
                         ({"redirect_uri": "https://wallet.example/other"}, "invalid_grant"),
                         ({"code_verifier": "A" * 43}, "invalid_grant"),
                         ({"code_verifier": "short"}, "invalid_request")):
        with pytest.raises(OAuthError) as err:
            az.check_code_exchange({**good, **change}, kept)
        assert err.value.error == code, change
    with pytest.raises(OAuthError) as missing:
        az.check_code_exchange({k: v for k, v in good.items() if k != "code_verifier"}, kept)
    assert missing.value.error == "invalid_request"


def test_metadata_advertises_the_flow_and_the_deferred_endpoint() -> None:
    server = authorization_server_metadata(ISSUER)
    assert server["pushed_authorization_request_endpoint"] == f"{ISSUER}/oid4vci/par"
    assert server["authorization_endpoint"] == f"{ISSUER}/oid4vci/authorize"
    assert server["require_pushed_authorization_requests"] is True
    assert server["code_challenge_methods_supported"] == ["S256"]
    assert server["grant_types_supported"] == [AUTHORIZATION_CODE_GRANT, PRE_AUTHORIZED_GRANT]
    assert credential_issuer_metadata(ISSUER)["deferred_credential_endpoint"] == f"{ISSUER}/oid4vci/deferred-credential"


def test_offer_carries_issuer_state_only_when_given() -> None:
    both = credential_offer(ISSUER, "code", tx_code=False, issuer_state="st")
    assert both["grants"][AUTHORIZATION_CODE_GRANT] == {"issuer_state": "st"}
    assert AUTHORIZATION_CODE_GRANT not in credential_offer(ISSUER, "code", tx_code=True)["grants"]


JKT = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"  # RFC 7638 §3.1's example thumbprint
OTHER_JKT = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiGQ1W4"


def test_a_dpop_proof_or_dpop_jkt_binds_the_code_to_a_key() -> None:
    by_proof = az.check_pushed_request(form(), SD_JWT_CONFIGURATION, CONFIGS, dpop_jkt=JKT)
    by_parameter = az.check_pushed_request(form(dpop_jkt=JKT), SD_JWT_CONFIGURATION, CONFIGS)
    both = az.check_pushed_request(form(dpop_jkt=JKT), SD_JWT_CONFIGURATION, CONFIGS, dpop_jkt=JKT)
    assert by_proof.dpop_jkt == by_parameter.dpop_jkt == both.dpop_jkt == JKT
    assert az.PushedRequest.from_json(by_proof.to_json()) == by_proof
    assert az.check_pushed_request(form(), SD_JWT_CONFIGURATION, CONFIGS).dpop_jkt == ""  # unbound
    # RFC 9449 §10.1: the parameter and the proof's key must agree; the parameter is a thumbprint
    with pytest.raises(OAuthError) as mismatch:
        az.check_pushed_request(form(dpop_jkt=OTHER_JKT), SD_JWT_CONFIGURATION, CONFIGS, dpop_jkt=JKT)
    assert mismatch.value.error == "invalid_dpop_proof"
    for bad in ("short", JKT + "=", JKT[:-1] + "+"):
        assert error_of(dpop_jkt=bad) == "invalid_request"


def test_a_code_bound_to_a_key_needs_a_proof_by_that_key() -> None:
    kept = {"client_id": "wallet", "redirect_uri": "https://wallet.example/cb", "code_challenge": CHALLENGE,
            "dpop_jkt": JKT}
    good = {"client_id": "wallet", "redirect_uri": "https://wallet.example/cb", "code_verifier": VERIFIER}
    az.check_code_exchange(good, kept, JKT)
    for proof in (None, OTHER_JKT):
        with pytest.raises(OAuthError) as err:
            az.check_code_exchange(good, kept, proof)
        assert err.value.error == "invalid_dpop_proof", proof
    # an unbound code takes a token request with or without a proof
    unbound = {k: v for k, v in kept.items() if k != "dpop_jkt"}
    az.check_code_exchange(good, unbound, None)
    az.check_code_exchange(good, unbound, OTHER_JKT)
