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
from services.wallet.domain.issuer_metadata import parse_issuer_metadata
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
    asked = {"scope": "eu_microcredential_sd_jwt"}
    form = oa.pushed_request_form(attempt, "offer-issuer-state", asked)
    expected = base64.urlsafe_b64encode(hashlib.sha256(attempt.code_verifier.encode()).digest()).rstrip(b"=")
    assert form["code_challenge"] == expected.decode() and form["code_challenge_method"] == "S256"
    assert 43 <= len(attempt.code_verifier) <= 128 and len(attempt.state) >= 43
    assert form["issuer_state"] == "offer-issuer-state" and form["state"] == attempt.state
    assert form["scope"] == "eu_microcredential_sd_jwt" and "authorization_details" not in form
    assert "issuer_state" not in oa.pushed_request_form(attempt, "", asked)
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


def issuer_metadata(scope: Any = "UniversityDegreeCredential", **changes: Any) -> Any:
    return parse_issuer_metadata({
        "credential_issuer": ISSUER, "credential_endpoint": f"{ISSUER}/credential",
        "credential_configurations_supported": {"UniversityDegreeCredential": {
            "format": "dc+sd-jwt", **({"scope": scope} if scope is not None else {})}}, **changes}, ISSUER)


@pytest.mark.parametrize(("scope", "types", "servers", "expected"), [
    # HAIP 1.0: a configuration with a scope is asked for by it; authorization_details only when the server says
    # it takes openid_credential ones (then both: §5.1.2, the details win for the same credential)
    ("UniversityDegreeCredential", None, None, {"scope": "UniversityDegreeCredential"}),
    ("UniversityDegreeCredential", ["other_type"], None, {"scope": "UniversityDegreeCredential"}),
    ("UniversityDegreeCredential", ["openid_credential"], None, {
        "scope": "UniversityDegreeCredential",
        "authorization_details": [{"type": "openid_credential",
                                   "credential_configuration_id": "UniversityDegreeCredential"}]}),
    # no scope: authorization_details are the only way (§12.2.4), whatever the server lists
    (None, None, None, {"authorization_details": [{"type": "openid_credential",
                                                   "credential_configuration_id": "UniversityDegreeCredential"}]}),
    ("two scopes", None, None, {"authorization_details": [{
        "type": "openid_credential", "credential_configuration_id": "UniversityDegreeCredential"}]}),
    # an issuer relying on authorization servers: locations (§5.1.1 MUST) and resource (§5.1.2, RFC 8707)
    (None, None, ["https://as.example"], {"authorization_details": [{
        "type": "openid_credential", "credential_configuration_id": "UniversityDegreeCredential",
        "locations": [ISSUER]}]}),
    ("UniversityDegreeCredential", ["openid_credential"], ["https://as.example"], {
        "scope": "UniversityDegreeCredential", "resource": ISSUER,
        "authorization_details": [{"type": "openid_credential",
                                   "credential_configuration_id": "UniversityDegreeCredential",
                                   "locations": [ISSUER]}]}),
])
def test_the_request_asks_by_scope_and_by_authorization_details_as_the_servers_take_them(
        scope: Any, types: Any, servers: Any, expected: dict[str, Any]) -> None:
    metadata = issuer_metadata(scope, **({"authorization_servers": servers} if servers else {}))
    server = {"issuer": ISSUER} if types is None else {"issuer": ISSUER, "authorization_details_types_supported": types}
    asked = oa.asked_for(metadata.configurations["UniversityDegreeCredential"], server, metadata)
    if "authorization_details" in asked:
        asked = {**asked, "authorization_details": json.loads(asked["authorization_details"])}
    assert asked == expected


def test_locations_and_resource_name_the_issuer_exactly_as_it_spells_itself() -> None:
    metadata = parse_issuer_metadata({
        "credential_issuer": ISSUER + "/", "credential_endpoint": f"{ISSUER}/credential",
        "authorization_servers": ["https://as.example"],
        "credential_configurations_supported": {"x": {"format": "dc+sd-jwt", "scope": "x"}}}, ISSUER)
    asked = oa.asked_for(metadata.configurations["x"], {"authorization_details_types_supported":
                                                        ["openid_credential"]}, metadata)
    assert asked["resource"] == ISSUER + "/"
    assert json.loads(asked["authorization_details"])[0]["locations"] == [ISSUER + "/"]
