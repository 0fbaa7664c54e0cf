"""Key attestations (microcred/oid4vci/key_attestation.py, OpenID4VCI 1.0 Appendix D) and how key proofs carry them
(microcred/oid4vci/proofs.py, Appendix F.1): a provider-signed list of keys, checked against the issuer's anchors
and accepted attack potentials; a proof must be signed by one of the keys it carries; every flaw is invalid_proof."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from microcred.oid4vci.errors import OAuthError
from microcred.oid4vci.key_attestation import KeyAttestationPolicy, check_key_attestation
from microcred.oid4vci.metadata import SD_JWT_CONFIGURATION, credential_issuer_metadata
from microcred.oid4vci.proofs import check_key_proof
from microcred.sdjwt.jose import public_jwk
from microcred.sdjwt.x5c import load_certificates
from tests.harness.oid4vci_wallet import key_proof
from tests.harness.wallet_attestation import WalletProvider, attested_key_proof

ISSUER = "https://issuer.example"


@pytest.fixture(scope="module")
def provider() -> WalletProvider:
    return WalletProvider()


def policy(provider: WalletProvider, **options: Any) -> KeyAttestationPolicy:
    return KeyAttestationPolicy(tuple(load_certificates(provider.ca.cert_pem)), **options)


def keys(n: int) -> list[ec.EllipticCurvePrivateKey]:
    return [ec.generate_private_key(ec.SECP256R1()) for _ in range(n)]


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)  # the JWTs are made with the clock too


def test_an_attestation_proof_gives_every_attested_key_and_its_nonce(provider: WalletProvider) -> None:
    holders = [public_jwk(k) for k in keys(3)]
    token = provider.key_attestation(holders, nonce="n-1")
    checked = check_key_attestation(token, policy=policy(provider), use="attestation", now=now(), max_keys=10)
    assert list(checked.keys) == holders and checked.nonce == "n-1"
    assert checked.key_storage == ("iso_18045_high",)
    # the name of the drafts before 1.0, which deployed wallets send, names the same kind of JWT
    legacy = provider.key_attestation(holders, nonce="n-1", typ="keyattestation+jwt")
    assert check_key_attestation(legacy, policy=policy(provider), use="attestation", now=now(), max_keys=10).keys


def test_every_flaw_of_an_attestation_is_invalid_proof(provider: WalletProvider) -> None:
    holder = [public_jwk(keys(1)[0])]
    private = {**holder[0], "d": "AAAA"}
    cases = {
        "another typ": provider.key_attestation(holder, nonce="n", typ="JWT"),
        "expired": provider.key_attestation(holder, nonce="n", lifetime=-10),
        "no attested_keys": provider.key_attestation([], nonce="n"),
        "a private key attested": provider.key_attestation([private], nonce="n"),
        "a key of another curve": provider.key_attestation([{"kty": "EC", "crv": "P-384", "x": "A", "y": "B"}],
                                                           nonce="n"),
        "too many keys": provider.key_attestation([public_jwk(k) for k in keys(11)], nonce="n"),
        "key_storage not an array": provider.key_attestation(holder, nonce="n", key_storage="iso_18045_high"),
        "iat in the future": provider.key_attestation(holder, nonce="n", iat=int(now().timestamp()) + 3600),
        "not a JWS": "a.b",
    }
    for name, token in cases.items():
        with pytest.raises(OAuthError) as caught:
            check_key_attestation(token, policy=policy(provider), use="attestation", now=now(), max_keys=10)
        assert caught.value.error == "invalid_proof", name
    untrusted = WalletProvider()
    with pytest.raises(OAuthError, match="x5c"):
        check_key_attestation(untrusted.key_attestation(holder, nonce="n"), policy=policy(provider),
                              use="attestation", now=now(), max_keys=10)
    good = provider.key_attestation(holder, nonce="n")
    head, _, signature = good.split(".")
    forged = f"{head}.{provider.key_attestation([public_jwk(keys(1)[0])], nonce='n').split('.')[1]}.{signature}"
    with pytest.raises(OAuthError, match="signature"):
        check_key_attestation(forged, policy=policy(provider), use="attestation", now=now(), max_keys=10)
    # the attestation proof type has no other freshness than its nonce; a jwt proof's needs an exp
    with pytest.raises(OAuthError) as caught:
        check_key_attestation(provider.key_attestation(holder), policy=policy(provider), use="attestation",
                              now=now(), max_keys=10)
    assert caught.value.error == "invalid_proof" and "nonce" in caught.value.description  # §8.3.1.2
    with pytest.raises(OAuthError, match="exp is required"):
        check_key_attestation(provider.key_attestation(holder, lifetime=None), policy=policy(provider), use="jwt",
                              now=now(), max_keys=10)


def test_the_accepted_attack_potentials(provider: WalletProvider) -> None:
    holder = [public_jwk(keys(1)[0])]
    strict = policy(provider, key_storage=("iso_18045_high", "iso_18045_moderate"),
                    user_authentication=("iso_18045_high",))
    moderate = provider.key_attestation(holder, nonce="n", key_storage=["iso_18045_moderate"])
    assert check_key_attestation(moderate, policy=strict, use="attestation", now=now(), max_keys=10)
    for weak in (provider.key_attestation(holder, nonce="n", key_storage=["iso_18045_basic"]),
                 provider.key_attestation(holder, nonce="n", user_authentication=["iso_18045_moderate"]),
                 provider.key_attestation(holder, nonce="n", key_storage=None)):  # asserts nothing
        with pytest.raises(OAuthError, match="not one this issuer accepts"):
            check_key_attestation(weak, policy=strict, use="attestation", now=now(), max_keys=10)


def test_a_jwt_proof_carrying_an_attestation(provider: WalletProvider) -> None:
    holders = keys(3)
    jwks = [public_jwk(k) for k in holders]
    attestation = provider.key_attestation(jwks)
    accepting = policy(provider)
    by_jwk = check_key_proof(attested_key_proof(holders[1], ISSUER, "n", attestation), audience=ISSUER, now=now(),
                             attestations=accepting)
    assert by_jwk.jwk == jwks[1] and by_jwk.attestation is not None and list(by_jwk.attestation.keys) == jwks
    # named by its position in attested_keys (the spec's example), or by a kid that names nothing known
    for kid in ("2", "holder-key", "9" * 5000, "٣"):  # no int() of thousands of digits; no other script's digits
        named = check_key_proof(attested_key_proof(holders[2], ISSUER, "n", attestation, kid=kid), audience=ISSUER,
                                now=now(), attestations=accepting)
        assert named.jwk == jwks[2]
    outsider = keys(1)[0]
    with pytest.raises(OAuthError, match="attested_keys"):
        check_key_proof(attested_key_proof(outsider, ISSUER, "n", attestation), audience=ISSUER, now=now(),
                        attestations=accepting)
    with pytest.raises(OAuthError, match="attested_keys"):
        check_key_proof(attested_key_proof(outsider, ISSUER, "n", attestation, kid="0"), audience=ISSUER, now=now(),
                        attestations=accepting)
    # an issuer that requires attestations refuses a proof without one; one that does not check them ignores it
    with pytest.raises(OAuthError, match="requires a key attestation"):
        check_key_proof(key_proof(holders[0], ISSUER, "n"), audience=ISSUER, now=now(),
                        attestations=policy(provider, required=True))
    assert check_key_proof(key_proof(holders[0], ISSUER, "n"), audience=ISSUER, now=now(),
                           attestations=accepting).attestation is None
    ignored = check_key_proof(attested_key_proof(holders[0], ISSUER, "n", attestation), audience=ISSUER, now=now())
    assert ignored.attestation is None and ignored.jwk == jwks[0]


def test_the_metadata_names_the_attestation_proof_type_only_when_attestations_are_checked(
        provider: WalletProvider) -> None:
    plain = credential_issuer_metadata(ISSUER)["credential_configurations_supported"][SD_JWT_CONFIGURATION]
    assert set(plain["proof_types_supported"]) == {"jwt"}
    assert "key_attestations_required" not in plain["proof_types_supported"]["jwt"]
    optional = credential_issuer_metadata(ISSUER, policy(provider))["credential_configurations_supported"]
    for configuration in optional.values():
        types = configuration["proof_types_supported"]
        assert set(types) == {"jwt", "attestation"} and "key_attestations_required" not in types["jwt"]
        assert types["attestation"]["key_attestations_required"] == {}
    required = credential_issuer_metadata(ISSUER, policy(provider, required=True, key_storage=("iso_18045_high",)))
    types = required["credential_configurations_supported"][SD_JWT_CONFIGURATION]["proof_types_supported"]
    assert types["jwt"]["key_attestations_required"] == {"key_storage": ["iso_18045_high"]}
    assert types["attestation"]["key_attestations_required"] == {"key_storage": ["iso_18045_high"]}

