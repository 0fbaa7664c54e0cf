"""The employer page in headless Chromium, as a new user meets it (issue 23).

A gateway on a real loopback socket (in-memory ports, a fake wallet holding one share link per case) serves:
a valid credential, a tampered one (the learner's name changed after signing), a revoked, a suspended and an
expired one. Each page must read its own plain-language verdict, show nothing of a tampered document as fact
(its claims only behind "show what the altered document claims"), keep jargon behind "technical details", show
dates/countries/numbers the reader's way, leave no English on the Polish, German and French pages (outside the
credential's own content), fit a phone, and have no serious or critical axe-core violation. The employer journey
uploads a JSON file and an SD-JWT VC file from the start page; the journeys are also done keyboard-only.
Screenshots of every page go to ``artifacts/``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver

from microcred.registry.domain import timestamp
from services.verifier.adapters.sources import WalletClient
from services.verifier.api.routes import create_gateway_app
from services.verifier.application import Gateway
from tests.browser.support import assert_accessible, chromium, screenshot, serve, wait_until
from tests.harness.sd_jwt import make_world
from tests.verifier_support import Limits, World

TOKENS = {kind: letter * 43 for kind, letter in
          (("valid", "V"), ("tampered", "T"), ("revoked", "R"), ("suspended", "S"), ("expired", "E"))}
FORGED_NAME = "Aoife Smith"
REAL_NAME = "Ana Andromeda"
JARGON = ("eddsa-rdfc-2022", "did:web:", "SIGNATURE_VALID", "INVALID_SIGNATURE", "status list checked")
LANGUAGES = ["en", "pl", "de", "fr"]
HEADLINES = {
    "valid": {"en": "Valid", "pl": "Ważne", "de": "Gültig", "fr": "Valide"},
    "tampered": {"en": "Altered or forged", "pl": "Zmieniony lub podrobiony", "de": "Verändert oder gefälscht",
                 "fr": "Modifié ou falsifié"},
    "revoked": {"en": "Revoked by the issuer", "pl": "Unieważnione przez wystawcę", "de": "Vom Aussteller widerrufen",
                "fr": "Révoquée par l’émetteur"},
    "suspended": {"en": "Suspended by the issuer", "pl": "Zawieszone przez wystawcę", "de": "Vom Aussteller ausgesetzt",
                  "fr": "Suspendue par l’émetteur"},
    "expired": {"en": "Expired", "pl": "Wygasło", "de": "Abgelaufen", "fr": "Expirée"},
}
#: What each language's page says where the test looks: the country and a date the reader's way, the altered
#: claims' caption, the suspension's sentence and its reason, the expiry, the accreditation heading.
SAYS = {
    "en": {"country": "Ireland", "date": "14 March 2025", "altered": "altered", "reason": "reason",
           "suspended": "Suspended by the issuer since", "expired": "valid until",
           "accreditation": "Issuer's accreditation"},
    "pl": {"country": "Irlandia", "date": "14 marca 2025", "altered": "zmieniony", "reason": "powód",
           "suspended": "Zawieszone przez wystawcę co najmniej od", "expired": "ważne do",
           "accreditation": "Akredytacja wystawcy"},
    "de": {"country": "Irland", "date": "14. März 2025", "altered": "veränderte", "reason": "Grund",
           "suspended": "Vom Aussteller ausgesetzt seit mindestens", "expired": "gültig bis",
           "accreditation": "Akkreditierung des Ausstellers"},
    "fr": {"country": "Irlande", "date": "14 mars 2025", "altered": "modifié", "reason": "motif",
           "suspended": "Suspendue par l’émetteur depuis au moins", "expired": "valable jusqu’au",
           "accreditation": "Accréditation de l’émetteur"},
}
KINDS = {"valid": "valid", "tampered": "altered", "revoked": "revoked", "suspended": "suspended",
         "expired": "expired"}
#: English words that must not be left on a Polish, German or French page (outside codes and identifiers), as
#: whole words ("Valide" is French).
ENGLISH = ("credential", "trust registry", "Passed", "Failed", "Verdict", "Valid", "Learner", "Issuer", "issuer",
           "What it means", "Check", "Checks", "Result", "Technical details", "Verified at", "Print this report",
           "Learning outcomes", "Country", "Date of issue", "Revocation", "Digital signature", "the", "and", "not",
           "Skip to the result", "Language")


def _english_left(texts: list[str]) -> list[str]:
    return [f"{word!r} in {text!r}" for text in texts for word in ENGLISH if re.search(rf"\b{word}\b", text)]


def _credentials(world: World) -> dict[str, dict[str, Any]]:
    now = datetime.now(UTC)
    tampered = world.credential(4243)
    tampered["credentialSubject"]["identifier"][0]["identityHash"] = FORGED_NAME  # changed after signing
    world.revocation.set(4244)
    world.suspension.set(4245)
    world.publish(now)

    def expire(mc: Any) -> None:
        mc.valid_until.CopyFrom(timestamp(now - timedelta(days=30)))

    return {"valid": world.credential(4242), "tampered": tampered, "revoked": world.credential(4244),
            "suspended": world.credential(4245), "expired": world.credential(4246, mutate=expire)}


@pytest.fixture(scope="module")
def world() -> World:
    return World()


@pytest.fixture(scope="module")
def credentials(world: World) -> dict[str, dict[str, Any]]:
    return _credentials(world)


@pytest.fixture(scope="module")
def gateway_url(world: World, credentials: dict[str, dict[str, Any]]) -> Iterator[str]:
    by_token = {TOKENS[kind]: doc for kind, doc in credentials.items()}

    def wallet(request: httpx.Request) -> httpx.Response:
        doc = by_token.get(request.url.path.rsplit("/", 1)[-1])
        if doc is None:
            return httpx.Response(404, json={"title": "not found"})
        return httpx.Response(200, json={"credentials": [doc], "expires_at": "2030-01-01T00:00:00Z"})

    app = create_gateway_app(Limits())
    app.state.gateway = Gateway(world.ports(), WalletClient(
        "http://wallet.test", httpx.AsyncClient(transport=httpx.MockTransport(wallet))))
    with serve(app) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    driver = chromium()
    try:
        yield driver
    finally:
        driver.quit()


def _visible(browser: WebDriver) -> str:
    """The text a reader sees (Selenium leaves out what a closed <details> hides)."""
    return str(browser.find_element(By.TAG_NAME, "body").text)


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("case", list(TOKENS))
def test_each_outcome_reads_its_own_plain_verdict(gateway_url: str, browser: WebDriver, case: str,
                                                  lang: str) -> None:
    browser.get(f"{gateway_url}/share/{TOKENS[case]}?lang={lang}")
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == lang
    verdict = browser.find_element(By.CSS_SELECTOR, "[data-testid=verdict]")
    assert verdict.get_attribute("data-kind") == KINDS[case]
    headline = HEADLINES[case][lang]
    assert headline in verdict.find_element(By.CSS_SELECTOR, "[data-testid=headline]").text
    seen = _visible(browser)
    screenshot(browser, f"employer-{case}-{lang}")  # as the reader first sees it
    for word in JARGON:
        assert word not in seen, (case, lang, word)
    if case == "tampered":
        # nothing the altered document says is shown as fact: no name, no title, no content table
        assert FORGED_NAME not in seen and "Digital micro-credential creation" not in seen
        assert not browser.find_elements(By.CSS_SELECTOR, "[data-testid=details]")
        assert not browser.find_elements(By.CSS_SELECTOR, "[data-testid=accreditation]")
        claims = browser.find_element(By.CSS_SELECTOR, "[data-testid=claims]")
        claims.find_element(By.TAG_NAME, "summary").click()
        assert FORGED_NAME in claims.text and SAYS[lang]["altered"] in claims.text.lower()
    else:
        details = browser.find_element(By.CSS_SELECTOR, "[data-testid=details]").text
        assert REAL_NAME in details
        assert SAYS[lang]["country"] in details  # country names, not codes
        assert SAYS[lang]["date"] in details  # dates the reader's way
        assert "125.0" not in details and "125,0" not in details and "125" in details
        content_top = browser.find_element(By.CSS_SELECTOR, "[data-testid=details]").location["y"]
        assert content_top < browser.find_element(By.CSS_SELECTOR, "[data-testid=checks]").location["y"]
        heading = SAYS[lang]["accreditation"]
        assert len(browser.find_elements(By.XPATH, f"//*[normalize-space()=\"{heading}\"]")) <= 1
    text = verdict.text
    if case == "suspended":
        assert SAYS[lang]["suspended"] in text and SAYS[lang]["reason"] in text
    if case == "expired":
        assert SAYS[lang]["expired"] in text
    if case != "valid":
        assert HEADLINES["valid"][lang] not in browser.find_element(
            By.CSS_SELECTOR, "[data-testid=headline]").text
    if lang != "en":  # the page's own words, not the credential's (its title and content are in English)
        own = [browser.find_element(By.CSS_SELECTOR, sel).text for sel in
               ("header", "footer", "[data-testid=checks]", "[data-testid=headline]", "main > p")]
        own += [e.text for e in browser.find_elements(By.CSS_SELECTOR, "th, caption, summary, h2, time")]
        assert not _english_left(own), (case, _english_left(own))
    assert_accessible(browser, f"{case} ({lang})")
    technical = browser.find_element(By.CSS_SELECTOR, "[data-testid=technical]")
    technical.find_element(By.TAG_NAME, "summary").click()
    assert "did:web:" in technical.text  # the jargon is there for who asks for it
    if lang in ("de", "fr"):  # and in the reader's language too
        assert not _english_left([technical.text]), (case, _english_left([technical.text]))
    assert_accessible(browser, f"{case} ({lang}), disclosures open")


@pytest.mark.parametrize("lang", ["en", "pl"])
def test_print_view_keeps_the_report_and_drops_the_controls(gateway_url: str, browser: WebDriver, lang: str) -> None:
    browser.get(f"{gateway_url}/share/{TOKENS['suspended']}?lang={lang}")
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        assert browser.find_element(By.CSS_SELECTOR, "[data-testid=verdict]").is_displayed()
        assert browser.find_element(By.CSS_SELECTOR, "[data-testid=checks]").is_displayed()
        assert not browser.find_element(By.CSS_SELECTOR, "header nav").is_displayed()
        assert not browser.find_element(By.ID, "print").is_displayed()
        screenshot(browser, f"employer-print-{lang}")
    finally:
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})


def _upload(browser: WebDriver, url: str, path: Path, lang: str) -> None:
    browser.get(f"{url}/?lang={lang}")
    assert_accessible(browser, f"start page ({lang})")
    screenshot(browser, f"employer-home-{lang}")
    browser.find_element(By.ID, "file").send_keys(str(path))
    box = browser.find_element(By.ID, "document")
    wait_until(lambda: (box.get_attribute("value") or "").strip(), "the file in the box")
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait_until(lambda: browser.find_elements(By.CSS_SELECTOR, "[data-testid=verdict]"), "the report")


def test_employer_uploads_a_json_credential(gateway_url: str, browser: WebDriver,
                                           credentials: dict[str, dict[str, Any]], tmp_path: Path) -> None:
    for case in ("valid", "revoked"):
        path = tmp_path / f"{case}.json"
        path.write_text(json.dumps(credentials[case]), encoding="utf-8")
        _upload(browser, gateway_url, path, "en")
        verdict = browser.find_element(By.CSS_SELECTOR, "[data-testid=verdict]")
        assert verdict.get_attribute("data-kind") == KINDS[case]
        assert "Digital micro-credential creation" in browser.find_element(By.TAG_NAME, "h1").text
        assert_accessible(browser, f"uploaded {case} JSON")
        screenshot(browser, f"employer-upload-json-{case}-en")


def test_employer_uploads_an_sd_jwt_vc(browser: WebDriver, tmp_path: Path) -> None:
    sd = make_world()
    app = create_gateway_app(Limits())
    app.state.gateway = Gateway(sd.ports())
    compact = sd.issue().compact
    path = tmp_path / "credential.sd-jwt"
    path.write_text(compact + "\n", encoding="utf-8")
    with serve(app) as url:
        for lang in ("en", "pl"):
            _upload(browser, url, path, lang)
            verdict = browser.find_element(By.CSS_SELECTOR, "[data-testid=verdict]")
            assert verdict.get_attribute("data-verdict") == "valid", _visible(browser)
            assert browser.find_elements(By.CSS_SELECTOR, "[data-testid=check-disclosures]")
            assert browser.find_element(By.CSS_SELECTOR, "[data-testid=details]").text
            assert_accessible(browser, f"uploaded SD-JWT VC ({lang})")
            screenshot(browser, f"employer-upload-sd-jwt-{lang}")


def _tab_to(browser: WebDriver, predicate: Any, what: str, limit: int = 60) -> Any:
    """Press Tab until the focused element satisfies ``predicate`` (keyboard only)."""
    for _ in range(limit):
        ActionChains(browser).send_keys(Keys.TAB).perform()
        focused = browser.switch_to.active_element
        if predicate(focused):
            return focused
    raise AssertionError(f"Tab never reached {what}")


def test_keyboard_only_paste_verify_and_open_the_disclosures(gateway_url: str, browser: WebDriver,
                                                             credentials: dict[str, dict[str, Any]]) -> None:
    browser.get(f"{gateway_url}/?lang=en")
    first = _tab_to(browser, lambda e: True, "anything")
    assert first.get_attribute("class") == "skip"
    box = _tab_to(browser, lambda e: e.get_attribute("id") == "document", "the document box")
    browser.execute_script("arguments[0].value = arguments[1];", box,
                           json.dumps(credentials["tampered"])[:-1])  # typing 6 kB key by key is slow:
    box.send_keys("}")  # the last character is typed, so the box is the keyboard's
    _tab_to(browser, lambda e: e.get_attribute("id") == "file", "the file chooser")
    _tab_to(browser, lambda e: e.tag_name == "button", "the Verify button")
    ActionChains(browser).send_keys(Keys.ENTER).perform()
    wait_until(lambda: browser.find_elements(By.CSS_SELECTOR, "[data-testid=verdict]"), "the report")
    assert FORGED_NAME not in _visible(browser)
    _tab_to(browser, lambda e: e.tag_name == "summary", "the claims disclosure")
    ActionChains(browser).send_keys(Keys.ENTER).perform()
    assert FORGED_NAME in browser.find_element(By.CSS_SELECTOR, "[data-testid=claims]").text
    _tab_to(browser, lambda e: e.tag_name == "summary", "the technical details")
    ActionChains(browser).send_keys(Keys.SPACE).perform()
    assert "INVALID_SIGNATURE" in browser.find_element(By.CSS_SELECTOR, "[data-testid=technical]").text


def test_keyboard_only_share_link_language_switch(gateway_url: str, browser: WebDriver) -> None:
    browser.get(f"{gateway_url}/share/{TOKENS['suspended']}?lang=en")
    _tab_to(browser, lambda e: e.get_attribute("hreflang") == "pl", "the Polish link")
    ActionChains(browser).send_keys(Keys.ENTER).perform()
    wait_until(lambda: browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "pl", "Polish")
    assert "Zawieszone" in browser.find_element(By.CSS_SELECTOR, "[data-testid=headline]").text


@pytest.mark.parametrize("lang", ["en", "pl"])
def test_an_unknown_link_is_a_readable_accessible_error(gateway_url: str, browser: WebDriver, lang: str) -> None:
    browser.get(f"{gateway_url}/share/{'Q' * 43}?lang={lang}")
    assert browser.find_element(By.CSS_SELECTOR, "[role=alert]").text
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == lang
    screenshot(browser, f"employer-error-{lang}")
    assert_accessible(browser, f"error page ({lang})")


def test_an_untrusted_sealed_edc_upload_is_not_presented_as_fact(gateway_url: str, browser: WebDriver,
                                                         tmp_path: Path) -> None:
    """A JAdES-sealed EDC under a CA nobody trusts: whether the gateway reads EDC yet (then its seal cannot be
    traced to a trusted issuer) or not (then it is not a credential the page can check), the page must not call it
    valid nor show its content as fact."""
    from microcred.elm.seal import seal_edc
    from tests.unit.test_elm_seal import NOW, _credential, _material

    _, key, cert = _material()
    path = tmp_path / "credential.jsonld"
    path.write_text(json.dumps(seal_edc(_credential(), key=key, chain=[cert], signing_time=NOW)), encoding="utf-8")
    _upload(browser, gateway_url, path, "en")
    verdict = browser.find_element(By.CSS_SELECTOR, "[data-testid=verdict]")
    assert verdict.get_attribute("data-verdict") != "valid"
    assert verdict.get_attribute("data-kind") not in ("valid", "altered"), verdict.text
    assert not browser.find_elements(By.CSS_SELECTOR, "[data-testid=details]")
    assert_accessible(browser, "uploaded sealed EDC")
    screenshot(browser, "employer-upload-edc-en")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_report_reads_on_a_phone(gateway_url: str, lang: str) -> None:
    phone = chromium(width=375, height=812)
    try:
        # German and French words are longer: every outcome must still fit
        for case in ("valid", "tampered") if lang in ("en", "pl") else list(TOKENS):
            phone.get(f"{gateway_url}/share/{TOKENS[case]}?lang={lang}")
            for summary in phone.find_elements(By.TAG_NAME, "summary"):
                summary.click()  # the technical details' identifiers are the longest words on the page
            widths = phone.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")
            assert widths[0] <= widths[1], f"{case} ({lang}) scrolls sideways: {widths}"
        phone.get(f"{gateway_url}/share/{TOKENS['suspended']}?lang={lang}")
        screenshot(phone, f"employer-phone-{lang}")
        assert_accessible(phone, f"phone ({lang})")
    finally:
        phone.quit()
