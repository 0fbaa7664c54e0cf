"""Deferred issuance in the wallet's OpenID4VCI use cases (:class:`services.wallet.application.offers` keeps the
transaction; :class:`services.wallet.application.deferred_offers.DeferredCredentials` collects it) over in-memory
twins of the ports. The running issuer's deferred answers are in tests/integration/test_wallet_oid4vci_offers.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cryptography.hazmat.primitives.asymmetric import ec

from microcred.sdjwt.jose import public_jwk
from microcred.sdjwt.view import sd_jwt_id
from services.wallet.application.deferred_offers import DeferredCredentials
from services.wallet.application.offers import CredentialOffers
from services.wallet.domain import offers as o
from services.wallet.domain.deferred import DEFERRED_EXPIRED, DEFERRED_GONE, KEEP_SECONDS, DeferredIssuance
from tests.unit.test_wallet_offers_flow import ACCOUNT, ISSUER, LINK, FakeIssuer, Held, Keys, Verifier


class Store:
    """The deferred store's twin: records by (account, ref), and the issuer asked only when ``due``."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], DeferredIssuance] = {}
        self.due_now = True
        self.asked: list[tuple[str, int]] = []
        self.waits: list[tuple[str, int]] = []

    async def put(self, item: DeferredIssuance) -> None:
        self.items[(item.account_id, item.ref)] = item

    async def of(self, account_id: str) -> list[DeferredIssuance]:
        return sorted((i for (a, _), i in self.items.items() if a == account_id), key=lambda i: i.created_at)

    async def due(self, ref: str, interval: int) -> bool:
        self.asked.append((ref, interval))
        return self.due_now

    async def drop(self, account_id: str, ref: str) -> None:
        self.items.pop((account_id, ref), None)

    async def wait(self, ref: str, seconds: int) -> None:
        self.waits.append((ref, seconds))


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def setup(issuer: FakeIssuer, keys: Keys | None = None
          ) -> tuple[CredentialOffers, DeferredCredentials, Store, Held, Clock]:
    store, held, clock = Store(), Held(), Clock()
    offers = CredentialOffers((ISSUER,), issuer, keys or Keys(), Verifier(), held, held,  # type: ignore[arg-type]
                              clock, deferred=store)
    return offers, DeferredCredentials(offers, store), store, held, clock


async def test_a_deferred_answer_is_kept_with_its_dpop_key_and_collected_bound_to_the_proved_key() -> None:
    issuer, keys = FakeIssuer(deferred=True, dpop=True), Keys()
    offers, deferred, store, held, clock = setup(issuer, keys)
    received = await offers.accept(ACCOUNT, LINK, None)
    assert received.deferred == 1 and received.credentials == () and not received.notified
    [item] = store.items.values()
    assert keys.made == [item.holder_did] and keys.discarded == []  # published: the credential will be bound to it
    assert item.transaction_id == "t-1" and item.access_token == "at" and item.interval == 5
    assert item.dpop_key_pem.startswith("-----BEGIN PRIVATE KEY-----") and item.format == "dc+sd-jwt"
    assert item.expires_at - item.created_at == KEEP_SECONDS
    assert store.asked == [(item.ref, 5)]  # the first ask waits for the issuer's interval

    issuer.deferred_answers = [o.IssuerReply(202, {"transaction_id": "t-1", "interval": 9}), None]
    clock.now += timedelta(seconds=6)
    first = await deferred.collect(ACCOUNT)
    assert first.credentials == () and first.waiting == (item,) and first.ended == ()
    assert store.waits == [(item.ref, 9)]  # not before the interval the issuer's 202 named
    second = await deferred.collect(ACCOUNT)
    [credential] = second.credentials
    assert credential.credential_id == sd_jwt_id(issuer.compact) and second.waiting == () and store.items == {}
    assert len(held.imported) == 1 and issuer.notified == [{"notification_id": "note-2",
                                                             "event": "credential_accepted"}]
    # every DPoP proof after the token request (credential, deferred twice, notification) is by the one key
    # the token is bound to, kept across the wait
    assert len(issuer.dpop_jwks) == 5 and all(k == issuer.dpop_jwks[0] for k in issuer.dpop_jwks)


async def test_nothing_is_asked_before_it_is_due_and_an_unreachable_issuer_is_asked_again() -> None:
    issuer = FakeIssuer(deferred=True)
    offers, deferred, store, _, _ = setup(issuer)
    await offers.accept(ACCOUNT, LINK, None)
    store.due_now = False
    calls = len(issuer.calls)
    assert len((await deferred.collect(ACCOUNT)).waiting) == 1 and len(issuer.calls) == calls
    store.due_now = True
    issuer.deferred_answers = [o.IssuerReply(503, {"error": "server_error"})]
    answer = await deferred.collect(ACCOUNT)
    assert len(answer.waiting) == 1 and answer.ended == () and len(store.items) == 1


