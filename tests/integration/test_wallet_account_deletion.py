"""A learner downloads their data, then deletes their wallet account over the HTTP API (issue 18).

The deletion publishes the account's tombstones on the compacted wallet topic, deletes the holder keys and
destroys the account learner's data key; nothing is dead-lettered; the share link answers 410. After Redis is wiped
and the wallet rebuilt from Kafka, no read-model key or value names the account's e-mail, DID, account id or
imported credential, and the link still answers 410.
"""

from __future__ import annotations

import io
import json
import time
import zipfile
from pathlib import Path

import pytest

from microcred.kafka.topics import DEAD_LETTER, WALLET
from microcred.privacy.events import account_identifier
from tests.conftest import Infrastructure
from tests.harness.kafka import read_topic
from tests.harness.redis_cluster import RedisClients
from tests.harness.wallet.credentials import TestIssuer
from tests.harness.wallet.harness import running_wallet
from tests.harness.wallet.snapshot import dump

pytestmark = pytest.mark.integration


async def test_learner_exports_then_deletes_the_account_and_a_rebuild_brings_nothing_back(
        infrastructure: Infrastructure, unique: str, tmp_path: Path, redis_clients: RedisClients) -> None:
    """On the single node and on the 3-master cluster."""
    email = f"gone-{unique}@example.org"
    title = f"Imported for deletion {unique}"
    async with running_wallet(infrastructure, unique, tmp_path, redis_url=redis_clients.service_url) as w:
        http, prefix, redis = w.http, w.prefix, w.redis
        headers = w.auth(f"gone-{unique}", email)
        did = (await http.post("/v1/holder-keys", headers=headers)).json()["did"]
        foreign = TestIssuer.new("elsewhere").issue(learner_did=did, title=title)
        assert (await http.post("/v1/import", headers=headers, json=foreign.document)).status_code == 201
        assert (await http.post("/v1/bindings", headers=headers,
                                json={"credential_id": foreign.credential_id, "did": did})).status_code == 200
        share = (await http.post("/v1/share-links", headers=headers,
                                 json={"credential_ids": [foreign.credential_id]})).json()
        assert (await http.get(f"/v1/shares/{share['token']}")).status_code == 200
        account = (await http.get("/v1/me", headers=headers)).json()["account_id"]

        # "Download my data": everything the wallet holds about the account.
        exported = await http.get("/v1/export", headers=headers)
        assert exported.status_code == 200
        with zipfile.ZipFile(io.BytesIO(exported.content)) as archive:
            mine = json.loads(archive.read("my-data.json"))
            files = [n for n in archive.namelist() if n not in ("manifest.json", "my-data.json")]
            assert len(files) == 1 and title in archive.read(files[0]).decode()
        assert mine["account"] == {"account_id": account, "email": email}
        assert [k["did"] for k in mine["holder_keys"]] == [did]
        assert mine["bindings"] == {foreign.credential_id: did}
        assert [(s["share_id"], s["access_count"], s["state"]) for s in mine["share_links"]] == [
            (share["share_id"], 1, "active")]
        assert mine["pathway_progress"] == []
        assert [c["credential_id"] for c in mine["credentials"]] == [foreign.credential_id]
        assert share["token"] not in exported.text

        needles = (email, did, account, title, foreign.credential_id)
        held = repr(await dump(redis, prefix)).encode()
        assert all(n.encode() in held for n in needles)  # the scan below can fail

        # Without the confirmation nothing happens.
        refused = await http.delete("/v1/me", headers=headers)
        assert refused.status_code == 422 and "confirm" in refused.text
        assert (await http.get(f"/v1/shares/{share['token']}")).status_code == 200

        deletion = w.app.state.wallet.deletion
        assert [k for k in deletion.keystore.list_keys() if k.startswith(f"holder:{account}:")]
        deleted = await http.delete("/v1/me", headers=headers, params={"confirm": "delete-my-account"})
        assert deleted.status_code == 200, deleted.text
        answer = deleted.json()
        assert answer["account_id"] == account and answer["learner_data_key_destroyed"] is True
        assert answer["deleted"] == {"holder_dids": [did], "bindings": [foreign.credential_id],
                                     "imported_credentials": [foreign.credential_id],
                                     "share_links": [share["share_id"]], "deferred_issuances": 0, "records": 5}
        # The account learner's data key is gone through the data-key port: the sealed import never opens again.
        pseudonym = deletion.shredder.pseudonyms.of_identifier(account_identifier(account))
        assert await deletion.shredder.keys.get([pseudonym]) == {}
        assert not [k for k in deletion.keystore.list_keys() if k.startswith(f"holder:{account}:")]
        # The link is gone: only a marker of its id is left (for the gone-link retention), not the link.
        gone = await http.get(f"/v1/shares/{share['token']}")
        assert gone.status_code == 410 and gone.json()["code"] == "SHARE_DELETED", gone.text
        assert not await redis.exists(f"{prefix}:share:{{{share['share_id']}}}")

        tombstones = [r for r in await read_topic(infrastructure.kafka_bootstrap, w.topic(WALLET.name))
                      if r.value is None]
        assert {r.key.decode() for r in tombstones if r.key} == {
            f"share:{share['share_id']}", f"binding:{account}/{foreign.credential_id}",
            f"import:{account}/{foreign.credential_id}", f"holder-key:{did}", f"account:{account}"}

        # Wipe the wallet's Redis state and let it rebuild from Kafka (no learner request: that would sign in).
        keys = [k async for k in redis.scan_iter(match=f"{prefix}:*")]
        keys += [k async for k in redis.scan_iter(match=f"offsets:{prefix}:*")]
        await redis.delete(*keys, f"epoch:{prefix}")
        deadline = time.monotonic() + 60
        while (await http.get(f"/v1/shares/{share['token']}")).status_code == 503:
            assert time.monotonic() < deadline, "the wallet did not rebuild"
        # Ready again means the replay caught up with the topics' ends (WALLET_REBUILDING until then); the
        # replayed tombstone marks the link deleted again.
        gone = await http.get(f"/v1/shares/{share['token']}")
        assert gone.status_code == 410 and gone.json()["code"] == "SHARE_DELETED", gone.text
        snapshot = await dump(redis, prefix)
        state = repr(snapshot).encode()
        for needle in needles:
            assert needle.encode() not in state, needle
        # Of the link, only the deletion marker (its id: the hash of the token, nothing personal) is left.
        assert [k for k in snapshot if share["share_id"] in k] == [f"share-deleted:{share['share_id']}"]
        letters = await read_topic(infrastructure.kafka_bootstrap, DEAD_LETTER.name)
        assert not [r for r in letters if r.headers.get("source_topic") == w.topic(WALLET.name).encode()]
