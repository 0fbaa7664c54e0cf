"""The HTTP form of the issuer's OAuth errors (services/issuer/api/oauth_errors.py): the WWW-Authenticate challenge
of a resource endpoint's 401 (RFC 6750 §3, RFC 9449 §7.1) and invalid_client at the authorization server (RFC 6749
§5.2)."""

from __future__ import annotations

import json

import pytest

from microcred.oid4vci.errors import OAuthError
from services.issuer.api.oauth_errors import challenge, oauth_response

TOKEN = OAuthError("invalid_token", "the access token is unknown or expired", 401)
BOUND = OAuthError("invalid_dpop_proof", "this access token is DPoP-bound", 401)


@pytest.mark.parametrize(("exc", "authorization", "sent"), [
    # no Authorization at all: no error code (RFC 6750 §3.1), both schemes this resource takes (RFC 9449 §7.2)
    (TOKEN, None, 'Bearer, DPoP algs="ES256"'),
    (TOKEN, "  ", 'Bearer, DPoP algs="ES256"'),
    (TOKEN, "Bearer abc", 'Bearer error="invalid_token"'),
    (TOKEN, "DPoP abc", 'DPoP error="invalid_token", algs="ES256"'),  # the scheme the request used
    (TOKEN, "dpop abc", 'DPoP error="invalid_token", algs="ES256"'),
    (BOUND, "Bearer abc", 'DPoP error="invalid_dpop_proof", algs="ES256"'),  # a DPoP-bound token sent as Bearer
    (TOKEN, "Basic abc", 'Bearer error="invalid_token"'),
])
def test_a_resource_endpoints_401_names_the_scheme(exc: OAuthError, authorization: str | None, sent: str) -> None:
    assert challenge(exc, authorization) == sent
    response = oauth_response(exc, authorization, resource=True)
    assert response.status_code == 401 and response.headers["www-authenticate"] == sent
    assert response.headers["cache-control"] == "no-store"


def test_invalid_client_carries_a_challenge_only_for_a_client_that_used_the_authorization_header() -> None:
    refused = OAuthError("invalid_client", "send OAuth-Client-Attestation and OAuth-Client-Attestation-PoP", 401)
    plain = oauth_response(refused, None)
    assert plain.status_code == 400 and "www-authenticate" not in plain.headers
    assert json.loads(plain.body)["error"] == "invalid_client"
    basic = oauth_response(refused, "Basic d2FsbGV0OnNlY3JldA==")
    assert basic.status_code == 401 and basic.headers["www-authenticate"] == 'Basic realm="oid4vci"'
    odd = oauth_response(refused, 'x"y z')  # not a scheme: as if there were none
    assert odd.status_code == 400 and "www-authenticate" not in odd.headers


def test_other_errors_carry_no_challenge_and_a_503_says_when_to_ask_again() -> None:
    grant = oauth_response(OAuthError("invalid_grant", "the pre-authorized code has already been used"), None)
    assert grant.status_code == 400 and "www-authenticate" not in grant.headers
    busy = oauth_response(OAuthError("temporarily_unavailable", "restoring", 503), "Bearer x", resource=True)
    assert busy.status_code == 503 and busy.headers["retry-after"] == "2" and "www-authenticate" not in busy.headers
