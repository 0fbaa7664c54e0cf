"""The learner wallet app in every language it speaks (en, pl, de, fr): every word of every catalogue exists in each
language with the same placeholders and markup, in the register of the Polish entries (German "Sie", French
"vous", the Council Recommendation's terms), the language is chosen by ``?lang=`` then ``Accept-Language``, the page
is rendered in it with no English label left, and a word or language a catalogue lacks falls back to English.
"""

from __future__ import annotations

import asyncio
import html
import re
from collections.abc import Mapping
from types import SimpleNamespace

import httpx
import pytest
from fastapi import FastAPI

from microcred.i18n import ELEMENT_LABELS
from services.wallet.api import web
from services.wallet.api.app_text import APP_LABELS
from services.wallet.api.i18n import LABELS, LANGUAGE_NAMES, in_language, pick_language
from services.wallet.api.offer_text import OFFER_LABELS
from services.wallet.domain import deferred
from services.wallet.domain import offers as o

LANGUAGES = ("en", "pl", "de", "fr")
CATALOGUES: dict[str, Mapping[str, Mapping[str, str]]] = {"LABELS": LABELS, "APP_LABELS": APP_LABELS,
                                                         "OFFER_LABELS": OFFER_LABELS}
_PLACEHOLDER = re.compile(r"\{[a-z_]+\}")
_TAG = re.compile(r"</?[a-z][^>]*>")
_HEADING = {"en": "My micro-credentials", "pl": "Moje mikropoświadczenia", "de": "Meine Microcredentials",
            "fr": "Mes microcertifications"}


def _all_words(lang: str) -> dict[str, str]:
    return {**LABELS[lang], **APP_LABELS[lang], **OFFER_LABELS[lang]}


@pytest.mark.parametrize("name", sorted(CATALOGUES))
@pytest.mark.parametrize("lang", LANGUAGES[1:])
def test_every_key_exists_in_every_language_with_the_same_placeholders_and_markup(name: str, lang: str) -> None:
    catalogue = CATALOGUES[name]
    assert tuple(catalogue) == LANGUAGES
    english = catalogue["en"]
    assert set(catalogue[lang]) == set(english), f"{name}[{lang}]: {set(catalogue[lang]) ^ set(english)}"
    for key, text in catalogue[lang].items():
        assert text.strip(" \n\t") == text and text, (name, lang, key)
        assert _PLACEHOLDER.findall(text) == _PLACEHOLDER.findall(english[key]), (name, lang, key)
        assert _TAG.findall(text) == _TAG.findall(english[key]), (name, lang, key)
        assert text.count("(") == text.count(")"), (name, lang, key)


def test_german_and_french_speak_to_the_learner_formally_in_the_recommendations_terms() -> None:
    german, french = _all_words("de"), _all_words("fr")
    for key, text in german.items():
        assert not re.search(r"\b(du|dich|dir|dein|deine|deinen|deiner|deines)\b", text, re.I), key
    for key, text in french.items():
        assert not re.search(r"\b(tu|toi|ton|ta|tes)\b", text, re.I), key
        assert not re.search(r" [:;?!]", text), f"{key}: a breakable space before French punctuation"
    assert german["title"] == "Meine Microcredentials" and french["title"] == "Mes microcertifications"
    assert "Sie" in german["vp_none"] and "vous" in french["vp_none"]
    assert "EQR" in german["col_eqf"] and "CEC" in french["col_eqf"]  # EQF as the Recommendation names it
    assert french["colon"] == "\u00a0:" and german["colon"] == ":"  # "Statut\u00a0: Active", "Status: Aktiv"


def test_every_offer_refusal_is_a_plain_sentence_in_every_language() -> None:
    codes = {value for module in (o, deferred) for name, value in vars(module).items()
             if name.isupper() and isinstance(value, str) and value.startswith("OFFER_")}
    assert codes and codes <= set(OFFER_LABELS["en"])
    vp_codes = {k for k in APP_LABELS["en"] if k.startswith("VP_")}
    for lang in LANGUAGES:
        for code in codes:
            text = OFFER_LABELS[lang][code]
            assert text.endswith(".") and "invalid_" not in text and "OFFER" not in text, (lang, code)
        for code in vp_codes:
            assert APP_LABELS[lang][code].endswith(".") and "_" not in APP_LABELS[lang][code], (lang, code)


@pytest.mark.parametrize(("query", "header", "expected"), [
    ("de", None, "de"), ("FR", "pl", "fr"), ("fr", "de-DE", "fr"), (None, "fr-FR", "fr"),
    (None, "de-AT,de;q=0.9", "de"),
    (None, "fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7", "fr"), (None, "cs, de;q=0.5, fr;q=0.8", "fr"),
    ("xx", "de-CH", "de"), (None, "de;q=0", "en"), (None, "it", "en"), (None, None, "en"),
])
def test_the_language_is_chosen_by_query_then_accept_language_then_english(
        query: str | None, header: str | None, expected: str) -> None:
    assert pick_language(query, header) == expected


def test_the_language_picker_offers_every_language_in_its_own_name_and_marks_the_current_one() -> None:
    assert tuple(LANGUAGE_NAMES) == LANGUAGES == tuple(LABELS)
    for lang in LANGUAGES:
        nav = re.search(r"<nav [^>]*>(.*?)</nav>", web.render_page(lang, dev_login=False), re.S)
        assert nav is not None
        links = re.findall(r'<a href="\?lang=(\w+)" lang="\1" hreflang="\1"( aria-current="page")?>([^<]+)</a>',
                           nav.group(1))
        assert [(code, name) for code, _, name in links] == list(LANGUAGE_NAMES.items())
        assert [code for code, current, _ in links if current] == [lang]


