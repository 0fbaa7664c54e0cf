"""The wallet's view of the offers addressed to learners (issue 20), without I/O: what each offer event changes,
and which language of a title the list shows."""

from __future__ import annotations

from google.protobuf.timestamp_pb2 import Timestamp

from microcred.events.envelope import new_envelope
from microcred.gen.microcred.v1 import elements_pb2, events_pb2
from microcred.oid4vci.offers import offer_link
from services.wallet.domain.addressed_offers import pick_text
from services.wallet.domain.credentials import email_index
from services.wallet.events.changes import Nothing, OfferAddressed, OfferClosed, change_of

KEY = bytes(range(32))
URI = "https://issuer.example/oid4vci/offers/abc"


def _created(**fields: object) -> events_pb2.CredentialOfferCreated:
    base: dict[str, object] = {
        "offer_ref": "ref-1", "issuer_id": "uni-a", "tx_code_required": True,
        "expires_at": Timestamp(seconds=2_000_000_000), "learner_email": "Ana@Example.org", "offer_uri": URI,
        "title": elements_pb2.LangString(values={"en": "Data Literacy", "pl": "Umiejętność danych"}),
        "awarding_body": elements_pb2.LangString(values={"en": "University of Zed"}),
        "learner_pseudonym": "lp_" + "a" * 64}
    base.update(fields)
    return events_pb2.CredentialOfferCreated(**base)  # type: ignore[arg-type]


def _change(payload: events_pb2.CredentialOfferCreated) -> object:
    return change_of(new_envelope(payload, subject=payload.offer_ref), payload, KEY, None)


def test_an_opened_offer_is_filed_under_the_learners_email_and_did() -> None:
    change = _change(_created(learner_did="did:key:z6Mkholder"))
    assert isinstance(change, OfferAddressed)
    # the wallet's keyed hash of the e-mail, as its credentials are filed (case and spaces do not matter)
    assert change.email_index == email_index("ana@example.org", KEY) and change.did == "did:key:z6Mkholder"
    assert change.pseudonym == "lp_" + "a" * 64
    offer = change.offer
    assert (offer.offer_ref, offer.issuer_id, offer.expires_at, offer.tx_code_required) == (
        "ref-1", "uni-a", 2_000_000_000, True)
    assert offer.link == offer_link(URI) and offer.title["pl"] == "Umiejętność danych"


def test_an_offer_without_its_learner_part_changes_nothing() -> None:
    # sealed and not opened (erased learner), or made before offers were addressed
    assert isinstance(_change(_created(learner_email="", offer_uri="")), Nothing)
    assert isinstance(_change(_created(offer_uri="")), Nothing)
    assert isinstance(_change(_created(learner_email=" ", learner_did="")), Nothing)


def test_redeemed_withdrawn_and_expired_offers_close() -> None:
    for payload in (events_pb2.CredentialOfferRedeemed(offer_ref="ref-1", credential_ids=["c1"]),
                    events_pb2.CredentialOfferWithdrawn(offer_ref="ref-1", reason="withdrawn"),
                    events_pb2.CredentialOfferExpired(offer_ref="ref-1")):
        assert change_of(new_envelope(payload), payload, KEY, None) == OfferClosed("ref-1")


def test_the_title_in_the_page_language_else_english_else_the_first() -> None:
    title = {"pl": "Umiejętność danych", "en-GB": "Data Literacy", "de": "Datenkompetenz"}
    assert pick_text(title, "pl") == "Umiejętność danych"
    assert pick_text(title, "fr") == "Data Literacy"  # en-GB: its primary subtag is en
    assert pick_text({"de": "Datenkompetenz"}, "pl") == "Datenkompetenz"
    assert pick_text({}, "en") == "" and pick_text({"en": ""}, "en") == ""
