"""The employer page of a share link in headless Chromium (Debian's chromium + chromium-driver, via Selenium).

The gateway runs on a real loopback socket (uvicorn in a thread) over in-memory ports and a fake wallet that
knows one share token. The test finds the verdict and every check on the page, follows the language switch to
Polish, checks the skip link is the first thing the keyboard reaches, and saves a screenshot to
``artifacts/verifier-share-page.png`` (kept by CI as an artifact).
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import uvicorn
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver

from services.verifier.adapters.sources import WalletClient
from services.verifier.api.routes import create_gateway_app
from services.verifier.application import Gateway
from tests.verifier_support import World

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
TOKEN = "B" * 43
CHECKS = ("format", "eu_elements", "signature", "issuer_identity", "accreditation", "validity_window", "revocation",
          "suspension")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


@dataclass
class Limits:
    max_body_bytes: int = 256 * 1024
    rate_limit_per_second: float = 1000.0
    rate_limit_burst: int = 1000
    cors_origins: list[str] = field(default_factory=lambda: ["*"])


@pytest.fixture(scope="module")
def gateway_url() -> Iterator[str]:
    world = World()
    world.publish(datetime.now(UTC))
    shared = {"credentials": [world.credential()], "expires_at": "2030-01-01T00:00:00Z"}

    def wallet(request: httpx.Request) -> httpx.Response:
        found = request.url.path.endswith("/" + TOKEN)
        return httpx.Response(200 if found else 404, json=shared if found else {"title": "not found"})

    app = create_gateway_app(Limits())
    app.state.gateway = Gateway(world.ports(), WalletClient(
        "http://wallet.test", httpx.AsyncClient(transport=httpx.MockTransport(wallet))))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None, access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the gateway did not start")
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                 "--window-size=1280,2200", "--lang=en-GB"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def test_share_page_shows_the_verdict_and_every_check(gateway_url: str, browser: WebDriver) -> None:
    browser.get(f"{gateway_url}/share/{TOKEN}?lang=en")
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
    verdict = browser.find_element(By.CSS_SELECTOR, "[data-testid=verdict]")
    assert verdict.get_attribute("data-verdict") == "valid"
    assert "Valid" in verdict.text
    for check in CHECKS:
        row = browser.find_element(By.CSS_SELECTOR, f"[data-testid=check-{check}]")
        assert row.get_attribute("data-status") == "valid", check
        assert "Passed" in row.text
    details = browser.find_element(By.CSS_SELECTOR, "[data-testid=details]").text
    for expected in ("Digital micro-credential creation", "EQF level", "Quality assurance"):
        assert expected in details
    assert "Irish NFQ" in browser.find_element(By.CSS_SELECTOR, "[data-testid=accreditation]").text
    ARTIFACTS.mkdir(exist_ok=True)
    assert browser.save_screenshot(str(ARTIFACTS / "verifier-share-page.png"))


def test_keyboard_reaches_the_skip_link_first_and_it_leads_to_the_result(gateway_url: str, browser: WebDriver) -> None:
    browser.get(f"{gateway_url}/share/{TOKEN}?lang=en")
    browser.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
    focused = browser.switch_to.active_element
    assert focused.get_attribute("class") == "skip" and (focused.get_attribute("href") or "").endswith("#main")
    focused.send_keys(Keys.ENTER)
    assert browser.current_url.endswith("#main")


def test_language_switch_to_polish(gateway_url: str, browser: WebDriver) -> None:
    browser.get(f"{gateway_url}/share/{TOKEN}?lang=en")
    browser.find_element(By.CSS_SELECTOR, "nav a[hreflang=pl]").click()
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "pl"
    assert "Podpis cyfrowy" in browser.find_element(By.CSS_SELECTOR, "[data-testid=check-signature]").text
    assert browser.find_element(By.CSS_SELECTOR, "[data-testid=verdict]").text.count("Ważne") == 1


def test_unknown_link_is_a_readable_error(gateway_url: str, browser: WebDriver) -> None:
    browser.get(f"{gateway_url}/share/{'C' * 43}?lang=en")
    assert "no such share link" in browser.find_element(By.CSS_SELECTOR, "[role=alert]").text.lower()
