"""OpenID4VP over the Digital Credentials API (microcred.oid4vp.dc_api): what a page passes to the browser for a
signed and for an unsigned request (Appendix A.2/A.3), the response modes, the audience, and which origins a
request may expect."""

from __future__ import annotations

import datetime as dt

import jwt
import pytest

from microcred.oid4vp.dc_api import (
    PROTOCOL_SIGNED,
    PROTOCOL_UNSIGNED,
    dc_api_audience,
    dc_api_request,
    dc_api_response_mode,
    origin_of,
    origin_problem,
)
from microcred.oid4vp.request import REQUEST_TYP, SIOP_AUD, ClientIdentity, PresentationRequest, build_request
from tests.unit.test_oid4vp_request import QUERY, RESPONSE_URI, identity

ENC = {"kty": "EC", "crv": "P-256", "x": "x", "y": "y", "kid": "k1", "use": "enc", "alg": "ECDH-ES"}
ORIGINS = ("https://verifier.example", "https://jobs.example:8443")


def _request(client_id: str, *, encrypted: bool = True, origins: tuple[str, ...] = ORIGINS) -> PresentationRequest:
    now = int(dt.datetime.now(dt.UTC).timestamp())
    return build_request(client_id=client_id, response_uri=RESPONSE_URI,
                         response_mode="direct_post.jwt" if encrypted else "direct_post", dcql_query=QUERY, now=now,
                         lifetime=300, encryption_jwk=ENC if encrypted else None, expected_origins=origins)


def test_a_signed_request_lists_its_expected_origins_and_has_no_response_uri_or_state() -> None:
    ident, leaf = identity()
    request = _request(ident.client_id)
    protocol, data = dc_api_request(request, ident)
    assert protocol == PROTOCOL_SIGNED == "openid4vp-v1-signed" and set(data) == {"request"}
    assert jwt.get_unverified_header(data["request"])["typ"] == REQUEST_TYP
    claims = jwt.decode(data["request"], leaf.public_key(), algorithms=["ES256"],  # type: ignore[arg-type]
                        audience=SIOP_AUD)
    assert claims["client_id"] == ident.client_id and claims["expected_origins"] == list(ORIGINS)
    assert claims["response_mode"] == "dc_api.jwt" and claims["nonce"] == request.nonce
    assert claims["dcql_query"] == QUERY and claims["client_metadata"]["jwks"]["keys"] == [ENC]
    assert not {"response_uri", "redirect_uri", "state"} & set(claims)
    assert PresentationRequest.from_dict(request.to_dict()) == request


def test_an_unsigned_request_is_its_parameters_without_client_id_or_origins() -> None:
    """A.2: client_id MUST be omitted in unsigned requests; expected_origins is for signed ones only."""
    request = _request(f"redirect_uri:{RESPONSE_URI}", encrypted=False)
    protocol, data = dc_api_request(request, ClientIdentity.redirect_uri(RESPONSE_URI))
    assert protocol == PROTOCOL_UNSIGNED == "openid4vp-v1-unsigned"
    assert data == {"response_type": "vp_token", "response_mode": "dc_api", "nonce": request.nonce,
                    "dcql_query": QUERY, "client_metadata": {"vp_formats_supported": data["client_metadata"][
                        "vp_formats_supported"]}}


def test_a_signed_request_needs_expected_origins_and_its_own_identity() -> None:
    ident, _ = identity()
    with pytest.raises(ValueError, match="expected_origins"):
        dc_api_request(_request(ident.client_id, origins=()), ident)
    with pytest.raises(ValueError, match="another client"):
        dc_api_request(_request("x509_san_dns:other.example"), ident)


def test_modes_and_audience() -> None:
    ident, _ = identity()
    assert dc_api_response_mode(_request(ident.client_id)) == "dc_api.jwt"
    assert dc_api_response_mode(_request(ident.client_id, encrypted=False)) == "dc_api"
    assert dc_api_audience("https://verifier.example") == "origin:https://verifier.example"  # A.4
    assert origin_of("https://Verifier.Example:8443/presentations/new?x=1") == "https://verifier.example:8443"
    # as a browser writes an origin: no default port (a wallet compares strings)
    assert origin_of("https://verifier.example:443/") == "https://verifier.example"
    assert origin_of("http://[::1]:80/x") == "http://[::1]" and origin_of("http://[::1]:8080") == "http://[::1]:8080"


@pytest.mark.parametrize("origin", ["https://verifier.example", "https://verifier.example:8443",
                                    "http://localhost:8080", "http://127.0.0.1:9", "http://[::1]:8080"])
def test_origins_that_may_be_expected(origin: str) -> None:
    assert origin_problem(origin) is None


@pytest.mark.parametrize("origin", [
    "", "verifier.example", "https://verifier.example/", "https://verifier.example/path", "https://v.example?x=1",
    "https://v.example#f", "https://user@v.example", "https://Verifier.example", "http://verifier.example",
    "ftp://verifier.example", "javascript://verifier.example", "data://x", "wss://verifier.example",
    "https://verifier.example:99999", "https://verifier.example:port", "https:// v.example", "https://" + "a" * 300,
    "https://vérifier.example", "https://verifier.example:443", "http://localhost:80",
])
def test_origins_that_may_not(origin: str) -> None:
    """A.2: the wallet compares strings, so only the serialised origin counts; unsafe schemes never, http only
    for development on this machine."""
    assert origin_problem(origin) is not None
