"""Our wallet as an OpenID4VCI client (issue 20), without I/O: offer links and offers (the specification's own
example), which URLs the wallet may call (no SSRF), metadata, the key proof, the issuer's errors in plain words
(en and pl), and the HTTP adapter's fences (trusted issuers only, no redirects, bounded answers)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from services.wallet.adapters.oid4vci_client import MAX_BODY_BYTES, IssuerClient
from services.wallet.api.offer_text import OFFER_LABELS
from services.wallet.domain import credential_offer as co
from services.wallet.domain import deferred
from services.wallet.domain import issuer_metadata as im
from services.wallet.domain import issuer_requests as ir
from services.wallet.domain import offers as o

ISSUER = "https://credential-issuer.example.com"

# OpenID4VCI 1.0 §4.1.1, the Credential Offer with a pre-authorized code and a transaction code.
SPEC_OFFER: dict[str, Any] = {
    "credential_issuer": "https://credential-issuer.example.com",
    "credential_configuration_ids": ["UniversityDegreeCredential", "org.iso.18013.5.1.mDL"],
    "grants": {
        "urn:ietf:params:oauth:grant-type:pre-authorized_code": {
            "pre-authorized_code": "oaKazRN8I0IbtZ0C7JuMn5",
            "tx_code": {"length": 4, "input_mode": "numeric",
                        "description": "Please provide the one-time code that was sent via e-mail"},
        }
    },
}


def refused(code: str, call: Any, *args: Any) -> str:
    with pytest.raises(o.OfferError) as caught:
        call(*args)
    assert caught.value.code == code, caught.value.detail
    return caught.value.detail


def test_links_by_reference_by_value_and_the_wallets_own_address() -> None:
    uri = f"{ISSUER}/offers/abc"
    assert co.parse_offer_link(f"openid-credential-offer://?credential_offer_uri={quote(uri, safe='')}") \
        == co.OfferLink(offer_uri=uri)
    assert co.parse_offer_link(f"  https://wallet.example/?lang=pl&credential_offer_uri={quote(uri)}\n").offer_uri \
        == uri
    assert co.parse_offer_link(f"haip-vci://?credential_offer_uri={quote(uri, safe='')}").offer_uri == uri  # HAIP
    by_value = co.parse_offer_link("openid-credential-offer://?credential_offer=" + quote(json.dumps(SPEC_OFFER)))
    assert by_value.offer == SPEC_OFFER
    for bad in ("", "openid-credential-offer://", "openid-credential-offer://?credential_offer_uri=a&credential_offer=b",
                "openid-credential-offer://?credential_offer=%7Bnot-json", "openid-credential-offer://?credential_offer=%5B%5D",
                "openid-credential-offer://?credential_offer_uri=" + "a" * co.MAX_LINK_CHARS,
                "openid-credential-offer://?credential_offer=" + "[" * 4000 + "]" * 4000,  # bounded depth
                'openid-credential-offer://?credential_offer={"a":1,"a":2}', "https://[::1?credential_offer_uri=x",
                "openid-credential-offer://?" + "&".join(f"p{i}=1" for i in range(30))):
        refused(o.LINK_INVALID, co.parse_offer_link, bad)


def test_the_specifications_offer_example_is_read() -> None:
    offer = co.parse_offer(SPEC_OFFER)
    assert offer.credential_issuer == ISSUER
    assert offer.configuration_ids == ("UniversityDegreeCredential", "org.iso.18013.5.1.mDL")
    assert offer.pre_authorized_code == "oaKazRN8I0IbtZ0C7JuMn5"
    assert offer.tx_code == co.TxCode(4, "numeric", "Please provide the one-time code that was sent via e-mail")
    assert ir.token_form(offer, "1234") == {"grant_type": o.PRE_AUTHORIZED_GRANT,
                                            "pre-authorized_code": "oaKazRN8I0IbtZ0C7JuMn5", "tx_code": "1234"}


def test_an_offer_of_the_authorization_code_grant_only_is_taken_through_the_issuer() -> None:
    # §4.1.1's first example: the authorization code grant with issuer_state; then one without issuer_state
    offer = co.parse_offer({"credential_issuer": ISSUER, "credential_configuration_ids": ["x"],
                            "grants": {"authorization_code": {"issuer_state": "eyJhbGciOiJSU0Et"}}})
    assert (offer.grant, offer.issuer_state, offer.pre_authorized_code) == (o.AUTHORIZATION_CODE_GRANT,
                                                                             "eyJhbGciOiJSU0Et", "")
    bare = co.parse_offer({"credential_issuer": ISSUER, "credential_configuration_ids": ["x"],
                           "grants": {"authorization_code": {}}})
    assert bare.authorization_code and bare.issuer_state == ""
    both = co.parse_offer({**SPEC_OFFER, "grants": {**SPEC_OFFER["grants"], "authorization_code": {}}})
    assert both.grant == o.PRE_AUTHORIZED_GRANT and both.authorization_code  # no trip to the issuer's pages
    # a grant may name which of the issuer's authorization servers to use (§4.1.1)
    named = co.parse_offer({**SPEC_OFFER, "grants": {o.PRE_AUTHORIZED_GRANT: {
        "pre-authorized_code": "c", "authorization_server": "https://as.example/"}}})
    assert named.authorization_server == "https://as.example" and bare.authorization_server == ""
    by_login = co.parse_offer({"credential_issuer": ISSUER, "credential_configuration_ids": ["x"],
                               "grants": {"authorization_code": {"authorization_server": "https://b.example"}}})
    assert by_login.authorization_server == "https://b.example"


def test_offers_this_wallet_cannot_take_are_refused_by_name() -> None:
    refused(o.UNSUPPORTED, co.parse_offer, {"credential_issuer": ISSUER, "credential_configuration_ids": ["x"],
                                            "grants": {"urn:example:grant": {}}})  # only grants it does not know
    refused(o.LINK_INVALID, co.parse_offer, {"credential_issuer": ISSUER, "credential_configuration_ids": ["x"],
                                             "grants": ["authorization_code"]})
    refused(o.LINK_INVALID, co.parse_offer, {"credential_issuer": ISSUER, "credential_configuration_ids": ["x"],
                                             "grants": {"authorization_code": {"issuer_state": 7}}})
    detail = refused(o.LINK_INVALID, co.parse_offer, {**SPEC_OFFER, "credential_configuration_ids": []})
    assert "credential_configuration_ids" in detail
    assert "credential_issuer" in refused(o.LINK_INVALID, co.parse_offer, {"credential_configuration_ids": ["x"]})
    bad_tx = json.loads(json.dumps(SPEC_OFFER))
    bad_tx["grants"][o.PRE_AUTHORIZED_GRANT]["tx_code"]["length"] = 1000
    refused(o.LINK_INVALID, co.parse_offer, bad_tx)


def test_an_offer_without_grants_leaves_the_grant_to_the_authorization_server() -> None:
    """§4.1.1: grants absent or empty: 'the Wallet MUST determine the Grant Types ... using the respective
    metadata' (RFC 8414 §2: grant_types_supported defaults to authorization_code and implicit)."""
    for grants in ({}, None):
        offer = co.parse_offer({"credential_issuer": ISSUER, "credential_configuration_ids": ["x"],
                                **({} if grants is None else {"grants": grants})})
        assert offer.grants_from_server and not offer.authorization_code and offer.pre_authorized_code == ""
        for server in ({}, {"grant_types_supported": ["authorization_code"]}):
            taken = co.with_server_grants(offer, server)
            assert taken.authorization_code and taken.grant == o.AUTHORIZATION_CODE_GRANT
        for server in ({"grant_types_supported": [o.PRE_AUTHORIZED_GRANT]}, {"grant_types_supported": "x"}):
            refused(o.UNSUPPORTED, co.with_server_grants, offer, server)
    named = co.parse_offer(SPEC_OFFER)
    assert co.with_server_grants(named, {"grant_types_supported": []}) == named  # its own grants stand