def _visible_text(page: str) -> str:
    """The page's text and its labelling attributes, without the script data blocks (all words of the app)."""
    body = re.sub(r"<script\b.*?</script>", " ", page, flags=re.S)
    body = re.sub(r"<nav\b.*?</nav>", " ", body, flags=re.S)  # the picker names each language in itself
    attributes = " | ".join(re.findall(r'(?:aria-label|alt|title|placeholder)="([^"]*)"', body))
    return html.unescape(re.sub(r"<[^>]+>", " | ", body) + " | " + attributes)


@pytest.mark.parametrize("lang", ["de", "fr"])
def test_the_page_in_german_and_french_has_no_english_label_left(lang: str) -> None:
    page = web.render_page(lang, dev_login=True)
    assert f'<html lang="{lang}">' in page and f"<h1>{_HEADING[lang]}</h1>" in page
    assert "$" not in _visible_text(page)  # every placeholder of the template filled
    text = _visible_text(page)
    words = _all_words(lang)
    left = [english for key, english in _all_words("en").items() if english != words[key]
            and re.search("[A-Za-z]", english) and re.search(rf"(?<!\w){re.escape(english)}(?!\w)", text)]
    assert not left, f"English left on the {lang} page: {left}"
    scripts = {m.group(1): m.group(2) for m in re.finditer(r'<script id="([\w-]+)" type="application/json">(.*?)'
                                                            r"</script>", page, re.S)}
    assert _HEADING[lang] in scripts["labels"] and words["vp_refuse"] in scripts["app-labels"]
    assert words["OFFER_TX_CODE_WRONG"] in scripts["app-labels"].replace("\\u00a0", "\u00a0")


def _page_app() -> FastAPI:
    app = FastAPI()
    app.state.wallet = SimpleNamespace(minter=None)  # all the page reads of the wallet context
    app.include_router(web.router)
    return app


async def _get(path: str, headers: dict[str, str] | None = None) -> httpx.Response:
    transport = httpx.ASGITransport(app=_page_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://wallet.test") as http:
        return await http.get(path, headers=headers or {})


@pytest.mark.parametrize(("path", "header", "expected"), [
    ("/?lang=de", None, "de"), ("/app?lang=fr", "de", "fr"), ("/", "fr-FR,fr;q=0.9,en;q=0.5", "fr"),
    ("/", "de-DE", "de"), ("/?lang=xx", "it, de;q=0.3", "de"), ("/", "it", "en"),
])
def test_the_page_answers_in_the_language_asked_for(path: str, header: str | None, expected: str) -> None:
    response = asyncio.run(_get(path, {"Accept-Language": header} if header else None))
    assert response.status_code == 200
    assert response.headers["content-language"] == expected and "Accept-Language" in response.headers["vary"]
    assert f'<html lang="{expected}">' in response.text and f"<h1>{_HEADING[expected]}</h1>" in response.text


def test_a_language_or_word_a_catalogue_lacks_is_shown_in_english_never_an_error(
        monkeypatch: pytest.MonkeyPatch) -> None:
    partial = {"en": APP_LABELS["en"], "pl": APP_LABELS["pl"], "de": {"vp_h": "Auf eine Anfrage antworten"}}
    monkeypatch.setattr(web, "APP_LABELS", partial)  # no French at all, one German word
    french = web.render_page("fr", dev_login=False)
    assert "<h1>Mes microcertifications</h1>" in french and APP_LABELS["en"]["vp_h"] in french
    german = web.render_page("de", dev_login=False)
    assert "Auf eine Anfrage antworten" in german and APP_LABELS["en"]["search"] in german
    assert in_language({"en": {"a": "A", "b": "B"}, "de": {"a": "Ä"}}, "fr") == {"a": "A", "b": "B"}
    assert in_language({"en": {"a": "A", "b": "B"}, "de": {"a": "Ä"}}, "de") == {"a": "Ä", "b": "B"}


def test_credential_detail_rows_are_labelled_in_german_and_french_and_in_english_for_a_language_without_labels(
        monkeypatch: pytest.MonkeyPatch) -> None:
    fallback = {"title": "Data literacy", "issued_at": "2025-03-01T00:00:00Z", "ects": "5", "eqf_level": 6}
    envelope = {"type": "EnvelopedVerifiableCredential"}  # an SD-JWT VC: what the wallet read from it
    for lang in ("de", "fr"):
        rows = dict(web._elements(envelope, fallback, lang))
        assert rows[ELEMENT_LABELS[lang]["title"]] == "Data literacy" and ELEMENT_LABELS[lang]["eqf_level"] in rows
    assert "März" in dict(web._elements(envelope, fallback, "de"))[ELEMENT_LABELS["de"]["issued_at"]]
    assert "mars" in dict(web._elements(envelope, fallback, "fr"))[ELEMENT_LABELS["fr"]["issued_at"]]
    monkeypatch.setattr(web, "ELEMENT_LABELS", {k: v for k, v in ELEMENT_LABELS.items() if k != "fr"})
    rows = dict(web._elements(envelope, fallback, "fr"))
    assert rows[ELEMENT_LABELS["en"]["title"]] == "Data literacy"
