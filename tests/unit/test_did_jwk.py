"""did:jwk (microcred.crypto.did_jwk, DidJwkResolver, holder_did_public_key): the method specification's own two
examples (https://github.com/quartzjer/did-jwk spec.md: a P-256 signing key, an X25519 encryption key), what must
be refused (private members, other fragments, encryption keys, keys anyone can sign for), and a Data Integrity
presentation by a did:jwk holder through the verification pipeline."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st
from jwt.algorithms import OKPAlgorithm

from microcred.crypto.data_integrity import sign_eddsa_rdfc_2022
from microcred.crypto.did_jwk import DidJwkError, did_jwk_of, public_key_from_did_jwk
from microcred.oid4vci.errors import OAuthError
from microcred.oid4vci.holder_did import holder_did_public_key
from microcred.verification import CheckId, CheckStatus, Reason, Verdict, verify
from microcred.verification.keys import ChainKeyResolver, DidJwkResolver, DidKeyResolver, RegistryKeyResolver
from microcred.verification.ports import KeyLookupProblem
from tests.verifier_support import NOW, World

# The specification's examples: DID, and the JWK of its DID document's verification method.
P256_DID = ("did:jwk:eyJjcnYiOiJQLTI1NiIsImt0eSI6IkVDIiwieCI6ImFjYklRaXVNczNpOF91c3pFakoydHBUdFJNNEVVM3l6OTFQSDZDZEgy"
            "VjAiLCJ5IjoiX0tjeUxqOXZXTXB0bm1LdG00NkdxRHo4d2Y3NEk1TEtncmwyR3pIM25TRSJ9")
P256_JWK = {"crv": "P-256", "kty": "EC", "x": "acbIQiuMs3i8_uszEjJ2tpTtRM4EU3yz91PH6CdH2V0",
            "y": "_KcyLj9vWMptnmKtm46GqDz8wf74I5LKgrl2GzH3nSE"}
X25519_DID = ("did:jwk:eyJrdHkiOiJPS1AiLCJjcnYiOiJYMjU1MTkiLCJ1c2UiOiJlbmMiLCJ4IjoiM3A3YmZYdDl3YlRUVzJIQzdPUTFOei1EUTho"
              "YmVHZE5yZngtRkctSUswOCJ9")


def _did_jwk(jwk: dict[str, Any]) -> str:
    """A did:jwk written from the specification's Create steps (serialise, UTF-8, base64url, prefix)."""
    return "did:jwk:" + base64.urlsafe_b64encode(json.dumps(jwk).encode()).decode().rstrip("=")


def _ed25519_did() -> tuple[Ed25519PrivateKey, str]:
    key = Ed25519PrivateKey.generate()
    return key, _did_jwk(OKPAlgorithm.to_jwk(key.public_key(), as_dict=True))


def test_the_p256_example_reads_to_its_documents_key() -> None:
    for url in (P256_DID, P256_DID + "#0"):
        did, jwk = did_jwk_of(url)
        assert did == P256_DID and jwk == P256_JWK
        key = public_key_from_did_jwk(url)
        assert isinstance(key, ec.EllipticCurvePublicKey)
        numbers = key.public_numbers()
        assert numbers.x == int.from_bytes(base64.urlsafe_b64decode(P256_JWK["x"] + "="), "big")
    assert holder_did_public_key(P256_DID + "#0") == (P256_DID, public_key_from_did_jwk(P256_DID))


def test_the_x25519_example_is_for_key_agreement_only() -> None:
    with pytest.raises(DidJwkError, match="encryption"):
        did_jwk_of(X25519_DID)
    with pytest.raises(OAuthError) as caught:
        holder_did_public_key(X25519_DID + "#0")
    assert caught.value.error == "invalid_proof" and caught.value.description.startswith("kid:")


