"""Our wallet receives a credential from the running issuer through an offer link, end to end, in headless Chromium
(issue 20's acceptance; issue 23's "accept OpenID4VCI offers").

The issuer service runs in the test process with its REST app (HTTPS, port 0) and a document-signing CA; the
wallet as its own process (``python -m services.wallet.main``) trusting that issuer only
(``MICROCRED_WALLET_TRUSTED_ISSUERS``), on the session's real Kafka and Redis. The issuer creates offers with a
transaction code. In English the learner opens the wallet's own offer link (``/?credential_offer_uri=...``, what
a QR code points to), signs in, sees who offers what, types a wrong code and reads the plain-language refusal,
then the right code, and sees the credential in the list. The same learner then finds an offer the issuer
addressed to their e-mail in "Offered to you" (the wallet reads the issuer's events: it runs on the platform's
own topics), opens it from the list and accepts it; it leaves the list. An offer whose credential the issuer
defers a few seconds is shown "Being prepared by the issuer" and then arrives by itself. In Polish the learner pastes an
``openid-credential-offer://`` link, keyboard only, with the same refusal in Polish. axe-core reports no serious
or critical violation on each step. The browser runs in a worker thread: the issuer answers on this event loop.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from google.protobuf import json_format
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver

from microcred import pki
from microcred.infra.ports import free_port
from microcred.kafka.topics import ensure_topics
from services.wallet.events.intake import WALLET_TOPICS
from tests.browser.support import assert_accessible, chromium, screenshot, wait_until
from tests.browser.test_wallet_page import start_wallet, stop
from tests.conftest import Infrastructure
from tests.harness.factories import identity_hash, valid_micro_credential
from tests.harness.issuer import IssuerHarness, start_issuer_with_document_ca
from tests.harness.wallet.oidc import LocalOidcProvider

pytestmark = pytest.mark.integration

TAG = uuid.uuid4().hex[:8]
AGENCY, UNI = f"agency-bvci-{TAG}", f"uni-bvci-{TAG}"


async def create_offer(harness: IssuerHarness, base: str, title: str, email: str = "",
                       tx_code: bool = True, not_before: str = "") -> dict[str, Any]:
    """One offer (with a transaction code unless ``tx_code`` is False), as the issuer creates it (POST
    /oid4vci/offers, client certificate), for the factory's learner or the one with ``email``; ``not_before``:
    the issuer defers the credential until then."""
    mc = valid_micro_credential()
    mc.title.values["en"] = title
    if email:
        mc.learner.email = email
        mc.learner.hashed_id.identity_hash = identity_hash(email)
    cert = pki.create_client_cert(harness.ca, UNI, AGENCY, pki.ROLE_ISSUER)
    cert_file, key_file = cert.write(Path(harness.work_dir) / f"client-{uuid.uuid4().hex[:8]}", "client")
    context = ssl.create_default_context(cadata=harness.ca.cert_pem.decode())
    context.load_cert_chain(str(cert_file), str(key_file))
    async with httpx.AsyncClient(base_url=base, verify=context, timeout=60) as http:
        response = await http.post("/oid4vci/offers", json={"credentials": [json_format.MessageToDict(mc)],
                                                            "tx_code": tx_code,
                                                            **({"not_before": not_before} if not_before else {})})
    assert response.status_code == 201, response.text
    offer: dict[str, Any] = response.json()["offers"][0]
    return offer


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def text(driver: WebDriver, element_id: str) -> str:
    return str(driver.find_element(By.ID, element_id).text)


def listed(driver: WebDriver, title: str) -> bool:
    return any(title in row.text for row in driver.find_elements(By.CSS_SELECTOR, "#credentials tbody tr"))


def english_journey(driver: WebDriver, wallet: str, offer: dict[str, Any], title: str, unique: str) -> None:
    """Open the wallet's own offer link, sign in, wrong code, right code, credential listed."""
    driver.get(f"{wallet}/?lang=en&credential_offer_uri={quote(offer['credential_offer_uri'], safe='')}")
    wait_until(lambda: driver.find_element(By.ID, "dev-login").is_displayed(), "the sign-in form")
    assert "Sign in to receive" in text(driver, "status")
    driver.find_element(By.ID, "dev-sub").send_keys(f"ola-{unique}")
    driver.find_element(By.ID, "dev-email").send_keys(f"ola-{unique}@example.org")
    driver.find_element(By.ID, "dev-login-button").click()
    # signed in: the offer in the address is read at once
    wait_until(lambda: driver.find_element(By.ID, "offer-review").is_displayed(), "the offer to be shown", 60)
    assert text(driver, "offer-issuer") == "microcred"
    assert text(driver, "offer-what")  # the configuration's display name
    assert driver.find_element(By.ID, "offer-tx").is_displayed()
    screenshot(driver, "wallet-offer-en")
    assert_accessible(driver, "wallet: an offer (en)")

    driver.find_element(By.ID, "offer-tx-code").send_keys(wrong(offer["tx_code"]))
    driver.find_element(By.ID, "offer-accept").click()
    wait_until(lambda: driver.find_element(By.ID, "offer-error").is_displayed(), "the refusal", 60)
    refusal = text(driver, "offer-error")
    assert refusal.startswith("The issuer did not accept the code you entered"), refusal
    assert "invalid_grant" not in refusal and not listed(driver, title)
    screenshot(driver, "wallet-offer-wrong-code-en")
    assert_accessible(driver, "wallet: a wrong transaction code (en)")

    field = driver.find_element(By.ID, "offer-tx-code")
    field.clear()
    field.send_keys(offer["tx_code"])
    driver.find_element(By.ID, "offer-accept").click()
    wait_until(lambda: text(driver, "offer-outcome").startswith("Received"), "the credential to be received", 90)
    wait_until(lambda: listed(driver, title), "the credential in the list", 60)
    assert not driver.find_element(By.ID, "offer-error").is_displayed()
    assert "credential_offer" not in str(driver.current_url)  # the used offer left the address
    screenshot(driver, "wallet-offer-received-en")
    assert_accessible(driver, "wallet: the credential received (en)")


