"""The issuer's request-encryption keys rotate (OpenID4VCI 1.0 §10; services.issuer.adapters.request_encryption):
every replica derives the same key per period from the shared seed, the metadata lists the current one, a request
encrypted to the previous period's key is still read, one to an older key is refused by name. The requests are
encrypted with jwcrypto, not with the joserfc the product uses."""

from __future__ import annotations

import json
import os
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from microcred.oid4vci.encryption import EncryptionKey, decrypt_request
from microcred.oid4vci.errors import OAuthError
from services.issuer.adapters.document_signing import derive_p256_key
from services.issuer.adapters.request_encryption import _LABEL, RotatingRequestKeys
from services.issuer.api.oid4vci import _credential_body, oid4vci_router
from tests.unit.test_oid4vci_encryption import jwcrypto_jwe, request

DAY = 86400.0
SEED = os.urandom(32)


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def keys(period_days: float | None = 1, start: float = 100 * DAY + 5) -> tuple[RotatingRequestKeys, Clock]:
    clock = Clock(start)
    period = None if period_days is None else timedelta(days=period_days)
    return RotatingRequestKeys(SEED, period, clock), clock


def test_each_period_has_its_key_and_the_previous_one_is_still_taken() -> None:
    rotating, clock = keys()
    first = rotating.current()
    assert rotating.accepted()[0].kid == first.kid
    clock.now += DAY
    second = rotating.current()
    assert second.kid != first.kid
    assert [k.kid for k in rotating.accepted()] == [second.kid, first.kid]
    clock.now += DAY
    assert first.kid not in {k.kid for k in rotating.accepted()}
    assert rotating.current().kid not in {first.kid, second.kid}


def test_replicas_agree_with_no_coordination_and_a_key_never_comes_back() -> None:
    one, clock_one = keys()
    other, _ = keys(start=clock_one.now + 3600)  # the same period, an hour later
    assert one.current().kid == other.current().kid and one.current().jwk == other.current().jwk
    seen = set()
    for _ in range(5):
        seen.add(one.current().kid)
        clock_one.now += DAY
    assert len(seen) == 5


def test_without_a_period_the_key_is_the_one_key_of_the_seed() -> None:
    fixed, clock = keys(period_days=None)
    expected = EncryptionKey.of(derive_p256_key(SEED, _LABEL))
    assert fixed.current().kid == expected.kid and [k.kid for k in fixed.accepted()] == [expected.kid]
    clock.now += 400 * DAY
    assert fixed.current().kid == expected.kid


@pytest.mark.parametrize("days", [0.5, 1 / 24])
def test_a_period_shorter_than_a_signed_metadata_copy_lasts_is_refused(days: float) -> None:
    with pytest.raises(ValueError, match="shorter than"):
        keys(period_days=days)


def test_a_request_to_the_previous_key_is_read_and_one_to_an_older_key_refused_by_name() -> None:
    rotating, clock = keys()
    old = rotating.current()
    clock.now += DAY
    assert decrypt_request(jwcrypto_jwe({"a": 1}, dict(old.jwk)), rotating) == {"a": 1}
    assert decrypt_request(jwcrypto_jwe({"a": 2}, dict(rotating.current().jwk)), rotating) == {"a": 2}
    clock.now += DAY
    with pytest.raises(OAuthError) as caught:
        decrypt_request(jwcrypto_jwe({"a": 3}, dict(old.jwk)), rotating)
    assert caught.value.error == "invalid_encryption_parameters"
    assert "does not take" in caught.value.description and old.kid in caught.value.description


def test_a_request_naming_no_key_is_taken_as_encrypted_to_the_current_one() -> None:
    rotating, clock = keys()
    previous = rotating.current()
    clock.now += DAY
    unnamed = {k: v for k, v in rotating.current().jwk.items() if k != "kid"}
    assert decrypt_request(jwcrypto_jwe({"a": 1}, unnamed), rotating) == {"a": 1}
    with pytest.raises(OAuthError) as caught:  # to the previous key, unnamed: tried with the current one only
        decrypt_request(jwcrypto_jwe({"a": 1}, {k: v for k, v in previous.jwk.items() if k != "kid"}), rotating)
    assert "cannot be decrypted" in caught.value.description


@pytest.mark.parametrize(("token", "why"), [
    ("not-base64!.a.b.c.d", "protected header"),
    ("WzFd.a.b.c.d", "must be an object"),  # [1]
    ("eyJraWQiOjF9.a.b.c.d", "kid a string"),  # {"kid":1}
    ("", "not a compact JWE"),
])
def test_a_header_the_key_cannot_be_chosen_from_is_refused_by_name(token: str, why: str) -> None:
    rotating, _ = keys()
    with pytest.raises(OAuthError) as caught:
        decrypt_request(token, rotating)
    assert caught.value.error == "invalid_encryption_parameters" and why in caught.value.description


async def test_the_endpoint_reads_a_request_to_either_key_it_takes() -> None:
    rotating, clock = keys()
    old = rotating.current()
    clock.now += DAY
    raw = jwcrypto_jwe({"transaction_id": "t"}, dict(old.jwk)).encode()
    body, respond = await _credential_body(request(raw, "application/jwt"), rotating, False)
    assert body == {"transaction_id": "t"} and respond is None


async def test_the_metadata_lists_the_current_key_and_follows_a_rotation() -> None:
    rotating, clock = keys()
    offers: Any = SimpleNamespace(first_attestation_pop=None, key_attestations=None, takes_di_vp=False, codes=None)
    app = FastAPI()
    app.include_router(oid4vci_router(offers, lambda _: None, lambda *a, **k: None,  # type: ignore[arg-type]
                                      "https://issuer.example", encryption=rotating))

    async def listed(client: httpx.AsyncClient) -> list[str]:
        document = json.loads((await client.get("/.well-known/openid-credential-issuer")).content)
        return [k["kid"] for k in document["credential_request_encryption"]["jwks"]["keys"]]

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="https://issuer.example") as client:
        first = await listed(client)
        assert first == [rotating.current().kid]
        clock.now += DAY
        second = await listed(client)
        assert second == [rotating.current().kid] and second != first


def test_a_replica_a_little_behind_takes_the_key_one_a_little_ahead_lists_already() -> None:
    ahead, _ = keys(start=101 * DAY + 60)  # a minute into the next period
    behind, clock_behind = keys(start=101 * DAY - 60)  # a minute before it
    listed = ahead.current()
    assert behind.current().kid != listed.kid
    raw = jwcrypto_jwe({"a": 1}, dict(listed.jwk))
    assert decrypt_request(raw, behind) == {"a": 1}
    clock_behind.now = 100 * DAY + 3600  # early in a period, the next one's key is not taken
    assert listed.kid not in {k.kid for k in behind.accepted()} and len(behind.accepted()) == 2
