"""Export: everything a learner holds, as a zip of standard credential files plus a manifest. Pure.

Each credential is one ``<credential id>.json`` file holding the signed W3C VC exactly as issued (any OB 3.0
host or verifier can read it); characters that are unsafe in file names are replaced by ``_``.
``manifest.json`` lists the files with each credential's id, issuer, status and source, and the holder DIDs
of the account (never private keys). ``my-data.json`` (issue 18, the learner's "download my data") holds
everything else the wallet keeps about the account: the account (id, verified e-mail), the holder keys'
public parts, the bindings, the share links (never their tokens: only their hash is kept) with their access
counts, and the pathway progress.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from services.wallet.domain.credentials import HeldCredential

BUNDLE_FORMAT = "microcred-wallet-export"
BUNDLE_VERSION = 1
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def file_name(credential_id: str, taken: set[str]) -> str:
    """A safe, unique file name for ``credential_id`` (``urn:uuid:…`` → ``urn_uuid_….json``)."""
    base = _UNSAFE.sub("_", credential_id).strip("._")[:150] or "credential"
    name, n = f"{base}.json", 1
    while name in taken or name in ("manifest.json", "my-data.json"):
        n += 1
        name = f"{base}-{n}.json"
    taken.add(name)
    return name


def build_bundle(credentials: Sequence[HeldCredential], account_id: str, holder_dids: Sequence[str],
                 now: datetime, my_data: Mapping[str, Any] | None = None) -> bytes:
    """The zip bytes of the export bundle."""
    stamp = now.astimezone(UTC)
    date_time = (stamp.year, stamp.month, stamp.day, stamp.hour, stamp.minute, stamp.second)
    taken: set[str] = set()
    entries: list[dict[str, Any]] = []
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for credential in credentials:
            name = file_name(credential.credential_id, taken)
            body = json.dumps(dict(credential.document), indent=2, ensure_ascii=False) + "\n"
            archive.writestr(zipfile.ZipInfo(name, date_time), body.encode("utf-8"), zipfile.ZIP_DEFLATED)
            entries.append({"file": name, "id": credential.credential_id, "issuer": credential.issuer_did
                            or credential.issuer_id, "status": credential.status.value,
                            "source": credential.source.value, "media_type": "application/vc"})
        manifest = {"format": BUNDLE_FORMAT, "version": BUNDLE_VERSION,
                    "exported_at": stamp.isoformat(timespec="seconds").replace("+00:00", "Z"),
                    "account_id": account_id, "holder_dids": list(holder_dids), "credentials": entries}
        archive.writestr(zipfile.ZipInfo("manifest.json", date_time),
                         (json.dumps(manifest, indent=2) + "\n").encode(), zipfile.ZIP_DEFLATED)
        if my_data is not None:
            archive.writestr(zipfile.ZipInfo("my-data.json", date_time),
                             (json.dumps(dict(my_data), indent=2, ensure_ascii=False) + "\n").encode(),
                             zipfile.ZIP_DEFLATED)
    return buffer.getvalue()
