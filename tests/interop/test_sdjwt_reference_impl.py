"""Interoperability with a second independent SD-JWT implementation: ``sd-jwt`` 0.10.4 on PyPI, the reference
implementation of the IETF SD-JWT specification (OpenWallet Foundation Labs, by one of the specification's authors),
on ``jwcrypto`` for its JOSE. Test-only; never imported by the product.

It differs from @sd-jwt/sd-jwt-vc (tests/interop/test_sdjwt_interop.py) in ways a verifier must not care about:
Disclosures and payloads serialized with Python's default separators (``", "`` and ``": "``), decoy digests in every
object that has selectively disclosable members, digests sorted, the KB-JWT's ``iat`` from its own clock. All three
roles are crossed: its verifier checks what microcred issues and presents; its holder makes a selective presentation
of a credential microcred issued, which microcred verifies; its issuer issues the micro-credential's claims, which
microcred verifies and reads back into the same EU model. Each refusal is asserted on both sides.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jwcrypto.jwk import JWK
from sd_jwt.common import SDObj
from sd_jwt.holder import SDJWTHolder
from sd_jwt.issuer import SDJWTIssuer
from sd_jwt.verifier import SDJWTVerifier

from microcred import pki
from microcred.sdjwt.claims import micro_credential_claims, read_micro_credential
from microcred.sdjwt.core import Sd, key_binding_jwt, split_sd_jwt
from microcred.sdjwt.issue import IssuedSdJwtVc, IssuerKey, StatusReference, issue_micro_credential, issue_sd_jwt_vc
from microcred.sdjwt.jose import b64url_decode, public_jwk
from microcred.sdjwt.result import CheckStatus
from microcred.sdjwt.type_metadata import VCT, integrity, type_metadata_bytes
from microcred.sdjwt.verify import SdJwtVerification, VerifierPolicy, verify_sd_jwt_vc
from microcred.sdjwt.x5c import load_certificates, x5c_header
from tests.harness.factories import valid_micro_credential

NONCE, AUD = "rf-7Qx_nonce-31", "x509_san_dns:verifier.example"
STATUS_URI = "https://uniz.example/status/token/9"
INDEX = 4_242


@dataclass(frozen=True)
class World:
    ca: x509.Certificate
    issuer: IssuerKey
    holder: ec.EllipticCurvePrivateKey


def _jwk(key: Any) -> JWK:
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    return JWK.from_pem(pem)


def _now() -> dt.datetime:
    # the library stamps its KB-JWTs with time(), so every check runs on the real clock
    return dt.datetime.now(dt.UTC)


@pytest.fixture(scope="module")
def world() -> World:
    start = _now() - dt.timedelta(days=1)
    ca = pki.create_ca("Agency CA", agency="agency-rf", not_before=start - dt.timedelta(days=30))
    cert = pki.create_signing_cert(ca, issuer_uri="https://uniz.example/issuer", common_name="Uni Zed",
                                   not_before=start)
    key = serialization.load_pem_private_key(cert.key_pem, password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return World(load_certificates(ca.cert_pem)[0], IssuerKey("https://uniz.example/issuer", key,
                                                              tuple(x5c_header([cert.cert_pem]))),
                 ec.generate_private_key(ec.SECP256R1()))


def _policy(world: World, **kwargs: Any) -> VerifierPolicy:
    return VerifierPolicy(trust_anchors=[world.ca], expected_nonce=NONCE, expected_aud=AUD, **kwargs)


def _library_issuer_key(world: World) -> Any:
    """The library's key lookup: the leaf of ``x5c``, which must be signed by the agency CA (the library itself only
    checks the JWS with the key it is given)."""
    def lookup(iss: str, header: dict[str, Any]) -> JWK:
        leaf = x509.load_der_x509_certificate(base64.b64decode(header["x5c"][0]))  # x5c: base64, not url
        leaf.verify_directly_issued_by(world.ca)
        assert iss == world.issuer.iss
        return JWK.from_pyca(leaf.public_key())
    return lookup


def _issued(world: World) -> IssuedSdJwtVc:
    return issue_micro_credential(valid_micro_credential(), issuer=world.issuer, now=_now(),
                                  status=StatusReference(STATUS_URI, INDEX), holder_jwk=public_jwk(world.holder))


def _our_presentation(world: World, nonce: str = NONCE) -> tuple[str, IssuedSdJwtVc]:
    issued = _issued(world)
    parts = split_sd_jwt(issued.compact)
    kb = key_binding_jwt(parts, world.holder, nonce=nonce, aud=AUD, iat=int(_now().timestamp()))
    return parts.serialize() + kb, issued


def _statuses(result: SdJwtVerification) -> dict[str, str]:
    return {c.id: c.status.value for c in result.checks}


# --------------------------------------------------------------------------------------------- ours -> library


def test_the_library_verifies_our_presentation(world: World) -> None:
    presentation, _ = _our_presentation(world)
    theirs = SDJWTVerifier(presentation, _library_issuer_key(world), expected_aud=AUD,
                           expected_nonce=NONCE).get_verified_payload()
    ours = verify_sd_jwt_vc(presentation, _policy(world, require_key_binding=True), _now())
    assert ours.failed == () and ours.claims is not None
    assert {k: v for k, v in theirs.items() if k != "_sd_alg"} == dict(ours.claims)
    assert theirs["vct"] == VCT and theirs["cnf"] == {"jwk": public_jwk(world.holder)}


def test_the_library_refuses_our_presentation_for_another_nonce_or_a_forged_disclosure(world: World) -> None:
    presentation, issued = _our_presentation(world, nonce="another-nonce")
    with pytest.raises(ValueError, match="nonce"):
        SDJWTVerifier(presentation, _library_issuer_key(world), expected_aud=AUD, expected_nonce=NONCE)
    # a Disclosure whose value was changed: its digest is in no _sd array, so the library drops the claim, and the
    # KB-JWT's sd_hash (over the presentation as sent) no longer matches
    presentation, issued = _our_presentation(world)
    grade = next(d for d in issued.disclosures if d.name == "assessment_grade")
    salt, name, _ = json.loads(b64url_decode(grade.encoded))
    forged = base64.urlsafe_b64encode(json.dumps([salt, name, "A+"]).encode()).rstrip(b"=").decode()
    tampered = presentation.replace(grade.encoded, forged)
    with pytest.raises(ValueError, match="digest"):
        SDJWTVerifier(tampered, _library_issuer_key(world), expected_aud=AUD, expected_nonce=NONCE)
    assert "assessment_grade" not in SDJWTVerifier(
        tampered.rsplit("~", 1)[0] + "~", _library_issuer_key(world)).get_verified_payload()
    assert verify_sd_jwt_vc(tampered, _policy(world), _now()).failed != ()


# --------------------------------------------------------------------------------------------- library as holder


def test_a_selective_presentation_made_by_the_library_verifies_in_microcred(world: World) -> None:
    issued = _issued(world)
    holder = SDJWTHolder(issued.compact)
    holder.create_presentation({"learner_identification": {"did": True}, "family_name": True}, nonce=NONCE,
                               aud=AUD, holder_key=_jwk(world.holder), sign_alg="ES256")
    result = verify_sd_jwt_vc(holder.sd_jwt_presentation, _policy(world, require_key_binding=True), _now())
    statuses = _statuses(result)
    assert all(s == "valid" for s in statuses.values()), statuses
    assert result.claims is not None
    assert result.claims["learner_identification"] == {"did": valid_micro_credential().learner.did}
    assert result.claims["family_name"] == valid_micro_credential().learner.family_name
    assert "given_name" not in result.claims and "assessment_grade" not in result.claims
    # the same presentation bound to another verifier is refused, for its audience
    holder.create_presentation({"family_name": True}, nonce=NONCE, aud="x509_san_dns:elsewhere.example",
                               holder_key=_jwk(world.holder), sign_alg="ES256")
    refused = verify_sd_jwt_vc(holder.sd_jwt_presentation, _policy(world, require_key_binding=True), _now())
    assert _statuses(refused)["holder_binding"] == "invalid"


# --------------------------------------------------------------------------------------------- library -> ours


def _library_claims(node: Any) -> Any:
    """Claims with our ``Sd`` markers as the library writes them: an ``SDObj`` key for a disclosable member."""
    if isinstance(node, dict):
        return {SDObj(k) if isinstance(v, Sd) else k: _library_claims(v.value if isinstance(v, Sd) else v)
                for k, v in node.items()}
    if isinstance(node, list):
        return [_library_claims(item) for item in node]
    return node


def _disclose_all(node: Any) -> Any:
    """The library's ``claims_to_disclose`` that discloses every member, at every depth."""
    if isinstance(node, dict):
        return {k: (_disclose_all(v.value if isinstance(v, Sd) else v)
                    if isinstance(v.value if isinstance(v, Sd) else v, (dict, list)) else True)
                for k, v in node.items()}
    if isinstance(node, list):
        return [_disclose_all(item) if isinstance(item, (dict, list)) else True for item in node]
    return True


