"""MICROCRED_OID4VCI_REQUIRE_DPOP: every access token sender-constrained (HAIP 1.0 by way of FAPI 2.0). A token
request without a DPoP proof is refused as invalid_dpop_proof before any code is looked at, so nothing is spent."""

from __future__ import annotations

from typing import Any

import pytest

from microcred.oid4vci.errors import OAuthError
from services.issuer.application.offer_ports import OfferSettings
from services.issuer.application.offers import Offers

PRE = {"grant_type": "urn:ietf:params:oauth:grant-type:pre-authorized_code", "pre-authorized_code": "c"}
CODE = {"grant_type": "authorization_code", "code": "c", "code_verifier": "v" * 43, "redirect_uri": "x"}


class Untouchable:
    """A store that fails the test if the refused request reached it."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the store was asked for {name}")


@pytest.mark.parametrize("form", [PRE, CODE])
async def test_a_token_request_without_dpop_is_refused_and_changes_nothing(form: dict[str, str]) -> None:
    offers = Offers(Untouchable(), issuance=None, publisher=None, privacy=None,  # type: ignore[arg-type]
                    settings=OfferSettings(require_dpop=True))
    with pytest.raises(OAuthError) as refused:
        await offers.token(form)
    assert (refused.value.error, refused.value.status) == ("invalid_dpop_proof", 400)
    assert "DPoP" in refused.value.description


async def test_without_the_setting_a_bearer_token_request_reaches_the_store() -> None:
    offers = Offers(Untouchable(), issuance=None, publisher=None, privacy=None)  # type: ignore[arg-type]
    with pytest.raises(AssertionError, match="redeem"):
        await offers.token(PRE)
