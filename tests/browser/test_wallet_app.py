"""The learner wallet app in headless Chromium, English and Polish (issue 23): sign in, find a credential by
search, open its detail (every element in the chosen language), see the pathway progress bar and what is missing,
download the signed JSON, share it (link + QR code of exactly that link), open the link as an employer's verifier
would, and withdraw it; the Polish journey is done keyboard-only (Tab to each control, Enter). axe-core reports
no serious or critical violation on any view; a phone-sized window shows the app without sideways scrolling.
In German and French the list and the detail carry no English label (every word of the page's catalogues is
translated) and pass axe-core, and a 390 px wide window shows them without sideways scrolling.
Screenshots go to ``artifacts/``.

The wallet runs as its own process against the session's real Kafka and Redis (as in test_wallet_page.py).
"""

from __future__ import annotations

import json
import re
import subprocess
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
import segno
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from microcred.events.envelope import new_envelope
from microcred.infra.ports import free_port
from microcred.kafka.publisher import KafkaEventPublisher
from microcred.kafka.topics import CREDENTIALS, ensure_topics
from microcred.pdf.labels import PDF_LABELS
from services.wallet.api.app_text import APP_LABELS
from services.wallet.api.i18n import LABELS
from services.wallet.api.offer_text import OFFER_LABELS
from services.wallet.events.intake import WALLET_TOPICS
from tests.browser.support import assert_accessible, chromium, screenshot, wait_until
from tests.browser.test_wallet_page import TOKEN_KEY, credential_in_api, start_wallet, stop
from tests.conftest import Infrastructure
from tests.harness.wallet.credentials import TestIssuer
from tests.harness.wallet.oidc import LocalOidcProvider
from tests.integration.test_edc_wallet import _seal as seal_for_wallet

pytestmark = pytest.mark.integration

TITLE = "Data literacy"
EDC_TITLE = "Europass ready"
A1, A2 = "https://uniz.example/achievements/a1", "https://uniz.example/achievements/a2"
WORDS = {"en": {"title": "Title", "h1": "My micro-credentials", "active": "Active", "withdrawn": "Withdrawn",
                "bar": "5 of 10 ECTS", "country": "Ireland"},
         "pl": {"title": "Tytuł", "h1": "Moje mikropoświadczenia", "active": "Aktywny", "withdrawn": "Wycofany",
                "bar": "5 z 10 ECTS", "country": "Irlandia"},
         "de": {"title": "Titel", "h1": "Meine Microcredentials", "bar": "5 von 10 ECTS", "country": "Irland"},
         "fr": {"title": "Intitulé", "h1": "Mes microcertifications", "bar": "5 sur 10 ECTS", "country": "Irlande"}}
#: The page's own words (text and labelling attributes of every element, hidden ones too, since a hidden message
#: shows later), for the English-left check: not the language picker (each language in its own name) nor what the
#: credential says (the issuer's words, in the language it was issued in).
_PAGE_WORDS = ("return Array.from(document.querySelectorAll('body *')).filter(e => e.tagName !== 'SCRIPT'"
               " && !e.closest('nav') && !e.closest('#detail-elements td')).flatMap(e => ["
               "Array.from(e.childNodes).filter(n => n.nodeType === 3).map(n => n.textContent).join(' '),"
               " e.getAttribute('aria-label') || '', e.getAttribute('alt') || '']"
               ").concat([document.title]).join(' | ')")


def _words(lang: str) -> dict[str, str]:
    return {**LABELS[lang], **APP_LABELS[lang], **OFFER_LABELS[lang]}


def _english_left(browser: WebDriver, lang: str) -> list[str]:
    """English labels on the page in ``lang``: its own words are taken out first (a German label may contain an
    English one, e.g. "Open Badges"), then any English label differing from its translation is looked for."""
    text = str(browser.execute_script(_PAGE_WORDS))
    own = _words(lang)
    for word in sorted(own.values(), key=len, reverse=True):
        text = text.replace(word, " | ")
    return [english for key, english in _words("en").items() if english != own[key]
            and re.search("[A-Za-z]", english) and re.search(rf"(?<!\w){re.escape(english)}(?!\w)", text)]


def _fits(browser: WebDriver) -> None:
    """Nothing wider than the window but the tables' own scrolling boxes, and no sideways scrolling."""
    wider = browser.execute_script(
        "return Array.from(document.querySelectorAll('body *')).filter(e => e.offsetParent !== null"
        " && !e.closest('.scroll') && e.getBoundingClientRect().right > window.innerWidth + 1)"
        ".map(e => e.tagName + '#' + e.id + '.' + e.className)")
    assert not wider, f"wider than the phone: {wider}"
    widths = browser.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"the page scrolls sideways: {widths}"