@pytest.mark.parametrize("url", [
    P256_DID + "#1", P256_DID + "#key-1", P256_DID + "#",  # the only verification method is #0
    _did_jwk({**P256_JWK, "d": "gPh-VvVS8MbvKQ9LSVVmfnxnKjHn4Tqj0bmbpehRlpc"}),  # a private key
    _did_jwk({"kty": "oct", "k": "c2VjcmV0"}),  # a symmetric key is private material
    _did_jwk({**P256_JWK, "use": "enc"}),
    _did_jwk({"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"}),  # not a point
    _did_jwk({"kty": "OKP", "crv": "Ed25519", "x": "AQ" + "A" * 41}),  # small order (the point 1): anyone signs
    "did:jwk:" + base64.urlsafe_b64encode(b'{"kty":"EC","kty":"EC"}').decode().rstrip("="),  # duplicate names
    "did:jwk:" + base64.urlsafe_b64encode(b'["EC"]').decode().rstrip("="),
    "did:jwk:eyJrdHkiOiJFQyJ9=",  # padded
    "did:jwk:eyJrdHkiOi+FQyJ9",  # the standard alphabet
    "did:jwk:" + "A" * 3000,
    "did:key:" + P256_DID[8:],
])
def test_unusable_did_jwks_are_refused(url: str) -> None:
    with pytest.raises(DidJwkError):
        public_key_from_did_jwk(url)
    with pytest.raises(OAuthError) as caught:
        holder_did_public_key(url)
    assert caught.value.error == "invalid_proof"


@settings(max_examples=40, deadline=None)
@given(order=st.permutations(["kty", "crv", "x", "y"]), extra=st.dictionaries(
    st.sampled_from(["kid", "alg", "use", "x-custom"]), st.sampled_from(["sig", "ES256", "k-1"]), max_size=3))
def test_any_serialisation_of_a_signing_key_names_that_key(order: list[str], extra: dict[str, str]) -> None:
    """Several serialisations are several DIDs of one key (the spec): each reads back to the key, and the DID
    is the text as written."""
    extra = {k: ("sig" if k == "use" else "ES256" if k == "alg" else v) for k, v in extra.items()}
    did = _did_jwk({**{k: P256_JWK[k] for k in order}, **extra})
    assert did_jwk_of(did + "#0")[0] == did
    assert public_key_from_did_jwk(did) == public_key_from_did_jwk(P256_DID)


async def test_the_resolver_lists_a_signing_key_as_a_did_key_is_listed() -> None:
    key, did = _ed25519_did()
    resolver = DidJwkResolver()
    for purpose in ("assertionMethod", "authentication"):
        found = await resolver.resolve(did + "#0", NOW, purpose)
        assert found.public_key is not None and found.controllers == {did}, found
        public = found.public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        assert public == key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert (await resolver.resolve(did + "#0", NOW, "keyAgreement")).problem is \
        KeyLookupProblem.UNKNOWN_VERIFICATION_METHOD
    # a P-256 did:jwk holds no key an eddsa cryptosuite verifies with; a did:key is another resolver's
    assert (await resolver.resolve(P256_DID + "#0", NOW)).problem is KeyLookupProblem.UNKNOWN_VERIFICATION_METHOD
    assert (await resolver.resolve("did:key:z6MkeVw6bAm59CopQquZcVLUpapvEEELqfpdWfHkSont8HR6", NOW)).problem is \
        KeyLookupProblem.UNRESOLVABLE
    assert await resolver.knows_issuer(did) and not await resolver.knows_issuer("did:web:example.org")


async def test_a_did_jwk_holder_presents_its_credential() -> None:
    """A Data Integrity presentation signed by a did:jwk holder (verification method ``#0``) who is the
    credential's subject: valid and bound with the did:jwk resolver in the chain, not valid without it (the holder's
    key cannot be resolved: never taken on trust)."""
    world = World()
    key, did = _ed25519_did()
    credential = world.credential(mutate=lambda mc: setattr(mc.learner, "did", did))
    vp = sign_eddsa_rdfc_2022({"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiablePresentation"],
                               "holder": did, "verifiableCredential": [credential]}, key, did + "#0",
                              proof_purpose="authentication", challenge="c-jwk", domain="employer.example")
    with_jwk = world.ports(keys=ChainKeyResolver(DidKeyResolver(), DidJwkResolver(),
                                                 RegistryKeyResolver(world.registry)))
    report = await verify(vp, with_jwk, NOW, challenge="c-jwk", domain="employer.example")
    assert report.verdict is Verdict.VALID, report.to_dict()
    binding = report.check(CheckId.HOLDER_BINDING)
    assert binding is not None and (binding.status, binding.reason_code) == (CheckStatus.VALID, Reason.HOLDER_BOUND)
    report = await verify(vp, world.ports(), NOW, challenge="c-jwk", domain="employer.example")
    assert report.verdict is not Verdict.VALID
    # another key's did:jwk in the proof: the signature does not verify
    _, other = _ed25519_did()
    forged = dict(vp, proof=dict(vp["proof"], verificationMethod=other + "#0"))
    report = await verify(forged, with_jwk, NOW, challenge="c-jwk", domain="employer.example")
    assert report.verdict is Verdict.INVALID, report.to_dict()
