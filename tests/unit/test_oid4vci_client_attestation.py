"""Wallet attestation as client authentication (microcred/oid4vci/client_attestation.py and the issuer's policy,
services/issuer/api/client_auth.py): a provider-signed attestation naming the instance key, and a PoP by that
key for this authorization server; every way either can be wrong is invalid_client."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from microcred import pki
from microcred.oid4vci.client_attestation import AUTH_METHOD, check_client_attestation
from microcred.oid4vci.errors import OAuthError
from microcred.oid4vci.metadata import authorization_server_metadata
from microcred.sdjwt.x5c import load_certificates
from services.issuer.api.client_auth import ClientAuthentication
from tests.harness.wallet_attestation import WalletProvider

AS = "https://issuer.example"


@pytest.fixture(scope="module")
def provider() -> WalletProvider:
    return WalletProvider()


def check(provider: WalletProvider, attestation: str, pop: str, anchors: Any = None) -> Any:
    return check_client_attestation(attestation, pop, authorization_server=AS,
                                    anchors=anchors or load_certificates(provider.ca.cert_pem),
                                    now=dt.datetime.now(dt.UTC))  # the JWTs are made with the clock too


def test_an_attested_wallet_is_authenticated(provider: WalletProvider) -> None:
    checked = check(provider, provider.attestation("wallet-1"), provider.pop(AS, "wallet-1"))
    assert checked.client_id == "wallet-1" and checked.provider == "https://wallet-provider.example"
    assert "Test Wallet Provider" in checked.provider_name and checked.jti
    # aud may be an array naming this server
    assert check(provider, provider.attestation("wallet-1"), provider.pop([AS, "https://x"], "wallet-1"))  # type: ignore[arg-type]


def test_every_flaw_is_invalid_client(provider: WalletProvider) -> None:
    other_key = ec.generate_private_key(ec.SECP256R1())
    good = provider.attestation("wallet-1")
    cases = {
        "another server's PoP": (good, provider.pop("https://other.example", "wallet-1")),
        "PoP iss not the attestation's sub": (good, provider.pop(AS, "wallet-2")),
        "PoP by another key": (good, provider.pop(AS, "wallet-1", key=other_key)),
        "stale PoP": (good, provider.pop(AS, "wallet-1", age=3600)),
        "PoP without jti": (good, provider.pop(AS, "wallet-1", jti=None)),
        "expired attestation": (provider.attestation("wallet-1", lifetime=-10), provider.pop(AS, "wallet-1")),
        "attestation without cnf": (provider.attestation("wallet-1", cnf=None), provider.pop(AS, "wallet-1")),
        "attestation swapped for the PoP": (provider.pop(AS, "wallet-1"), good),
        "not a JWS": ("a.b", provider.pop(AS, "wallet-1")),
    }
    for name, (attestation, pop) in cases.items():
        with pytest.raises(OAuthError) as caught:
            check(provider, attestation, pop)
        assert caught.value.error == "invalid_client" and caught.value.status == 401, name
    untrusted = load_certificates(pki.create_ca("Another provider").cert_pem)
    with pytest.raises(OAuthError, match="x5c"):
        check(provider, good, provider.pop(AS, "wallet-1"), anchors=untrusted)
    head, _, signature = good.split(".")
    forged = f"{head}.{provider.attestation('wallet-9').split('.')[1]}.{signature}"  # another claim set
    with pytest.raises(OAuthError, match="signature"):
        check(provider, forged, provider.pop(AS, "wallet-9"))


async def test_the_policy_public_optional_and_required(provider: WalletProvider) -> None:
    seen: set[str] = set()

    async def spend(jti: str) -> bool:
        new = jti not in seen
        seen.add(jti)
        return new

    anchors = load_certificates(provider.ca.cert_pem)
    public = ClientAuthentication((), False, spend)
    assert public.methods == ("none",)
    assert await public.check({"OAuth-Client-Attestation": "garbage"}, {}, AS) is None  # not read at all
    optional = ClientAuthentication(anchors, False, spend)
    assert optional.methods == (AUTH_METHOD, "none") and await optional.check({}, {}, AS) is None
    required = ClientAuthentication(anchors, True, spend)
    assert required.methods == (AUTH_METHOD,)
    headers = {"OAuth-Client-Attestation": provider.attestation("w"),
               "OAuth-Client-Attestation-PoP": provider.pop(AS, "w")}
    assert (await required.check(headers, {"client_id": "w"}, AS)).client_id == "w"  # type: ignore[union-attr]
    refusals = [({}, {}), (headers, {}),  # nothing; the same PoP again (jti replayed)
                ({**headers, "OAuth-Client-Attestation-PoP": provider.pop(AS, "w")}, {"client_id": "x"}),
                ({"OAuth-Client-Attestation": headers["OAuth-Client-Attestation"]}, {})]
    for sent, form in refusals:
        with pytest.raises(OAuthError) as caught:
            await required.check(sent, form, AS)
        assert caught.value.error == "invalid_client" and caught.value.status == 401
    with pytest.raises(ValueError):
        ClientAuthentication((), True, spend)


def test_the_metadata_says_how_wallets_authenticate() -> None:
    public = authorization_server_metadata(AS)
    assert public["token_endpoint_auth_methods_supported"] == ["none"]
    assert public["pre-authorized_grant_anonymous_access_supported"] is True
    assert "client_attestation_signing_alg_values_supported" not in public
    required = authorization_server_metadata(AS, client_auth=(AUTH_METHOD,))
    assert required["token_endpoint_auth_methods_supported"] == [AUTH_METHOD]
    assert required["pre-authorized_grant_anonymous_access_supported"] is False
    assert required["client_attestation_pop_signing_alg_values_supported"] == ["ES256"]
