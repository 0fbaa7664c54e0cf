"""The learner page in headless Chromium: sign in (dev login minting a token from the test's local key set),
see a credential that arrived over Kafka, create a share link and see it listed, in English and Polish.

Runs the wallet as its own process (``python -m services.wallet.main``) against the session's real Kafka and
Redis. Needs Debian's ``chromium`` and ``chromium-driver`` (``/usr/bin/chromium``, ``/usr/bin/chromedriver``);
screenshots are kept under ``artifacts/`` for CI.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from microcred.events.envelope import new_envelope
from microcred.infra.ports import free_port
from microcred.kafka.publisher import KafkaEventPublisher
from microcred.kafka.topics import CREDENTIALS, ensure_topics
from services.wallet.events.intake import WALLET_TOPICS
from tests.conftest import Infrastructure
from tests.harness.wallet.credentials import TestIssuer
from tests.harness.wallet.oidc import LocalOidcProvider

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "artifacts"
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
TOKEN_KEY = "microcred.wallet.token"  # where wallet.js keeps the bearer token


@pytest.fixture
def browser() -> Iterator[WebDriver]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1400",
                "--lang=en-GB"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def launch(env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    """Start ``python -m services.wallet.main`` in its own process group, output to ``log_path``."""
    with log_path.open("wb") as log:
        return subprocess.Popen([sys.executable, "-m", "services.wallet.main"], env=env, cwd=REPO, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)


async def start_wallet(infra: Infrastructure, provider: LocalOidcProvider, tmp: Path, unique: str,
                       port: int, topic_prefix: str | None = None) -> subprocess.Popen[bytes]:
    """The wallet process on the session's Kafka and Redis, on topics of its own (``t{unique}.``) unless
    ``topic_prefix`` names others ('' for the platform's own)."""
    env = {
        **os.environ, "MICROCRED_KAFKA_BOOTSTRAP": infra.kafka_bootstrap, "MICROCRED_REDIS_URL": infra.redis_url,
        "MICROCRED_ENVIRONMENT": "test", "MICROCRED_HTTP_PORT": str(port), "MICROCRED_DATA_DIR": str(tmp / "wallet"),
        "MICROCRED_OIDC_ISSUER": provider.issuer, "MICROCRED_OIDC_AUDIENCE": provider.audience,
        "MICROCRED_OIDC_JWKS_URL": provider.jwks_url,
        "MICROCRED_OIDC_DEV_SIGNING_KEY_FILE": str(provider.write_private_jwks(tmp / "dev-keys.json")),
        "MICROCRED_WALLET_REDIS_PREFIX": f"w{unique}", "MICROCRED_WALLET_CONSUMER_GROUP": f"wallet-{unique}",
        "MICROCRED_WALLET_TOPIC_PREFIX": f"t{unique}." if topic_prefix is None else topic_prefix,
        "MICROCRED_SHARE_URL_TEMPLATE": "https://verify.example/s/{token}",
        # The consumer group's join and coordinator lines, for the log this test keeps when it times out.
        "MICROCRED_KAFKA_LOG_LEVEL": "INFO",
    }
    process = launch(env, tmp / "wallet.log")
    async with httpx.AsyncClient() as client:
        for _ in range(300):
            if process.poll() is not None:
                raise RuntimeError(f"wallet exited: {(tmp / 'wallet.log').read_text()[-2000:]}")
            try:
                if (await client.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200:
                    return process
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    raise TimeoutError("wallet not healthy")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


async def credential_in_api(port: int, token: str, title: str, timeout: float) -> bool:
    """Poll the wallet's ``/v1/credentials`` as the signed-in learner until ``title`` is listed."""
    deadline = asyncio.get_running_loop().time() + timeout
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=10.0) as client:
        while asyncio.get_running_loop().time() < deadline:
            try:
                response = await client.get(f"http://127.0.0.1:{port}/v1/credentials")
                listed = response.json()["credentials"] if response.status_code == 200 else []
                if any(c["elements"].get("title") == title for c in listed):
                    return True
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.5)
    return False


