"""Our wallet as an OpenID4VP responder (pure logic): links, request objects (x509_san_dns chain, SAN and
signature; redirect_uri unsigned), DCQL matching against held SD-JWT VCs, presentations with only the chosen
Disclosures and a KB-JWT, encrypted and plain answers, refusals. What the wallet builds is judged by the
gateway's own response checker (microcred.oid4vp.response), not by the code that built it."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import json
from typing import Any
from urllib.parse import urlencode

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from joserfc.jwk import ECKey

from microcred import pki
from microcred.oid4vp.dcql import Presented, evaluate
from microcred.oid4vp.request import (
    ClientIdentity,
    PresentationRequest,
    authorization_link,
    build_request,
    encode_request_object,
    request_object,
)
from microcred.oid4vp.request_uri_post import read_wallet_fetch
from microcred.oid4vp.response import check_response, read_response
from microcred.sdjwt.claims import micro_credential_claims
from microcred.sdjwt.core import sd_hash, split_sd_jwt
from microcred.sdjwt.issue import StatusReference, issue_sd_jwt_vc
from microcred.sdjwt.jose import algorithm_for_key, b64url_decode, b64url_encode, compact_json, public_jwk
from microcred.sdjwt.type_metadata import VCT, integrity, type_metadata_bytes
from microcred.sdjwt.x5c import load_certificates, x5c_header
from microcred.verification import Verdict
from services.wallet.adapters.holder_keys import HOLDER_KEY_ALGS
from services.wallet.domain.oid4vp_answers import answer_form, build_presentation, continue_to, error_form, refusal_form
from services.wallet.domain.oid4vp_matching import (
    INCOMPLETE,
    NO_MATCH,
    NOT_ASKED,
    AnswerError,
    Choice,
    answerable,
    match,
    parse_holding,
    plan_answer,
)
from services.wallet.domain.presentations_oid4vp import (
    KB_ALGS,
    PresentationRequestError,
    RefusedRequest,
    check_request_object,
    parse_link,
    wallet_metadata,
)
from tests.harness.factories import valid_micro_credential
from tests.harness.sd_jwt import LIST_URI, NOW, SdWorld, make_world

HOST = "verifier.example"
CLIENT_ID = f"x509_san_dns:{HOST}"
RESPONSE_URI = f"https://{HOST}/oid4vp/responses/r1"
HOLDER = ec.generate_private_key(ec.SECP256R1())
CLAIMS = ("achievement_title", "family_name", "level_of_learning_experience.eqf_level")
QUERY = {"credentials": [{"id": "mc", "format": "dc+sd-jwt", "meta": {"vct_values": [VCT]},
                          "claims": [{"path": ["achievement_title"]}, {"path": ["family_name"]},
                                     {"path": ["level_of_learning_experience", "eqf_level"], "values": [6, 7, 8]}]}]}


@pytest.fixture(scope="module")
def sd() -> SdWorld:
    return make_world()


@pytest.fixture(scope="module")
def verifier() -> tuple[ClientIdentity, tuple[x509.Certificate, ...]]:
    ca = pki.create_ca("Platform CA", not_before=NOW - dt.timedelta(days=1))
    cert = pki.create_signing_cert(ca, issuer_uri=f"https://{HOST}", common_name="Verifier",
                                   not_before=NOW - dt.timedelta(days=1))
    key = serialization.load_pem_private_key(cert.key_pem, password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return ClientIdentity.x509_san_dns(HOST, key, x5c_header([cert.cert_pem])), tuple(load_certificates(ca.cert_pem))


def new_request(query: dict[str, Any] = QUERY, mode: str = "direct_post",
                jwk: dict[str, Any] | None = None) -> PresentationRequest:
    return build_request(client_id=CLIENT_ID, response_uri=RESPONSE_URI, response_mode=mode, dcql_query=query,
                         now=int(NOW.timestamp()), lifetime=300, encryption_jwk=jwk)


def test_links_are_read_and_bad_ones_named() -> None:
    link = parse_link(authorization_link(CLIENT_ID, "https://verifier.example/oid4vp/requests/abc"))
    assert link.client_id == CLIENT_ID and link.request_uri.endswith("/requests/abc")
    for scheme in ("haip-vp", "HAIP-VP", "haip", "eudi-openid4vp"):  # HAIP 1.0 §5.1, its drafts, EUDI wallets
        assert parse_link(authorization_link(CLIENT_ID, "https://v.example/r/1", scheme)).client_id == CLIENT_ID
    for bad, field in (("", "link"), ("http://x?client_id=a&request_uri=b", "link"),
                       (f"haip-vci://?client_id={CLIENT_ID}&request_uri=https://v.example/r/1", "link"),
                       ("openid4vp://?request_uri=b", "link.client_id"),
                       ("openid4vp://?client_id=x509_san_dns:a", "link.request_uri"),
                       ("openid4vp://?client_id=did:web:a&request_uri=https://a", "link.client_id"),
                       ("openid4vp://?client_id=x509_san_dns:a&request_uri=b&request_uri=c", "link.request_uri"),
                       ("openid4vp://[::1?client_id=x509_san_dns:a&request_uri=b", "link")):  # urlsplit raises
        with pytest.raises(PresentationRequestError) as caught:
            parse_link(bad)
        assert caught.value.field == field, bad


def test_request_uri_method_post_is_read_and_the_nonce_must_come_back(verifier: Any) -> None:
    """§5.10: a link asking for a POST; the request object must carry the wallet's nonce of that fetch."""
    uri = "https://verifier.example/oid4vp/requests/abc"
    assert parse_link(authorization_link(CLIENT_ID, uri)).request_uri_method == "get"
    assert parse_link(authorization_link(CLIENT_ID, uri, request_uri_method="post")).request_uri_method == "post"
    for bad in ("PUT", "POST"):
        with pytest.raises(PresentationRequestError) as caught:
            parse_link(f"openid4vp://?client_id={CLIENT_ID}&request_uri={uri}&request_uri_method={bad}")
        assert caught.value.field == "link.request_uri_method"
    identity, anchors = verifier
    request = new_request()
    assert check_request_object(request_object(request, identity, "n-1"), CLIENT_ID, anchors, NOW, "n-1").verified
    for served in (request_object(request, identity), request_object(request, identity, "n-0")):
        with pytest.raises(PresentationRequestError) as caught:
            check_request_object(served, CLIENT_ID, anchors, NOW, "n-1")
        assert caught.value.field == "request.wallet_nonce"
    metadata = wallet_metadata(CLIENT_ID)  # what the wallet POSTs: the gateway's own reading accepts it
    assert read_wallet_fetch(urlencode({"wallet_nonce": "n-1", "wallet_metadata": json.dumps(metadata)}).encode(),
                             CLIENT_ID).wallet_metadata == metadata