def test_the_transaction_code_is_asked_for_and_its_form_checked() -> None:
    offer = co.parse_offer(SPEC_OFFER)
    assert co.check_tx_code(offer, " 0042 ") == "0042"
    refused(o.TX_CODE_REQUIRED, co.check_tx_code, offer, None)
    refused(o.TX_CODE_REQUIRED, co.check_tx_code, offer, "  ")
    refused(o.TX_CODE_FORMAT, co.check_tx_code, offer, "12345")
    refused(o.TX_CODE_FORMAT, co.check_tx_code, offer, "12a4")
    refused(o.TX_CODE_FORMAT, co.check_tx_code, offer, "١٢٣٤")  # Arabic-Indic digits are not the ASCII ones asked for
    without = co.parse_offer({**SPEC_OFFER, "grants": {o.PRE_AUTHORIZED_GRANT: {"pre-authorized_code": "c"}}})
    assert co.check_tx_code(without, "1234") is None  # never sent when not asked for


@pytest.mark.parametrize(("url", "trusted"), [
    (f"{ISSUER}/oid4vci/offers/abc", True),
    (f"{ISSUER}:443/x", True),
    ("https://CREDENTIAL-issuer.example.com/x", True),
    ("http://credential-issuer.example.com/x", False),  # another scheme
    ("https://credential-issuer.example.com:8443/x", False),  # another port
    ("https://credential-issuer.example.com.evil.example/x", False),
    ("https://credential-issuer.example.com@evil.example/x", False),  # user information
    ("https://evil.example/?u=https://credential-issuer.example.com", False),
    ("https://credential-issuer.example.com\\@evil.example/", False),
    ("file:///etc/passwd", False),
    ("https://169.254.169.254/latest/meta-data/", False),
    ("https://[::1/x", False),
    ("https://credential-issuer.example.com:99999/x", False),
    ("https://credential-issuer.example.com:abc/x", False),
])
def test_only_listed_issuers_are_called(url: str, trusted: bool) -> None:
    assert (o.trusted_issuer(url, [ISSUER]) is not None) is trusted


