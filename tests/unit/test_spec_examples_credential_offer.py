"""OpenID4VCI 1.0 §4.1's Credential Offer examples not covered by test_wallet_offer_spec_examples.py (the three
offer objects there): the authorization code offer with ``issuer_state``, the two offers by value in a link (an
HTTP GET and an ``openid-credential-offer://`` link), the offer by reference, and HAIP 1.0's stale offer example.
Fixtures: tests/fixtures/spec_examples/README.md."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from services.wallet.domain.credential_offer import TxCode, check_tx_code, parse_offer, parse_offer_link
from services.wallet.domain.issuer_metadata import chosen_configuration, parse_issuer_metadata
from services.wallet.domain.offers import (
    AUTHORIZATION_CODE_GRANT,
    LINK_INVALID,
    PRE_AUTHORIZED_GRANT,
    TX_CODE_REQUIRED,
    UNSUPPORTED,
    OfferError,
)
from tests.spec_examples import example_json, example_link

ISSUER = "https://credential-issuer.example.com"
LONG_METADATA = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "oid4vci"
                            / "credential_issuer_metadata_sd_jwt_long.json").read_text())


def test_the_authorization_code_offer_keeps_its_issuer_state() -> None:
    offer = parse_offer(example_json("openid4vci", "credential_offer_authz_code.txt"))
    assert offer.credential_issuer == ISSUER and offer.configuration_ids == ("UniversityDegreeCredential",)
    assert offer.grant == AUTHORIZATION_CODE_GRANT and offer.authorization_code
    assert offer.issuer_state == "eyJhbGciOiJSU0Et...FYUaBy"  # sent back as it is, opaque (§5.1.3)
    assert offer.pre_authorized_code == "" and offer.tx_code is None and not offer.grants_from_server


def test_the_offer_by_value_in_an_http_get_with_an_empty_tx_code() -> None:
    link = parse_offer_link(example_link("openid4vci", "credential_offer_by_value_get.txt",
                                         "https://server.example.com"))
    assert link.offer_uri is None and link.offer is not None
    offer = parse_offer(link.offer)
    assert offer.credential_issuer == ISSUER
    assert offer.configuration_ids == ("UniversityDegree_JWT", "org.iso.18013.5.1.mDL")
    assert offer.grant == PRE_AUTHORIZED_GRANT and offer.pre_authorized_code == "oaKazRN8I0IbtZ0C7JuMn5"
    assert offer.tx_code == TxCode(None, "numeric", None)  # {}: a code is needed, digits by default
    with pytest.raises(OfferError) as caught:
        check_tx_code(offer, None)
    assert caught.value.code == TX_CODE_REQUIRED


def test_the_offer_by_value_in_a_wallet_link_asks_for_a_text_code() -> None:
    link = parse_offer_link(example_link("openid4vci", "credential_offer_by_value_link.txt", ""))
    assert link.offer is not None
    offer = parse_offer(link.offer)
    assert offer.configuration_ids == ("org.iso.18013.5.1.mDL",)
    assert offer.tx_code == TxCode(None, "text", "Please enter the serial number of your physical drivers license")
    assert check_tx_code(offer, "A-12 34") == "A-12 34"  # text: any characters
    # read, but an mdoc is not a format this wallet holds: refused by name before any code is spent
    with pytest.raises(OfferError) as caught:
        chosen_configuration(offer, parse_issuer_metadata(LONG_METADATA, ISSUER))
    assert caught.value.code == UNSUPPORTED


def test_the_offer_by_reference_link() -> None:
    link = parse_offer_link(example_link("openid4vci", "credential_offer_by_reference_link.txt", ""))
    assert link.offer is None
    assert link.offer_uri == "https://server.example.com/credential-offer/GkurKxf5T0Y-mnPFCHqWOMiZi4VS138cQO_V7PZHAdM"


def test_haips_stale_offer_example_is_refused_for_its_pre_final_credentials_member() -> None:
    """HAIP 1.0's examples/ directory keeps an offer of an OpenID4VCI draft (``credentials``, not the final
    ``credential_configuration_ids``); the HAIP 1.0 text no longer includes it. Refused, naming the member."""
    with pytest.raises(OfferError) as caught:
        parse_offer(example_json("haip", "credential_offer_sd_jwt_vc.json"))
    assert caught.value.code == LINK_INVALID and "credential_configuration_ids" in caught.value.detail
