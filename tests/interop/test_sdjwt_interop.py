"""Interoperability with an independent SD-JWT VC implementation: the OpenWallet Foundation's @sd-jwt/sd-jwt-vc.

Both directions: a credential microcred issues (x5c chain, decoys, recursive learner identification, Token Status
List, type metadata with vct#integrity, KB-JWT) verifies in the library, each Disclosure checked on its own; and a
credential the library issues (with our issuer certificate) verifies in microcred.sdjwt, every check valid.
The library runs under node (tests/interop/node_env.py installs it from package-lock.json).
"""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

from microcred import pki
from microcred.sdjwt.claims import micro_credential_claims, read_micro_credential
from microcred.sdjwt.core import Sd, key_binding_jwt, split_sd_jwt
from microcred.sdjwt.issue import IssuerKey, StatusReference, issue_micro_credential
from microcred.sdjwt.jose import public_jwk
from microcred.sdjwt.result import CheckStatus
from microcred.sdjwt.type_metadata import VCT, integrity, type_metadata_bytes
from microcred.sdjwt.verify import VerifierPolicy, verify_sd_jwt_vc
from microcred.sdjwt.x5c import load_certificates, x5c_header
from microcred.status.token_status_list import INVALID, MIN_ENTRIES, TokenStatusList, status_list_token
from tests.harness.factories import valid_micro_credential
from tests.interop import node_env

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
NONCE, AUD = "n-0S6_WzA2Mj", "https://verifier.example"
STATUS_URI = "https://uniz.example/status/token/1"
INDEX = 731_337


@dataclass(frozen=True)
class World:
    ca_pem: bytes
    anchors: list[x509.Certificate]
    issuer: IssuerKey
    status_signer: IssuerKey
    holder: ec.EllipticCurvePrivateKey