def test_an_issuer_with_a_path_covers_only_that_path() -> None:
    listed = ["https://example.org/issuer"]
    assert o.trusted_issuer("https://example.org/issuer/offers/1", listed) == "https://example.org/issuer"
    assert o.trusted_issuer("https://example.org/issuer", listed) == "https://example.org/issuer"
    assert o.trusted_issuer("https://example.org/issuer-other/offers/1", listed) is None
    assert o.trusted_issuer("https://example.org/", listed) is None
    # §12.2.2 and RFC 8414 §3.1: the well-known segment goes between the host and the issuer's path
    assert o.well_known("https://example.org/issuer", "openid-credential-issuer") == \
        "https://example.org/.well-known/openid-credential-issuer/issuer"
    assert o.well_known(ISSUER, "oauth-authorization-server") == f"{ISSUER}/.well-known/oauth-authorization-server"


def metadata(**changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "credential_issuer": ISSUER, "credential_endpoint": f"{ISSUER}/credential", "nonce_endpoint": f"{ISSUER}/nonce",
        "notification_endpoint": f"{ISSUER}/notification",
        "display": [{"name": "Example University", "locale": "en-US"}, {"name": "Przykładowy Uniwersytet",
                                                                          "locale": "pl"}],
        "credential_configurations_supported": {
            "UniversityDegreeCredential": {"format": "dc+sd-jwt", "vct": "https://example.org/degree",
                                           "credential_metadata": {"display": [{"name": "Degree", "locale": "en"}]}},
            "org.iso.18013.5.1.mDL": {"format": "mso_mdoc", "display": [{"name": "Mobile Driving Licence"}]},
        }}
    document.update(changes)
    return document


