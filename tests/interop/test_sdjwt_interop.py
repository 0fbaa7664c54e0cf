"""Interoperability with an independent SD-JWT VC implementation: the OpenWallet Foundation's @sd-jwt/sd-jwt-vc.

Both directions: a credential microcred issues (x5c chain, decoys, recursive learner identification, Token Status
List, type metadata with vct#integrity, KB-JWT) verifies in the library, each Disclosure checked on its own; and a
credential the library issues (with our issuer certificate) verifies in microcred.sdjwt, every check valid.
The library runs under node (tests/interop/node_env.py installs it from package-lock.json).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

from microcred import pki
from microcred.gen.microcred.v1 import issuer_pb2, revocation_pb2
from microcred.sdjwt.claims import micro_credential_claims, read_micro_credential
from microcred.sdjwt.core import Sd, key_binding_jwt, split_sd_jwt
from microcred.sdjwt.issue import IssuerKey, StatusReference, issue_micro_credential, issue_sd_jwt_vc
from microcred.sdjwt.jose import public_jwk
from microcred.sdjwt.result import CheckStatus
from microcred.sdjwt.type_metadata import VCT, integrity, type_metadata_bytes
from microcred.sdjwt.verify import VerifierPolicy, verify_sd_jwt_vc
from microcred.sdjwt.x5c import load_certificates, x5c_header
from microcred.status.token_status_list import INVALID, MIN_ENTRIES, TokenStatusList, status_list_token
from tests.conftest import Infrastructure
from tests.harness.factories import valid_micro_credential
from tests.harness.issuer import start_issuer_harness
from tests.harness.waiting import eventually
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


def library_frame(node: Any) -> tuple[Any, Any]:
    """(plain claims, the library's disclosure frame) from claims with Sd markers."""
    if isinstance(node, dict):
        plain: dict[str, Any] = {}
        frame: dict[str, Any] = {}
        for key, value in node.items():
            inner = value.value if isinstance(value, Sd) else value
            plain[key], sub = library_frame(inner)
            if isinstance(value, Sd):
                frame.setdefault("_sd", []).append(key)
            if sub:
                frame[key] = sub
        if "_sd" in frame:
            frame["_sd_decoy"] = 2
        return plain, frame
    if isinstance(node, list):
        return [library_frame(item)[0] for item in node], {}
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
    claims, frame = library_frame(micro_credential_claims(mc))
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


# --------------------------------------------------------------------------------------------- the running platform


async def test_the_library_verifies_what_the_running_platform_issues(infrastructure: Infrastructure,
                                                                     tmp_path: Path) -> None:
    """Issued over gRPC by the issuer service (its ES256 key certified by the agency's document-signing CA), the
    Token Status List served over HTTP by the revocation service (its signer under the same CA): the library
    verifies the credential, each Disclosure, the KB-JWT and the status; revoked, it refuses it."""
    node_env.ensure_installed()
    now = dt.datetime.now(dt.UTC)
    ca = pki.create_ca("Agency document-signing CA", agency="agency-ix", not_before=now - dt.timedelta(days=1))
    ca_cert, ca_key = ca.write(tmp_path / "document-ca", "ca")
    token_cert, token_key = pki.create_signing_cert(ca, issuer_uri="https://status.agency-ix.example",
                                                    common_name="token status").write(tmp_path / "token", "signer")
    harness = await start_issuer_harness(
        infrastructure.kafka_bootstrap, infrastructure.redis_url, tmp_path / "platform",
        document_signing_ca_cert_file=ca_cert, document_signing_ca_key_file=ca_key,
        revocation_settings={"token_status_cert_file": token_cert, "token_status_key_file": token_key})
    try:
        assert harness.revocation is not None
        await harness.onboard("agency-ix", {"uni-ix": 7})
        holder = ec.generate_private_key(ec.SECP256R1())
        reply = await harness.issuer_stub("uni-ix", "agency-ix").IssueCredential(issuer_pb2.IssueCredentialRequest(
            idempotency_key="interop-1", credential=valid_micro_credential(),
            formats=[issuer_pb2.CREDENTIAL_FORMAT_SD_JWT_VC], holder_jwk_json=json.dumps(public_jwk(holder))))
        parts = split_sd_jwt(reply.credential.sd_jwt_vc)
        at = int(dt.datetime.now(dt.UTC).timestamp())
        presentation = parts.serialize() + key_binding_jwt(parts, holder, nonce=NONCE, aud=AUD, iat=at)
        status = verify_sd_jwt_vc(presentation, VerifierPolicy(trust_anchors=load_certificates(ca.cert_pem),
                                                               expected_nonce=NONCE, expected_aud=AUD),
                                  dt.datetime.now(dt.UTC)).status_reference
        assert status is not None and status.uri.startswith(harness.revocation.app.base_url)

        async def served() -> httpx.Response | None:  # the list exists once the revocation service applied the issue
            response = await harness.revocation.fetch(status.uri)
            return response if response.status_code == 200 else None

        async def library(nonce: str = NONCE) -> dict[str, Any]:
            token = (await eventually(served, timeout=10)).text
            return node_env.run({
                # the library's clock is now: the status list it is given may be issued after the KB-JWT (`at`),
                # and jose allows no skew for a token issued in its future
                "op": "verify", "credential": presentation, "anchor_pem": ca.cert_pem.decode(),
                "now": int(dt.datetime.now(dt.UTC).timestamp()),
                "status_list_tokens": {status.uri: token},
                "type_metadata": {VCT: base64.b64encode(type_metadata_bytes()).decode()},
                "nonce": nonce, "aud": AUD})

        answer = await library()
        assert answer["ok"], answer
        assert len(answer["disclosures"]) == len(parts.disclosures) and answer["vct"] == VCT
        assert answer["claims"]["iss"] == "https://trust.example.test/issuers/uni-ix"
        assert not (await library(nonce="another"))["ok"]
        await harness.revocation.stub("uni-ix", "agency-ix", pki.ROLE_ISSUER).RevokeCredential(
            revocation_pb2.RevokeCredentialRequest(credential_id=reply.credential.credential_id, reason="test"))
        refused = await eventually(library, until=lambda a: not a["ok"], timeout=10)
        assert "status" in refused["error"].lower()
    finally:
        await harness.close()


# --------------------------------------------------------------------------------------------- differential

_NAMES = ["a", "b", "given_name", "é", "ключ", "a b", "0", "x.y", "_note", "$", "日本", "\u00e9\u0301"]


def _random_tree(rng: random.Random, depth: int) -> tuple[Any, Any, dict[str, Any]]:
    """(plain value, the value with our Sd markers, the library's disclosure frame for it) of a random JSON value:
    objects and arrays nest to ``depth``, members and elements are concealed at random."""
    kind = rng.randrange(8) if depth > 0 else rng.randrange(5)
    if kind == 0:
        return None, None, {}
    if kind == 1:
        value: Any = rng.choice([True, False])
        return value, value, {}
    if kind == 2:
        value = rng.randint(-2**31, 2**31)
        return value, value, {}
    if kind == 3:
        value = rng.choice([0.5, -1.25, 1e-7, 123456.789])
        return value, value, {}
    if kind == 4:
        value = "".join(rng.choice("aZé ü\u20ac\U0001f600\"\\/\n") for _ in range(rng.randrange(6)))
        return value, value, {}
    frame: dict[str, Any] = {}
    if kind in (5, 6):  # an object
        plain: dict[str, Any] = {}
        marked: dict[str, Any] = {}
        for name in rng.sample(_NAMES, rng.randrange(1, 5)):
            p, m, f = _random_tree(rng, depth - 1)
            plain[name] = p
            concealed = rng.random() < 0.5
            marked[name] = Sd(m) if concealed else m
            if concealed:
                frame.setdefault("_sd", []).append(name)
            if f:
                frame[name] = f
        if frame.get("_sd") and rng.random() < 0.5:
            frame["_sd_decoy"] = rng.randrange(1, 4)
        return plain, marked, frame
    items = [_random_tree(rng, depth - 1) for _ in range(rng.randrange(1, 4))]
    marked_items: list[Any] = []
    for index, (_, m, f) in enumerate(items):
        concealed = rng.random() < 0.5
        marked_items.append(Sd(m) if concealed else m)
        if concealed:
            frame.setdefault("_sd", []).append(index)
        if f:
            frame[str(index)] = f
    return [p for p, _, _ in items], marked_items, frame


def _random_cases(seed: int, count: int) -> list[tuple[dict[str, Any], dict[str, Any], dict[str, Any]]]:
    rng = random.Random(seed)
    cases = []
    for _ in range(count):
        plain, marked, frame = _random_tree(rng, 4)
        while not isinstance(plain, dict):
            plain, marked, frame = _random_tree(rng, 4)
        cases.append((plain, marked, frame))
    return cases


def test_random_claims_read_the_same_in_the_library_and_in_microcred(world: World) -> None:
    """Differential, both ways, over 150 random claim trees (fixed seeds: reproducible): the library issues
    plain SD-JWTs from each tree and a disclosure frame concealing members and array elements at random (with
    decoys), and microcred reads every Disclosure into exactly the claims the library reads; microcred issues the
    same trees concealed the same way, and the library reads them as microcred does."""
    iss = "https://differential.example"
    cases = _random_cases(20261207, 150)
    ours_issued = [issue_sd_jwt_vc(marked, issuer=IssuerKey(iss, world.issuer.key, ()), vct="urn:example:d",
                                   now=NOW) for _, marked, _ in cases]
    answer = node_env.run({
        "op": "many", "issuer_private_jwk": ECAlgorithm.to_jwk(world.issuer.key, as_dict=True),
        "issuer_public_jwk": public_jwk(world.issuer.key.public_key()),
        "issue": [{"claims": {"iss": iss, **plain}, "frame": frame} for plain, _, frame in cases],
        "verify": [issued.compact for issued in ours_issued]})
    assert answer["ok"], answer
    policy = VerifierPolicy(pinned_issuer_keys={iss: public_jwk(world.issuer.key.public_key())}, expected_typ=None,
                            type_metadata=None)
    for (plain, _, frame), theirs, read in zip(cases, answer["issued"], answer["read"], strict=True):
        assert "error" not in theirs, (plain, frame, theirs)
        assert {k: v for k, v in theirs["claims"].items() if k != "_sd_alg"} == {"iss": iss, **plain}
        ours = verify_sd_jwt_vc(theirs["credential"], policy, NOW)
        assert {c.id: c.status.value for c in ours.checks}["disclosures"] == "valid", (plain, frame)
        assert dict(ours.claims or {}) == {"iss": iss, **plain}, (plain, frame)
        assert "error" not in read, (plain, read)
        assert {k: v for k, v in read["claims"].items() if k not in ("iat", "vct", "_sd_alg")} == {"iss": iss,
                                                                                                  **plain}
