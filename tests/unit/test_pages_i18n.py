"""The employer page's catalogue and locale formatting (issue 23): every word in every language, dates, numbers
and country names the reader's way, and which headline each outcome gets."""

from __future__ import annotations

import asyncio
import re
import string
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import pytest

from microcred.i18n import country_name, format_number, format_when
from microcred.verification import verify
from microcred.verification.messages import CHECK_TITLES, pick_language
from services.verifier.api.page_text import CHECK_PLAIN, DETAIL_VALUES, HEADLINES, LABELS, LANGUAGE_NAMES
from services.verifier.api.pages import headline_kind, render_reports
from tests.verifier_support import World

LANGUAGES = {"en", "pl", "de", "fr"}


def _fields(text: str) -> set[str]:
    """The placeholders and HTML tags of a text: a translation keeps both."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name} | set(re.findall(r"<[^>]+>", text))


def _same_shape(english: str | Iterable[str], other: str | Iterable[str], where: str) -> None:
    pairs = [(english, other)] if isinstance(english, str) else list(zip(english, other, strict=True))
    for en, text in pairs:
        assert isinstance(text, str) and text.strip(), where
        assert _fields(text) == _fields(str(en)), (where, text)


def _table(texts: Mapping[str, Mapping[str, Any]], name: str) -> None:
    """A language -> key -> text table: the same keys, and the same placeholders, in every language."""
    assert set(texts) == LANGUAGES, name
    for lang, words in texts.items():
        assert set(words) == set(texts["en"]), (name, lang, set(words) ^ set(texts["en"]))
        for key, text in words.items():
            _same_shape(texts["en"][key], text, f"{name}[{lang}][{key}]")


def test_every_label_headline_and_check_text_exists_in_every_language() -> None:
    from services.verifier.api.pages import _LINKEDIN
    from services.verifier.api.presentation_pages import TEXT
    from services.verifier.api.routes import _ERROR_TEXT, _PDF_TEXT

    for table, name in ((LABELS, "LABELS"), (TEXT, "TEXT"), (_LINKEDIN, "LINKEDIN"), (_ERROR_TEXT, "ERROR_TEXT"),
                        (_PDF_TEXT, "PDF_TEXT")):
        _table(table, name)
    for kind, texts in (*HEADLINES.items(), *CHECK_PLAIN.items()):
        assert set(texts) == LANGUAGES, kind
        for lang, parts in texts.items():
            _same_shape(texts["en"], parts, f"{kind}[{lang}]")
    for lang in LANGUAGES - {"en"}:  # the verifier's English detail words, each in the reader's language
        assert set(DETAIL_VALUES[lang]) == set(DETAIL_VALUES["pl"]), lang
    assert [code for code, _ in LANGUAGE_NAMES] == ["en", "pl", "de", "fr"]  # the picker offers them all
    for check in ("format", "eu_elements", "signature", "issuer_identity", "accreditation", "validity_window",
                  "revocation", "suspension", "holder_binding", "disclosures", "type_metadata"):
        assert check in CHECK_PLAIN and check in CHECK_TITLES, check  # each check explained in plain words
        assert set(CHECK_TITLES[check]) == LANGUAGES, check


def test_the_translations_use_the_recommendations_terms() -> None:
    """German „Microcredential“ and French « microcertification » (Council Recommendation of 16 June 2022), never
    the English word; the reader is „Sie“ / « vous »."""
    from services.verifier.api.presentation_pages import TEXT

    for lang, term in (("de", "Microcredential"), ("fr", "microcertification")):
        words = " ".join([*LABELS[lang].values(), *TEXT[lang].values(), *(p for t in CHECK_PLAIN.values()
                                                                          for p in t[lang])])
        assert term in words and "micro-credential" not in words.lower(), lang
    assert "Sie " in LABELS["de"]["home_intro"] and " du " not in " ".join(LABELS["de"].values())
    assert "vous" in LABELS["fr"]["file_hint"] and " tu " not in " ".join(LABELS["fr"].values())


@pytest.mark.parametrize(("requested", "header", "expected"), [
    ("de", None, "de"), ("fr", "pl", "fr"), ("DE-at", None, "de"), (None, "de-AT", "de"),
    (None, "fr-BE,fr;q=0.9,en;q=0.8", "fr"), (None, "it-IT, de;q=0.5, en;q=0.4", "de"),
    (None, "es-ES, it;q=0.8", "en"), ("xx", "fr;q=0", "en"), ("pl", "de-DE", "pl"),
])
def test_the_pages_language_is_chosen_by_lang_then_accept_language(requested: str | None, header: str | None,
                                                                   expected: str) -> None:
    assert pick_language(requested, header) == expected


async def test_the_pages_answer_in_the_negotiated_language() -> None:
    import httpx
    from fastapi import FastAPI

    from services.verifier.api.presentation_pages import presentation_pages_router
    from services.verifier.api.routes import create_gateway_app
    from tests.verifier_support import Limits

    gateway = create_gateway_app(Limits())
    pages = FastAPI()
    pages.include_router(presentation_pages_router())
    for app, path, words in ((gateway, "/", LABELS), (pages, "/presentations/new", None)):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway.test") as http:
            for query, header, lang in (("", "de-AT,de;q=0.9,en;q=0.5", "de"), ("", "fr-BE", "fr"),
                                        ("?lang=fr", "de-AT", "fr"), ("?lang=de", None, "de"), ("", "it", "en")):
                page = (await http.get(path + query, headers={"accept-language": header} if header else {})).text
                assert f'<html lang="{lang}">' in page, (path, query, header)
                assert 'hreflang="de"' in page and 'hreflang="fr"' in page and ">Français<" in page
                if words is not None:
                    assert words[lang]["home_intro"] in page


def test_dates_numbers_and_countries_follow_the_readers_locale() -> None:
    assert format_when("2025-03-14T10:00:00Z", "en") == "14 March 2025"
    assert format_when("2025-03-14T10:00:00Z", "pl", time=True) == "14 marca 2025, 10:00 UTC"
    assert format_when("not a date", "en") == "not a date"
    assert format_number(125.0, "en") == "125" and format_number(12.5, "pl") == "12,5"
    assert country_name("IE", "en") == "Ireland" and country_name("PL", "pl") == "Polska"
    assert country_name("Atlantis", "en") == "Atlantis"
    assert format_when("2025-03-14T10:00:00Z", "de") == "14. März 2025"
    assert format_when("2025-03-14T10:00:00Z", "de", time=True) == "14. März 2025, 10:00 UTC"
    assert format_when("2025-03-14T10:00:00Z", "fr") == "14 mars 2025"
    assert format_when("2030-01-01T00:00:00Z", "fr", time=True) == "1 janvier 2030, 00:00 UTC"
    assert format_number(12.5, "de") == "12,5" and format_number(1250, "fr") == "1\u202f250"
    assert country_name("IE", "de") == "Irland" and country_name("IE", "fr") == "Irlande"


def _report(world: World, doc: dict[str, Any]) -> Any:
    return asyncio.run(verify(doc, world.ports(), datetime.now(UTC)))


def test_each_outcome_gets_its_own_headline_and_a_tampered_one_shows_no_content_as_fact() -> None:
    world = World()
    tampered = world.credential(7001)
    tampered["credentialSubject"]["identifier"][0]["identityHash"] = "Aoife Smith"
    world.revocation.set(7002)
    world.suspension.set(7003)
    world.publish(datetime.now(UTC))
    kinds = {name: headline_kind(_report(world, doc)) for name, doc in
             (("valid", world.credential(7000)), ("tampered", tampered), ("revoked", world.credential(7002)),
              ("suspended", world.credential(7003)))}
    assert kinds == {"valid": "valid", "tampered": "altered", "revoked": "revoked", "suspended": "suspended"}
    page = render_reports([_report(world, tampered)], "en", path="/")
    before, claims = page.split('data-testid="claims"', 1)
    assert "Aoife Smith" not in before and "Aoife Smith" in claims  # only inside the disclosure
    assert "Show what the altered document claims" in claims
    assert 'data-testid="details"' not in page and 'data-testid="accreditation"' not in page


def test_the_wallet_app_words_exist_in_both_languages_and_downloads_follow_the_api_routes() -> None:
    from fastapi import FastAPI

    from microcred.i18n import ELEMENT_LABELS
    from services.wallet.api.app_text import APP_LABELS
    from services.wallet.api.web import available_downloads

    assert set(APP_LABELS["en"]) == set(APP_LABELS["pl"])
    assert set(ELEMENT_LABELS["en"]) == set(ELEMENT_LABELS["pl"])
    app = FastAPI()
    assert available_downloads(app) == {}  # nothing offered that the API does not have

    @app.get("/v1/credentials/{credential_id:path}/pdf")
    async def pdf(credential_id: str) -> str:
        return credential_id

    assert available_downloads(app) == {"pdf": "v1/credentials/{credential_id}/pdf"}


def test_an_undetermined_report_names_what_could_not_be_checked() -> None:
    from tests.verifier_support import DictStatusSource

    world = World()
    doc = world.credential(7010)
    report = asyncio.run(verify(doc, world.ports(status=DictStatusSource({})), datetime.now(UTC)))
    assert headline_kind(report) == "undetermined"
    page = render_reports([report], "en", path="/")
    assert "Could not be fully checked" in page and "Revocation" in page.split('data-testid="verdict-text"')[1]


def test_an_unsigned_document_and_a_sealed_edc_are_never_shown_as_fact() -> None:
    """An unsigned credential is 'not signed' (not 'altered'); a JAdES-sealed EDC under a CA nobody trusts is never
    valid nor shown as fact (whether the verifier reads EDC or not); a document the verifier cannot read at all is
    'not a credential this page can check'."""
    from microcred.elm.seal import seal_edc
    from tests.unit.test_elm_seal import NOW, _credential, _material

    world = World()
    unsigned = world.credential(7020)
    del unsigned["proof"]
    _, key, cert = _material()
    sealed = seal_edc(_credential(), key=key, chain=[cert], signing_time=NOW)
    unreadable = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"]}
    for doc, kinds, headline in ((unsigned, {"unsigned"}, "Not signed"),
                                 (unreadable, {"unreadable"}, "Not a credential this page can check"),
                                 (sealed, {"unreadable", "undetermined", "invalid", "unsigned"}, "")):
        report = _report(world, doc)
        assert headline_kind(report) in kinds, headline_kind(report)
        page = render_reports([report], "en", path="/")
        assert headline in page and 'data-testid="details"' not in page
        assert "Digital micro-credential creation" not in page.split('data-testid="claims"')[0]


def test_wallet_detail_rows_are_labelled_and_formatted_in_the_chosen_language() -> None:
    from services.wallet.api.web import _elements

    world = World()
    rows = dict(_elements(world.credential(7030), {}, "pl"))
    assert rows["Tytuł"] == "Digital micro-credential creation" and rows["Kraj"] == ["Irlandia"]
    assert rows["Data wydania"] == "14 marca 2025" and rows["Nakład pracy (godziny)"] == "125"
    envelope = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": "EnvelopedVerifiableCredential",
                "id": "data:application/dc+sd-jwt,eyJ..."}
    held = {"title": "Data literacy", "ects": "5", "eqf_level": 6, "issued_at": "2025-03-14T10:00:00Z"}
    assert dict(_elements(envelope, held, "en")) == {"Title": "Data literacy", "Date of issue": "14 March 2025",
                                                     "Workload (credits)": "5 ECTS", "EQF level": "6"}


def test_stackability_word_is_in_the_readers_language_and_the_issuers_description_as_written() -> None:
    from microcred.i18n import STACKABILITY_WORDS, element_value
    from microcred.verification.summary import STACKABLE, STAND_ALONE

    assert element_value("stackability", f"{STACKABLE}: counts towards the MSc", "de") == \
        "Kombinierbar: counts towards the MSc"
    assert element_value("stackability", STAND_ALONE, "fr") == "Autonome"
    assert element_value("stackability", STAND_ALONE, "pl") == "Samodzielne"
    assert element_value("stackability", STACKABLE, "en") == STACKABLE
    assert element_value("stackability", "Stackableish", "de") == "Stackableish"  # not the summary's word
    assert element_value("title", STACKABLE, "de") == STACKABLE  # another element is never touched
    assert all(set(words) == {STACKABLE, STAND_ALONE} for words in STACKABILITY_WORDS.values())