def test_metadata_is_read_and_its_endpoints_must_be_the_issuers_own() -> None:
    read = im.parse_issuer_metadata(metadata(), ISSUER)
    assert read.credential_endpoint == f"{ISSUER}/credential" and read.nonce_endpoint == f"{ISSUER}/nonce"
    assert im.display_name(read.display, "pl") == "Przykładowy Uniwersytet"
    assert im.display_name(read.display, "en") == "Example University"
    assert im.display_name(read.display, "de") == "Example University"
    mdl = read.configurations["org.iso.18013.5.1.mDL"]
    assert im.display_name(mdl.display, "en") == "Mobile Driving Licence" and not mdl.supported
    assert im.chosen_configuration(co.parse_offer(SPEC_OFFER), read).configuration_id == "UniversityDegreeCredential"
    assert im.parse_issuer_metadata(metadata(nonce_endpoint=None), ISSUER).nonce_endpoint is None
    for bad in (metadata(credential_endpoint="https://evil.example/credential"),
                metadata(nonce_endpoint="http://credential-issuer.example.com/nonce"),
                metadata(credential_issuer="https://other.example"), metadata(credential_endpoint=None)):
        refused(o.ISSUER_ANSWER_INVALID, im.parse_issuer_metadata, bad, ISSUER)
    # §12.2.4: the authorization servers the issuer relies on, https identifiers only
    listed = im.parse_issuer_metadata(metadata(authorization_servers=["https://as.example/realm/", "https://b.example"]),
                                      ISSUER)
    assert listed.authorization_servers == ("https://as.example/realm", "https://b.example")
    assert im.chosen_authorization_server(listed) == "https://as.example/realm"  # the first, unless the grant names
    assert im.chosen_authorization_server(listed, "https://b.example") == "https://b.example"
    refused(o.ISSUER_ANSWER_INVALID, im.chosen_authorization_server, listed, "https://evil.example")
    # RFC 8414 insertion first, then the appended forms many servers (Keycloak realms) publish
    assert o.server_metadata_urls("https://kc.example/realms/edu") == [
        "https://kc.example/.well-known/oauth-authorization-server/realms/edu",
        "https://kc.example/realms/edu/.well-known/oauth-authorization-server",
        "https://kc.example/realms/edu/.well-known/openid-configuration"]
    assert o.server_metadata_urls("https://as.example") == [
        "https://as.example/.well-known/oauth-authorization-server",
        "https://as.example/.well-known/openid-configuration"]
    own = im.parse_issuer_metadata(metadata(), ISSUER)
    assert own.authorization_servers == () and im.chosen_authorization_server(own) == ISSUER
    refused(o.ISSUER_ANSWER_INVALID, im.chosen_authorization_server, own, "https://as.example")
    for bad in (["http://as.example"], ["https://as.example?x=1"], ["https://u@as.example"], [], "https://as.example",
                ["https://as.example"] * 9, [7], ["https://as.example#f"]):
        refused(o.ISSUER_ANSWER_INVALID, im.parse_issuer_metadata, metadata(authorization_servers=bad), ISSUER)
    only_mdl = {**SPEC_OFFER, "credential_configuration_ids": ["org.iso.18013.5.1.mDL"]}
    refused(o.UNSUPPORTED, im.chosen_configuration, co.parse_offer(only_mdl), read)
    assert im.token_endpoint({"issuer": ISSUER, "token_endpoint": f"{ISSUER}/token"}, ISSUER) == f"{ISSUER}/token"
    refused(o.ISSUER_ANSWER_INVALID, im.token_endpoint, {"issuer": ISSUER, "token_endpoint": "https://x.example/t"},
            ISSUER)
    refused(o.ISSUER_ANSWER_INVALID, im.token_endpoint, {"issuer": "https://x.example"}, ISSUER)


def test_the_key_proof_is_the_appendix_f1_jwt() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    proof = ir.key_proof(key, ISSUER, "wKI4LT17ac15ES9bw8ac4", 1_700_000_000)
    header = jwt.get_unverified_header(proof)
    assert header["typ"] == "openid4vci-proof+jwt" and header["alg"] == "ES256"
    assert set(header["jwk"]) == {"kty", "crv", "x", "y"}  # the public key only
    claims = jwt.decode(proof, key.public_key(), algorithms=["ES256"], audience=ISSUER,
                        options={"verify_iat": False})
    assert claims == {"aud": ISSUER, "iat": 1_700_000_000, "nonce": "wKI4LT17ac15ES9bw8ac4"}  # no iss: anonymous
    assert ir.credential_request("UniversityDegreeCredential", proof) == {
        "credential_configuration_id": "UniversityDegreeCredential", "proofs": {"jwt": [proof]}}
    assert ir.credential_request("UniversityDegreeCredential", proof, "CivilEngineeringDegree-2023") == {
        "credential_identifier": "CivilEngineeringDegree-2023", "proofs": {"jwt": [proof]}}  # never both (§8.2)


def test_an_ldp_vc_bound_to_a_did_key_is_held_and_proved_by_kid() -> None:
    """OpenID4VCI Appendix A.1.2 (ldp_vc) and F.1: a configuration bound to did:key is held; its key proof names
    the key by the DID URL (kid) and shows no jwk."""
    read = im.parse_issuer_metadata(metadata(credential_configurations_supported={
        "OpenBadge": {"format": "ldp_vc", "cryptographic_binding_methods_supported": ["did:key"]},
        "Jwk": {"format": "ldp_vc", "cryptographic_binding_methods_supported": ["jwk"]},
        "WebOnly": {"format": "ldp_vc", "cryptographic_binding_methods_supported": ["did:web"]},
        "Jwt": {"format": "jwt_vc_json"}}), ISSUER)
    badge, jwk_bound = read.configurations["OpenBadge"], read.configurations["Jwk"]
    assert badge.supported and badge.names_key_by_did and jwk_bound.supported and not jwk_bound.names_key_by_did
    assert not read.configurations["WebOnly"].supported and not read.configurations["Jwt"].supported
    key = ec.generate_private_key(ec.SECP256R1())
    proof = ir.key_proof(key, ISSUER, "n", 1_700_000_000, kid="did:key:zDnae#zDnae")
    header = jwt.get_unverified_header(proof)
    assert header["kid"] == "did:key:zDnae#zDnae" and "jwk" not in header