async def test_learner_creates_a_share_link_and_sees_it_listed(
        infrastructure: Infrastructure, browser: WebDriver, tmp_path: Path) -> None:
    unique = uuid.uuid4().hex[:10]
    await ensure_topics(infrastructure.kafka_bootstrap, topics=WALLET_TOPICS, prefix=f"t{unique}.")
    email = f"ola-{unique}@example.org"
    issued = TestIssuer.new("issuer-uw").issue(email=email, title="Data literacy")
    publisher = KafkaEventPublisher(infrastructure.kafka_bootstrap, client_id="browser-test")
    await publisher.start()
    try:
        await publisher.publish(f"t{unique}.{CREDENTIALS.name}", issued.credential_id,
                                new_envelope(issued.event, subject=issued.credential_id))
    finally:
        await publisher.stop()

    provider = LocalOidcProvider()
    port = free_port()
    process = await start_wallet(infrastructure, provider, tmp_path, unique, port)
    ARTIFACTS.mkdir(exist_ok=True)
    wait = WebDriverWait(browser, 30)
    try:
        browser.get(f"http://127.0.0.1:{port}/?lang=en")
        wait.until(ec.visibility_of_element_located((By.ID, "dev-login")))
        browser.find_element(By.ID, "dev-sub").send_keys(f"ola-{unique}")
        browser.find_element(By.ID, "dev-email").send_keys(email)
        browser.find_element(By.ID, "dev-login-button").click()

        # First the wallet's API, with the page's own token: it tells "the consumer never delivered" (the wallet
        # must join its consumer group and replay) apart from "the page never rendered". Generous under load.
        wait.until(lambda d: d.execute_script(f"return sessionStorage.getItem('{TOKEN_KEY}')"))
        bearer = str(browser.execute_script(f"return sessionStorage.getItem('{TOKEN_KEY}')"))
        if not await credential_in_api(port, bearer, "Data literacy", timeout=150.0):
            log = (tmp_path / "wallet.log").read_text(errors="replace")
            (ARTIFACTS / "wallet-page-timeout.log").write_text(log)
            raise AssertionError(f"the credential never reached the wallet's API; wallet log tail:\n{log[-6000:]}")

        def credential_listed(driver: WebDriver) -> bool:
            rows = driver.find_elements(By.CSS_SELECTOR, "#credentials tbody tr")
            if not rows and driver.find_element(By.ID, "no-credentials").is_displayed():
                driver.refresh()  # the page loaded before the credential arrived: load it again, only then
            return any("Data literacy" in row.text for row in rows)

        WebDriverWait(browser, 60, poll_frequency=1).until(credential_listed)
        browser.find_element(By.CSS_SELECTOR, "#credentials input.pick").click()
        browser.find_element(By.ID, "share-create").click()
        link = wait.until(ec.visibility_of_element_located((By.ID, "share-url")))
        assert link.text.startswith("https://verify.example/s/")
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#shares tbody tr.share-active")) == 1)
        row = browser.find_element(By.CSS_SELECTOR, "#shares tbody tr.share-active")
        assert "Data literacy" in row.text and "Active" in row.text
        browser.save_screenshot(str(ARTIFACTS / "wallet-page.png"))

        # The link the page shows resolves for the verifier gateway, then the learner withdraws it.
        token = link.text.rsplit("/", 1)[1]
        async with httpx.AsyncClient() as client:
            resolved = await client.get(f"http://127.0.0.1:{port}/v1/shares/{token}")
            assert resolved.status_code == 200 and resolved.json()["credentials"] == [issued.document]
            row.find_element(By.CSS_SELECTOR, "button.withdraw").click()
            wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#shares tbody tr.share-withdrawn"))
            assert (await client.get(f"http://127.0.0.1:{port}/v1/shares/{token}")).status_code == 410

        browser.get(f"http://127.0.0.1:{port}/?lang=pl")
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#shares tbody tr"))
        assert browser.find_element(By.TAG_NAME, "h1").text == "Moje mikropoświadczenia"
        assert "Wycofany" in browser.find_element(By.CSS_SELECTOR, "#shares tbody tr").text
        assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "pl"
        browser.save_screenshot(str(ARTIFACTS / "wallet-page-pl.png"))
    finally:
        stop(process)
        provider.stop()
