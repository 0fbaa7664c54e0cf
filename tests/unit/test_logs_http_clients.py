"""A service's log never holds the URLs its HTTP clients call: those carry bearer secrets.

httpx logs every request at INFO (``HTTP Request: GET <url> ...``), and a service logs at INFO. The verifier
gateway resolves a share link by calling the wallet at ``/v1/shares/{token}``; the wallet fetches an offer at
its ``credential_offer_uri`` (whose last segment reaches the pre-authorized code). After
:func:`microcred.logs.configure_logging`, neither URL reaches the log.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import httpx
import pytest

from microcred.logs import configure_logging
from services.verifier.adapters.sources import WalletClient

TOKEN = "Zq" + "x" * 41


@pytest.fixture
def service_logging() -> Iterator[None]:
    """configure_logging as a service runs it; the logging set-up of the test run is put back afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    levels = {name: logging.getLogger(name).level for name in ("httpx", "httpcore", "aiokafka")}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, kept in levels.items():
        logging.getLogger(name).setLevel(kept)


async def test_the_share_token_the_gateway_resolves_is_not_logged(service_logging: None,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("verifier", "INFO")
    wallet = httpx.AsyncClient(transport=httpx.MockTransport(
        lambda request: httpx.Response(200, json={"credentials": [], "expires_at": None})))
    async with wallet:
        shared = await WalletClient("http://wallet.test", wallet).share(TOKEN)
    logging.getLogger("microcred.verifier").info("resolved")  # the service's own INFO lines still go out
    assert shared.credentials == []
    err = capsys.readouterr().err
    assert '"msg": "resolved"' in err
    assert TOKEN not in err, err