def test_answers_of_the_token_nonce_and_credential_endpoints() -> None:
    assert ir.access_token({"access_token": "t", "token_type": "Bearer", "expires_in": 300}) == ("t", "Bearer")
    refused(o.UNSUPPORTED, ir.access_token, {"access_token": "t", "token_type": "DPoP"})
    refused(o.ISSUER_ANSWER_INVALID, ir.access_token, {"token_type": "Bearer"})
    assert ir.c_nonce({"c_nonce": "n"}) == "n"
    refused(o.ISSUER_ANSWER_INVALID, ir.c_nonce, [])
    # §8.3 example: credentials as an array, with a notification id
    assert ir.issued_credentials({"credentials": [{"credential": "a~b~"}], "notification_id": "3fwe98js"}) == \
        ir.Issued(("a~b~",), "3fwe98js")
    # §8.3 example of a deferred answer: read by the deferred module, not as credentials
    assert ir.is_deferred(202, {"transaction_id": "8xLOxBtZp8", "interval": 3600})
    assert ir.is_deferred(200, {"transaction_id": "8xLOxBtZp8", "interval": 3600})
    assert not ir.is_deferred(200, {"credentials": [{"credential": "a~b~"}]})
    assert deferred.deferred_answer({"transaction_id": "8xLOxBtZp8", "interval": 3600}) == ("8xLOxBtZp8", 3600)
    refused(o.ISSUER_ANSWER_INVALID, ir.issued_credentials, {"transaction_id": "8xLOxBtZp8", "interval": 3600})
    refused(o.ISSUER_ANSWER_INVALID, ir.issued_credentials, {"credentials": [{"credential": 7}]})
    # an ldp_vc is a JSON object (Appendix A.1.2)
    assert ir.issued_credentials({"credentials": [{"credential": {"id": "urn:uuid:1"}}]}).credentials == (
        {"id": "urn:uuid:1"},)
    assert ir.notification("3fwe98js", True) == {"notification_id": "3fwe98js", "event": "credential_accepted"}
    assert ir.notification("3fwe98js", False)["event"] == "credential_failure"


def test_issuer_errors_become_the_learners_plain_codes() -> None:
    wrong = o.issuer_error("token", 400, {"error": "invalid_grant", "error_description": "wrong tx_code"},
                           tx_code_sent=True)
    assert wrong.code == o.TX_CODE_WRONG and "invalid_grant" in wrong.detail and "wrong tx_code" in wrong.detail
    assert o.issuer_error("token", 400, {"error": "invalid_grant"}).code == o.GONE
    assert o.issuer_error("offer", 404, None).code == o.GONE
    assert o.issuer_error("credential", 503, {"error": "server_error"}).code == o.ISSUER_UNAVAILABLE
    assert o.issuer_error("credential", 400, {"error": "invalid_proof"}).code == o.ISSUER_REFUSED


def test_every_code_and_label_is_worded_in_english_and_polish() -> None:
    assert set(OFFER_LABELS["en"]) == set(OFFER_LABELS["pl"])
    codes = {value for module in (o, deferred) for name, value in vars(module).items()
             if name.isupper() and isinstance(value, str) and value.startswith("OFFER_")}
    assert len(codes) == 16 and codes <= set(OFFER_LABELS["en"])
    for lang in ("en", "pl"):
        for code in codes:
            text = OFFER_LABELS[lang][code]
            assert text.endswith(".") and "invalid_" not in text and "OFFER" not in text
    assert "ą" in OFFER_LABELS["pl"]["OFFER_TX_CODE_WRONG"] or "ę" in OFFER_LABELS["pl"]["OFFER_TX_CODE_WRONG"]


