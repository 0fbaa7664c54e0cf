"""The wallet keeps the SD-JWT VC of a credential issued to its learner (issue 19): a CredentialIssued carrying an
SD-JWT VC is filed over real Kafka and Redis; the learner sees that the credential has it (``sd_jwt_vc: true``, over
HTTP), the read model keeps it exactly as issued (its signature verifies), and ``LearnerErased`` drops it with the
rest of the credential. It is downloaded exactly as issued (GET /v1/credentials/{id}/sd-jwt,
``application/dc+sd-jwt``); a credential without one is a named 404, another learner's is not found."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from microcred.gen.microcred.v1 import events_pb2
from microcred.kafka.topics import CREDENTIALS
from microcred.sdjwt.issue import IssuerKey, issue_micro_credential
from microcred.sdjwt.jose import public_jwk
from microcred.sdjwt.verify import VerifierPolicy, verify_sd_jwt_vc
from tests.conftest import Infrastructure
from tests.harness.wallet.credentials import TestIssuer
from tests.harness.wallet.harness import WalletUnderTest, running_wallet
from tests.integration.test_wallet_api import assert_problem, sign_up, until_held, wait_for

pytestmark = pytest.mark.integration


@pytest.fixture
async def wallet(infrastructure: Infrastructure, tmp_path: Path) -> AsyncIterator[WalletUnderTest]:
    async with running_wallet(infrastructure, uuid.uuid4().hex[:10], tmp_path / "wallet") as w:
        yield w


async def test_the_wallet_keeps_shows_and_erases_the_issued_sd_jwt_vc(wallet: WalletUnderTest) -> None:
    issuer = TestIssuer.new("issuer-uniz")
    learner, other = await sign_up(wallet, "sdjwt"), await sign_up(wallet, "other")
    with_sd_jwt = issuer.issue(learner_did=learner.did, title="With SD-JWT VC")
    plain = issuer.issue(learner_did=learner.did, title="Without SD-JWT VC")
    signing = ec.generate_private_key(ec.SECP256R1())
    compact = issue_micro_credential(with_sd_jwt.event.credential, now=datetime.now(UTC),
                                     issuer=IssuerKey("https://uniz.example/issuers/uniz", signing, ())).compact
    with_sd_jwt.event.sd_jwt_vc = compact
    for issued in (with_sd_jwt, plain):
        await wallet.issue(issued)
    await until_held(wallet, learner, with_sd_jwt.credential_id, plain.credential_id)

    listed = (await wallet.http.get("/v1/credentials", headers=learner.headers)).json()["credentials"]
    flags = {c["credential_id"]: c.get("sd_jwt_vc", False) for c in listed}
    assert flags == {with_sd_jwt.credential_id: True, plain.credential_id: False}
    key = wallet.intake.store.cred_key(with_sd_jwt.credential_id)
    kept = await wallet.redis.hget(key, "sdjwt")
    assert kept is not None and kept.decode() == compact  # exactly as issued: a changed byte breaks the signature
    policy = VerifierPolicy(pinned_issuer_keys={"https://uniz.example/issuers/uniz": public_jwk(signing.public_key())})
    verified = verify_sd_jwt_vc(kept.decode(), policy, datetime.now(UTC))
    assert {c.id: c.status.value for c in verified.checks}["signature"] == "valid", verified.to_dict()
    own = f"/v1/credentials/{with_sd_jwt.credential_id}"
    download = await wallet.http.get(f"{own}/sd-jwt", headers=learner.headers)
    assert download.status_code == 200, download.text
    assert download.headers["content-type"].startswith("application/dc+sd-jwt")
    assert download.headers["content-disposition"].endswith('.sd-jwt"') and download.text == compact
    missing = await wallet.http.get(f"/v1/credentials/{plain.credential_id}/sd-jwt", headers=learner.headers)
    assert "SD-JWT VC" in assert_problem(missing, 404)["detail"]
    assert_problem(await wallet.http.get(f"{own}/sd-jwt", headers=other.headers), 404)
    assert_problem(await wallet.http.get(own, headers=other.headers), 404)  # another learner's is not found

    await wallet.publish(CREDENTIALS.name, with_sd_jwt.credential_id, events_pb2.LearnerErased(
        learner_pseudonym="lp_" + "b" * 64, reason="test erasure", actor="agency-operator",
        credential_ids=[with_sd_jwt.credential_id]))

    async def dropped() -> bool:
        return not await wallet.redis.exists(key)
    await wait_for(dropped, timeout=30)
    assert (await wallet.http.get(own, headers=learner.headers)).status_code == 404