def after_reloads(driver: WebDriver, url: str, condition: Any, what: str, timeout: float = 120.0) -> None:
    """Load ``url`` until ``condition()`` holds within 5 s of a load (what the page shows follows Kafka)."""
    deadline = time.monotonic() + timeout
    while True:
        driver.get(url)
        try:
            wait_until(condition, what, 5.0)
            return
        except AssertionError:
            if time.monotonic() > deadline:
                raise


def addressed_journey(driver: WebDriver, wallet: str, offer: dict[str, Any], title: str) -> None:
    """The offer addressed to the signed-in learner is listed; opened from the list and accepted, it leaves it."""
    after_reloads(driver, f"{wallet}/?lang=en", lambda: driver.find_element(By.ID, "offer-addressed").is_displayed()
                  and title in text(driver, "offer-addressed-list"), "the offer in Offered to you")
    row = next(li for li in driver.find_elements(By.CSS_SELECTOR, "#offer-addressed-list li") if title in li.text)
    assert "Can be accepted until" in row.text and "You will need the code" in row.text
    screenshot(driver, "wallet-offer-addressed-en")
    assert_accessible(driver, "wallet: offers addressed to the learner (en)")
    row.find_element(By.TAG_NAME, "button").click()
    wait_until(lambda: driver.find_element(By.ID, "offer-review").is_displayed(), "the offer to be shown", 60)
    driver.find_element(By.ID, "offer-tx-code").send_keys(offer["tx_code"])
    driver.find_element(By.ID, "offer-accept").click()
    wait_until(lambda: text(driver, "offer-outcome").startswith("Received"), "the credential to be received", 90)
    wait_until(lambda: listed(driver, title), "the credential in the list", 60)
    after_reloads(driver, f"{wallet}/?lang=en", lambda: listed(driver, title) and not driver.find_element(
        By.ID, "offer-addressed").is_displayed(), "the redeemed offer to leave Offered to you")
    # two credentials received, each bound to a P-256 key the wallet made for it: not among the learner's keys
    wait_until(lambda: bool(driver.find_elements(By.CSS_SELECTOR, "#keys li")), "the holder keys to be listed")
    keys = [li.text for li in driver.find_elements(By.CSS_SELECTOR, "#keys li")]
    assert keys == ["Nothing here yet."], keys