def test_a_signed_request_is_accepted_only_from_the_certified_host(verifier: Any) -> None:
    identity, anchors = verifier
    request = new_request()
    token = request_object(request, identity)
    checked = check_request_object(token, CLIENT_ID, anchors, NOW)
    assert checked.verified and checked.host == HOST and checked.nonce == request.nonce
    assert checked.query.credentials[0].id == "mc"
    with pytest.raises(PresentationRequestError, match=r"does not name evil\.example"):
        check_request_object(token, "x509_san_dns:evil.example", anchors, NOW)
    other_ca = pki.create_ca("Other CA", not_before=NOW - dt.timedelta(days=1))
    with pytest.raises(PresentationRequestError) as caught:
        check_request_object(token, CLIENT_ID, tuple(load_certificates(other_ca.cert_pem)), NOW)
    assert caught.value.field == "request.x5c"
    head, body, sig = token.split(".")
    forged_claims = json.loads(b64url_decode(body))
    forged_claims["response_uri"] = "https://evil.example/steal"
    forged = f"{head}.{b64url_encode(compact_json(forged_claims))}.{sig}"
    with pytest.raises(PresentationRequestError) as caught:
        check_request_object(forged, CLIENT_ID, anchors, NOW)
    assert caught.value.field == "request.signature"
    with pytest.raises(PresentationRequestError, match="expired"):
        check_request_object(token, CLIENT_ID, anchors, NOW + dt.timedelta(minutes=10))
    unclosed = request_object(dataclasses.replace(request, response_uri="https://[::1/response"), identity)
    with pytest.raises(PresentationRequestError) as caught:  # signed, but not a URL (urlsplit raises)
        check_request_object(unclosed, CLIENT_ID, anchors, NOW)
    assert caught.value.field == "request.response_uri"


