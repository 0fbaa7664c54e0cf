"""Our wallet's deferred issuance (OpenID4VCI 1.0 §8.3, §9), pure parts: the record, the issuer's answers, the
bounds put on what an issuer says."""

from __future__ import annotations

import pytest

from services.wallet.domain import deferred as d
from services.wallet.domain.offers import ISSUER_ANSWER_INVALID, OfferError


def item(**changes: object) -> d.DeferredIssuance:
    fields: dict[str, object] = dict(
        account_id="lrn_1", credential_issuer="https://issuer.example", configuration_id="mc", format="dc+sd-jwt",
        transaction_id="8xLOxBtZp8", access_token="token-secret", dpop_key_pem="-----BEGIN PRIVATE KEY-----",
        holder_did="did:key:zDn", display=({"name": "Micro-credential", "locale": "en"},),
        issuer_display=({"name": "Uni"},), interval=5, created_at=1_700_000_000, expires_at=1_702_592_000)
    fields.update(changes)
    return d.DeferredIssuance(**fields)  # type: ignore[arg-type]


def test_the_record_round_trips_and_never_shows_its_secrets() -> None:
    kept = item()
    assert d.DeferredIssuance.from_json(kept.to_json()) == kept
    shown = repr(kept) + str(kept)
    assert "token-secret" not in shown and "8xLOxBtZp8" not in shown and "PRIVATE" not in shown
    # the id depends on the issuer and the transaction, and is neither
    assert kept.ref == d.transaction_ref("https://issuer.example", "8xLOxBtZp8") and len(kept.ref) == 64
    assert item(credential_issuer="https://other.example").ref != kept.ref
    assert item(transaction_id="other").ref != kept.ref and "8xLOxBtZp8" not in kept.ref


def test_a_deferred_answer_gives_its_transaction_and_a_bounded_interval() -> None:
    assert d.deferred_answer({"transaction_id": "t", "interval": 3600}) == ("t", 3600)
    assert d.deferred_answer({"transaction_id": "t"}) == ("t", d.DEFAULT_INTERVAL)  # required, but missing
    assert d.deferred_answer({"transaction_id": "t", "interval": 0})[1] == d.MIN_INTERVAL
    assert d.deferred_answer({"transaction_id": "t", "interval": 0.001})[1] == d.MIN_INTERVAL
    assert d.deferred_answer({"transaction_id": "t", "interval": 10**12})[1] == d.MAX_INTERVAL
    for odd in (True, "5", None, float("nan"), [5]):
        assert d.deferred_answer({"transaction_id": "t", "interval": odd})[1] == d.DEFAULT_INTERVAL
    for bad in ({"interval": 5}, {"transaction_id": ""}, {"transaction_id": 7}, {"transaction_id": "x" * 1025},
                [], None):
        with pytest.raises(OfferError) as refused:
            d.deferred_answer(bad)
        assert refused.value.code == ISSUER_ANSWER_INVALID
    assert d.deferred_request("t") == {"transaction_id": "t"}


@pytest.mark.parametrize(("status", "body", "verdict"), [
    (200, {"credentials": [{"credential": "a~"}]}, "issued"),
    (202, {"transaction_id": "t", "interval": 5}, "pending"),  # §9.2: still not ready
    (400, {"error": "issuance_pending", "interval": 5}, "pending"),  # the drafts' wording of the same
    (400, {"error": "invalid_transaction_id"}, "gone"),  # §9.3
    (400, {"error": "credential_request_denied"}, "gone"),
    (401, {"error": "invalid_token"}, "gone"),  # the token is no longer taken: the transaction cannot be asked
    (400, {"error": "invalid_request"}, "error"),
    (503, None, "error"),
    (429, None, "error"),
])
def test_the_deferred_endpoints_answers_are_read_by_their_status_and_error(status: int, body: object,
                                                                            verdict: str) -> None:
    assert d.deferred_verdict(status, body) == verdict
