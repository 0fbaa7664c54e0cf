"""The Credential Offers of OpenID4VCI 1.0's own examples (tests/fixtures/oid4vci/SOURCES.md) are read by our
wallet as the specification means them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from services.wallet.domain.credential_offer import parse_offer
from services.wallet.domain.offers import PRE_AUTHORIZED_GRANT

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "oid4vci"


def example(name: str) -> Any:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def test_a_pre_authorized_offer_with_a_described_tx_code() -> None:
    offer = parse_offer(example("credential_offer_pre-authz_code"))
    assert offer.credential_issuer == "https://credential-issuer.example.com"
    assert offer.configuration_ids == ("UniversityDegreeCredential",)
    assert offer.pre_authorized_code == "adhjhdjajkdkhjhdj" and offer.grant == PRE_AUTHORIZED_GRANT
    assert offer.tx_code is not None and offer.tx_code.length is None and offer.tx_code.input_mode == "numeric"
    assert offer.tx_code.description is not None and offer.tx_code.description.startswith("Please provide")


def test_an_empty_tx_code_object_still_asks_for_a_code() -> None:
    """§4.1.1: tx_code present (even ``{}``) means a code is needed; numeric by default."""
    offer = parse_offer(example("credential_offer_by_reference"))
    assert offer.configuration_ids == ("UniversityDegree_LDP_VC",)
    assert offer.tx_code is not None and offer.tx_code.input_mode == "numeric" and offer.tx_code.length is None


def test_an_offer_of_two_configurations_keeps_both_and_the_code_length() -> None:
    offer = parse_offer(example("credential_offer_multiple_credentials"))
    assert offer.configuration_ids == ("UniversityDegreeCredential", "org.iso.18013.5.1.mDL")
    assert offer.tx_code is not None and offer.tx_code.length == 4