def test_an_x509_hash_request_is_accepted_only_for_the_certificate_its_hash_names(verifier: Any) -> None:
    san_dns, anchors = verifier
    identity = ClientIdentity.x509_hash(san_dns.key, san_dns.x5c)
    request = build_request(client_id=identity.client_id, response_uri=RESPONSE_URI, response_mode="direct_post",
                            dcql_query=QUERY, now=int(NOW.timestamp()), lifetime=300)
    token = request_object(request, identity)
    assert parse_link(authorization_link(identity.client_id, "https://a/r")).client_id == identity.client_id
    checked = check_request_object(token, identity.client_id, anchors, NOW)
    assert checked.verified and checked.host == HOST and checked.nonce == request.nonce  # the leaf's SAN shown
    # another certificate's hash (a verifier certified by the same CA) is not this one
    other = pki.create_signing_cert(pki.create_ca("Other CA", not_before=NOW - dt.timedelta(days=1)),
                                    issuer_uri=f"https://{HOST}", common_name="V", not_before=NOW)
    other_id = ClientIdentity.x509_hash(san_dns.key, x5c_header([other.cert_pem])).client_id
    assert other_id != identity.client_id
    with pytest.raises(PresentationRequestError, match="x509_hash") as caught:
        check_request_object(token, other_id, anchors, NOW)
    assert caught.value.field in ("request.x5c", "request.client_id")
    with pytest.raises(PresentationRequestError) as caught:  # an untrusted chain, whatever the hash
        check_request_object(token, identity.client_id, tuple(load_certificates(
            pki.create_ca("Else", not_before=NOW - dt.timedelta(days=1)).cert_pem)), NOW)
    assert caught.value.field == "request.x5c"
    unsigned = request_object(request, ClientIdentity(identity.client_id))  # alg none, no key
    with pytest.raises(PresentationRequestError) as caught:  # an unsigned object cannot claim a certificate
        check_request_object(unsigned, identity.client_id, anchors, NOW)
    assert caught.value.field == "request.alg"


def test_an_unsigned_request_needs_the_redirect_uri_scheme_and_is_not_verified(verifier: Any) -> None:
    _, anchors = verifier
    dev_id = f"redirect_uri:{RESPONSE_URI}"
    request = build_request(client_id=dev_id, response_uri=RESPONSE_URI, response_mode="direct_post",
                            dcql_query=QUERY, now=int(NOW.timestamp()), lifetime=300)
    token = request_object(request, ClientIdentity.redirect_uri(RESPONSE_URI))
    checked = check_request_object(token, dev_id, anchors, NOW)
    assert not checked.verified and checked.host == HOST
    with pytest.raises(PresentationRequestError):  # an unsigned object cannot claim a certified host
        check_request_object(token, CLIENT_ID, anchors, NOW)
    with pytest.raises(PresentationRequestError, match="redirect_uri"):
        check_request_object(token, "redirect_uri:https://evil.example/r", anchors, NOW)


async def test_matching_and_a_presentation_with_only_the_claims_asked_for(sd: SdWorld, verifier: Any) -> None:
    identity, anchors = verifier
    request = new_request()
    checked = check_request_object(request_object(request, identity), CLIENT_ID, anchors, NOW)
    mine = parse_holding("c1", sd.issue(holder_jwk=public_jwk(HOLDER)).compact)
    unbound = parse_holding("c2", sd.issue().compact)  # no cnf: cannot meet a query asking for holder binding
    found = match(checked, [mine, unbound])
    assert [(c.query_id, c.credential_id) for c in found] == [("mc", "c1")]
    assert found[0].claims == CLAIMS
    held = {"c1": mine, "c2": unbound}
    (planned,) = plan_answer(checked, held, [Choice("mc", "c1", disclose=CLAIMS)])
    vp = build_presentation(planned, HOLDER, nonce=checked.nonce, aud=checked.client_id, iat=int(NOW.timestamp()))
    assert len(vp.split("~")) - 2 < len(mine.disclosures)  # given_name, birthdate... are not in it
    outcome = await check_response(request, {"mc": [vp]}, sd.ports(), NOW)
    assert outcome.verdict is Verdict.VALID and outcome.query.satisfied, outcome.to_dict()
    # withholding a claim the verifier asked for is not an answer (§6.4.1): the learner refuses instead
    for disclose, code, said in ((CLAIMS[::2], INCOMPLETE, "needs family_name"),
                                 ((*CLAIMS, "birthdate"), NOT_ASKED, "not asked for by the verifier: birthdate")):
        with pytest.raises(AnswerError, match=said) as caught:
            plan_answer(checked, held, [Choice("mc", "c1", disclose=disclose)])
        assert caught.value.code == code and caught.value.field == "answers[0].disclose"
    with pytest.raises(AnswerError) as caught:
        plan_answer(checked, held, [Choice("mc", "c2")])
    assert caught.value.code == NO_MATCH
    with pytest.raises(PresentationRequestError, match="not bound"):
        build_presentation(planned, ed25519.Ed25519PrivateKey.generate(), nonce="n", aud=CLIENT_ID, iat=0)