def test_a_credential_issued_by_the_library_verifies_in_microcred(world: World) -> None:
    mc = valid_micro_credential()
    marked = micro_credential_claims(mc)
    now = int(_now().timestamp())
    registered = {"iss": world.issuer.iss, "iat": now, "nbf": int(mc.valid_from.seconds),
                  "exp": int(mc.valid_until.seconds), "vct": VCT, "vct#integrity": integrity(type_metadata_bytes()),
                  "status": {"status_list": {"idx": INDEX, "uri": STATUS_URI}}}
    issuer = SDJWTIssuer({**registered, **_library_claims(marked)}, _jwk(world.issuer.key),
                         holder_key=_jwk(world.holder), sign_alg="ES256", add_decoy_claims=True,
                         extra_header_parameters={"typ": "dc+sd-jwt", "x5c": list(world.issuer.x5c)})
    payload = json.loads(b64url_decode(issuer.sd_jwt_issuance.split(".")[1]))
    assert len(payload["_sd"]) > sum(isinstance(v, Sd) for v in marked.values())  # decoys are there
    holder = SDJWTHolder(issuer.sd_jwt_issuance)
    holder.create_presentation(_disclose_all(marked), nonce=NONCE, aud=AUD, holder_key=_jwk(world.holder),
                               sign_alg="ES256")
    assert len(split_sd_jwt(holder.sd_jwt_presentation).disclosures) == len(issuer.ii_disclosures)
    for text, bound in ((issuer.sd_jwt_issuance, False), (holder.sd_jwt_presentation, True)):
        result = verify_sd_jwt_vc(text, _policy(world, require_key_binding=bound), _now())
        statuses = _statuses(result)
        # the issuance alone carries no KB-JWT: said as unknown, never as valid
        assert statuses.pop("holder_binding") == ("valid" if bound else "unknown")
        assert all(s == "valid" for s in statuses.values()), statuses
        assert result.claims is not None and read_micro_credential(result.claims) == mc
        assert result.status_reference == StatusReference(STATUS_URI, INDEX)
    # the library's own verifier agrees on the claims
    theirs = SDJWTVerifier(holder.sd_jwt_presentation, _library_issuer_key(world), expected_aud=AUD,
                           expected_nonce=NONCE).get_verified_payload()
    ours = verify_sd_jwt_vc(holder.sd_jwt_presentation, _policy(world), _now())
    assert all(c.status is CheckStatus.VALID for c in ours.checks)
    assert {k: v for k, v in theirs.items() if k != "_sd_alg"} == dict(ours.claims or {})


