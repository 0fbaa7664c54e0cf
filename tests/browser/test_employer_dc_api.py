"""The employer page asks a wallet on the same device through the W3C Digital Credentials API (issue 21, OpenID4VP
Appendix A), in headless Chromium.

Chromium has no wallet to hand a DC API request to, so the test stands in for the browser's part only: before the
page loads, ``window.DigitalCredential`` is defined and ``navigator.credentials.get`` records what the page asks
and returns a promise the test settles. The wallet is the independent one (oid4vc-ts, tests/interop/
oid4vp_wallet.mjs), given the page's request and the page's origin as a browser would give them; its answer goes
back to the page, whose own script posts it to the gateway. The page then shows the verified result; axe-core
finds no serious or critical violation on it. Everything between the button and the result is the page's code.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm
from selenium.webdriver.common.by import By

from microcred.sdjwt.jose import public_jwk
from services.verifier.app import create_app
from services.verifier.application import Gateway
from tests.browser.support import assert_accessible, chromium, screenshot, serve, wait_until
from tests.conftest import Infrastructure
from tests.harness.factories import valid_micro_credential
from tests.harness.oid4vp_gateway import x509_verifier
from tests.interop import node_env

pytestmark = pytest.mark.integration

WALLET = node_env.INTEROP / "oid4vp_wallet.mjs"

# The browser's part of the DC API, as the page sees it (the test settles the promise with the wallet's answer).
BROWSER_DC_API = """
window.DigitalCredential = function DigitalCredential() {};
window.__dc = {asked: null};
navigator.credentials.get = function (options) {
  window.__dc.asked = JSON.parse(JSON.stringify(options));
  return new Promise(function (resolve, reject) { window.__dc.resolve = resolve; window.__dc.reject = reject; });
};
"""


async def test_the_employer_page_asks_a_wallet_on_this_device_and_shows_the_result(
        infrastructure: Infrastructure, tmp_path: Path) -> None:
    verifier = x509_verifier(infrastructure, tmp_path, "verifier.test")
    app = create_app(verifier.settings)
    holder = ec.generate_private_key(ec.SECP256R1())
    credential = verifier.sd.issue(mc=valid_micro_credential(), holder_jwk=public_jwk(holder)).compact
    driver = chromium()
    try:
        with serve(app) as url:
            app.state.gateway = Gateway(verifier.sd.ports())  # the test issuer's registry and status list
            page = url.replace("127.0.0.1", "localhost")  # an origin a page may have (http only on loopback)
            driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": BROWSER_DC_API})
            driver.get(f"{page}/presentations/new?lang=en")
            driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
            button = wait_until(lambda: next((b for b in driver.find_elements(By.ID, "dc-api") if b.is_displayed()),
                                             None), "the DC API button")
            result_id = driver.current_url.rsplit("/", 1)[1].split("?")[0]
            button.click()
            asked: dict[str, Any] = wait_until(lambda: driver.execute_script("return window.__dc.asked"),
                                               "the page to call navigator.credentials.get")
            [request] = asked["digital"]["requests"]
            assert request["protocol"] == "openid4vp-v1-signed", request
            origin = str(driver.execute_script("return location.origin"))
            assert origin == page
            answer: dict[str, Any] = await asyncio.to_thread(node_env.run, {
                "dc_api": request, "origin": origin, "ca_pem": verifier.ca_pem.decode(), "credential": credential,
                "holder_private_jwk": ECAlgorithm.to_jwk(holder, as_dict=True)}, WALLET)
            assert "error" not in answer, answer
            assert answer["response_mode"] == "dc_api.jwt" and answer["expected_origins"] == [origin], answer
            # the browser hands the wallet's answer to the page: a DigitalCredential whose data is the answer
            driver.execute_script("window.__dc.resolve({protocol: arguments[0], data: JSON.parse(arguments[1])})",
                                  request["protocol"], json.dumps(answer["dc_api_answer"]))
            wait_until(lambda: driver.find_elements(By.CSS_SELECTOR, ".verdict"), "the result on the page",
                       timeout=60)
            assert driver.find_elements(By.CSS_SELECTOR, ".verdict-valid"), driver.find_element(
                By.TAG_NAME, "main").text
            screenshot(driver, "employer-dc-api-verified-en")
            assert_accessible(driver, "employer: verified over the Digital Credentials API (en)")
            async with httpx.AsyncClient(timeout=30) as http:
                result = (await http.get(f"{page}/v1/presentation-results/{result_id}")).json()
            assert result["status"] == "verified" and result["channel"] == "dc_api" and result["encrypted"], result
    finally:
        driver.quit()
