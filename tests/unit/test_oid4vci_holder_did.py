"""The holder's did:key for an ldp_vc (microcred.oid4vci.holder_did): the did:key method's own P-256 test vectors
(w3c-ccg/did-method-key test-vectors/nist-curves.json), Ed25519 through the project's did:key code, and keys
that cannot become a did:key refused as invalid_proof."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.algorithms import ECAlgorithm, OKPAlgorithm

from microcred.crypto.did_key import P256_PUB_HEADER, did_key_from_p256, public_key_from_did_key
from microcred.crypto.multikey import decode_base58btc
from microcred.oid4vci.errors import OAuthError
from microcred.oid4vci.holder_did import did_key_public_key, holder_did_key

# did:key method test vectors (nist-curves.json): publicKeyJwk -> DID
VECTORS = [
    ({"kty": "EC", "crv": "P-256", "x": "igrFmi0whuihKnj9R3Om1SoMph72wUGeFaBbzG2vzns",
      "y": "efsX5b10x8yjyrj4ny3pGfLcY7Xby1KzgqOdqnsrJIM"},
     "did:key:zDnaerx9CtbPJ1q36T5Ln5wYt3MQYeGRG5ehnPAmxcf5mDZpv"),
    ({"kty": "EC", "crv": "P-256", "x": "fyNYMN0976ci7xqiSdag3buk-ZCwgXU4kz9XNkBlNUI",
      "y": "hW2ojTNfH7Jbi8--CJUo3OCbH3y5n91g-IMA9MLMbTU"},
     "did:key:zDnaerDaTF5BXEavCrfRZEk316dpbLsfPDZ3WJ5hRTPFU2169"),
]


@pytest.mark.parametrize(("jwk", "did"), VECTORS)
def test_p256_spec_vectors(jwk: dict[str, Any], did: str) -> None:
    assert holder_did_key(jwk) == did
    assert did_key_from_p256(ECAlgorithm.from_jwk(jwk)) == did  # the wallet's ES256 keys' DIDs too


def test_p256_is_the_compressed_point_after_the_p256_pub_header() -> None:
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    raw = decode_base58btc(holder_did_key(ECAlgorithm.to_jwk(key, as_dict=True)).removeprefix("did:key:"))
    assert raw[:2] == P256_PUB_HEADER == b"\x80\x24" and len(raw) == 35 and raw[2] in (2, 3)
    assert ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw[2:]) == key


def test_ed25519_is_the_z6mk_did_key() -> None:
    key = Ed25519PrivateKey.generate().public_key()
    did = holder_did_key(OKPAlgorithm.to_jwk(key, as_dict=True))
    assert did.startswith("did:key:z6Mk") and public_key_from_did_key(did) == key


@pytest.mark.parametrize("curve", [ec.SECP384R1(), ec.SECP256K1()])
def test_other_curves_are_invalid_proof(curve: ec.EllipticCurve) -> None:
    jwk = ECAlgorithm.to_jwk(ec.generate_private_key(curve).public_key(), as_dict=True)
    with pytest.raises(OAuthError) as caught:
        holder_did_key(jwk)
    assert caught.value.error == "invalid_proof" and "did:key" in caught.value.description


@pytest.mark.parametrize("jwk", [{"kty": "oct", "k": "c2VjcmV0"}, {"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"},
                                 {**VECTORS[0][0], "d": "gPh-VvVS8MbvKQ9LSVVmfnxnKjHn4Tqj0bmbpehRlpc"}])
def test_unreadable_keys_are_invalid_proof(jwk: dict[str, Any]) -> None:
    with pytest.raises(OAuthError) as caught:
        holder_did_key(jwk)
    assert caught.value.error == "invalid_proof"


@pytest.mark.parametrize(("jwk", "did"), VECTORS)
def test_a_did_key_reads_back_to_its_key(jwk: dict[str, Any], did: str) -> None:
    """The did:key method's vectors backwards (a key proof naming its key by kid), with and without fragment."""
    multikey = did.removeprefix("did:key:")
    for url in (did, f"{did}#{multikey}"):
        key = did_key_public_key(url)
        assert isinstance(key, ec.EllipticCurvePublicKey)
        assert holder_did_key(ECAlgorithm.to_jwk(key, as_dict=True)) == did
    ed = Ed25519PrivateKey.generate().public_key()
    ed_did = holder_did_key(OKPAlgorithm.to_jwk(ed, as_dict=True))
    assert did_key_public_key(ed_did) == ed


@pytest.mark.parametrize("url", ["did:web:wallet.example",
                                 "did:key:zDnaerx9CtbPJ1q36T5Ln5wYt3MQYeGRG5ehnPAmxcf5mDZpv#x", "did:key:z0OIl",
                                 "did:key:z2J9gaYxrKVpdoG9A4gRnmpnRCcxU6agDtFVVBVdn1JedouoZN7SzcyR",
                                 "https://wallet.example/keys/1", "did:key:" + "z" * 600])
def test_other_kids_are_invalid_proof(url: str) -> None:
    with pytest.raises(OAuthError) as caught:
        did_key_public_key(url)
    assert caught.value.error == "invalid_proof" and "kid" in caught.value.description
