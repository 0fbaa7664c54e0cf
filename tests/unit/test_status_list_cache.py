"""The verifier's per-list status cache: list-level work kept per list object, each entry's own bit read every
time, a new list version (a revocation) seen at once, the validity window re-checked on every hit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from microcred.status.bitstring import Bitstring
from microcred.status.build import build_status_list_credential, status_entry
from microcred.status.check import StatusEntry, parse_status_entries
from microcred.status.errors import StatusListValidityError
from microcred.verification.cache import ResultCache
from microcred.verification.status_checks import _checked

LIST_URL = "https://status.example/lists/1"
FROM = datetime(2025, 1, 1, tzinfo=UTC)
NOW = datetime(2025, 6, 1, tzinfo=UTC)


def _entry(index: int, purpose: str = "revocation") -> StatusEntry:
    (entry,) = parse_status_entries({"credentialStatus": status_entry(LIST_URL, index, purpose)})
    return entry


def _list(*revoked: int, valid_until: datetime | None = None) -> dict[str, object]:
    bits = Bitstring()
    for index in revoked:
        bits.set(index)
    status_list = build_status_list_credential(LIST_URL, "did:web:x", ["revocation", "suspension"], bits, FROM)
    if valid_until is not None:
        status_list["validUntil"] = valid_until.isoformat()
    return status_list


def test_each_entry_reads_its_own_bit_from_one_prepared_list() -> None:
    cache, status_list = ResultCache(), _list(7)
    results = [_checked(_entry(i), status_list, NOW, cache) for i in (6, 7, 8, 7)]
    assert [r.valid for r in results] == [True, False, True, False]
    assert (cache.misses, cache.hits) == (1, 3)  # one list-level preparation for four credentials


def test_a_new_list_version_is_seen_at_once() -> None:
    cache = ResultCache()
    assert _checked(_entry(42), _list(), NOW, cache).valid
    assert not _checked(_entry(42), _list(42), NOW, cache).valid  # the revocation's new list object
    assert _checked(_entry(42, "suspension"), _list(42), NOW, cache).valid is False


def test_the_validity_window_is_checked_on_every_hit() -> None:
    cache, status_list = ResultCache(), _list(valid_until=NOW + timedelta(hours=1))
    assert _checked(_entry(1), status_list, NOW, cache).valid
    with pytest.raises(StatusListValidityError):
        _checked(_entry(2), status_list, NOW + timedelta(hours=2), cache)


def test_one_verification_decides_a_list_s_trust_once(monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio

    from microcred.verification import status_checks
    from microcred.verification.ports import VerificationPorts

    status_list, calls = _list(3), []

    class Source:
        async def get(self, url: str) -> tuple[dict[str, object], datetime]:
            return status_list, NOW

    async def trusted(list_credential: object, ports: object, now: datetime) -> str | None:
        calls.append(list_credential)
        return None

    monkeypatch.setattr(status_checks, "_list_trusted", trusted)
    ports = VerificationPorts(keys=None, status=Source(), cache=ResultCache())  # type: ignore[arg-type]
    document = {"credentialStatus": [status_entry(LIST_URL, 3, "revocation"), status_entry(LIST_URL, 4, "suspension")]}
    revocation, suspension = asyncio.run(status_checks.check_statuses(document, ports, NOW))
    assert (revocation.status.value, suspension.status.value) == ("invalid", "valid")
    assert len(calls) == 1
    asyncio.run(status_checks.check_statuses(document, ports, NOW))
    assert len(calls) == 2  # decided again by the next verification (keys may have changed)
