"""OpenID4VP responses: direct_post and encrypted direct_post.jwt forms, SD-JWT VC + KB-JWT and ldp_vp checked
against this request's nonce and client_id, and the DCQL query evaluated on what was disclosed."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from joserfc import jwe
from joserfc.jwk import ECKey

from microcred.crypto.data_integrity import sign_eddsa_rdfc_2022
from microcred.crypto.did_key import verification_method_id
from microcred.crypto.multikey import decode_ed25519_secret_key
from microcred.oid4vp.request import PresentationRequest, build_request
from microcred.oid4vp.response import ResponseError, check_response, decrypt_response, read_response
from microcred.sdjwt.claims import micro_credential_claims
from microcred.sdjwt.core import Sd, SdJwtParts, key_binding_jwt
from microcred.sdjwt.issue import issue_sd_jwt_vc
from microcred.sdjwt.jose import b64url_encode, public_jwk
from microcred.sdjwt.type_metadata import VCT, integrity, type_metadata_bytes
from microcred.verification import CheckId, CheckStatus, Reason, Verdict
from tests.harness.factories import LEARNER_DID, valid_micro_credential
from tests.harness.sd_jwt import NOW, SdWorld, make_world

CLIENT_ID = "x509_san_dns:verifier.example"
HOLDER = ec.generate_private_key(ec.SECP256R1())
LDP_HOLDER = decode_ed25519_secret_key("z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq")  # W3C keyPair.json


def sd_query(eqf: list[int] | None = None) -> dict[str, Any]:
    return {"credentials": [{"id": "mc", "format": "dc+sd-jwt", "meta": {"vct_values": [VCT]},
                             "claims": [{"path": ["achievement_title"]}, {"path": ["family_name"]},
                                        {"path": ["level_of_learning_experience", "eqf_level"],
                                         "values": eqf or [6, 7, 8]}]}]}


def request(query: dict[str, Any], mode: str = "direct_post", jwk: dict[str, Any] | None = None) -> PresentationRequest:
    return build_request(client_id=CLIENT_ID, response_uri="https://verifier.example/r", response_mode=mode,
                         dcql_query=query, now=int(NOW.timestamp()), lifetime=300, encryption_jwk=jwk)


@pytest.fixture(scope="module")
def sd() -> SdWorld:
    return make_world()


def present(sd: SdWorld, req: PresentationRequest, *, withhold: tuple[str, ...] = (), aud: str = CLIENT_ID) -> str:
    issued = sd.issue(holder_jwk=public_jwk(HOLDER))
    chosen = tuple(d.encoded for d in issued.disclosures if d.name not in withhold)
    parts = SdJwtParts(issued.compact.split("~")[0], chosen, None)
    kb = key_binding_jwt(parts, HOLDER, nonce=req.nonce, aud=aud, iat=int(NOW.timestamp()))
    return parts.without_key_binding + kb


def checks(report: Any) -> dict[str, tuple[str, str]]:
    return {c.id.value: (c.status.value, c.reason_code.value) for c in report.checks}


async def test_an_sd_jwt_vc_with_chosen_disclosures_and_kb_jwt_satisfies_the_query(sd: SdWorld) -> None:
    req = request(sd_query())
    outcome = await check_response(req, {"mc": [present(sd, req, withhold=("given_name", "birthdate"))]},
                                   sd.ports(), NOW)
    assert outcome.verdict is Verdict.VALID, outcome.to_dict()
    assert outcome.query.satisfied
    (query_id, report), = outcome.reports
    assert query_id == "mc" and checks(report)["holder_binding"][0] == "valid"
    body = outcome.to_dict("pl")
    assert body["presentations"][0]["report"]["verdict"] == "valid" and body["query"]["satisfied"] is True


async def test_a_query_the_credential_does_not_satisfy_says_what_is_missing(sd: SdWorld) -> None:
    req = request(sd_query(eqf=[7, 8]))
    outcome = await check_response(req, {"mc": [present(sd, req, withhold=("family_name",))]}, sd.ports(), NOW)
    assert outcome.verdict is Verdict.INVALID
    assert outcome.reports[0][1].verdict is Verdict.VALID  # the credential itself is fine
    assert outcome.query.outcomes[0].missing == ("family_name: not disclosed",
                                                 "level_of_learning_experience.eqf_level: value not among 7, 8")


async def test_a_kb_jwt_for_another_audience_or_request_is_refused(sd: SdWorld) -> None:
    req = request(sd_query())
    outcome = await check_response(req, {"mc": [present(sd, req, aud="x509_san_dns:evil.example")]}, sd.ports(), NOW)
    assert outcome.verdict is Verdict.INVALID
    assert checks(outcome.reports[0][1])["holder_binding"][0] == "invalid"
    assert "no proof of possession (holder binding)" in outcome.query.outcomes[0].missing
    other = request(sd_query())
    outcome = await check_response(req, {"mc": [present(sd, other)]}, sd.ports(), NOW)  # another request's nonce
    assert outcome.verdict is Verdict.INVALID and checks(outcome.reports[0][1])["holder_binding"][0] == "invalid"


def ldp_vp(sd: SdWorld, challenge: str, domain: str) -> dict[str, Any]:
    sd.world.publish(NOW)  # its status lists, fresh on the real clock the SD-JWT side uses
    vp = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiablePresentation"],
          "holder": LEARNER_DID, "verifiableCredential": [sd.world.credential()]}
    return sign_eddsa_rdfc_2022(vp, LDP_HOLDER, verification_method_id(LEARNER_DID), proof_purpose="authentication",
                                challenge=challenge, domain=domain)


LDP_QUERY = {"credentials": [{"id": "ob", "format": "ldp_vc",
                              "meta": {"type_values": [["VerifiableCredential", "AchievementCredential"]]},
                              "claims": [{"path": ["credentialSubject", "achievement", "name"]}]}]}


async def test_an_ldp_vp_with_challenge_and_domain(sd: SdWorld) -> None:
    req = request(LDP_QUERY)
    outcome = await check_response(req, {"ob": [ldp_vp(sd, req.nonce, CLIENT_ID)]}, sd.ports(), NOW)
    assert outcome.verdict is Verdict.VALID, outcome.to_dict()
    wrong = await check_response(req, {"ob": [ldp_vp(sd, req.nonce, "x509_san_dns:evil.example")]}, sd.ports(), NOW)
    binding = wrong.reports[0][1].check(CheckId.HOLDER_BINDING)
    assert binding is not None and (binding.status, binding.reason_code) == (CheckStatus.INVALID,
                                                                            Reason.DOMAIN_MISMATCH)
    assert wrong.verdict is Verdict.INVALID and not wrong.query.satisfied


def test_direct_post_forms() -> None:
    req = request(sd_query())
    read = read_response({"vp_token": json.dumps({"mc": ["a~b~"]}), "state": req.state}, req, None)
    assert read.state == req.state and read.vp_token == {"mc": ["a~b~"]} and not read.encrypted
    refusal = read_response({"error": "access_denied", "state": req.state}, req, None)
    assert refusal.error == "access_denied" and refusal.vp_token is None
    for form, member in (({"state": "s"}, "vp_token"), ({"vp_token": "[1]"}, "vp_token"),
                         ({"vp_token": '{"mc": []}'}, "vp_token.mc"), ({"vp_token": "{"}, "vp_token"),
                         ({"vp_token": '{"mc": [5]}'}, "vp_token.mc"),
                         ({"response": "x"}, "response")):
        with pytest.raises(ResponseError) as caught:
            read_response(form, req, None)
        assert caught.value.error == "invalid_request" and caught.value.description.startswith(member)


def test_direct_post_jwt_is_decrypted_and_only_haip_algorithms_are_accepted() -> None:
    key = ECKey.generate_key("P-256", parameters={"kid": "k1", "use": "enc", "alg": "ECDH-ES"})
    private, public = key.as_dict(private=True), key.as_dict(private=False)
    req = request(sd_query(), "direct_post.jwt", public)
    payload = json.dumps({"vp_token": {"mc": ["a~b~"]}, "state": req.state}).encode()
    for enc in ("A128GCM", "A256GCM"):
        token = jwe.encrypt_compact({"alg": "ECDH-ES", "enc": enc, "kid": "k1"}, payload, ECKey.import_key(public))
        read = read_response({"response": token}, req, private)
        assert read.encrypted and read.state == req.state and read.vp_token == {"mc": ["a~b~"]}
    with pytest.raises(ResponseError, match="encrypted response"):
        read_response({"vp_token": "{}"}, req, private)
    other = ECKey.generate_key("P-256")
    token = jwe.encrypt_compact({"alg": "ECDH-ES", "enc": "A128GCM"}, payload, other)
    with pytest.raises(ResponseError, match="cannot be decrypted"):
        read_response({"response": token}, req, private)
    weak = jwe.encrypt_compact({"alg": "ECDH-ES", "enc": "A128CBC-HS256"}, payload, ECKey.import_key(public))
    with pytest.raises(ResponseError):
        decrypt_response(weak, private)
    with pytest.raises(ResponseError, match="too large"):
        decrypt_response("x" * 600_000, private)


async def test_a_credential_bound_to_another_holder_cannot_be_presented(sd: SdWorld) -> None:
    req = request(sd_query())
    issued = sd.issue(holder_jwk=public_jwk(HOLDER))
    thief = ec.generate_private_key(ec.SECP256R1())
    parts = SdJwtParts(issued.compact.split("~")[0], tuple(d.encoded for d in issued.disclosures), None)
    vp = parts.without_key_binding + key_binding_jwt(parts, thief, nonce=req.nonce, aud=CLIENT_ID,
                                                     iat=int(NOW.timestamp()))
    outcome = await check_response(req, {"mc": [vp]}, sd.ports(), NOW)
    assert outcome.verdict is Verdict.INVALID
    assert checks(outcome.reports[0][1])["holder_binding"][0] == "invalid"
    assert outcome.query.outcomes[0].missing == ("no proof of possession (holder binding)",)


def _authority(sd: SdWorld) -> str:
    """The agency CA's key identifier, base64url (what a verifier names in an ``aki`` trusted authority),
    read from the CA certificate with ``cryptography``."""
    [ca] = sd.anchors
    return b64url_encode(ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest)


async def test_trusted_authorities_aki_is_met_only_by_a_validated_chain_under_that_authority(sd: SdWorld) -> None:
    query = sd_query()
    query["credentials"][0]["trusted_authorities"] = [{"type": "aki", "values": [_authority(sd)]}]
    req = request(query)
    outcome = await check_response(req, {"mc": [present(sd, req)]}, sd.ports(), NOW)
    assert outcome.query.satisfied and outcome.verdict is Verdict.VALID, outcome.to_dict()

    other = make_world()  # another agency's CA: its key identifier is not the credential's authority
    query["credentials"][0]["trusted_authorities"] = [{"type": "aki", "values": [_authority(other)]},
                                                      {"type": "etsi_tl", "values": ["https://tl.example"]}]
    req = request(query)
    outcome = await check_response(req, {"mc": [present(sd, req)]}, sd.ports(), NOW)
    assert not outcome.query.satisfied and outcome.verdict is Verdict.INVALID
    [why] = outcome.query.outcomes[0].missing
    assert why.startswith("the issuer is not under one of the trusted authorities (aki: ") and "etsi_tl" in why

    # the right authority, but the chain cannot be validated here (no anchors): never satisfied
    query["credentials"][0]["trusted_authorities"] = [{"type": "aki", "values": [_authority(sd)]}]
    req = request(query)
    outcome = await check_response(req, {"mc": [present(sd, req)]}, sd.ports(x509_anchors=()), NOW)
    assert not outcome.query.satisfied and outcome.verdict is not Verdict.VALID


async def test_an_index_in_the_query_names_the_element_as_issued_when_others_are_withheld(sd: SdWorld) -> None:
    """Array elements disclosed one by one: the holder shows only the third; the query's index 2 is that element
    in the credential as issued, though it is the first left in what was disclosed (OpenID4VP §7 applies a claims
    path pointer to the credential)."""
    claims = {**micro_credential_claims(valid_micro_credential()), "languages": [Sd("ga"), Sd("en"), Sd("pl")]}
    issued = issue_sd_jwt_vc(claims, issuer=sd.issuer, vct=VCT, now=NOW, holder_jwk=public_jwk(HOLDER),
                             vct_integrity=integrity(type_metadata_bytes()))
    query = {"credentials": [{"id": "mc", "format": "dc+sd-jwt", "meta": {"vct_values": [VCT]},
                              "claims": [{"path": ["languages", 2], "values": ["pl"]}]}]}
    req = request(query)
    element = {d.value: d.encoded for d in issued.disclosures if d.name is None}
    outcomes = []
    for shown in (("pl",), ("en",)):
        parts = SdJwtParts(issued.compact.split("~")[0], tuple(element[v] for v in shown), None)
        text = parts.without_key_binding + key_binding_jwt(parts, HOLDER, nonce=req.nonce, aud=CLIENT_ID,
                                                           iat=int(NOW.timestamp()))
        outcomes.append(await check_response(req, {"mc": [text]}, sd.ports(), NOW))
    assert outcomes[0].reports[0][1].verdict is not Verdict.INVALID, outcomes[0].to_dict()
    assert outcomes[0].query.satisfied
    assert not outcomes[1].query.satisfied
    assert outcomes[1].query.outcomes[0].missing == ("languages.2: not disclosed",)


def test_a_vp_token_key_that_is_no_credential_query_is_refused_before_anything_is_verified() -> None:
    req = request(sd_query())
    with pytest.raises(ResponseError) as caught:
        read_response({"vp_token": json.dumps({"mc": ["a~"], "extra": ["b~"]}), "state": req.state}, req, None)
    assert caught.value.error == "invalid_request" and caught.value.description.startswith("vp_token.extra")


def test_the_presentations_of_one_response_are_bounded_over_all_its_queries() -> None:
    query = {"credentials": [{"id": f"q{n}", "format": "dc+sd-jwt", "multiple": True} for n in range(3)]}
    req = request(query)
    with pytest.raises(ResponseError) as caught:
        read_response({"vp_token": json.dumps({f"q{n}": ["a~"] * 11 for n in range(3)}), "state": req.state}, req,
                      None)
    assert caught.value.description == "vp_token: more than 32 presentations"


def _unbound(query: dict[str, Any]) -> dict[str, Any]:
    return {"credentials": [{**c, "require_cryptographic_holder_binding": False} for c in query["credentials"]]}


async def test_without_holder_binding_asked_an_sd_jwt_may_come_without_its_kb_jwt(sd: SdWorld) -> None:
    req = request(_unbound(sd_query()))
    kb_less = present(sd, req).rsplit("~", 1)[0] + "~"
    outcome = await check_response(req, {"mc": [kb_less]}, sd.ports(), NOW)
    assert outcome.verdict is Verdict.VALID and outcome.query.satisfied, outcome.to_dict()
    assert checks(outcome.reports[0][1])["holder_binding"] == ("unknown", "NO_KEY_BINDING")
    # a KB-JWT that comes along is still checked, and one for another verifier fails
    outcome = await check_response(req, {"mc": [present(sd, req, aud="x509_san_dns:evil.example")]}, sd.ports(), NOW)
    assert outcome.verdict is Verdict.INVALID
    # asked for (the default), the same KB-less SD-JWT never counts
    bound = request(sd_query())
    outcome = await check_response(bound, {"mc": [kb_less]}, sd.ports(), NOW)
    assert outcome.verdict is not Verdict.VALID and not outcome.query.satisfied


async def test_without_holder_binding_asked_an_ldp_vc_may_come_as_the_credential_itself(sd: SdWorld) -> None:
    sd.world.publish(NOW)
    req = request(_unbound(LDP_QUERY))
    outcome = await check_response(req, {"ob": [sd.world.credential()]}, sd.ports(), NOW)
    assert outcome.verdict is Verdict.VALID and outcome.query.satisfied, outcome.to_dict()
    assert outcome.reports[0][1].kind == "credential"
    bound = request(LDP_QUERY)  # asked for: a credential is no presentation
    outcome = await check_response(bound, {"ob": [sd.world.credential()]}, sd.ports(), NOW)
    assert outcome.verdict is Verdict.INVALID


async def test_a_presentation_that_fails_is_discarded_and_the_others_answer_the_query(sd: SdWorld) -> None:
    query = {"credentials": [{**sd_query()["credentials"][0], "multiple": True}]}
    req = request(query)
    good = present(sd, req)
    signature = good.split("~")[0].split(".")[2]
    forged = good.replace(signature, ("A" if signature[0] != "A" else "B") + signature[1:], 1)
    outcome = await check_response(req, {"mc": [good, forged]}, sd.ports(), NOW)
    assert outcome.verdict is Verdict.VALID and outcome.query.satisfied, outcome.to_dict()
    assert [p["discarded"] for p in outcome.to_dict()["presentations"]] == [False, True]
    outcome = await check_response(req, {"mc": [forged]}, sd.ports(), NOW)  # nothing left: the query is not met
    assert outcome.verdict is Verdict.INVALID and not outcome.query.satisfied
    assert "did not verify" in outcome.query.outcomes[0].missing[0]


LDP_IRI_QUERY = {"credentials": [{"id": "ob", "format": "ldp_vc", "meta": {"type_values": [[
    "https://www.w3.org/2018/credentials#VerifiableCredential",
    "https://purl.imsglobal.org/spec/vc/ob/vocab.html#OpenBadgeCredential"]]},
    "claims": [{"path": ["credentialSubject", "achievement", "name"]}]}]}


async def test_ldp_type_values_are_met_by_the_types_expanded_with_the_credential_contexts(sd: SdWorld) -> None:
    """OpenID4VP 1.0 B.1.1: type_values are fully expanded IRIs (the term AchievementCredential of the Open
    Badges context is the IRI …#OpenBadgeCredential); terms, as earlier queries wrote them, still meet too."""
    req = request(LDP_IRI_QUERY)
    outcome = await check_response(req, {"ob": [ldp_vp(sd, req.nonce, CLIENT_ID)]}, sd.ports(), NOW)
    assert outcome.verdict is Verdict.VALID and outcome.query.satisfied, outcome.to_dict()
    other = {"credentials": [{**LDP_IRI_QUERY["credentials"][0],
                              "meta": {"type_values": [["https://example.org/vocab#Other"]]}}]}
    req = request(other)
    outcome = await check_response(req, {"ob": [ldp_vp(sd, req.nonce, CLIENT_ID)]}, sd.ports(), NOW)
    assert not outcome.query.satisfied


def test_the_open_badge_template_names_iris() -> None:
    from microcred.oid4vp.templates import template

    query = template("open-badge")
    assert query is not None
    assert all(":" in t for types in query["credentials"][0]["meta"]["type_values"] for t in types)


def test_types_of_a_credential_whose_contexts_do_not_expand_are_its_terms_alone() -> None:
    from microcred.oid4vp.ldp_types import credential_types

    assert credential_types({"@context": ["https://evil.example/ctx"], "type": ["VerifiableCredential"]}) == (
        "VerifiableCredential",)
    assert credential_types({"@context": ["https://www.w3.org/ns/credentials/v2"],
                             "type": ["VerifiableCredential"]}) == (
        "VerifiableCredential", "https://www.w3.org/2018/credentials#VerifiableCredential")