async def test_a_credential_that_is_also_of_the_type_asked_for_is_offered_and_accepted(sd: SdWorld,
                                                                                      verifier: Any) -> None:
    """A verifier asks for the EC Learning Credential type; the wallet holds our micro-credential whose issuer
    says (aka_vcts, SD-JWT VC draft -18) it is also of that type: offered, presented and the query met at the
    gateway; without aka_vcts it is not offered."""
    identity, anchors = verifier
    learning = "urn:eu.europa.ec.eudi:learning:credential:1"
    query = {**QUERY, "credentials": [{**QUERY["credentials"][0], "meta": {"vct_values": [learning]}}]}
    request = new_request(query)
    checked = check_request_object(request_object(request, identity), CLIENT_ID, anchors, NOW)
    claims = {**micro_credential_claims(valid_micro_credential()), "aka_vcts": [learning]}
    also = issue_sd_jwt_vc(claims, issuer=sd.issuer, vct=VCT, now=NOW, vct_integrity=integrity(type_metadata_bytes()),
                           status=StatusReference(LIST_URI, 17), holder_jwk=public_jwk(HOLDER))
    mine = parse_holding("c1", also.compact)
    plain = parse_holding("c2", sd.issue(holder_jwk=public_jwk(HOLDER)).compact)
    found = match(checked, [mine, plain])
    assert [c.credential_id for c in found] == ["c1"]
    (planned,) = plan_answer(checked, {"c1": mine}, [Choice("mc", "c1")])
    vp = build_presentation(planned, HOLDER, nonce=checked.nonce, aud=checked.client_id, iat=int(NOW.timestamp()))
    outcome = await check_response(request, {"mc": [vp]}, sd.ports(), NOW)
    assert outcome.verdict is Verdict.VALID and outcome.query.satisfied, outcome.to_dict()


def test_only_credentials_under_a_trusted_authority_the_request_names_are_offered(sd: SdWorld,
                                                                                 verifier: Any) -> None:
    identity, anchors = verifier
    [agency_ca] = sd.anchors
    ours = b64url_encode(agency_ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest)
    mine = parse_holding("c1", sd.issue(holder_jwk=public_jwk(HOLDER)).compact)
    assert mine.authority_key_ids  # the agency CA's, from the credential's x5c
    for values, offered in (([ours], ["c1"]), (["s9tIpPmhxdiuNkHMEWNpYim8S8Y"], [])):
        query = {**QUERY, "credentials": [{**QUERY["credentials"][0],
                                           "trusted_authorities": [{"type": "aki", "values": values}]}]}
        checked = check_request_object(request_object(new_request(query), identity), CLIENT_ID, anchors, NOW)
        assert [c.credential_id for c in match(checked, [mine])] == offered


