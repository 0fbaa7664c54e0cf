"""A learner using the platform's wallet over HTTP, as the learner page does, for the fault tests.

The fault platform runs the wallet in ``dev``, so ``POST /dev/login`` mints a token for any subject with a
verified e-mail. Every call waits out ``503`` (the wallet refuses, retriably, while its state rebuilds after a
Redis wipe) and counts how often it met one.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.fault.support import SCALE, FaultPlatform
from tests.harness.waiting import eventually


@dataclass
class WalletLearner:
    """A signed-in wallet learner with one holder key."""

    fault: FaultPlatform
    headers: dict[str, str]
    did: str = ""
    unavailable: int = 0  # 503 answers met (state rebuilding)
    shares: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    async def sign_up(cls, fault: FaultPlatform, sub: str, email: str) -> WalletLearner:
        """Dev sign-in and a holder key (its DID is what credentials are issued to)."""
        login = await fault.http.post(f"{fault.wallet_url}/dev/login", json={"sub": sub, "email": email})
        login.raise_for_status()
        learner = cls(fault, {"Authorization": f"Bearer {login.json()['access_token']}"})
        learner.did = (await learner.call("POST", "/v1/holder-keys", expect=201)).json()["did"]
        return learner

    async def call(self, method: str, path: str, expect: int | tuple[int, ...] = 200, auth: bool = True,
                   timeout: float = 120.0, **kwargs: Any) -> httpx.Response:
        """One wallet request, repeated while the wallet answers 503; fails on any other unexpected status."""
        deadline = time.monotonic() + timeout * SCALE
        while True:
            response = await self.fault.http.request(method, f"{self.fault.wallet_url}{path}",
                                                     headers=self.headers if auth else None, **kwargs)
            if response.status_code != 503:
                break
            self.unavailable += 1
            assert time.monotonic() < deadline, f"{method} {path} still 503 after {timeout}s"
            await asyncio.sleep(float(response.headers.get("retry-after", "1")) / 4)
        assert response.status_code in ((expect,) if isinstance(expect, int) else expect), (
            method, path, response.status_code, response.text)
        return response

    async def holding(self, count: int, timeout: float = 120.0) -> list[str]:
        """At least ``count`` of the learner's credential ids, sorted (waits for the intake)."""
        async def listed() -> list[dict[str, Any]]:
            credentials: list[dict[str, Any]] = (await self.call("GET", "/v1/credentials")).json()["credentials"]
            return credentials

        held = await eventually(listed, timeout * SCALE,
                                lambda last: f"the wallet shows {len(last)} credentials, not {count}",
                                until=lambda last: len(last) >= count, interval=0.5)
        return sorted(c["credential_id"] for c in held)

    async def share(self, name: str, credential_ids: list[str]) -> dict[str, Any]:
        """A new share link, remembered under ``name``."""
        self.shares[name] = (await self.call("POST", "/v1/share-links", expect=201,
                                             json={"credential_ids": credential_ids})).json()
        return self.shares[name]

    async def resolve(self, name: str, expect: int | tuple[int, ...]) -> httpx.Response:
        """The public resolution of link ``name`` (as the verifier gateway calls it)."""
        return await self.call("GET", f"/v1/shares/{self.shares[name]['token']}", expect=expect, auth=False)
