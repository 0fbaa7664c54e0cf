"""An OpenID4VCI offer addressed to a learner, as the wallet lists it (issue 20), and the one text of a
multilingual value the list shows. Pure: the read model is :mod:`services.wallet.adapters.pending_offers`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from microcred.oid4vci.offers import offer_link

__all__ = ["AddressedOffer", "pick_text"]


@dataclass(frozen=True)
class AddressedOffer:
    """An offer as the learner sees it in the list (``title`` and ``awarding_body``: language -> text)."""

    offer_ref: str
    issuer_id: str
    offer_uri: str
    title: Mapping[str, str]
    awarding_body: Mapping[str, str]
    expires_at: int
    tx_code_required: bool

    @property
    def link(self) -> str:
        """The ``openid-credential-offer://`` link the wallet's "Receive a credential" view takes."""
        return offer_link(self.offer_uri)


def pick_text(values: Mapping[str, str], lang: str) -> str:
    """The text for ``lang`` (its primary subtag), else English, else the first one; '' when there is none."""
    for wanted in (lang, "en"):
        for tag, value in values.items():
            if tag.lower().split("-")[0] == wanted and value:
                return value
    return next((v for v in values.values() if v), "")