def test_answers_encrypted_plain_and_refusals(sd: SdWorld, verifier: Any) -> None:
    identity, anchors = verifier
    key = ECKey.generate_key("P-256", parameters={"kid": "k1", "use": "enc", "alg": "ECDH-ES"})
    request = new_request(mode="direct_post.jwt", jwk=key.as_dict(private=False))
    checked = check_request_object(request_object(request, identity), CLIENT_ID, anchors, NOW)
    form = answer_form(checked, {"mc": ["a~b~"]})
    assert set(form) == {"response"}
    read = read_response(form, request, key.as_dict(private=True))
    assert read.encrypted and read.vp_token == {"mc": ["a~b~"]} and read.state == request.state
    # the gateway lists A128GCM and A256GCM (HAIP: verifiers list both); a wallet with both uses A256GCM (HAIP 1.0)
    protected = form["response"].split(".")[0]
    assert json.loads(base64.urlsafe_b64decode(protected + "=" * (-len(protected) % 4)))["enc"] == "A256GCM"
    plain_request = new_request()
    plain = check_request_object(request_object(plain_request, identity), CLIENT_ID, anchors, NOW)
    read = read_response(answer_form(plain, {"mc": ["a~b~"]}), plain_request, None)
    assert not read.encrypted and read.vp_token == {"mc": ["a~b~"]}
    refusal = read_response(refusal_form(plain), plain_request, None)
    assert refusal.error == "access_denied" and refusal.state == plain_request.state


def test_the_wallet_follows_only_an_https_redirect_the_verifier_gives() -> None:
    assert continue_to({"redirect_uri": "https://jobs.example/a#response_code=x"}) == \
        "https://jobs.example/a#response_code=x"
    assert continue_to({"redirect_uri": "http://localhost:8080/back"}) == "http://localhost:8080/back"
    for answer in ({}, None, "x", {"redirect_uri": 5}, {"redirect_uri": "javascript:alert(1)"},
                   {"redirect_uri": "http://jobs.example/"}, {"redirect_uri": "https://u:p@jobs.example/"},
                   {"redirect_uri": "https://jobs.example/" + "a" * 2048}, {"redirect_uri": "https://"}):
        assert continue_to(answer) is None, answer


#: An EUDI-style request: the same credential in two formats, either one answers (OpenID4VP 1.0 §6.4.2), with a
#: member DCQL does not define yet (§6: ignored) and a long query id (§6.1 sets no length).
PID_ID = "pid_" + "x" * 70
EUDI_QUERY = {"credentials": [{**QUERY["credentials"][0], "id": PID_ID},
                              {"id": "pid_mdoc", "format": "mso_mdoc",
                               "meta": {"doctype_value": "eu.europa.ec.eudi.pid.1"},
                               "claims": [{"path": ["eu.europa.ec.eudi.pid.1", "family_name"],
                                           "intent_to_retain": False}]}],
              "credential_sets": [{"options": [[PID_ID], ["pid_mdoc"]]}], "extension": {"v": 1}}


def test_a_query_with_a_format_we_do_not_hold_is_answered_with_the_option_we_can_meet(sd: SdWorld,
                                                                                      verifier: Any) -> None:
    identity, anchors = verifier
    checked = check_request_object(request_object(new_request(EUDI_QUERY), identity), CLIENT_ID, anchors, NOW)
    assert [(q.id, q.supported) for q in checked.query.credentials] == [(PID_ID, True), ("pid_mdoc", False)]
    mine = parse_holding("c1", sd.issue(holder_jwk=public_jwk(HOLDER)).compact)
    assert [(c.query_id, c.credential_id) for c in match(checked, [mine])] == [(PID_ID, "c1")]


async def test_the_key_binding_jwt_hashes_with_the_credentials_own_sd_alg(sd: SdWorld, verifier: Any) -> None:
    """RFC 9901 §4.3.1: sd_hash uses the hash algorithm of the SD-JWT's _sd_alg (here sha-384, not sha-256)."""
    identity, anchors = verifier
    request = new_request()
    checked = check_request_object(request_object(request, identity), CLIENT_ID, anchors, NOW)
    issued = issue_sd_jwt_vc(micro_credential_claims(valid_micro_credential()), issuer=sd.issuer, vct=VCT, now=NOW,
                             vct_integrity=integrity(type_metadata_bytes()), status=StatusReference(LIST_URI, 17),
                             holder_jwk=public_jwk(HOLDER), alg="sha-384")
    mine = parse_holding("c1", issued.compact)
    assert mine.sd_alg == "sha-384"
    (planned,) = plan_answer(checked, {"c1": mine}, [Choice("mc", "c1")])
    vp = build_presentation(planned, HOLDER, nonce=checked.nonce, aud=checked.client_id, iat=int(NOW.timestamp()))
    kb = json.loads(b64url_decode(vp.rsplit("~", 1)[1].split(".")[1]))
    assert kb["sd_hash"] == sd_hash(split_sd_jwt(vp), "sha-384")
    outcome = await check_response(request, {"mc": [vp]}, sd.ports(), NOW)
    assert outcome.verdict is Verdict.VALID and outcome.query.satisfied, outcome.to_dict()


