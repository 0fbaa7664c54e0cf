"""Shared pieces of the browser tests: headless Chromium, axe-core, screenshots, a gateway on a real socket.

axe-core (the npm package pinned in tests/interop/package.json and its lock file, installed by
:func:`tests.interop.node_env.ensure_installed`, so ``make test`` gets it on a fresh machine) is injected into the
page with ``execute_script`` and run over the WCAG 2.0/2.1 A and AA rules; :func:`assert_accessible` fails on any
serious or critical violation, naming the rule and the elements.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

import uvicorn
from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.remote.webdriver import WebDriver

from tests.interop.node_env import INTEROP, ensure_installed

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
_AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def chromium(width: int = 1280, height: int = 1600, lang: str = "en-GB", downloads: Path | None = None,
             accept_test_certificates: bool = False) -> WebDriver:
    """A headless Chromium (Debian's chromium + chromium-driver), saving downloads to ``downloads`` if given;
    ``accept_test_certificates``: HTTPS pages certified by a test's own CA open (the learner's browser visiting
    an issuer whose certificate a real browser would trust)."""
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    if accept_test_certificates:
        options.set_capability("acceptInsecureCerts", True)
    if downloads is not None:
        options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                                  "download.prompt_for_download": False})
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                 f"--window-size={width},{height}", f"--lang={lang}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_script_timeout(120)
    return driver


@lru_cache(maxsize=1)
def axe_source() -> str:
    """axe.min.js from the pinned npm package (installed on first use)."""
    ensure_installed()
    return (INTEROP / "node_modules" / "axe-core" / "axe.min.js").read_text(encoding="utf-8")


def axe_violations(driver: WebDriver) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.1 A/AA violations on the current page (rule id, impact, element selectors)."""
    if not driver.execute_script("return typeof window.axe === 'object'"):
        driver.execute_script(axe_source())
    found: list[dict[str, Any]] = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}, resultTypes: ['violations']})"
        ".then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.map(n => n.target.join(' '))}))))"
        ".catch(e => done([{id: 'axe-error', impact: 'critical', help: String(e), nodes: []}]));", _AXE_TAGS)
    return found


def assert_accessible(driver: WebDriver, where: str) -> None:
    """No serious or critical axe-core violation on the current page."""
    bad = [v for v in axe_violations(driver) if v["impact"] in ("serious", "critical")]
    assert not bad, f"{where}: axe-core violations {bad}"


def screenshot(driver: WebDriver, name: str) -> None:
    """Save the current page to ``artifacts/<name>.png`` (kept by CI)."""
    ARTIFACTS.mkdir(exist_ok=True)
    assert driver.save_screenshot(str(ARTIFACTS / f"{name}.png"))


def wait_until(condition: Any, what: str, timeout: float = 30.0) -> Any:
    """Poll ``condition()`` until it is truthy (generous deadline, never a fixed sleep).

    An element found on a page that a form submission is replacing goes stale between finding and reading it
    (seen in a fresh-clone run: the start page's <main> read just as the report page replaced it), and between the
    two documents there may be no such element at all (seen in the stop-28 CI run); both are "not yet", so the poll
    goes on until the deadline, whose message names what never came.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = condition()
        except (StaleElementReferenceException, NoSuchElementException):
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """``app`` served by uvicorn on a free loopback port in a thread; yields its base URL."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None, access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until(lambda: server.started or not thread.is_alive(), "the server to start")
    if not server.started:
        raise RuntimeError("the server did not start")
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