async def test_a_refused_forgotten_or_expired_transaction_ends_with_its_code() -> None:
    for reply, code in ((o.IssuerReply(400, {"error": "invalid_transaction_id"}), DEFERRED_GONE),
                        (o.IssuerReply(400, {"error": "credential_request_denied"}), DEFERRED_GONE),
                        (o.IssuerReply(401, {"error": "invalid_token"}), DEFERRED_GONE),
                        (o.IssuerReply(400, {"error": "invalid_request"}), o.ISSUER_REFUSED)):
        issuer, keys = FakeIssuer(deferred=True), Keys()
        offers, deferred, store, held, _ = setup(issuer, keys)
        await offers.accept(ACCOUNT, LINK, None)
        [proved] = keys.made
        issuer.deferred_answers = [reply]
        answer = await deferred.collect(ACCOUNT)
        assert [c for _, c in answer.ended] == [code] and store.items == {} and held.imported == []
        assert keys.forgotten == [proved] and keys.made == []  # the key made for it went with it

    issuer, keys = FakeIssuer(deferred=True), Keys()
    offers, deferred, store, _, clock = setup(issuer, keys)
    await offers.accept(ACCOUNT, LINK, None)
    clock.now += timedelta(seconds=KEEP_SECONDS)
    calls = len(issuer.calls)
    answer = await deferred.collect(ACCOUNT)
    assert [c for _, c in answer.ended] == [DEFERRED_EXPIRED] and store.items == {} and len(issuer.calls) == calls
    assert len(keys.forgotten) == 1 and keys.made == []


async def test_a_key_that_cannot_be_deleted_does_not_hide_the_end_of_a_transaction() -> None:
    issuer, keys = FakeIssuer(deferred=True), Keys()
    offers, deferred, store, _, _ = setup(issuer, keys)
    await offers.accept(ACCOUNT, LINK, None)
    keys.forget_fails = True
    issuer.deferred_answers = [o.IssuerReply(400, {"error": "invalid_transaction_id"})]
    answer = await deferred.collect(ACCOUNT)
    assert [c for _, c in answer.ended] == [DEFERRED_GONE] and store.items == {}
    assert len(keys.made) == 1 and keys.forgotten == []  # the key stays, unused


async def test_a_collected_credential_bound_to_another_key_is_refused_and_the_issuer_told() -> None:
    issuer, keys = FakeIssuer(deferred=True), Keys()
    offers, deferred, store, held, _ = setup(issuer, keys)
    await offers.accept(ACCOUNT, LINK, None)
    issuer.proof_jwk = public_jwk(ec.generate_private_key(ec.SECP256R1()))  # not the key the wallet proved
    issuer.deferred_answers = [None]
    answer = await deferred.collect(ACCOUNT)
    assert [c for _, c in answer.ended] == [o.CREDENTIAL_REJECTED] and held.imported == []
    assert issuer.notified == [{"notification_id": "note-2", "event": "credential_failure"}]
    assert store.items == {} and len(keys.forgotten) == 1 and keys.made == []


async def test_without_a_store_a_deferred_answer_is_refused_by_name() -> None:
    issuer = FakeIssuer(deferred=True)
    held = Held()
    offers = CredentialOffers((ISSUER,), issuer, Keys(), Verifier(), held, held,  # type: ignore[arg-type]
                              Clock())
    try:
        await offers.accept(ACCOUNT, LINK, None)
    except o.OfferError as exc:
        assert exc.code == o.UNSUPPORTED and "deferred" in exc.detail
    else:
        raise AssertionError("a deferred answer was taken without a store")


async def test_a_deferred_credential_of_a_configuration_that_binds_no_key_is_collected_without_one() -> None:
    """No key was made for it (§8.2: no proof), so none is looked up when it comes, nor deleted when it ends."""
    issuer, keys = FakeIssuer(deferred=True, binding=None, proof_types=None), Keys()
    offers, deferred, store, held, _ = setup(issuer, keys)
    assert (await offers.accept(ACCOUNT, LINK, None)).deferred == 1
    [item] = store.items.values()
    assert item.holder_did == "" and keys.made == [] and keys.discarded == []
    issuer.deferred_answers = [None]
    [credential] = (await deferred.collect(ACCOUNT)).credentials
    assert credential.credential_id == sd_jwt_id(issuer.compact) and len(held.imported) == 1
    assert store.items == {} and keys.forgotten == []