def resigned(token: str, identity: ClientIdentity, **changes: Any) -> str:
    """The request object ``token`` with claims changed (None removes one), signed again by the verifier."""
    claims = json.loads(b64url_decode(token.split(".")[1]))
    claims.update(changes)
    return encode_request_object({k: v for k, v in claims.items() if v is not None}, identity)


@pytest.mark.parametrize(("changes", "field"), [
    ({"redirect_uri": "https://verifier.example/back"}, "request.redirect_uri"),  # §8.2 with response_uri
    ({"transaction_data": [b64url_encode(compact_json({"type": "payment", "credential_ids": ["mc"]}))]},
     "request.transaction_data"),  # §5: a wallet not supporting it MUST reject it
])
def test_what_this_wallet_must_reject_is_refused_with_invalid_request(verifier: Any, changes: dict[str, Any],
                                                                      field: str) -> None:
    identity, anchors = verifier
    request = new_request()
    for mode in ("direct_post", "direct_post.jwt"):
        token = resigned(request_object(request, identity), identity, response_mode=mode, **changes)
        with pytest.raises(RefusedRequest) as caught:
            check_request_object(token, CLIENT_ID, anchors, NOW)
        refused = caught.value
        assert (refused.field, refused.error, refused.response_uri, refused.state) == \
            (field, "invalid_request", RESPONSE_URI, request.state)
        form = error_form(refused.error, refused.problem, refused.state)  # what the wallet posts to response_uri
        read = read_response(form, request, None)
        assert read.error == "invalid_request" and read.state == request.state


def test_wallet_metadata_declares_what_the_holder_keys_sign_and_no_signing_algs_for_redirect_uri() -> None:
    signed, unsigned = wallet_metadata(CLIENT_ID), wallet_metadata(f"redirect_uri:{RESPONSE_URI}")
    assert signed["request_object_signing_alg_values_supported"] == ["ES256", "ES384", "ES512"]
    assert "request_object_signing_alg_values_supported" not in unsigned  # §5.10: MUST NOT for redirect_uri:
    assert set(signed["vp_formats_supported"]["dc+sd-jwt"]["kb-jwt_alg_values"]) == set(HOLDER_KEY_ALGS)
    ed = ed25519.Ed25519PrivateKey.generate()
    assert {algorithm_for_key(HOLDER), algorithm_for_key(ed)} == set(KB_ALGS)  # what a KB-JWT's header names


def test_a_verifier_taking_none_of_our_formats_or_kb_algorithms_is_refused(sd: SdWorld, verifier: Any) -> None:
    """§8.5 vp_formats_not_supported; a verifier taking some of our KB-JWT algorithms is offered only the
    credentials bound to a key signing with one of them."""
    identity, anchors = verifier
    request = new_request()
    token = request_object(request, identity)
    for formats in ({"mso_mdoc": {}}, {"dc+sd-jwt": {"kb-jwt_alg_values": ["ES384", "Ed25519"]}}):
        with pytest.raises(RefusedRequest) as caught:
            check_request_object(resigned(token, identity, client_metadata={"vp_formats_supported": formats}),
                                 CLIENT_ID, anchors, NOW)
        assert caught.value.error == "vp_formats_not_supported" and caught.value.state == request.state
    p256 = parse_holding("p", sd.issue(holder_jwk=public_jwk(HOLDER)).compact)
    ed = parse_holding("e", sd.issue(holder_jwk=public_jwk(ed25519.Ed25519PrivateKey.generate())).compact)
    assert (p256.kb_alg, ed.kb_alg) == ("ES256", "EdDSA")
    for algs, offered in ((["ES256"], ["p"]), (["EdDSA", "ES384"], ["e"]), (None, ["p", "e"])):
        metadata = {"vp_formats_supported": {"dc+sd-jwt": {} if algs is None else {"kb-jwt_alg_values": algs}}}
        checked = check_request_object(resigned(token, identity, client_metadata=metadata), CLIENT_ID, anchors, NOW)
        assert [c.credential_id for c in match(checked, [p256, ed])] == offered, algs


