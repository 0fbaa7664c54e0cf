"""The employer page takes a PDF (issue 23): a PDF rendered by ``microcred.pdf`` from a signed credential, chosen
in the file picker of the real gateway's start page in headless Chromium, is verified from the credential embedded
in it (valid report, Polish too), axe-core clean; a PDF with nothing embedded gets a plain message; a body above the
page's PDF bound is refused with a problem naming the limit, while a PDF-sized body is admitted on /view only."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from microcred.pdf.render import CredentialPdf, render_pdf
from services.verifier.api.routes import MAX_PDF_UPLOAD_BYTES, VIEW_MAX_BODY_BYTES
from tests.browser.support import assert_accessible, screenshot, wait_until
from tests.browser.test_employer_page import browser, credentials, gateway_url, world  # noqa: F401 - fixtures


def _pdf(credential: dict[str, Any], path: Path, attach: bool = True) -> Path:
    files = [("credential.json", json.dumps(credential).encode())] if attach else []
    path.write_bytes(render_pdf(CredentialPdf(document=credential, credential_id=credential["id"],
                                              verification_url="https://verify.example/shares/x",
                                              attachments=files), "en", "a4"))
    return path


def _choose(driver: WebDriver, url: str, path: Path, lang: str) -> None:
    driver.get(f"{url}/?lang={lang}")
    driver.find_element(By.ID, "file").send_keys(str(path))
    hidden = driver.find_element(By.ID, "pdf")
    wait_until(lambda: hidden.get_attribute("value"), "the PDF read by the page")
    driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()


def test_employer_uploads_a_credential_pdf(gateway_url: str, browser: WebDriver,  # noqa: F811
                                          credentials: dict[str, dict[str, Any]], tmp_path: Path) -> None:  # noqa: F811
    path = _pdf(credentials["valid"], tmp_path / "valid.pdf")
    for lang in ("en", "pl"):
        _choose(browser, gateway_url, path, lang)
        wait_until(lambda: browser.find_elements(By.CSS_SELECTOR, "[data-testid=verdict]"), "the report")
        verdict = browser.find_element(By.CSS_SELECTOR, "[data-testid=verdict]")
        assert verdict.get_attribute("data-verdict") == "valid" and verdict.get_attribute("data-kind") == "valid"
        assert "Digital micro-credential creation" in browser.find_element(By.TAG_NAME, "h1").text
        assert_accessible(browser, f"uploaded PDF ({lang})")
        screenshot(browser, f"employer-upload-pdf-{lang}")


def test_a_pdf_without_an_embedded_credential_is_told_plainly(gateway_url: str, browser: WebDriver,  # noqa: F811
                                                              credentials: dict[str, dict[str, Any]],  # noqa: F811
                                                              tmp_path: Path) -> None:
    _choose(browser, gateway_url, _pdf(credentials["valid"], tmp_path / "bare.pdf", attach=False), "en")
    wait_until(lambda: "no embedded credential" in browser.find_element(By.TAG_NAME, "main").text, "the message")
    assert not browser.find_elements(By.CSS_SELECTOR, "[data-testid=verdict]")
    assert_accessible(browser, "PDF without a credential")


def test_the_pdf_bound_applies_to_view_only(gateway_url: str) -> None:  # noqa: F811
    assert VIEW_MAX_BODY_BYTES > MAX_PDF_UPLOAD_BYTES * 4 // 3
    form = {"content-type": "application/x-www-form-urlencoded"}
    with httpx.Client(base_url=gateway_url, timeout=60) as http:
        too_big = http.post("/view", content=b"pdf=" + b"A" * VIEW_MAX_BODY_BYTES, headers=form)
        assert too_big.status_code == 413 and str(VIEW_MAX_BODY_BYTES) in too_big.json()["detail"]
        # admitted on /view (above the gateway's 256 kB default) and read: not a PDF, said plainly
        pdf_sized = http.post("/view", content=b"pdf=" + b"A" * (MAX_PDF_UPLOAD_BYTES + 4), headers=form)
        assert pdf_sized.status_code == 422 and "not a readable PDF" in pdf_sized.text
        over_pdf = http.post("/view", content=b"pdf=" + b"A" * (MAX_PDF_UPLOAD_BYTES * 4 // 3 + 8), headers=form)
        assert over_pdf.status_code == 413 and "larger than 2 MB" in over_pdf.text  # the page's own words
        elsewhere = http.post("/v1/verify", content=b"{" + b" " * (MAX_PDF_UPLOAD_BYTES) + b"}",
                              headers={"content-type": "application/json"})
        assert elsewhere.status_code == 413