def _german_and_french(browser: WebDriver, base: str) -> None:
    """The signed-in list and a credential's detail in German and French: the language's words, no English label,
    axe-core clean; then the same at 390 px wide (a phone), nothing overflowing."""
    for width in (1280, 390):
        browser.set_window_size(width, 1400 if width > 400 else 844)
        for lang in ("de", "fr"):
            _in_language(browser, base, lang, width)


def _in_language(browser: WebDriver, base: str, lang: str, width: int) -> None:
    words, wait, phone = WORDS[lang], WebDriverWait(browser, 60), width < 400
    browser.get(f"{base}/?lang={lang}")
    wait.until(lambda d: any(TITLE in r.text for r in d.find_elements(By.CSS_SELECTOR, "#credentials tbody tr")))
    wait.until(lambda d: words["bar"] in d.find_element(By.ID, "progress").text)
    assert browser.find_element(By.TAG_NAME, "h1").text == words["h1"]
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == lang
    assert not _english_left(browser, lang), f"English on the {lang} list: {_english_left(browser, lang)}"
    screenshot(browser, f"wallet-list-{lang}-{width}")
    assert_accessible(browser, f"wallet list ({lang}, {width} px)")
    if phone:
        _fits(browser)
    row = next(r for r in browser.find_elements(By.CSS_SELECTOR, "#credentials tbody tr") if TITLE in r.text)
    row.find_element(By.CSS_SELECTOR, "a.open").click()
    wait.until(lambda d: words["title"] in d.find_element(By.ID, "detail-elements").text
               and words["country"] in d.find_element(By.ID, "detail-elements").text)
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#downloads button"))
    assert not _english_left(browser, lang), f"English on the {lang} detail: {_english_left(browser, lang)}"
    screenshot(browser, f"wallet-detail-{lang}-{width}")
    assert_accessible(browser, f"wallet detail ({lang}, {width} px)")
    if phone:
        _fits(browser)
        browser.find_element(By.ID, "detail-back").click()
        wait.until(lambda d: d.find_element(By.ID, "list-view").is_displayed())
        browser.find_element(By.ID, "delete-start").click()  # the longest text of the page
        wait.until(ec.visibility_of_element_located((By.ID, "delete-text")))
        _fits(browser)
        screenshot(browser, f"wallet-delete-{lang}-{width}")
        browser.find_element(By.ID, "delete-cancel").click()


async def _publish_pathway(port: int) -> None:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
        login = await http.post("/dev/login", json={"sub": "agency", "scopes": ["microcred:pathways.publish"]})
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        published = await http.post("/v1/admin/pathways", headers=headers, json={
            "pathway_id": "urn:pathway:data", "issuer_id": "issuer-uw",
            "title": {"en": "Certificate in data", "pl": "Certyfikat z danych"},
            "required_achievement_ids": [A1, A2], "min_total_ects": "10"})
        assert published.status_code == 202, published.text


def _activate(browser: WebDriver, element: Any, keyboard: bool) -> None:
    """Click ``element``, or, keyboard-only, Tab to it (it must be in the focus order) and press Enter."""
    if not keyboard:
        element.click()
        return
    for _ in range(250):
        if browser.switch_to.active_element == element:
            ActionChains(browser).send_keys(Keys.ENTER).perform()
            return
        ActionChains(browser).send_keys(Keys.TAB).perform()
    raise AssertionError(f"Tab never reached {element.tag_name}#{element.get_attribute('id')}")


def _downloads(downloads: Path, suffix: str) -> list[Path]:
    """The finished downloads: Chromium may show a file under its final name before its bytes are written (seen
    empty on a loaded machine), so a file counts once it has some."""
    if not downloads.exists():
        return []
    return [p for p in downloads.iterdir() if p.name.endswith(suffix) and p.stat().st_size > 0]


def _pdf_text(pdf: Path) -> str:
    return subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True, timeout=60).stdout