def test_the_answer_is_encrypted_only_to_a_key_whose_alg_is_ours(verifier: Any) -> None:
    """§8.3: "The JWE alg algorithm used MUST be equal to the alg value of the chosen jwk"."""
    identity, anchors = verifier
    other = ECKey.generate_key("P-256", parameters={"kid": "kw", "use": "enc", "alg": "ECDH-ES+A128KW"})
    ours = ECKey.generate_key("P-256", parameters={"kid": "es", "use": "enc", "alg": "ECDH-ES"})
    request = new_request(mode="direct_post.jwt", jwk=ours.as_dict(private=False))
    token = request_object(request, identity)
    jwks = {"keys": [other.as_dict(private=False), ours.as_dict(private=False)]}
    metadata = {"jwks": jwks, "encrypted_response_enc_values_supported": ["A128GCM"]}
    checked = check_request_object(resigned(token, identity, client_metadata=metadata), CLIENT_ID, anchors, NOW)
    form = answer_form(checked, {"mc": ["a~b~"]})
    assert json.loads(b64url_decode(form["response"].split(".")[0]))["kid"] == "es"
    assert read_response(form, request, ours.as_dict(private=True)).vp_token == {"mc": ["a~b~"]}
    only_other = {**metadata, "jwks": {"keys": [other.as_dict(private=False)]}}
    with pytest.raises(PresentationRequestError) as caught:
        check_request_object(resigned(token, identity, client_metadata=only_other), CLIENT_ID, anchors, NOW)
    assert caught.value.field == "request.client_metadata.jwks"


def disclosed_names(vp: str) -> set[str]:
    """The claim names of a presentation's Disclosures (object members only)."""
    names = set()
    for encoded in vp.split("~")[1:-1]:
        decoded = json.loads(b64url_decode(encoded))
        if len(decoded) == 3:
            names.add(decoded[1])
    return names


CLAIM_SETS_QUERY = {"credentials": [{
    "id": "mc", "format": "dc+sd-jwt", "meta": {"vct_values": [VCT]},
    "claims": [{"id": "title", "path": ["achievement_title"]}, {"id": "family", "path": ["family_name"]},
               {"id": "given", "path": ["given_name"]}, {"id": "nobody", "path": ["no_such_claim"]}],
    "claim_sets": [["title", "nobody"], ["title", "family"], ["title", "given"]]}]}


async def test_one_whole_claim_set_the_learner_picks_and_nothing_of_the_others(sd: SdWorld, verifier: Any) -> None:
    """§6.4.1: one combination of claim_sets; the first the credential meets unless the learner picks another;
    a claim of another option is never sent along (§6.4: "MUST NOT send selectively disclosable claims that have
    not been selected")."""
    identity, anchors = verifier
    request = new_request(CLAIM_SETS_QUERY)
    checked = check_request_object(request_object(request, identity), CLIENT_ID, anchors, NOW)
    mine = parse_holding("c1", sd.issue(holder_jwk=public_jwk(HOLDER)).compact)
    (found,) = match(checked, [mine])
    assert [(o.claim_set, o.labels) for o in found.options] == [(1, ("achievement_title", "family_name")),
                                                                 (2, ("achievement_title", "given_name"))]
    iat = int(NOW.timestamp())
    for choice, shown in ((Choice("mc", "c1"), "family_name"), (Choice("mc", "c1", 2), "given_name")):
        (planned,) = plan_answer(checked, {"c1": mine}, [choice])
        vp = build_presentation(planned, HOLDER, nonce=checked.nonce, aud=checked.client_id, iat=iat)
        assert disclosed_names(vp) & {"family_name", "given_name"} == {shown}  # (the title is always visible)
        outcome = await check_response(request, {"mc": [vp]}, sd.ports(), NOW)
        assert outcome.verdict is Verdict.VALID and outcome.query.satisfied, outcome.to_dict()
    for choice, code, field in (
            (Choice("mc", "c1", 1, ("achievement_title", "family_name", "given_name")), NOT_ASKED,
             "answers[0].disclose"),  # labels of two options: not in the chosen claim set
            (Choice("mc", "c1", 1, ("family_name",)), INCOMPLETE, "answers[0].disclose"),
            (Choice("mc", "c1", 0), NO_MATCH, "answers[0].claim_set"),  # an option it does not meet
            (Choice("mc", "c1", 7), NO_MATCH, "answers[0].claim_set")):
        with pytest.raises(AnswerError) as caught:
            plan_answer(checked, {"c1": mine}, [choice])
        assert (caught.value.code, caught.value.field) == (code, field), caught.value