# --------------------------------------------------------------------------------------------- differential


_RESERVED = {"_sd", "_sd_alg", "iss", "iat", "nbf", "exp", "cnf", "vct", "status", "sub"}
_KEYS = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=6)
_SCALARS = (st.none() | st.booleans() | st.integers(-2**53, 2**53) | st.text(max_size=8)
            | st.floats(allow_nan=False, allow_infinity=False))
def _trees(dots: bool) -> Any:
    """Trees whose members and elements each carry "selectively disclosable or not"; with ``dots``, objects may
    have a "..." member (data unless it is the object's only member, RFC 9901 §7.1 step 3.c; microcred's issuer
    refuses the name, its verifier reads it)."""
    names = _KEYS.filter(lambda k: k != "_sd") | st.just("...") if dots else _KEYS.filter(lambda k: k not in (
        "_sd", "..."))
    return st.recursive(_SCALARS, lambda inner: (
        st.lists(st.tuples(st.booleans(), inner), max_size=3)
        | st.dictionaries(names, st.tuples(st.booleans(), inner), max_size=4).filter(lambda d: set(d) != {"..."})),
        max_leaves=14)


def _as_library(node: Any) -> Any:
    if isinstance(node, dict):
        # a Disclosure named "..." must be refused (RFC 9901 §7.1), which the library does not do: kept in clear
        return {SDObj(k) if sd and k != "..." else k: _as_library(v) for k, (sd, v) in node.items()}
    if isinstance(node, list):
        return [SDObj(_as_library(v)) if sd else _as_library(v) for sd, v in node]
    return node


def _digest(disclosure: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(disclosure.encode("ascii")).digest()).rstrip(b"=").decode()


def _children(value: Any) -> set[str]:
    """The digests a Disclosure's value references (in _sd arrays and ``...`` elements, at any depth)."""
    found: set[str] = set()
    if isinstance(value, dict):
        found.update(d for d in value.get("_sd", ()) if isinstance(d, str))
        for v in value.values():
            found |= _children(v)
    elif isinstance(value, list):
        for v in value:
            if isinstance(v, dict) and set(v) == {"..."} and isinstance(v["..."], str):
                found.add(v["..."])
            else:
                found |= _children(v)
    return found


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(claims=st.dictionaries(_KEYS.filter(lambda k: k not in _RESERVED and k != "..."),
                              st.tuples(st.booleans(), _trees(True)), min_size=1, max_size=5),
       decoys=st.booleans(), keep=st.lists(st.booleans(), max_size=40))