async def _journey(browser: WebDriver, base: str, lang: str, issued: Any, offered: set[str], downloads: Path,
                   port: int, keyboard: bool) -> None:
    words = WORDS[lang]
    wait = WebDriverWait(browser, 60)
    browser.get(f"{base}/?lang={lang}")
    wait.until(lambda d: any(TITLE in r.text for r in d.find_elements(By.CSS_SELECTOR, "#credentials tbody tr")))
    assert browser.find_element(By.TAG_NAME, "h1").text == words["h1"]
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#progress progress"))
    bars = browser.find_elements(By.CSS_SELECTOR, "#progress progress")
    assert [(b.get_attribute("value"), b.get_attribute("max")) for b in bars] == [("5", "10"), ("1", "2")]
    assert words["bar"] in browser.find_element(By.ID, "progress").text and A2 in browser.find_element(
        By.ID, "progress").text  # what is missing
    screenshot(browser, f"wallet-list-{lang}")
    assert_accessible(browser, f"wallet list ({lang})")

    search = browser.find_element(By.ID, "search")
    search.send_keys("no such thing")
    assert browser.find_element(By.ID, "no-match").is_displayed()
    assert not browser.find_elements(By.CSS_SELECTOR, "#credentials tbody tr")
    search.clear()
    search.send_keys("literacy")
    assert len(browser.find_elements(By.CSS_SELECTOR, "#credentials tbody tr")) == 1

    _activate(browser, browser.find_element(By.CSS_SELECTOR, "#credentials a.open"), keyboard)
    wait.until(ec.text_to_be_present_in_element((By.ID, "detail-h"), TITLE))
    elements = browser.find_element(By.ID, "detail-elements")
    wait.until(lambda d: words["title"] in elements.text)
    assert words["country"] in elements.text and "5 ECTS" in elements.text
    formats = {b.get_attribute("data-format") for b in browser.find_elements(By.CSS_SELECTOR, "#downloads button")}
    assert formats == {"json"} | offered  # only what the API offers
    screenshot(browser, f"wallet-detail-{lang}")
    assert_accessible(browser, f"wallet detail ({lang})")

    before = set(_downloads(downloads, ".json"))
    _activate(browser, browser.find_element(By.CSS_SELECTOR, "#downloads button[data-format=json]"), keyboard)
    saved = wait_until(lambda: set(_downloads(downloads, ".json")) - before, "the JSON download")
    assert json.loads(next(iter(saved)).read_text()) == issued.document
    if "pdf" in offered:  # the PDF comes in the page's language (its text read by pdftotext)
        before = set(_downloads(downloads, ".pdf"))
        _activate(browser, browser.find_element(By.CSS_SELECTOR, "#downloads button[data-format=pdf]"), keyboard)
        pdf = next(iter(wait_until(lambda: set(_downloads(downloads, ".pdf")) - before, "the PDF download")))
        text = _pdf_text(pdf)
        assert PDF_LABELS[lang]["heading"] in text and PDF_LABELS[lang]["verify"] in text, text

    _activate(browser, browser.find_element(By.ID, "detail-share"), keyboard)
    link = wait.until(ec.visibility_of_element_located((By.ID, "share-url")))
    url = link.text
    assert url.startswith("https://verify.example/s/")
    qr = wait.until(ec.visibility_of_element_located((By.ID, "share-qr")))
    wait_until(lambda: browser.execute_script("return arguments[0].complete && arguments[0].naturalWidth", qr),
               "the QR code")
    assert qr.get_attribute("src") == segno.make(url, error="m").svg_data_uri(scale=4, border=4)  # that very link
    assert url in (qr.get_attribute("alt") or "")
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#shares tbody tr.share-active"))
    screenshot(browser, f"wallet-share-{lang}")
    assert_accessible(browser, f"wallet share ({lang})")

    token = url.rsplit("/", 1)[1]
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
        assert (await http.get(f"/v1/shares/{token}")).status_code == 200
        # newest first: the link just made (the PDF's verification link, when downloaded, stays active)
        active = len(browser.find_elements(By.CSS_SELECTOR, "#shares tbody tr.share-active"))
        row = browser.find_element(By.CSS_SELECTOR, "#shares tbody tr.share-active")
        assert TITLE in row.text and words["active"] in row.text
        _activate(browser, row.find_element(By.CSS_SELECTOR, "button.withdraw"), keyboard)
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#shares tbody tr.share-active")) == active - 1)
        assert words["withdrawn"] in browser.find_element(By.ID, "shares").text
        assert (await http.get(f"/v1/shares/{token}")).status_code == 410
    assert_accessible(browser, f"wallet after withdrawal ({lang})")

    _activate(browser, browser.find_element(By.ID, "detail-back"), keyboard)
    wait.until(lambda d: d.find_element(By.ID, "list-view").is_displayed())