def test_every_required_credential_query_or_set_is_answered_or_nothing_is_sent(sd: SdWorld, verifier: Any) -> None:
    """§6.4.2: "If the Wallet cannot deliver all non-optional Credentials [...] it MUST NOT return any"."""
    identity, anchors = verifier
    mine = parse_holding("c1", sd.issue(holder_jwk=public_jwk(HOLDER)).compact)
    other = {**QUERY["credentials"][0], "id": "other", "meta": {"vct_values": ["https://other.example/vct"]}}
    also = {**QUERY["credentials"][0], "id": "also"}

    def checked(query: dict[str, Any]) -> Any:
        return check_request_object(request_object(new_request(query), identity), CLIENT_ID, anchors, NOW)

    def refused(query: dict[str, Any], choices: list[Choice]) -> AnswerError:
        with pytest.raises(AnswerError) as caught:
            plan_answer(checked(query), {"c1": mine}, choices)
        return caught.value

    both = {"credentials": [QUERY["credentials"][0], other]}  # no credential_sets: both are needed
    assert not answerable(checked(both).query, ["mc"])
    assert refused(both, [Choice("mc", "c1")]).code == INCOMPLETE
    assert refused(both, []).code == INCOMPLETE
    either = {**both, "credential_sets": [{"options": [["other"], ["mc"]]}]}
    assert answerable(checked(either).query, ["mc"])
    assert [p.query.id for p in plan_answer(checked(either), {"c1": mine}, [Choice("mc", "c1")])] == ["mc"]
    optional = {"credentials": [QUERY["credentials"][0], also],
                "credential_sets": [{"options": [["mc"]]}, {"options": [["also"]], "required": False}]}
    assert len(plan_answer(checked(optional), {"c1": mine}, [Choice("mc", "c1")])) == 1  # the optional one left out
    assert len(plan_answer(checked(optional), {"c1": mine}, [Choice("mc", "c1"), Choice("also", "c1")])) == 2
    assert refused(optional, [Choice("also", "c1")]).code == INCOMPLETE  # the required set unmet
    pair = {"credentials": [QUERY["credentials"][0], also, other],
            "credential_sets": [{"options": [["other"], ["mc", "also"]]}]}
    assert refused(pair, [Choice("mc", "c1")]).code == INCOMPLETE  # half an option
    stray = {**pair, "credential_sets": [{"options": [["mc"], ["also", "other"]]}]}
    assert refused(stray, [Choice("mc", "c1"), Choice("also", "c1")]).code == NOT_ASKED  # part of no whole option
    assert refused(QUERY, [Choice("mc", "c1"), Choice("mc", "c1")]).code == NOT_ASKED  # multiple is false
    assert refused(QUERY, [Choice("zz", "c1")]).code == NOT_ASKED


async def test_the_eudi_style_request_is_answered_with_the_sd_jwt_option(sd: SdWorld, verifier: Any) -> None:
    """The request of the first test above ([[pid], [pid_mdoc]]): answered with pid, which meets its set."""
    identity, anchors = verifier
    checked = check_request_object(request_object(new_request(EUDI_QUERY), identity), CLIENT_ID, anchors, NOW)
    mine = parse_holding("c1", sd.issue(holder_jwk=public_jwk(HOLDER)).compact)
    assert answerable(checked.query, [c.query_id for c in match(checked, [mine])])
    (planned,) = plan_answer(checked, {"c1": mine}, [Choice(PID_ID, "c1")])
    vp = build_presentation(planned, HOLDER, nonce=checked.nonce, aud=checked.client_id, iat=int(NOW.timestamp()))
    presented = parse_holding("p", vp.rsplit("~", 1)[0] + "~")
    result = evaluate(checked.query, {PID_ID: [Presented("dc+sd-jwt", presented.claims, vct=presented.vct)]})
    assert result.satisfied, result.to_dict()