async def authorization_code_link(harness: IssuerHarness, offer: dict[str, Any]) -> str:
    """The offer, by value, with only its authorization code grant (its issuer_state): how an issuer that signs
    its learners in offers credentials. The wallet then takes the learner to the issuer's pages."""
    async with httpx.AsyncClient(verify=ssl.create_default_context(cadata=harness.ca.cert_pem.decode()),
                                 timeout=30) as http:
        document = (await http.get(offer["credential_offer_uri"])).json()
    document["grants"] = {"authorization_code": document["grants"]["authorization_code"]}
    return "openid-credential-offer://?credential_offer=" + quote(json.dumps(document), safe="")


def authorization_code_journey(driver: WebDriver, wallet: str, link: str, title: str) -> None:
    """An offer of the authorization code grant: "Continue at the issuer", the issuer's pages (no sign-in at this
    issuer: it sends the browser straight back), and the credential received on the wallet's page."""
    driver.get(f"{wallet}/?lang=en")
    wait_until(lambda: driver.find_element(By.ID, "offer-link").is_displayed(), "the offer form")
    field = driver.find_element(By.ID, "offer-link")
    field.send_keys(link)
    field.send_keys(Keys.ENTER)
    wait_until(lambda: driver.find_element(By.ID, "offer-review").is_displayed(), "the offer to be shown", 60)
    assert text(driver, "offer-accept") == "Continue at the issuer"
    assert not driver.find_element(By.ID, "offer-tx").is_displayed()
    assert "it may ask you to sign in" in text(driver, "offer-outcome")
    assert_accessible(driver, "wallet: an offer taken at the issuer (en)")
    driver.find_element(By.ID, "offer-accept").click()
    wait_until(lambda: text(driver, "offer-outcome").startswith("Received"), "the credential to be received", 90)
    assert "code=" not in str(driver.current_url) and "state=" not in str(driver.current_url)
    wait_until(lambda: listed(driver, title), "the credential in the list", 60)
    screenshot(driver, "wallet-offer-authorization-code-en")
    assert_accessible(driver, "wallet: received through the issuer's pages (en)")


def deferred_journey(driver: WebDriver, wallet: str, offer: dict[str, Any], title: str) -> None:
    """An offer whose credential the issuer prepares for a few seconds more: accepted, "Being prepared by the
    issuer" while the page waits, then received and listed without the learner doing anything."""
    driver.get(f"{wallet}/?lang=en")
    wait_until(lambda: driver.find_element(By.ID, "offer-link").is_displayed(), "the offer form")
    field = driver.find_element(By.ID, "offer-link")
    field.send_keys(offer["link"])
    field.send_keys(Keys.ENTER)
    wait_until(lambda: driver.find_element(By.ID, "offer-review").is_displayed(), "the offer to be shown", 60)
    driver.find_element(By.ID, "offer-accept").click()
    wait_until(lambda: text(driver, "offer-outcome").startswith("Accepted: the issuer is still preparing"),
               "the credential to be deferred", 60)
    wait_until(lambda: driver.find_element(By.ID, "offer-deferred").is_displayed(), "Being prepared", 30)
    row = text(driver, "offer-deferred-list")
    assert "(microcred)" in row and "Accepted on" in row, row
    assert not listed(driver, title)
    screenshot(driver, "wallet-offer-deferred-en")
    assert_accessible(driver, "wallet: a credential the issuer is preparing (en)")
    wait_until(lambda: text(driver, "offer-outcome").startswith("Received: a credential the issuer was preparing"),
               "the deferred credential to arrive", 90)
    wait_until(lambda: listed(driver, title), "the credential in the list", 60)
    assert not driver.find_element(By.ID, "offer-deferred").is_displayed()
    assert not driver.find_element(By.ID, "offer-error").is_displayed()


