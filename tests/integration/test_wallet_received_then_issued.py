"""A credential the wallet received itself (an SD-JWT VC kept as imported, as an accepted OpenID4VCI offer is) and
then also gets as the issuer's ``CredentialIssued`` over Kafka (the same Issuer-signed JWT) is listed once, as the
issued one (docs/wallet-oid4vci.md, "The same credential over Kafka"). The other order, issued first, is in
tests/integration/test_wallet_oid4vci_offers.py. Real Kafka, Redis and HTTP."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from microcred.sdjwt.view import sd_jwt_id
from tests.conftest import Infrastructure
from tests.harness.sd_jwt import make_world
from tests.harness.waiting import eventually
from tests.harness.wallet.credentials import TestIssuer
from tests.harness.wallet.harness import running_wallet
from tests.integration.test_wallet_api import sign_up

pytestmark = pytest.mark.integration


async def test_a_received_credential_later_issued_over_kafka_is_listed_once(
        infrastructure: Infrastructure, tmp_path: Path) -> None:
    sd = make_world()
    anchors = tmp_path / "agency-ca.pem"
    anchors.write_bytes(b"".join(c.public_bytes(Encoding.PEM) for c in sd.anchors))
    async with running_wallet(infrastructure, uuid.uuid4().hex[:10], tmp_path / "wallet",
                              x509_trust_anchors_file=anchors) as wallet:
        learner = await sign_up(wallet, "twice")
        issued = TestIssuer.new("uni-twice").issue(email=learner.email.lower(), title="Twice delivered")
        compact = sd.issue(mc=issued.event.credential).compact
        received = await wallet.http.post("/v1/import", headers={**learner.headers,
                                                                 "content-type": "application/dc+sd-jwt"},
                                          content=compact.encode())
        assert received.status_code == 201, received.text
        assert received.json()["credential_id"] == sd_jwt_id(compact)

        issued.event.sd_jwt_vc = compact  # the issuer's event carries the very SD-JWT VC the wallet received
        await wallet.issue(issued)

        async def listed() -> list[tuple[str, str]]:
            response = await wallet.http.get("/v1/credentials", headers=learner.headers)
            return [(c["credential_id"], c["source"]) for c in response.json()["credentials"]]

        await eventually(listed, 60, lambda now: f"listed {now}",
                         until=lambda now: (issued.credential_id, "issued") in now)
        assert await listed() == [(issued.credential_id, "issued")]
        kept = await wallet.http.get(f"/v1/credentials/{issued.credential_id}/sd-jwt", headers=learner.headers)
        assert kept.status_code == 200 and kept.text == compact
        # the id the learner was given on receipt still names the credential (a fresh-clone run downloaded by it
        # just after the issued copy landed, and got 404)
        by_received_id = await wallet.http.get(f"/v1/credentials/{sd_jwt_id(compact)}/sd-jwt",
                                               headers=learner.headers)
        assert by_received_id.status_code == 200 and by_received_id.text == compact
