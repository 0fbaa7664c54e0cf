"""DidKeySigner: one did:key signer for the CLI's offline keys and the revocation service's status lists."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from microcred.cli.keys import KeyFile
from microcred.crypto import did_key
from microcred.crypto.data_integrity import verify_data_integrity
from microcred.crypto.did_key_signer import DidKeySigner
from microcred.crypto.multikey import encode_ed25519_secret_key
from services.revocation.adapters.keys import StatusListSigner


def test_the_signer_names_its_did_signs_verifiably_and_never_shows_its_key() -> None:
    key = Ed25519PrivateKey.generate()
    signer = DidKeySigner.of(key)
    assert signer.did.startswith("did:key:z6Mk") and signer.verification_method == did_key.verification_method_id(
        signer.did)
    document = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"],
                "issuer": signer.did, "credentialSubject": {"id": "did:example:learner"}}
    signed = signer.sign(document)
    assert signed["proof"]["verificationMethod"] == signer.verification_method
    assert verify_data_integrity(signed, did_key.resolve_key).verified is True
    secret = encode_ed25519_secret_key(key)
    assert secret not in repr(signer) and "private_key" not in repr(signer) and signer.did in repr(signer)
    assert KeyFile is DidKeySigner and StatusListSigner is DidKeySigner  # one class, not two