def _signer(ca: pki.CertifiedKey, iss: str, name: str) -> IssuerKey:
    cert = pki.create_signing_cert(ca, issuer_uri=iss, common_name=name, not_before=NOW - dt.timedelta(days=1))
    key = serialization.load_pem_private_key(cert.key_pem, password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return IssuerKey(iss, key, tuple(x5c_header([cert.cert_pem])))


@pytest.fixture(scope="module")
def world() -> World:
    node_env.ensure_installed()
    ca = pki.create_ca("Agency CA", agency="agency-ie", not_before=NOW - dt.timedelta(days=30))
    return World(ca.cert_pem, load_certificates(ca.cert_pem), _signer(ca, "https://uniz.example/issuer", "Uni Zed"),
                 _signer(ca, "https://uniz.example", "Uni Zed status"), ec.generate_private_key(ec.SECP256R1()))


def _status_token(world: World, status: int = 0) -> str:
    status_list = TokenStatusList(MIN_ENTRIES)
    status_list.set(INDEX, status)
    return status_list_token(status_list, uri=STATUS_URI, signer=world.status_signer, now=NOW, ttl=300,
                             lifetime=3600)


def _library_verify(world: World, credential: str, *, status: int = 0, metadata: bytes | None = None,
                    nonce: str | None = NONCE) -> dict[str, Any]:
    return node_env.run({
        "op": "verify", "credential": credential, "anchor_pem": world.ca_pem.decode(), "now": int(NOW.timestamp()),
        "status_list_tokens": {STATUS_URI: _status_token(world, status)},
        "type_metadata": {VCT: base64.b64encode(metadata or type_metadata_bytes()).decode()},
        "nonce": nonce, "aud": AUD if nonce else None,
    })


def _our_presentation(world: World) -> tuple[str, Any]:
    issued = issue_micro_credential(valid_micro_credential(), issuer=world.issuer, now=NOW,
                                    status=StatusReference(STATUS_URI, INDEX), holder_jwk=public_jwk(world.holder))
    parts = split_sd_jwt(issued.compact)
    kb = key_binding_jwt(parts, world.holder, nonce=NONCE, aud=AUD, iat=int(NOW.timestamp()))
    return parts.serialize() + kb, issued


# --------------------------------------------------------------------------------------------- ours -> library


def test_the_library_verifies_our_credential_and_each_disclosure(world: World) -> None:
    presentation, issued = _our_presentation(world)
    answer = _library_verify(world, presentation)
    assert answer["ok"], answer
    ours = verify_sd_jwt_vc(presentation, VerifierPolicy(trust_anchors=world.anchors, expected_nonce=NONCE,
                                                         expected_aud=AUD), NOW)
    assert ours.failed == () and ours.claims is not None
    # the same claims, Disclosure by Disclosure
    theirs = {d["digest"]: (d["key"], d["value"]) for d in answer["disclosures"]}
    assert set(theirs) == {d.digest for d in issued.disclosures}
    for disclosure in issued.disclosures:
        key, value = theirs[disclosure.digest]
        assert key == disclosure.name
        if disclosure.name != "learner_identification":  # its value holds nested digests, compared below
            assert value == disclosure.value
    assert {k: v for k, v in answer["claims"].items() if not k.startswith("_")} == dict(ours.claims)
    assert answer["kb"]["nonce"] == NONCE and answer["vct"] == VCT


def test_the_library_verifies_a_selective_presentation(world: World) -> None:
    _, issued = _our_presentation(world)
    kept = [d.encoded for d in issued.disclosures if d.name in ("learner_identification", "did", "family_name")]
    parts = split_sd_jwt(issued.compact)
    text = parts.issuer_jwt + "~" + "".join(d + "~" for d in kept)
    answer = _library_verify(world, text, nonce=None)
    assert answer["ok"], answer
    assert answer["claims"]["learner_identification"] == {"did": valid_micro_credential().learner.did}
    assert "given_name" not in answer["claims"] and "assessment_grade" not in answer["claims"]


def test_the_library_reads_our_token_status_list(world: World) -> None:
    presentation, _ = _our_presentation(world)
    answer = _library_verify(world, presentation, status=INVALID)
    assert not answer["ok"] and "status" in answer["error"].lower()


def test_the_library_rejects_altered_type_metadata(world: World) -> None:
    presentation, _ = _our_presentation(world)
    answer = _library_verify(world, presentation, metadata=type_metadata_bytes().replace(b"Grade", b"Mark"))
    assert not answer["ok"] and "integrity" in answer["error"].lower()


def test_the_library_rejects_a_forged_disclosure(world: World) -> None:
    presentation, issued = _our_presentation(world)
    parts = split_sd_jwt(presentation)
    grade = next(d for d in issued.disclosures if d.name == "assessment_grade")
    forged = grade.encoded[:-6] + ("AAAAAA" if not grade.encoded.endswith("AAAAAA") else "BBBBBB")
    text = parts.issuer_jwt + "~" + "".join(d + "~" for d in parts.disclosures if d != grade.encoded) + forged + "~"
    answer = _library_verify(world, text, nonce=None)
    assert not answer["ok"]


# --------------------------------------------------------------------------------------------- library -> ours


def _frame(node: Any) -> tuple[Any, Any]:
    """(plain claims, the library's disclosure frame) from claims with Sd markers."""
    if isinstance(node, dict):
        plain: dict[str, Any] = {}
        frame: dict[str, Any] = {}
        for key, value in node.items():
            inner = value.value if isinstance(value, Sd) else value
            plain[key], sub = _frame(inner)
            if isinstance(value, Sd):
                frame.setdefault("_sd", []).append(key)
            if sub:
                frame[key] = sub
        if "_sd" in frame:
            frame["_sd_decoy"] = 2
        return plain, frame
    if isinstance(node, list):
        return [_frame(item)[0] for item in node], {}
    return node, {}


def _everything(frame: dict[str, Any]) -> dict[str, Any]:
    """A presentation frame that discloses every selectively disclosable claim of ``frame``."""
    out: dict[str, Any] = {key: True for key in frame.get("_sd", [])}
    for key, sub in frame.items():
        if not key.startswith("_"):
            out[key] = _everything(sub)
    return out


def test_a_credential_made_by_the_library_verifies_in_microcred(world: World) -> None:
    mc = valid_micro_credential()
    claims, frame = _frame(micro_credential_claims(mc))
    iat = int(NOW.timestamp())
    registered = {"iss": world.issuer.iss, "iat": iat, "nbf": int(mc.valid_from.seconds),
                  "exp": int(mc.valid_until.seconds), "vct": VCT, "vct#integrity": integrity(type_metadata_bytes()),
                  "cnf": {"jwk": public_jwk(world.holder)},
                  "status": {"status_list": {"idx": INDEX, "uri": STATUS_URI}}}
    answer = node_env.run({
        "op": "issue", "claims": {**registered, **claims}, "disclosure_frame": frame,
        "presentation_frame": _everything(frame), "x5c": list(world.issuer.x5c),
        "issuer_private_jwk": ECAlgorithm.to_jwk(world.issuer.key, as_dict=True),
        "holder_private_jwk": ECAlgorithm.to_jwk(world.holder, as_dict=True),
        "now": iat, "nonce": NONCE, "aud": AUD,
    })
    assert answer["ok"], answer
    policy = VerifierPolicy(trust_anchors=world.anchors, expected_nonce=NONCE, expected_aud=AUD,
                            require_key_binding=True)
    for text in (answer["credential"], answer["presentation"]):
        result = verify_sd_jwt_vc(text, policy, NOW)
        statuses = {c.id: (c.status.value, c.reason_code) for c in result.checks}
        expected_holder = "valid" if text == answer["presentation"] else "invalid"
        assert statuses.pop("holder_binding")[0] == expected_holder
        assert all(status == "valid" for status, _ in statuses.values()), statuses
        assert result.claims is not None
        assert read_micro_credential(result.claims) == mc
        assert result.status_reference == StatusReference(STATUS_URI, INDEX)
    result = verify_sd_jwt_vc(answer["presentation"], policy, NOW)
    assert all(c.status is CheckStatus.VALID for c in result.checks)
