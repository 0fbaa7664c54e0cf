"""Schemathesis against the gateway's published OpenAPI: no 5xx, no response that breaks the schema.

The gateway runs in process (ASGI) over in-memory ports: a registered issuer and its status lists
(:class:`tests.verifier_support.World`) and a fake wallet that knows one share token. Kept short (a few dozen
cases per operation) so it finishes well within a minute.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from services.verifier.adapters.sources import WalletClient
from services.verifier.api.routes import create_gateway_app
from services.verifier.application import Gateway
from tests.verifier_support import Limits, World

pytestmark = pytest.mark.integration

TOKEN = "S" * 43


def _app() -> Any:
    world = World()
    world.publish(datetime.now(UTC))
    shared = {"credentials": [world.credential()], "expires_at": "2030-01-01T00:00:00Z"}

    def wallet(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/" + TOKEN):
            return httpx.Response(200, json=shared)
        return httpx.Response(404, json={"title": "not found"})

    app = create_gateway_app(Limits(rate_limit_per_second=1e6, rate_limit_burst=1_000_000))
    app.state.gateway = Gateway(world.ports(), WalletClient("http://wallet.test",
                                                            httpx.AsyncClient(transport=httpx.MockTransport(wallet))))
    return app


schema = schemathesis.openapi.from_asgi("/openapi.json", _app())


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_gateway_conforms_to_its_openapi(case: schemathesis.Case[Any]) -> None:
    case.call_and_validate()