async def test_the_http_adapter_calls_only_trusted_issuers_follows_no_redirect_and_reads_a_bounded_answer() -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(str(request.url))
        if request.url.path == "/redirect":
            return httpx.Response(302, headers={"location": "https://evil.example/"})
        if request.url.path == "/huge":
            return httpx.Response(200, headers={"content-type": "application/json"},
                                  content=b"[" + b"1," * MAX_BODY_BYTES + b"1]")
        if request.url.path == "/token":
            assert request.headers["content-type"] == "application/x-www-form-urlencoded"
            return httpx.Response(400, json={"error": "use_dpop_nonce", "form": request.content.decode()},
                                  headers={"DPoP-Nonce": "eyJ7S_zG.eyJH0-Z.HX4w-7v"})
        return httpx.Response(401 if request.url.path == "/notification" else 200,
                              json={"ok": True, "auth": request.headers.get("authorization")},
                              headers={"WWW-Authenticate": 'DPoP error="use_dpop_nonce"', "DPoP-Nonce": "n2"})

    client = IssuerClient([ISSUER], transport=httpx.MockTransport(handler))
    try:
        refused_call = pytest.raises(o.OfferError)
        with refused_call as caught:
            await client.get("https://evil.example/offers/1")
        assert caught.value.code == o.ISSUER_NOT_TRUSTED and calls == []  # refused before any request
        redirect = await client.get(f"{ISSUER}/redirect")
        assert redirect.status == 302 and calls == [f"{ISSUER}/redirect"]  # not followed
        with pytest.raises(o.OfferError) as caught:
            await client.get(f"{ISSUER}/huge")
        assert caught.value.code == o.ISSUER_UNAVAILABLE
        token = await client.post_form(f"{ISSUER}/token", {"tx_code": "1234"})
        assert token.body["form"] == "tx_code=1234"
        assert token.dpop_nonce == "eyJ7S_zG.eyJH0-Z.HX4w-7v"  # RFC 9449 §8 example nonce, as the server sent it
        answer = await client.post_json(f"{ISSUER}/credential", {"a": 1}, "tok")
        assert answer.body == {"ok": True, "auth": "Bearer tok"}
        challenged = await client.post_json(f"{ISSUER}/notification", {"a": 1}, "tok", "proof")
        assert challenged.status == 401 and challenged.body["auth"] == "DPoP tok"
        assert challenged.www_authenticate == 'DPoP error="use_dpop_nonce"' and challenged.dpop_nonce == "n2"
    finally:
        await client.aclose()


async def test_an_unreachable_issuer_is_unavailable_not_an_error_page() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectTimeout("timed out", request=request)

    client = IssuerClient([ISSUER], transport=httpx.MockTransport(handler))
    try:
        with pytest.raises(o.OfferError) as caught:
            await client.get(f"{ISSUER}/x")
        assert caught.value.code == o.ISSUER_UNAVAILABLE
    finally:
        await client.aclose()


def test_dpop_proofs_follow_rfc_9449() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    assert ir.uses_dpop({"dpop_signing_alg_values_supported": ["ES256"]})
    assert not ir.uses_dpop({"dpop_signing_alg_values_supported": ["RS256"]}) and not ir.uses_dpop({})
    proof = ir.dpop_proof(key, "POST", f"{ISSUER}/credential?x=1#f", jti="j-1", iat=1_700_000_000,
                          access_token="Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU")
    header = jwt.get_unverified_header(proof)
    assert header["typ"] == "dpop+jwt" and header["alg"] == "ES256" and set(header["jwk"]) == {"kty", "crv", "x", "y"}
    claims = jwt.decode(proof, key.public_key(), algorithms=["ES256"], options={"verify_iat": False})
    # RFC 9449 §7.1 example: the ath of that access token
    assert claims == {"jti": "j-1", "htm": "POST", "htu": f"{ISSUER}/credential", "iat": 1_700_000_000,
                      "ath": "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"}
    assert "ath" not in jwt.decode(ir.dpop_proof(key, "POST", ISSUER, jti="j", iat=1), key.public_key(),
                                   algorithms=["ES256"], options={"verify_iat": False})
    assert ir.access_token({"access_token": "t", "token_type": "DPoP"}, dpop=True) == ("t", "DPoP")
    assert ir.access_token({"access_token": "t", "token_type": "Bearer"}, dpop=True) == ("t", "Bearer")
