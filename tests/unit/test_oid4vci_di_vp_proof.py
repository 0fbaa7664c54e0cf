"""``di_vp`` key proofs (microcred.oid4vci.di_vp_proof, OpenID4VCI 1.0 Appendix F.2): what binds the holder, and
each rule that refuses a presentation, before any nonce is spent. Presentations are signed here with the
platform's eddsa-rdfc-2022 signer; tests/interop has them signed by Digital Bazaar's libraries."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.algorithms import OKPAlgorithm

from microcred.crypto.data_integrity import sign_eddsa_rdfc_2022
from microcred.crypto.did_key import did_key_from_p256, did_key_from_public_key, verification_method_id
from microcred.oid4vci.di_vp_proof import check_di_vp_proof
from microcred.oid4vci.errors import OAuthError
from microcred.sdjwt.jose import public_jwk
from microcred.verification.canonical import Canonicalizer

ISSUER = "https://issuer.example.eu"
NOW = datetime(2026, 12, 7, 10, tzinfo=UTC)
VC2 = "https://www.w3.org/ns/credentials/v2"
CANON = Canonicalizer()


def presentation(key: Ed25519PrivateKey | None = None, *, method: str | None = None, challenge: str | None = "n-1",
                 domain: str = ISSUER, purpose: str = "authentication", created: datetime = NOW,
                 extra: dict[str, Any] | None = None, holder: Any = "same") -> tuple[dict[str, Any], str]:
    key = key or Ed25519PrivateKey.generate()
    did = did_key_from_public_key(key.public_key())
    vp: dict[str, Any] = {"@context": [VC2], "type": ["VerifiablePresentation"], **(extra or {})}
    if holder is not None:
        vp["holder"] = did if holder == "same" else holder
    signed = sign_eddsa_rdfc_2022(vp, key, method or verification_method_id(did), proof_purpose=purpose,
                                  created=created, challenge=challenge, domain=domain)
    return signed, did


async def check(vp: Any, **options: Any) -> Any:
    return await check_di_vp_proof(vp, audience=ISSUER, now=options.pop("now", NOW), canon=CANON, **options)


async def refused(vp: Any, words: str, error: str = "invalid_proof", **options: Any) -> None:
    with pytest.raises(OAuthError) as caught:
        await check(vp, **options)
    assert caught.value.error == error and words in caught.value.description, caught.value.description


async def test_a_presentation_by_a_did_key_holder_binds_that_did() -> None:
    key = Ed25519PrivateKey.generate()
    vp, did = presentation(key)
    proven = await check(vp)
    assert proven.did == did and proven.nonce == "n-1" and proven.jwk == public_jwk(key.public_key())
    assert (await check(presentation(key, holder=None)[0])).did == did  # holder is optional (F.2)
    assert (await check(presentation(key, holder={"id": did})[0])).did == did


async def test_a_did_jwk_holder_is_bound_as_written() -> None:
    key = Ed25519PrivateKey.generate()
    did = "did:jwk:" + base64.urlsafe_b64encode(json.dumps(OKPAlgorithm.to_jwk(
        key.public_key(), as_dict=True)).encode()).decode().rstrip("=")
    vp, _ = presentation(key, method=did + "#0", holder=did)
    assert (await check(vp)).did == did


async def test_tampering_is_caught_by_the_signature() -> None:
    vp, _ = presentation()
    other = did_key_from_public_key(Ed25519PrivateKey.generate().public_key())
    await refused({**vp, "holder": other}, "holder must be the controller")
    await refused({**vp, "proof": {**vp["proof"], "proofValue": vp["proof"]["proofValue"][:-2] + "11"}},
                  "does not verify")
    moved = {**vp, "proof": {**vp["proof"], "verificationMethod": verification_method_id(other)}}
    await refused({k: v for k, v in moved.items() if k != "holder"}, "does not verify")


@pytest.mark.parametrize(("options", "words", "error"), [
    ({"domain": "https://other.example"}, "domain", "invalid_proof"),
    ({"purpose": "assertionMethod"}, "proofPurpose", "invalid_proof"),
    ({"challenge": None}, "c_nonce", "invalid_proof"),  # §8.3.1.2: a proof without a c_nonce
    ({"challenge": "n" * 257}, "c_nonce", "invalid_nonce"),
    ({"created": NOW - timedelta(minutes=10)}, "created is outside", "invalid_proof"),
    ({"created": NOW + timedelta(minutes=5)}, "created is outside", "invalid_proof"),
    ({"method": "did:web:wallet.example#key-1"}, "did:key or did:jwk", "invalid_proof"),
    ({"extra": {"verifiableCredential": [{"@context": [VC2], "type": ["VerifiableCredential"]}]}}, "credentials",
     "invalid_proof"),  # a key proof presents no credential
])
async def test_rules_of_appendix_f2(options: dict[str, Any], words: str, error: str) -> None:
    vp, _ = presentation(**options)
    await refused(vp, words, error)


async def test_only_eddsa_keys_and_one_proof_and_what_is_read_is_what_is_signed() -> None:
    vp, _ = presentation()
    p256 = did_key_from_p256(ec.generate_private_key(ec.SECP256R1()).public_key())
    await refused({**vp, "holder": p256, "proof": {**vp["proof"], "verificationMethod": p256}}, "Ed25519")
    await refused({**vp, "proof": [vp["proof"], vp["proof"]]}, "proofs")
    await refused({**vp, "proof": {**vp["proof"], "cryptosuite": "ecdsa-rdfc-2019"}}, "cryptosuite")
    await refused({**vp, "type": ["VerifiableCredential"]}, "VerifiablePresentation")
    # an alias from an inline context would let the JSON say one thing and the signed dataset another
    aliased = {**vp, "@context": [VC2, {"holderAlias": "https://www.w3.org/2018/credentials#holder"}]}
    await refused(aliased, "alias")
    await refused({**vp, "@context": [VC2, "https://contexts.example/remote.jsonld"]}, "does not hold")
    await refused("not a presentation", "JSON object")
