"""The export bundle: one standard VC file per credential and a manifest."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime

from services.wallet.domain.credentials import EuElements, HeldCredential, Identity, Source
from services.wallet.domain.export import build_bundle, file_name


def credential(cid: str, source: Source = Source.ISSUED) -> HeldCredential:
    return HeldCredential(cid, "issuer-a", "did:key:z6MkI", EuElements(), Identity(), source=source,
                          document={"id": cid, "name": "Zażółć"})


def test_bundle_holds_each_credential_as_is_and_a_manifest() -> None:
    creds = [credential("urn:uuid:1"), credential("https://x.example/c/2", Source.IMPORTED)]
    data = build_bundle(creds, "lrn_1", ["did:key:z6MkH"], datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
    with zipfile.ZipFile(io.BytesIO(data)) as bundle:
        assert sorted(bundle.namelist()) == ["https_x.example_c_2.json", "manifest.json", "urn_uuid_1.json"]
        manifest = json.loads(bundle.read("manifest.json"))
        assert manifest["format"] == "microcred-wallet-export" and manifest["exported_at"] == "2026-01-02T03:04:05Z"
        assert manifest["holder_dids"] == ["did:key:z6MkH"]
        for entry, original in zip(manifest["credentials"], creds, strict=True):
            assert json.loads(bundle.read(entry["file"])) == original.document
            assert entry["id"] == original.credential_id and entry["media_type"] == "application/vc"
        assert [e["source"] for e in manifest["credentials"]] == ["issued", "imported"]


def test_file_names_are_safe_and_unique() -> None:
    taken: set[str] = set()
    assert file_name("../../etc/passwd", taken) == "etc_passwd.json"
    assert file_name("../../etc/passwd", taken) == "etc_passwd-2.json"
    assert file_name("manifest", taken) == "manifest-2.json"
    assert file_name("", taken) == "credential.json"


def test_my_data_is_a_file_of_its_own_and_no_credential_takes_its_name() -> None:
    creds = [credential("my-data")]
    mine = {"account": {"account_id": "lrn_1", "email": "ada@example.org"}, "share_links": []}
    data = build_bundle(creds, "lrn_1", [], datetime(2026, 1, 2, tzinfo=UTC), mine)
    with zipfile.ZipFile(io.BytesIO(data)) as bundle:
        assert sorted(bundle.namelist()) == ["manifest.json", "my-data-2.json", "my-data.json"]
        assert json.loads(bundle.read("my-data.json")) == mine
        assert json.loads(bundle.read("my-data-2.json")) == creds[0].document
