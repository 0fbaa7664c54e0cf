"""The pure OpenID4VCI package: key proof checks (each rule of OpenID4VCI 1.0 Appendix F.1 on its own), the
Credential Offer, the offer link, secrets and metadata."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from joserfc import jws
from joserfc.jwk import OKPKey

from microcred.oid4vci.dpop import access_token_hash, check_dpop_proof, jwk_thumbprint
from microcred.oid4vci.errors import OAuthError
from microcred.oid4vci.holder_did import holder_did_key
from microcred.oid4vci.metadata import (
    LDP_CONFIGURATION,
    PRE_AUTHORIZED_GRANT,
    SD_JWT_CONFIGURATION,
    authorization_server_metadata,
    credential_issuer_metadata,
)
from microcred.oid4vci.offers import (
    credential_offer,
    digest,
    new_secret,
    new_tx_code,
    offer_link,
    offer_uri,
    tx_code_matches,
)
from microcred.oid4vci.proofs import check_key_proof
from microcred.sdjwt.jose import public_jwk

ISSUER = "https://issuer.example.eu"
NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


def proof(key: Any = None, *, header: dict[str, Any] | None = None, claims: dict[str, Any] | None = None,
          drop: tuple[str, ...] = (), alg: str = "ES256") -> str:
    key = key or ec.generate_private_key(ec.SECP256R1())
    head = {"typ": "openid4vci-proof+jwt", "jwk": public_jwk(key), **(header or {})}
    body = {"aud": ISSUER, "iat": int(NOW.timestamp()), "nonce": "n-1", **(claims or {})}
    for name in drop:
        head.pop(name, None)
        body.pop(name, None)
    return jwt.encode(body, key, algorithm=alg, headers=head)


def error(text: Any, **kwargs: Any) -> tuple[str, str]:
    with pytest.raises(OAuthError) as caught:
        check_key_proof(text, audience=ISSUER, now=kwargs.pop("now", NOW), **kwargs)
    return caught.value.error, caught.value.description


def test_a_good_proof_gives_the_public_key_and_nonce() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    checked = check_key_proof(proof(key), audience=ISSUER, now=NOW + timedelta(seconds=10))
    assert checked.jwk == public_jwk(key) and checked.nonce == "n-1"


@pytest.mark.parametrize(("change", "words"), [
    ({"header": {"typ": "JWT"}}, "typ"),
    ({"drop": ("typ",)}, "typ"),
    ({"drop": ("jwk",)}, "jwk"),
    ({"header": {"kid": "k1"}}, "kid"),  # with the jwk: both at once
    ({"header": {"x5c": ["MIIB"]}}, "x5c"),
    ({"claims": {"aud": "https://other.example"}}, "aud"),
    ({"drop": ("aud",)}, "aud"),
    ({"drop": ("iat",)}, "iat"),
    ({"claims": {"iat": int(NOW.timestamp()) - 301}}, "iat"),
    ({"claims": {"iat": int(NOW.timestamp()) + 120}}, "iat"),
    ({"claims": {"iat": True}}, "iat"),
])
def test_each_rule_refuses_with_invalid_proof(change: dict[str, Any], words: str) -> None:
    code, description = error(proof(**change))
    assert code == "invalid_proof" and words in description


def test_a_missing_nonce_is_invalid_proof_and_a_foreign_one_invalid_nonce() -> None:
    """§8.3.1.2: invalid_proof "if at least one of the key proofs does not contain a c_nonce value"; invalid_nonce
    for one that is there but not a live c_nonce (the store decides that; one longer than any given, here)."""
    for missing in (proof(drop=("nonce",)), proof(claims={"nonce": ""}), proof(claims={"nonce": 7})):
        code, description = error(missing)
        assert code == "invalid_proof" and "nonce" in description
    assert error(proof(claims={"nonce": "n" * 257}))[0] == "invalid_nonce"


def test_signature_by_another_key_than_the_jwk_is_refused() -> None:
    other = ec.generate_private_key(ec.SECP256R1())
    forged = proof(header={"jwk": public_jwk(other)})
    assert "signature" in error(forged)[1]


def test_no_private_jwk_and_no_other_algorithm() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    private = {**public_jwk(key), "d": "AAAA"}
    assert "private" in error(proof(key, header={"jwk": private}))[1]
    p384 = ec.generate_private_key(ec.SECP384R1())
    assert error(proof(p384, alg="ES384")) == ("invalid_proof", "alg must be one of ['ES256', 'EdDSA', 'Ed25519']")
    labelled = _hand_signed({"typ": "openid4vci-proof+jwt", "alg": "ES256", "jwk": public_jwk(p384)}, None)
    assert "ES384" in error(labelled)[1]  # a P-384 key signs with ES384, which is not taken


@pytest.mark.parametrize("alg", ["EdDSA", "Ed25519"])
def test_an_ed25519_proof_made_by_another_library_gives_its_okp_key(alg: str) -> None:
    """An Ed25519 proof signed with joserfc (not the PyJWT the product checks with), its algorithm named as RFC 8037
    did (EdDSA) or as RFC 9864 does (Ed25519)."""
    key = OKPKey.generate_key("Ed25519")
    public = key.as_dict(private=False)
    header = {"typ": "openid4vci-proof+jwt", "alg": alg, "jwk": public}
    claims = {"aud": ISSUER, "iat": int(NOW.timestamp()), "nonce": "n-2"}
    text = jws.serialize_compact(header, json.dumps(claims).encode(), key, algorithms=[alg])
    checked = check_key_proof(text, audience=ISSUER, now=NOW)
    assert checked.jwk == {"kty": "OKP", "crv": "Ed25519", "x": public["x"]} and checked.nonce == "n-2"
    assert holder_did_key(checked.jwk).startswith("did:key:z6Mk")
    assert "signature" in error(text[:-4] + ("AAAA" if not text.endswith("AAAA") else "BBBB"))[1]


def _hand_signed(header: dict[str, Any], key: Any) -> str:
    """A JWS put together by hand, so that its ``alg`` can disagree with the key that signed it."""
    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
    claims = {"aud": ISSUER, "iat": int(NOW.timestamp()), "nonce": "n-3"}
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    return f"{signing_input}.{b64(key.sign(signing_input.encode()) if key is not None else bytes(64))}"


def test_the_alg_must_be_the_jwk_key_types_own() -> None:
    ed = ed25519.Ed25519PrivateKey.generate()
    p256 = ec.generate_private_key(ec.SECP256R1())
    # an Ed25519 signature labelled ES256, over an OKP jwk
    labelled = _hand_signed({"typ": "openid4vci-proof+jwt", "alg": "ES256", "jwk": public_jwk(ed)}, ed)
    assert error(labelled) == ("invalid_proof", "alg 'ES256' does not match the jwk's key type (which signs "
                                                "with EdDSA or Ed25519)")
    # EdDSA over an EC jwk (the signature is by an Ed25519 key)
    crossed = _hand_signed({"typ": "openid4vci-proof+jwt", "alg": "EdDSA", "jwk": public_jwk(p256)}, ed)
    assert "does not match" in error(crossed)[1]
    # Ed25519 (RFC 9864) over an EC jwk, or over an OKP jwk whose key did not sign
    crossed = _hand_signed({"typ": "openid4vci-proof+jwt", "alg": "Ed25519", "jwk": public_jwk(p256)}, ed)
    assert "does not match" in error(crossed)[1]
    other = _hand_signed({"typ": "openid4vci-proof+jwt", "alg": "Ed25519",
                          "jwk": public_jwk(ed25519.Ed25519PrivateKey.generate())}, ed)
    assert "signature" in error(other)[1]
    # the right pairings verify, under either name of the algorithm
    for alg in ("EdDSA", "Ed25519"):
        good = _hand_signed({"typ": "openid4vci-proof+jwt", "alg": alg, "jwk": public_jwk(ed)}, ed)
        assert check_key_proof(good, audience=ISSUER, now=NOW).jwk == public_jwk(ed)


def test_dpop_stays_es256_only() -> None:
    ed = ed25519.Ed25519PrivateKey.generate()
    with pytest.raises(OAuthError) as caught:
        check_dpop_proof(dpop(ed, alg="EdDSA"), method="POST", url=f"{ISSUER}/oid4vci/credential", now=NOW,
                         access_token="tok")
    assert (caught.value.error, caught.value.description) == ("invalid_dpop_proof", "alg must be one of ['ES256']")


@pytest.mark.parametrize("text", [None, 5, "", "a.b", "a.b.c", "x" * 9000, "e30.e30.e30"])
def test_malformed_proofs_are_invalid_proof(text: Any) -> None:
    assert error(text)[0] == "invalid_proof"


def test_offer_link_and_document() -> None:
    uri = offer_uri(ISSUER, "abc")
    link = offer_link(uri)
    parts = urlsplit(link)
    assert parts.scheme == "openid-credential-offer"
    assert parse_qs(parts.query)["credential_offer_uri"] == [f"{ISSUER}/oid4vci/offers/abc"]
    haip = urlsplit(offer_link(uri, "haip-vci"))  # HAIP 1.0 §4.2
    assert haip.scheme == "haip-vci" and parse_qs(haip.query) == parse_qs(parts.query)
    with pytest.raises(ValueError, match="offer links use one of"):
        offer_link(uri, "javascript")
    offer = credential_offer(ISSUER, "code-1", tx_code=True)
    assert offer["credential_configuration_ids"] == [SD_JWT_CONFIGURATION]
    grant = offer["grants"][PRE_AUTHORIZED_GRANT]
    assert grant["pre-authorized_code"] == "code-1" and grant["tx_code"]["length"] == 6
    assert "tx_code" not in credential_offer(ISSUER, "c", tx_code=False)["grants"][PRE_AUTHORIZED_GRANT]


def test_secrets_are_long_distinct_and_kept_as_digests() -> None:
    codes = {new_secret() for _ in range(100)}
    assert len(codes) == 100 and all(len(c) >= 43 for c in codes)
    tx = new_tx_code()
    assert len(tx) == 6 and tx.isdigit()
    assert tx_code_matches(tx, digest(tx)) and not tx_code_matches("x" + tx[1:], digest(tx))


def test_metadata() -> None:
    metadata = credential_issuer_metadata(ISSUER)
    sd = metadata["credential_configurations_supported"][SD_JWT_CONFIGURATION]
    assert sd["format"] == "dc+sd-jwt" and sd["vct"].startswith("https://")
    assert sd["proof_types_supported"] == {"jwt": {"proof_signing_alg_values_supported": ["ES256", "EdDSA", "Ed25519"]}}
    ldp = metadata["credential_configurations_supported"][LDP_CONFIGURATION]
    assert ldp["proof_types_supported"] == sd["proof_types_supported"]
    assert [d["locale"] for d in sd["credential_metadata"]["display"]] == ["en", "pl", "de", "fr"]
    assert metadata["credential_configurations_supported"][LDP_CONFIGURATION]["format"] == "ldp_vc"
    assert metadata["credential_endpoint"] == f"{ISSUER}/oid4vci/credential"
    assert authorization_server_metadata(ISSUER)["token_endpoint"] == f"{ISSUER}/oid4vci/token"


def dpop(key: Any = None, *, header: dict[str, Any] | None = None, claims: dict[str, Any] | None = None,
         alg: str = "ES256") -> str:
    key = key or ec.generate_private_key(ec.SECP256R1())
    head = {"typ": "dpop+jwt", "jwk": public_jwk(key), **(header or {})}
    body = {"jti": "jti-12345678", "htm": "POST", "htu": f"{ISSUER}/oid4vci/credential",
            "iat": int(NOW.timestamp()), "ath": access_token_hash("tok"), **(claims or {})}
    return jwt.encode(body, key, algorithm=alg, headers=head)


def test_dpop_proof_gives_the_thumbprint_and_jti() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    checked = check_dpop_proof(dpop(key), method="POST", url=f"{ISSUER}/oid4vci/credential?x=1", now=NOW,
                               access_token="tok")
    assert checked.jti == "jti-12345678" and checked.jkt == jwk_thumbprint(public_jwk(key))
    # RFC 9449 §4.3 compares htu after RFC 3986 normalisation: case of scheme and host, the default port
    host = urlsplit(ISSUER).netloc
    for htu in (f"HTTPS://{host.upper()}/oid4vci/credential", f"https://{host}:443/oid4vci/credential"):
        check_dpop_proof(dpop(key, claims={"htu": htu}), method="POST", url=f"{ISSUER}/oid4vci/credential",
                         now=NOW, access_token="tok")
    for url, htu in (("https://[::1]:8443/t", "https://[::1]:8443/t"), ("http://127.0.0.1/t", "http://127.0.0.1:80/t")):
        check_dpop_proof(dpop(key, claims={"htu": htu}), method="POST", url=url, now=NOW, access_token="tok")


def test_rfc7638_thumbprint_example() -> None:
    # RFC 7638 §3.1 is an RSA key; the EC rule is the same: required members, sorted, no whitespace. Checked
    # here against the RFC 8037 §A.3 OKP example (Ed25519), whose thumbprint the RFC gives.
    jwk = {"crv": "Ed25519", "kty": "OKP", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}
    assert jwk_thumbprint(jwk) == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"


@pytest.mark.parametrize(("change", "kwargs"), [
    ({"header": {"typ": "JWT"}}, {}),
    ({"claims": {"htm": "GET"}}, {}),
    ({"claims": {"htu": "https://other.example/oid4vci/credential"}}, {}),
    ({"claims": {"htu": "https://[::1/oid4vci/credential"}}, {}),  # urlsplit raises: refused, not a 500
    ({"claims": {"htu": f"{ISSUER}:8443/oid4vci/credential"}}, {}),  # another port is another endpoint
    ({"claims": {"htu": ISSUER.replace("https://", "https://u@") + "/oid4vci/credential"}}, {}),
    ({"claims": {"iat": int(NOW.timestamp()) - 3600}}, {}),
    ({"claims": {"jti": "short"}}, {}),
    ({"claims": {"ath": access_token_hash("another token")}}, {}),
    ({}, {"access_token": "different"}),
])
def test_dpop_rules(change: dict[str, Any], kwargs: dict[str, Any]) -> None:
    with pytest.raises(OAuthError) as caught:
        check_dpop_proof(dpop(**change), method="POST", url=f"{ISSUER}/oid4vci/credential", now=NOW,
                         access_token=kwargs.get("access_token", "tok"))
    assert caught.value.error == "invalid_dpop_proof"


def test_dpop_signed_by_another_key_is_refused() -> None:
    other = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(OAuthError):
        check_dpop_proof(dpop(header={"jwk": public_jwk(other)}), method="POST",
                         url=f"{ISSUER}/oid4vci/credential", now=NOW, access_token="tok")


def test_a_key_proof_by_a_small_order_ed25519_key_is_refused() -> None:
    # The identity point as the jwk, R = identity and S = 0 as the signature: OpenSSL (which PyJWT uses) accepts
    # that as an EdDSA signature of any message, so without the check this "proof of possession" needs no key.
    identity = bytes([1]) + bytes(31)

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    jwk = {"kty": "OKP", "crv": "Ed25519", "x": b64(identity)}
    header = {"typ": "openid4vci-proof+jwt", "alg": "EdDSA", "jwk": jwk}
    claims = {"aud": ISSUER, "iat": int(NOW.timestamp()), "nonce": "n-1"}
    forged = ".".join([b64(json.dumps(header).encode()), b64(json.dumps(claims).encode()), b64(identity + bytes(32))])
    ed25519.Ed25519PublicKey.from_public_bytes(identity).verify(identity + bytes(32), forged.rsplit(".", 1)[0].encode())

    code, description = error(forged)

    assert code == "invalid_proof" and "small order" in description


def test_a_proof_may_name_its_key_by_a_did_key_kid() -> None:
    """Appendix F.1: a holder bound by did:key (the ldp_vc configuration's binding method) names its key by kid,
    a DID URL; P-256 (ES256) and Ed25519 (EdDSA) are read back locally and give the same key as a jwk would."""
    p256 = ec.generate_private_key(ec.SECP256R1())
    did = holder_did_key(public_jwk(p256))
    for kid in (did, f"{did}#{did.removeprefix('did:key:')}"):
        checked = check_key_proof(proof(p256, header={"kid": kid}, drop=("jwk",)), audience=ISSUER, now=NOW)
        assert checked.jwk == public_jwk(p256) and holder_did_key(checked.jwk) == did
    ed = ed25519.Ed25519PrivateKey.generate()
    ed_did = holder_did_key(public_jwk(ed))
    checked = check_key_proof(proof(ed, header={"kid": ed_did}, drop=("jwk",), alg="EdDSA"), audience=ISSUER,
                              now=NOW)
    assert holder_did_key(checked.jwk) == ed_did
    assert checked.did == ed_did


def test_a_proof_may_name_its_key_by_a_did_jwk_kid() -> None:
    """did:jwk (the method specification's Create steps here): the key the DID holds signs; the proof names the DID
    as written (fragment ``#0`` dropped), which an ldp_vc is bound to; a jwk header names no DID."""
    keys: list[tuple[Any, str]] = [(ec.generate_private_key(ec.SECP256R1()), "ES256"),
                                   (ed25519.Ed25519PrivateKey.generate(), "EdDSA")]
    for key, alg in keys:
        did = "did:jwk:" + base64.urlsafe_b64encode(json.dumps(public_jwk(key)).encode()).decode().rstrip("=")
        for kid in (did, did + "#0"):
            checked = check_key_proof(proof(key, header={"kid": kid}, drop=("jwk",), alg=alg), audience=ISSUER, now=NOW)
            assert checked.jwk == public_jwk(key) and checked.did == did
        code, description = error(proof(key, header={"kid": did + "#1"}, drop=("jwk",), alg=alg))
        assert code == "invalid_proof" and "#0" in description, description
    assert check_key_proof(proof(), audience=ISSUER, now=NOW).did is None


@pytest.mark.parametrize(("kid_of", "extra", "words"), [
    ("other", {}, "signature"),  # the kid names another key than the one that signed
    ("own", {"jwk": True}, "kid and jwk"),  # both at once
    ("web", {}, "did:key or did:jwk"),  # a DID this issuer does not resolve
    ("jwk-other", {}, "signature"),  # a did:jwk of another key
])
def test_a_kid_that_does_not_name_the_signing_did_key_is_invalid_proof(kid_of: str, extra: dict[str, Any],
                                                                         words: str) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    kid = {"own": holder_did_key(public_jwk(key)), "web": "did:web:wallet.example#key-1",
           "other": holder_did_key(public_jwk(ec.generate_private_key(ec.SECP256R1()))),
           "jwk-other": "did:jwk:" + base64.urlsafe_b64encode(json.dumps(public_jwk(
               ec.generate_private_key(ec.SECP256R1()))).encode()).decode().rstrip("=") + "#0"}[kid_of]
    code, description = error(proof(key, header={"kid": kid}, drop=() if extra else ("jwk",)))
    assert code == "invalid_proof" and words in description, description


def test_a_time_claim_beyond_a_double_is_the_proofs_fault_not_a_server_error() -> None:
    """An ``iat`` of 400 digits raised OverflowError where it was compared with the clock (a 500); it is now
    refused as JSON these checks cannot read, naming the proof."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    huge = 10 ** 400
    proof = jwt.encode({"aud": "https://i.example", "iat": huge, "nonce": "n"}, key, algorithm="ES256",
                       headers={"typ": "openid4vci-proof+jwt", "jwk": public_jwk(key)})
    with pytest.raises(OAuthError) as caught:
        check_key_proof(proof, audience="https://i.example", now=now)
    assert caught.value.error == "invalid_proof"
    dpop = jwt.encode({"jti": "j", "htm": "POST", "htu": "https://i.example/t", "iat": huge}, key,
                      algorithm="ES256", headers={"typ": "dpop+jwt", "jwk": public_jwk(key)})
    with pytest.raises(OAuthError) as caught:
        check_dpop_proof(dpop, method="POST", url="https://i.example/t", now=now)
    assert caught.value.error == "invalid_dpop_proof"
