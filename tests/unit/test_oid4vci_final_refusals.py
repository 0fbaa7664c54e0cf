"""What the credential endpoint can never issue is ``credential_request_denied`` (OpenID4VCI 1.0 §8.3.1.2: "The
Wallet SHOULD treat this error as unrecoverable"), at the credential endpoint as at the deferred one: the learner
erased, the award refused by issuance (invalid, or its issuer no longer accredited), the offer expired since the
token was issued. A failure that may pass stays ``server_error`` (503). The store calls are recorded: a refusal
gives the token's configuration back (nothing delivered), a deferred one drops its transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from google.rpc import code_pb2  # type: ignore[import-untyped, unused-ignore]

from microcred.gen.microcred.v1 import elements_pb2 as pb
from microcred.kafka.publisher import InMemoryEventPublisher
from microcred.oid4vci.errors import OAuthError
from microcred.oid4vci.metadata import SD_JWT_CONFIGURATION
from services.issuer.application.issuance import Caller, IssueItem, Outcome, Refusal
from services.issuer.application.offer_records import Offer
from services.issuer.application.offers import Offers
from tests.harness.oid4vci_wallet import key_proof

ISSUER = "https://issuer.example"
OFFER = Offer("offer-1", "redeemed", "did:web:uni.example", "agency-1", "{}", b"sealed-award")


class Store:
    """The credential endpoints' store calls (the Redis scripts behind them are tested in integration)."""

    def __init__(self, offer: Offer | None) -> None:
        self.offer, self.calls = offer, []  # type: ignore[var-annotated]

    async def token_offer(self, token_digest: str) -> tuple[str, str, str]:
        return "offer-1", "ready", ""

    async def begin_issuing(self, token_digest: str, offer_id: str, configuration: str,
                            nonce_digests: list[str]) -> tuple[str, Offer | None]:
        self.calls.append(("begin", configuration))
        return ("ok", self.offer) if self.offer is not None else ("expired", None)

    async def release(self, token_digest: str, configuration: str) -> None:
        self.calls.append(("release", configuration))

    async def delivered(self, token_digest: str, offer_id: str, configuration: str, covered: Sequence[str],
                        notification_ids: list[str], transaction_digest: str = "") -> None:
        self.calls.append(("delivered", configuration))

    async def claim_transaction(self, tx_digest: str, token_digest: str
                                ) -> tuple[str, str, list[dict[str, Any]], float, str, str]:
        return "ok", "offer-1", [{"kty": "EC"}], 0.0, SD_JWT_CONFIGURATION, "claim-1"

    async def issuing_offer(self, offer_id: str, token_digest: str) -> Offer | None:
        return self.offer

    async def deny_transaction(self, tx_digest: str, token_digest: str, configuration: str) -> None:
        self.calls.append(("deny", configuration))

    async def release_transaction(self, tx_digest: str, claim: str) -> None:
        self.calls.append(("release_transaction", ""))


class Issuance:
    def __init__(self, refusal: Refusal | None) -> None:
        self.refusal = refusal

    async def issue(self, caller: Caller, items: Sequence[IssueItem]) -> list[Outcome]:
        assert self.refusal is not None, "not reached in these tests"
        return [self.refusal for _ in items]


def offers(store: Store, refusal: Refusal | None = None, award: pb.MicroCredential | None = None) -> Offers:
    made = Offers(store, Issuance(refusal), InMemoryEventPublisher(), privacy=None)  # type: ignore[arg-type]

    async def opened(kept: bytes) -> pb.MicroCredential | None:
        return award  # None: the learner's data key was destroyed
    made._award = opened  # type: ignore[method-assign]
    return made


def request() -> dict[str, Any]:
    key = ec.generate_private_key(ec.SECP256R1())
    return {"credential_identifier": SD_JWT_CONFIGURATION, "proofs": {"jwt": [key_proof(key, ISSUER, "n-1")]}}


async def refused(made: Offers) -> OAuthError:
    with pytest.raises(OAuthError) as caught:
        await made.credential("token", request(), ISSUER)
    return caught.value


@pytest.mark.parametrize(("refusal", "award", "offer"), [
    (None, None, OFFER),  # the learner erased: the award cannot be opened
    (Refusal(code_pb2.INVALID_ARGUMENT, "invalid credential: title: required"), pb.MicroCredential(), OFFER),
    (Refusal(code_pb2.PERMISSION_DENIED, "the issuer's accreditation has lapsed"), pb.MicroCredential(), OFFER),
    (None, None, None),  # the offer expired after the token was issued
], ids=["learner erased", "award invalid", "accreditation lapsed", "offer expired"])
async def test_what_can_never_be_issued_is_credential_request_denied(
        refusal: Refusal | None, award: pb.MicroCredential | None, offer: Offer | None) -> None:
    store = Store(offer)
    error = await refused(offers(store, refusal, award))
    assert (error.error, error.status) == ("credential_request_denied", 400), error.description
    assert ("delivered", SD_JWT_CONFIGURATION) not in store.calls
    if offer is not None:  # issuing began: the configuration is owed again, nothing delivered
        assert store.calls == [("begin", SD_JWT_CONFIGURATION), ("release", SD_JWT_CONFIGURATION)]


async def test_a_failure_that_may_pass_is_still_a_server_error() -> None:
    store = Store(OFFER)
    error = await refused(offers(store, Refusal(code_pb2.INTERNAL, "signing failed"), pb.MicroCredential()))
    assert (error.error, error.status) == ("server_error", 503)


@pytest.mark.parametrize(("refusal", "award", "offer"), [
    (None, None, OFFER),
    (Refusal(code_pb2.PERMISSION_DENIED, "the issuer's accreditation has lapsed"), pb.MicroCredential(), OFFER),
    (None, None, None),
], ids=["learner erased", "accreditation lapsed", "offer expired"])
async def test_the_deferred_endpoint_denies_the_same_and_drops_the_transaction(
        refusal: Refusal | None, award: pb.MicroCredential | None, offer: Offer | None) -> None:
    store = Store(offer)
    with pytest.raises(OAuthError) as caught:
        await offers(store, refusal, award).deferred("token", {"transaction_id": "t-1"})
    assert (caught.value.error, caught.value.status) == ("credential_request_denied", 400)
    assert store.calls == [("deny", SD_JWT_CONFIGURATION)]

