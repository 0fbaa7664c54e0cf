"""The employer's OpenID4VP result page in headless Chromium, as an HR person meets each outcome (issue 21).

The pages are served over a stand-in of the presentation service holding one stored result per outcome, in the
shape the gateway stores them (``PresentationService.respond``): verified and valid, a presentation discarded
because it failed a check (the holder binding), undetermined, refused by the learner, refused by the wallet for
another reason, failed to be checked, and expired. Each page must put the verdict first, say in plain words what
happened and what to do, show the content only of a presentation that counts, keep check titles, reason codes
and query ids behind "technical details", leave no English on the Polish page, fit a 390 px phone without
horizontal scrolling, and have no serious or critical axe-core violation.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from services.verifier.api.presentation_pages import TEXT, presentation_pages_router
from services.verifier.api.presentation_service import RequestUnknown
from tests.browser.support import assert_accessible, chromium, screenshot, serve

pytestmark = pytest.mark.integration

_SUMMARY = {"title": "Digital micro-credential creation", "learner": "Ana Andromeda", "issuer": "University of Zed",
            "country": ["IE"], "issued_at": "2025-03-14T10:00:00Z", "eqf_level": 6}


def _check(check_id: str, status: str, code: str) -> dict[str, Any]:
    return {"id": check_id, "status": status, "reason_code": code, "message": f"{code} message", "details": {}}


def _verified(verdict: str, checks: list[dict[str, Any]], discarded: bool = False) -> dict[str, Any]:
    report = {"kind": "credential", "verdict": verdict, "checks": checks, "summary": _SUMMARY}
    missing = ["no proof of possession (holder binding)"] if discarded else []
    outcome = {"verdict": verdict, "query": {"satisfied": not discarded, "missing": [], "credentials": [
        {"query": "micro_credential", "satisfied": not discarded, "missing": missing}]},
        "presentations": [{"query": "micro_credential", "discarded": discarded, "report": report}]}
    return {"status": "verified", "request_id": "r", "en": outcome, "pl": outcome}


_PASSED = [_check("signature", "valid", "SIGNATURE_VALID"), _check("holder_binding", "valid", "KEY_BINDING_VALID")]
RESULTS: dict[str, dict[str, Any]] = {
    "valid": _verified("valid", [*_PASSED, _check("revocation", "valid", "NOT_REVOKED")]),
    "discarded": _verified("invalid", [_PASSED[0], _check("holder_binding", "invalid", "CHALLENGE_MISMATCH")],
                           discarded=True),
    "undetermined": _verified("undetermined", [*_PASSED, _check("revocation", "unknown", "STATUS_RETRIEVAL_ERROR")]),
    "refused": {"status": "refused", "request_id": "r", "error": "access_denied", "error_description": None},
    "wallet-error": {"status": "refused", "request_id": "r", "error": "invalid_request",
                     "error_description": "request.dcql_query: unsupported"},
    "failed": {"status": "failed", "request_id": "r", "error": "KeyError"},
    "expired": {"status": "expired", "request_id": "r", "link": "openid4vp://?x", "expires_at": 0},
}
#: What an HR person reads first, per outcome, in English and Polish.
SAYS = {
    "valid": ("Verified", "Zweryfikowano"),
    "discarded": ("Not verified", "Nie zweryfikowano"),
    "undetermined": ("Not fully verified", "Nie w pełni zweryfikowano"),
    "refused": ("The learner declined", "Osoba ucząca się odmówiła"),
    "wallet-error": ("The learner's wallet could not answer", "Portfel osoby uczącej się nie mógł odpowiedzieć"),
    "failed": ("could not be checked", "nie udało się sprawdzić"),
    "expired": ("The request expired", "Prośba wygasła"),
}
#: Never outside the technical details: codes, query ids, protocol words.
RAW = ("CHALLENGE_MISMATCH", "SIGNATURE_VALID", "STATUS_RETRIEVAL_ERROR", "micro_credential", "access_denied",
       "invalid_request", "KeyError", "holder binding", "Holder binding", "nonce", "vp_token", "DCQL")
ENGLISH = ("Verified", "Not counted", "Passed", "Failed", "Technical details", "What the credential shows")


class StoredResults:
    """The presentation service as the pages use it: a stored result per id."""

    async def result(self, result_id: str) -> dict[str, Any]:
        if result_id not in RESULTS:
            raise RequestUnknown(result_id)
        return copy.deepcopy(RESULTS[result_id])


@pytest.fixture(scope="module")
def pages_url() -> Iterator[str]:
    app = FastAPI()
    app.state.presentations = StoredResults()
    app.include_router(presentation_pages_router())
    with serve(app) as url:
        yield url


@pytest.fixture(scope="module")
def phone() -> Iterator[WebDriver]:
    driver = chromium()
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True})
    try:
        yield driver
    finally:
        driver.quit()


def test_every_word_of_the_pages_exists_in_every_language() -> None:
    assert set(TEXT["pl"]) == set(TEXT["en"])


@pytest.mark.parametrize("lang", ["en", "pl"])
@pytest.mark.parametrize("case", list(RESULTS))
def test_each_outcome_says_first_in_plain_words_what_happened(pages_url: str, phone: WebDriver, case: str,
                                                              lang: str) -> None:
    phone.get(f"{pages_url}/presentations/{case}?lang={lang}")
    verdict = phone.find_element(By.CSS_SELECTOR, "[data-testid=verdict]")
    assert SAYS[case][0 if lang == "en" else 1] in verdict.text
    main = phone.find_element(By.TAG_NAME, "main")
    first = main.find_elements(By.CSS_SELECTOR, "p, table, ul")[0]
    assert first == verdict, f"{case}: the verdict is not the first thing on the page"
    seen = str(phone.find_element(By.TAG_NAME, "body").text)  # a closed <details> is not read
    assert not [word for word in RAW if word in seen], seen
    if lang == "pl":
        assert not [word for word in ENGLISH if word in seen], seen
    wide, room = phone.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")
    assert wide <= room, f"{case}: {wide} px wide on a {room} px phone"
    screenshot(phone, f"employer-presentation-{case}-{lang}")
    assert_accessible(phone, f"employer: presentation {case} ({lang})")


def test_a_discarded_presentation_says_what_failed_and_what_to_do(pages_url: str, phone: WebDriver) -> None:
    phone.get(f"{pages_url}/presentations/discarded?lang=en")
    section = phone.find_element(By.CSS_SELECTOR, "[data-testid=presentation]")
    assert "Not counted" in section.find_element(By.CSS_SELECTOR, "[data-testid=discarded]").text
    problems = section.find_element(By.CSS_SELECTOR, "[data-testid=problems]").text
    assert "the one it was issued to" in problems and "Ask the holder" in problems, problems
    assert not section.find_elements(By.CSS_SELECTOR, "[data-testid=content]")  # what it shows does not count
    technical = phone.find_element(By.CSS_SELECTOR, "details[data-testid=technical]")
    technical.find_element(By.TAG_NAME, "summary").click()
    assert "CHALLENGE_MISMATCH" in technical.text and "micro_credential" in technical.text


def test_a_presentation_that_counts_shows_its_content(pages_url: str, phone: WebDriver) -> None:
    phone.get(f"{pages_url}/presentations/valid?lang=pl")
    content = phone.find_element(By.CSS_SELECTOR, "[data-testid=content]").text
    assert "Ana Andromeda" in content and "Irlandia" in content and "14 marca 2025" in content, content
    assert phone.find_element(By.CSS_SELECTOR, "[data-testid=presentation] h3").text == _SUMMARY["title"]
