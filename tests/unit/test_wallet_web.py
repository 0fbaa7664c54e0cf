"""The learner page: language choice and rendering in English and Polish (German and French:
test_wallet_i18n_languages.py)."""

from __future__ import annotations

import json
import re

from services.wallet.api.i18n import LABELS, pick_language
from services.wallet.api.web import render_page


def test_language_from_query_then_accept_language_then_english() -> None:
    assert pick_language("pl", "en") == "pl"
    assert pick_language("xx", "pl-PL,pl;q=0.9,en;q=0.8") == "pl"
    assert pick_language(None, "cs-CZ, en;q=0.5, pl;q=0.7") == "pl"
    assert pick_language(None, "cs") == "en"
    assert pick_language(None, None) == "en"
    assert pick_language(None, "pl;q=0") == "en"


def test_both_languages_have_every_label() -> None:
    assert set(LABELS["en"]) == set(LABELS["pl"])
    assert all(LABELS["pl"][k] for k in LABELS["pl"])


def test_page_renders_labels_and_marks_dev_login() -> None:
    polish = render_page("pl", dev_login=False)
    assert '<html lang="pl">' in polish and "Moje mikropoświadczenia" in polish
    assert 'data-dev-login="false"' in polish and "$" not in re.sub(r"<script id=\"labels\".*?</script>", "", polish,
                                                                  flags=re.S)
    english = render_page("en", dev_login=True)
    assert "My micro-credentials" in english and 'data-dev-login="true"' in english
    labels = json.loads(re.search(r'<script id="labels" type="application/json">(.*?)</script>', english,
                                  re.S).group(1))  # type: ignore[union-attr]
    assert labels == dict(LABELS["en"])