def test_any_claims_the_library_conceals_read_the_same_in_both(world: World, claims: dict[str, Any], decoys: bool,
                                                                keep: list[bool]) -> None:
    """Random claim trees (objects and arrays, members and elements concealed at any depth, with or without decoys),
    issued by the library and presented with any subset of their Disclosures: where every Disclosure presented is
    reachable, both read the same claims; a Disclosure whose parent is withheld is refused by microcred
    (RFC 9901 §7.1: every Disclosure must be referenced), which the library does not check."""
    key = public_jwk(world.issuer.key.public_key())
    issuer = SDJWTIssuer({"iss": "https://differential.example", **_as_library(claims)}, _jwk(world.issuer.key),
                         sign_alg="ES256", add_decoy_claims=decoys, extra_header_parameters={"typ": "example+sd-jwt"})
    jwt_part, *disclosures = issuer.sd_jwt_issuance.split("~")[:-1]
    payload = json.loads(b64url_decode(jwt_part.split(".")[1]))
    digest_of = {d: _digest(d) for d in disclosures}
    parent: dict[str, str | None] = {digest_of[d]: None for d in disclosures}
    for d in disclosures:
        for child in _children(json.loads(b64url_decode(d))[-1]):
            parent[child] = digest_of[d]
    assert all(parent[digest_of[d]] is not None or digest_of[d] in _children(payload) for d in disclosures)
    chosen = {digest_of[d] for d, k in zip(disclosures, keep + [True] * len(disclosures), strict=False) if k}

    def reachable(h: str) -> bool:
        up = parent.get(h)
        return h in chosen and (up is None or reachable(up))

    policy = VerifierPolicy(pinned_issuer_keys={"https://differential.example": key}, expected_typ=None,
                            type_metadata=None)
    closed = [d for d in disclosures if reachable(digest_of[d])]
    text = "~".join([jwt_part, *closed, ""])
    ours = verify_sd_jwt_vc(text, policy, _now())
    assert _statuses(ours)["disclosures"] == "valid", [c.to_dict() for c in ours.checks]
    theirs = SDJWTVerifier(text, lambda iss, header: _jwk(world.issuer.key)).get_verified_payload()
    assert dict(ours.claims or {}) == theirs
    orphans = [d for d in disclosures if digest_of[d] in chosen and not reachable(digest_of[d])]
    if orphans:
        refused = verify_sd_jwt_vc("~".join([jwt_part, *closed, *orphans, ""]), policy, _now())
        assert _statuses(refused)["disclosures"] == "invalid"


def _as_ours(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: Sd(_as_ours(v)) if sd and k != "..." else _as_ours(v) for k, (sd, v) in node.items()}
    if isinstance(node, list):
        return [Sd(_as_ours(v)) if sd else _as_ours(v) for sd, v in node]
    return node


def _plain(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _plain(v) for k, (_, v) in node.items()}
    if isinstance(node, list):
        return [_plain(v) for _, v in node]
    return node


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(claims=st.dictionaries(_KEYS.filter(lambda k: k not in _RESERVED and k != "..."),
                              st.tuples(st.booleans(), _trees(False)), min_size=1, max_size=5))
def test_any_claims_microcred_conceals_read_the_same_in_the_library(world: World, claims: dict[str, Any]) -> None:
    """The other way round: random claim trees concealed by microcred (decoys included) read, in the library's
    verifier, as the claims that were marked, and as microcred reads them."""
    issuer = IssuerKey("https://differential.example", world.issuer.key, ())
    issued = issue_sd_jwt_vc(_as_ours(claims), issuer=issuer, vct="urn:example:differential", now=_now())
    theirs = SDJWTVerifier(issued.compact, lambda iss, header: _jwk(world.issuer.key)).get_verified_payload()
    assert {k: v for k, v in theirs.items() if k not in ("iss", "iat", "vct")} == _plain(claims)
    policy = VerifierPolicy(pinned_issuer_keys={issuer.iss: public_jwk(world.issuer.key.public_key())},
                            type_metadata=None)
    ours = verify_sd_jwt_vc(issued.compact, policy, _now())
    assert _statuses(ours)["disclosures"] == "valid" and dict(ours.claims or {}) == theirs