def polish_journey(driver: WebDriver, wallet: str, offer: dict[str, Any], title: str) -> None:
    """Paste an openid-credential-offer:// link and accept it with the keyboard only, in Polish."""
    driver.get(f"{wallet}/?lang=pl")  # the token stays in the tab's sessionStorage
    wait_until(lambda: driver.find_element(By.ID, "offer-link").is_displayed(), "the offer form")
    wait_until(lambda: listed(driver, ""), "the list")
    field = driver.find_element(By.ID, "offer-link")
    field.send_keys(offer["link"])
    field.send_keys(Keys.ENTER)  # submits the form
    wait_until(lambda: driver.find_element(By.ID, "offer-review").is_displayed(), "the offer to be shown", 60)
    code = driver.switch_to.active_element  # focus moved to the code field
    assert code.get_attribute("id") == "offer-tx-code"
    code.send_keys(wrong(offer["tx_code"]), Keys.ENTER)
    wait_until(lambda: driver.find_element(By.ID, "offer-error").is_displayed(), "the refusal", 60)
    refusal = text(driver, "offer-error")
    assert refusal.startswith("Wystawca nie przyjął wpisanego kodu"), refusal
    screenshot(driver, "wallet-offer-wrong-code-pl")
    assert_accessible(driver, "wallet: a wrong transaction code (pl)")
    code = driver.switch_to.active_element
    assert code.get_attribute("id") == "offer-tx-code"  # focus back on the code to correct it
    code.send_keys(Keys.CONTROL, "a")
    code.send_keys(offer["tx_code"], Keys.ENTER)
    wait_until(lambda: text(driver, "offer-outcome").startswith("Odebrano"), "the credential to be received", 90)
    wait_until(lambda: listed(driver, title), "the credential in the list", 60)
    screenshot(driver, "wallet-offer-received-pl")
    assert_accessible(driver, "wallet: the credential received (pl)")


async def test_a_learner_receives_a_credential_through_an_offer_link(
        infrastructure: Infrastructure, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    unique = uuid.uuid4().hex[:10]
    await ensure_topics(infrastructure.kafka_bootstrap, topics=WALLET_TOPICS, prefix=f"t{unique}.")
    harness, document_ca = await start_issuer_with_document_ca(
        infrastructure.kafka_bootstrap, infrastructure.redis_url, tmp_path, AGENCY)
    provider = LocalOidcProvider()
    process = None
    driver = None
    try:
        await harness.onboard(AGENCY, {UNI: 7})
        assert harness.app.rest is not None
        base = f"https://localhost:{harness.app.rest.port}"
        (tmp_path / "issuer-tls.pem").write_bytes(harness.ca.cert_pem)
        (tmp_path / "sd-jwt-anchors.pem").write_bytes(document_ca.cert_pem + harness.ca.cert_pem)
        monkeypatch.setenv("MICROCRED_WALLET_TRUSTED_ISSUERS", base)  # read by the wallet process
        monkeypatch.setenv("MICROCRED_WALLET_ISSUER_TLS_CA_FILE", str(tmp_path / "issuer-tls.pem"))
        monkeypatch.setenv("MICROCRED_X509_TRUST_ANCHORS_FILE", str(tmp_path / "sd-jwt-anchors.pem"))
        port = free_port()
        process = await start_wallet(infrastructure, provider, tmp_path, unique, port, topic_prefix="")
        wallet = f"http://127.0.0.1:{port}"
        first, second = f"Offered data skills {unique[:4]}", f"Kurs z oferty {unique[:4]}"
        third, fourth = f"Addressed course {unique[:4]}", f"Course signed in {unique[:4]}"
        offers = [await create_offer(harness, base, first), await create_offer(harness, base, second),
                  await create_offer(harness, base, third, f"ola-{unique}@example.org"),
                  await create_offer(harness, base, fourth, tx_code=False)]
        by_login = await authorization_code_link(harness, offers[3])
        driver = chromium(accept_test_certificates=True)
        await asyncio.to_thread(english_journey, driver, wallet, offers[0], first, unique)
        await asyncio.to_thread(addressed_journey, driver, wallet, offers[2], third)
        await asyncio.to_thread(authorization_code_journey, driver, wallet, by_login, fourth)
        fifth = f"Deferred course {unique[:4]}"
        later = (datetime.now(UTC) + timedelta(seconds=8)).isoformat()
        deferred = await create_offer(harness, base, fifth, tx_code=False, not_before=later)
        await asyncio.to_thread(deferred_journey, driver, wallet, deferred, fifth)
        await asyncio.to_thread(polish_journey, driver, wallet, offers[1], second)
    finally:
        if driver is not None:
            driver.quit()
        if process is not None:
            stop(process)
        provider.stop()
        await harness.close()
