"""Two replicas of every service; one replica of each is SIGKILLed in turn while a cohort is issued (issue 24).

Each service gets a second process (:meth:`microcred.infra.platform.Platform.start_replica`): same data directory
and keys, same Kafka consumer groups, ports of its own. The first issuer reserves status indexes from the first
revocation replica only: while that one is down, it answers UNAVAILABLE for items it has no indexes for and the
integrator re-sends them, to either issuer. The second issuer reaches both revocation replicas (an ``ipv4:`` list,
used in turn, the one that is down skipped). The integrator
streams the cohort in chunks to both issuers in turn and re-sends whatever got no answer (same idempotency keys).
Meanwhile the first process of each service is killed and, after a moment, started again, in turn: issuer,
revocation, wallet, verifier. Each kill of a consumer moves its partitions to the surviving replica (a
consumer-group rebalance), and back when it returns.

While the revocation service's group rebalances (its first replica just killed), a credential is revoked through
the surviving replica; every gateway replica must hold it revoked within 1 s of the revocation request. Each gateway
is polled until it reports REVOKED; its report names when it obtained the status list it read (``obtained_at``, the
same host's clock), and from that moment on it reports the revocation: that moment, less the request's, is what is
held to 1 s. How long the polls themselves took to come back (verification requests on a machine busy issuing the
cohort, in a test process busy streaming it) is kept in the notes beside it.

Result: every key answered, no credential lost or duplicated (Kafka, wallet: exactly the answered documents),
no status bit shared, a sample and every retried credential verified with keys from the trust registry.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import time
from datetime import UTC, datetime
from typing import Any, cast

import grpc
import httpx
import pytest

from microcred import pki
from microcred.gen.microcred.v1 import issuer_pb2_grpc, revocation_pb2, revocation_pb2_grpc
from microcred.grpc_server import TlsFiles, client_channel
from microcred.infra.platform import RunningService
from microcred.status.bitstring import decode_list
from tests.fault.support import SCALE, FaultPlatform, Scenario
from tests.harness.waiting import eventually

#: The cohort (the issue asks for at least 10,000).
REPLICA_BATCH = int(os.environ.get("FAULT_REPLICA_BATCH", "10000"))
#: Keys per IssueCredentials stream, and how many streams are open at once.
CHUNK, STREAMS = 1000, 2
#: Acceptance: a revocation is seen by every gateway replica within this many seconds.
REVOCATION_VISIBLE_S = 1.0

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900 * SCALE)]


class Issuers:
    """gRPC stubs to both issuer replicas, handed out in turn (new channels after a restart)."""

    def __init__(self, fault: FaultPlatform, scenario_issuer: str, agency: str, ports: list[int]) -> None:
        cert = pki.create_client_cert(fault.ca, scenario_issuer, agency, pki.ROLE_ISSUER)
        self.tls = TlsFiles(fault.ca.cert_pem, cert.cert_pem, cert.key_pem)
        self.ports = ports
        self.channels = [client_channel(f"localhost:{port}", self.tls) for port in ports]
        self._turn = itertools.count()

    def stub(self) -> issuer_pb2_grpc.IssuerServiceAsyncStub:
        channel = self.channels[next(self._turn) % len(self.channels)]
        return cast("issuer_pb2_grpc.IssuerServiceAsyncStub", issuer_pb2_grpc.IssuerServiceStub(channel))

    async def renew(self, index: int) -> None:
        """A new channel to replica ``index`` (after its restart), so that calls do not wait out a backoff."""
        old = self.channels[index]
        self.channels[index] = client_channel(f"localhost:{self.ports[index]}", self.tls)
        await old.close()

    async def close(self) -> None:
        for channel in self.channels:
            await channel.close()


async def revoked_everywhere(gateways: list[str], document: dict[str, Any], timeout: float,
                             slow_polls: list[str]) -> list[tuple[float, datetime]]:
    """For each gateway, polled every 20 ms until its REVOCATION check reads REVOKED for ``document``: seconds
    until that answer came back, and when the gateway obtained the list it read (``obtained_at``). A poll that
    got no answer within 5 s (a gateway starved of CPU while replicas start: the baseline fails this way too) is
    noted in ``slow_polls`` and polled again; the deadline for the whole is ``timeout``."""
    started = time.monotonic()

    async def one(url: str) -> tuple[float, datetime]:
        async with httpx.AsyncClient(timeout=5) as http:
            while True:
                try:
                    response = await http.post(f"{url}/v1/verify", json=document)
                except httpx.TimeoutException:
                    slow_polls.append(url)
                    if time.monotonic() - started > timeout:
                        raise
                    continue
                if response.status_code == 200:
                    report = response.json()
                    revocation = next(c for c in report["checks"] if c["id"] == "revocation")
                    if revocation["reason_code"] == "REVOKED":
                        obtained = datetime.fromisoformat(revocation["details"]["obtained_at"])
                        return time.monotonic() - started, obtained
                if time.monotonic() - started > timeout:
                    raise AssertionError(f"{url} still does not read the revocation after {timeout}s")
                await asyncio.sleep(0.02)

    return list(await asyncio.gather(*(one(url) for url in gateways)))


async def revoked_in_signed_list(document: dict[str, Any], served_by: str, timeout: float) -> float:
    """Seconds until the revocation replica at ``served_by`` serves the credential's revocation list with its bit
    set (polled every 20 ms): where the time goes between the answer and the gateways (signing, or Kafka and the
    gateways' caches). The list's URL names the first replica, which may be down: its path is asked of the other."""
    started = time.monotonic()
    statuses = document["credentialStatus"]
    entry = next(e for e in (statuses if isinstance(statuses, list) else [statuses])
                 if e["statusPurpose"] == "revocation")
    async with httpx.AsyncClient(timeout=5) as http:
        while True:
            response = await http.get(f"{served_by}/{entry['statusListCredential'].split('/', 3)[3]}")
            if response.status_code == 200:
                bits = decode_list(response.json()["credentialSubject"]["encodedList"], lenient_legacy=False).bits
                if bits.get_status(int(entry["statusListIndex"])):
                    return time.monotonic() - started
            if time.monotonic() - started > timeout:
                raise AssertionError(f"the signed list does not show the revocation after {timeout}s")
            await asyncio.sleep(0.02)


async def _revoke(stub: Any, credential_id: str, timeout: float = 60.0) -> tuple[float, datetime]:
    """Revoke, retrying while the revocation replica does not know the credential yet (its projector may be
    behind right after its group rebalanced) or is not ready; return when the accepted request was sent
    (``time.monotonic`` and the wall clock)."""
    deadline = time.monotonic() + timeout * SCALE
    while True:
        try:
            sent, sent_at = time.monotonic(), datetime.now(UTC)
            await stub.RevokeCredential(revocation_pb2.RevokeCredentialRequest(
                credential_id=credential_id, reason="replica fault test"), timeout=30)
            return sent, sent_at
        except grpc.aio.AioRpcError as exc:
            if exc.code() not in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.UNAVAILABLE) or \
                    time.monotonic() > deadline:
                raise
        await asyncio.sleep(0.2)


async def test_one_replica_of_each_service_killed_in_turn(fault: FaultPlatform) -> None:
    platform = fault.platform
    first = {name: next(s for s in platform.services if s.spec.name == name and not s.own_ports)
             for name in ("issuer", "revocation", "wallet", "verifier")}
    replicas: list[RunningService] = []
    revocation2 = await platform.start_replica("revocation", timeout=120)
    replicas.append(revocation2)
    # the second issuer reaches both revocation replicas (in turn; the one that is down is skipped), the first
    # only its own: so both ways are exercised while a revocation replica is down
    both = f"ipv4:127.0.0.1:{first['revocation'].port},127.0.0.1:{revocation2.port}"
    for name, env in (("issuer", {"MICROCRED_REVOCATION_TARGET": both}),
                      ("wallet", {}), ("verifier", {})):
        replicas.append(await platform.start_replica(name, timeout=120, env=env))
    by_name = {svc.spec.name: svc for svc in replicas}
    gateways = [f"http://127.0.0.1:{first['verifier'].port}", f"http://127.0.0.1:{by_name['verifier'].port}"]

    scenario = await Scenario.open(fault, "replicas", REPLICA_BATCH)
    notes = scenario.outcome.notes
    issuers = Issuers(fault, scenario.issuer, scenario.agency, [first["issuer"].port, by_name["issuer"].port])
    scenario.client.stub = issuers.stub
    revocation_tls = issuers.tls
    killed: dict[str, float] = {}

    async def wait_answered(share: float) -> None:
        async def reached() -> bool:
            return len(scenario.client.answered) >= share * len(scenario.keys)

        await eventually(reached, 600 * SCALE, f"never {share:.0%} of the cohort answered", interval=0.1)

    async def kill_in_turn() -> None:
        for name, share in (("issuer", 0.1), ("revocation", 0.3), ("wallet", 0.5), ("verifier", 0.7)):
            await wait_answered(share)
            svc = next(s for s in platform.services if s.spec.name == name and not s.own_ports)
            platform.kill_process(svc)
            killed[name] = len(scenario.client.answered)
            if name == "revocation":  # revoke through the survivor while its group rebalances
                answered = next(iter(scenario.client.answered.values()))
                asked = time.monotonic()
                async with client_channel(f"localhost:{revocation2.port}", revocation_tls) as channel:
                    sent, sent_at = await _revoke(revocation_pb2_grpc.RevocationServiceStub(channel),
                                                  answered.credential_id)
                notes["revoke_retries_s"] = round(sent - asked, 3)  # NOT_FOUND/UNAVAILABLE before it was accepted
                notes["revoke_call_s"] = round(time.monotonic() - sent, 3)
                document = json.loads(answered.credential_json)
                slow_polls: list[str] = []
                signed, seen = await asyncio.gather(revoked_in_signed_list(
                    document, f"http://127.0.0.1:{revocation2.own_ports['revocation-http']}", 30 * SCALE),
                                                    revoked_everywhere(gateways, document, 30 * SCALE, slow_polls))
                notes["revocation_in_signed_list_s"] = round(signed, 3)  # after the answer
                # When each gateway's verification came back REVOKED, after the answer and after the request.
                notes["revocation_polled_after_answer_s"] = [round(s, 3) for s, _ in seen]
                notes["revocation_polls_unanswered_in_5s"] = len(slow_polls)
                notes["revocation_polled_after_request_s"] = [round(notes["revoke_call_s"] + s, 3) for s, _ in seen]
                # When each gateway obtained the list it read the revocation from, after the request.
                notes["revocation_held_after_request_s"] = [round((at - sent_at).total_seconds(), 3)
                                                            for _, at in seen]
            else:
                await asyncio.sleep(2.0)  # down for a moment: consumer groups rebalance onto the survivor
            await platform.restart_process(svc, timeout=120)
            if name == "issuer":
                await issuers.renew(0)
        notes["answered_at_each_kill"] = killed

    async def issue() -> None:
        """The first pass in chunks to both issuers, then re-sends (same keys) until everything is answered."""
        chunks = [scenario.keys[i:i + CHUNK] for i in range(0, len(scenario.keys), CHUNK)]
        gate = asyncio.Semaphore(STREAMS)

        async def one(keys: list[str]) -> None:
            async with gate:
                await scenario.client.stream(keys)

        await asyncio.gather(*(one(keys) for keys in chunks))
        notes["answered_in_first_pass"] = len(scenario.client.answered)
        scenario.outcome.retry_passes = await scenario.client.complete(scenario.keys)

    started = time.monotonic()
    try:
        # The kills run beside the issuing: a kill that comes after the last answer still finds the consumers
        # (wallet intake, revocation projector) working through the cohort's events.
        await asyncio.gather(issue(), kill_in_turn())
        await scenario.client.resend_answered(scenario.keys[:50])
        scenario.outcome.seconds = round(time.monotonic() - started, 1)
        await scenario.check()
        # Every gateway replica reads the revocation within 1 s of the accepted request, even when the killed
        # replica owned the partition of the revocation's event (nobody projects it until Kafka's group
        # coordinator gives up on the dead member, 10 s): the replica that accepted it writes it into the read
        # model and queues its list for signing itself (services/revocation/adapters/store.py).
        slowest = max(notes["revocation_held_after_request_s"])
        assert slowest <= REVOCATION_VISIBLE_S, (
            f"a revocation made while the revocation group rebalances after a SIGKILL was held by every gateway "
            f"{slowest:.2f}s after the request (at most {REVOCATION_VISIBLE_S}s); {notes}")
    finally:
        await issuers.close()
        for replica in replicas:
            if replica in platform.services:
                platform.stop_process(replica)
        for svc in [s for s in platform.services if s.process.poll() is not None]:  # a kill the test left
            await platform.restart_process(svc, timeout=120)
        await fault.drop_channels("issuer")
        await fault.drop_channels("revocation")