async def test_learner_journey_in_english_and_polish(infrastructure: Infrastructure, tmp_path: Path) -> None:
    unique = uuid.uuid4().hex[:10]
    await ensure_topics(infrastructure.kafka_bootstrap, topics=WALLET_TOPICS, prefix=f"t{unique}.")
    email = f"ola-{unique}@example.org"
    issuer = TestIssuer.new("issuer-uw")
    issued = issuer.issue(email=email, title=TITLE, achievement_id=A1, ects="5")
    with_edc = issuer.issue(email=email, title=EDC_TITLE, achievement_id="https://uniz.example/achievements/e1")
    sealed = seal_for_wallet(with_edc)
    with_edc.event.edc_jsonld = sealed
    publisher = KafkaEventPublisher(infrastructure.kafka_bootstrap, client_id="browser-wallet-app")
    await publisher.start()
    try:
        for one in (issued, with_edc):
            await publisher.publish(f"t{unique}.{CREDENTIALS.name}", one.credential_id,
                                    new_envelope(one.event, subject=one.credential_id))
    finally:
        await publisher.stop()
    provider = LocalOidcProvider()
    port = free_port()
    process = await start_wallet(infrastructure, provider, tmp_path, unique, port)
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    browser = chromium(height=1400, downloads=downloads)
    try:
        base = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient() as http:
            paths = (await http.get(f"{base}/openapi.json")).json()["paths"]
        # the formats the API offers (the EDC only for a credential issued as one, which this one is not)
        offered = {p.rsplit("/", 1)[1] for p in paths if p.startswith("/v1/credentials/{credential_id")
                   and p.rsplit("/", 1)[1] in ("sd-jwt", "pdf") and "get" in paths[p]}
        await _publish_pathway(port)

        for lang in ("pl", "en"):
            browser.get(f"{base}/?lang={lang}")
            assert_accessible(browser, f"sign-in page ({lang})")
            screenshot(browser, f"wallet-signin-{lang}")
        WebDriverWait(browser, 30).until(ec.visibility_of_element_located((By.ID, "dev-login")))
        browser.find_element(By.ID, "dev-sub").send_keys(f"ola-{unique}")
        browser.find_element(By.ID, "dev-email").send_keys(email)
        browser.find_element(By.ID, "dev-login-button").click()
        WebDriverWait(browser, 30).until(lambda d: d.execute_script(f"return sessionStorage.getItem('{TOKEN_KEY}')"))
        bearer = str(browser.execute_script(f"return sessionStorage.getItem('{TOKEN_KEY}')"))
        assert await credential_in_api(port, bearer, TITLE, timeout=150.0), "the credential never reached the API"
        assert await credential_in_api(port, bearer, EDC_TITLE, timeout=150.0), "the EDC one never reached the API"

        async def progress_known() -> bool:
            async with httpx.AsyncClient(headers={"Authorization": f"Bearer {bearer}"}) as http:
                for _ in range(300):
                    if (await http.get(f"{base}/v1/pathways/progress")).json().get("progress"):
                        return True
                    import asyncio
                    await asyncio.sleep(0.5)
            return False
        assert await progress_known(), "the pathway never reached the wallet"

        for lang, keyboard in (("en", False), ("pl", True)):  # the Polish journey keyboard-only
            await _journey(browser, base, lang, issued, offered, downloads, port, keyboard)
        _german_and_french(browser, base)
        browser.set_window_size(1280, 1400)

        # a credential held as an EDC offers the sealed .jsonld too, and it is what the issuer sealed
        browser.get(f"{base}/?lang=en")
        wait = WebDriverWait(browser, 60)
        async with httpx.AsyncClient(headers={"Authorization": f"Bearer {bearer}"}) as http:
            listed = (await http.get(f"{base}/v1/credentials")).json()["credentials"]
            view = (await http.get(f"{base}/app/view/{with_edc.credential_id}")).json()
        assert [c.get("edc", False) for c in listed if c["credential_id"] == with_edc.credential_id] == [True]
        assert {d["format"] for d in view["downloads"]} == {"edc"} | offered, view  # and what every one has
        rows = "#credentials tbody tr"
        wait.until(lambda d: any(EDC_TITLE in r.text for r in d.find_elements(By.CSS_SELECTOR, rows)))
        row = next(r for r in browser.find_elements(By.CSS_SELECTOR, rows) if EDC_TITLE in r.text)
        row.find_element(By.CSS_SELECTOR, "a.open").click()
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#downloads button[data-format=edc]"))
        before = set(_downloads(downloads, ".jsonld"))
        browser.find_element(By.CSS_SELECTOR, "#downloads button[data-format=edc]").click()
        saved = wait_until(lambda: set(_downloads(downloads, ".jsonld")) - before, "the EDC download")
        assert next(iter(saved)).read_text() == sealed

        browser.set_window_size(375, 812)  # a phone
        browser.get(f"{base}/?lang=pl")
        WebDriverWait(browser, 60).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#credentials tbody tr"))
        wider = browser.execute_script(
            "return Array.from(document.querySelectorAll('body *')).filter(e => e.offsetParent !== null"
            " && !e.closest('.scroll') && e.getBoundingClientRect().right > window.innerWidth + 1)"
            ".map(e => e.tagName + '#' + e.id + '.' + e.className)")
        assert not wider, f"wider than the phone: {wider}"  # tables scroll in their own box
        widths = browser.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")
        assert widths[0] <= widths[1], f"the page scrolls sideways: {widths}"
        screenshot(browser, "wallet-phone-pl")
        assert_accessible(browser, "wallet on a phone (pl)")
    finally:
        browser.quit()
        stop(process)
        provider.stop()
