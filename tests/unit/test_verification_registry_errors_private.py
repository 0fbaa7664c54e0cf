"""A trust registry that cannot be read is "unknown" in the public report, and the error's own text (addresses,
internals) stays in the log: the report names only that the registry could not be read."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from microcred.verification.accreditation import TrustDirectory, check_accreditation
from microcred.verification.checks import CheckStatus, Reason
from microcred.verification.keys import RegistryKeyResolver
from microcred.verification.ports import KeyLookupProblem

SECRET = "Error 111 connecting to redis-internal.agency.local:6379. Connection refused."
NOW = datetime(2026, 1, 1, tzinfo=UTC)


class BrokenRegistry:
    """Every read fails the way a Redis client does, with internal addresses in the message."""

    def __getattr__(self, name: str) -> Any:
        async def fail(*args: Any, **kwargs: Any) -> Any:
            raise ConnectionError(SECRET)
        return fail


async def test_a_key_lookup_failure_does_not_carry_the_error_text() -> None:
    lookup = await RegistryKeyResolver(BrokenRegistry()).resolve(  # type: ignore[arg-type]
        "did:web:issuer.example#key-1", NOW)
    assert lookup.problem is KeyLookupProblem.LOOKUP_FAILED
    assert "redis-internal" not in (lookup.message or "") and "6379" not in (lookup.message or "")
    assert "trust registry could not be read" in (lookup.message or "")


async def test_an_unreadable_registry_in_the_accreditation_check_does_not_carry_the_error_text() -> None:
    document = {"issuer": {"id": "did:web:issuer.example"}, "validFrom": "2025-01-01T00:00:00Z"}
    result = await check_accreditation(document, TrustDirectory(BrokenRegistry()), NOW)  # type: ignore[arg-type]
    assert (result.status, result.reason_code) == (CheckStatus.UNKNOWN, Reason.REGISTRY_UNAVAILABLE)
    assert "redis-internal" not in repr(result.details) and "6379" not in repr(result.details)
