"""What the verifier remembers between distinct credentials (ports kept across requests, as the gateway keeps
them): an accreditation result per registry snapshot, a status list's trust per list object and key lookups.
Remembered answers are reused only while what they were computed from is the same object; any new snapshot,
list or key gives a fresh answer."""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from microcred.gen.microcred.v1 import events_pb2
from microcred.verification import CheckId, CheckStatus, Reason, Verdict, verify
from microcred.verification.accreditation import TrustDirectory
from tests.verifier_support import NOW, World, registry_event, sign_list

C, S, R, V = CheckId, CheckStatus, Reason, Verdict


async def test_an_accreditation_result_is_reused_for_the_same_snapshot_and_renewed_with_the_next() -> None:
    world = World()
    directory = TrustDirectory(world.registry, fresh_ttl=3600)  # one snapshot for the whole test
    ports = world.ports(directory=directory)
    first = (await verify(world.credential(1), ports, NOW)).check(C.ACCREDITATION)
    second = (await verify(world.credential(2), ports, NOW)).check(C.ACCREDITATION)
    assert first is not None and first.status is S.VALID
    assert second is first  # same issuer snapshot, level and date: computed once
    registry_event(world.registry, events_pb2.AccreditationWithdrawn(issuer_id=world.issuer_id,
                                                                     accreditation_id="acc-1", reason="audit"), NOW)
    renewed = world.ports(directory=TrustDirectory(world.registry, fresh_ttl=0))  # the next snapshot
    report = await verify(world.credential(3), renewed, NOW)
    withdrawn = report.check(C.ACCREDITATION)
    assert withdrawn is not None and (withdrawn.status, withdrawn.reason_code) == (S.INVALID,
                                                                                   R.ACCREDITATION_WITHDRAWN)
    assert report.verdict is V.INVALID


async def test_a_status_list_replaced_by_one_of_another_signer_is_judged_again() -> None:
    world = World()
    ports = world.ports()
    assert (await verify(world.credential(1), ports, NOW)).verdict is V.VALID
    intruder = Ed25519PrivateKey.from_private_bytes(b"\x09" * 32)
    world.status.lists[world.revocation_url] = sign_list(world.status.lists[world.revocation_url],
                                                         world.revocation_url, intruder)
    report = await verify(world.credential(2), ports, NOW)
    revocation = report.check(C.REVOCATION)
    assert revocation is not None and (revocation.status, revocation.reason_code) == (S.UNKNOWN,
                                                                                      R.STATUS_VERIFICATION_ERROR)
    world.publish()  # the right signer again: a new list object
    assert (await verify(world.credential(3), ports, NOW)).verdict is V.VALID


async def test_a_list_key_that_resolves_differently_is_judged_again() -> None:
    world = World()
    ports = world.ports()
    assert (await verify(world.credential(1), ports, NOW)).verdict is V.VALID

    class Refusing:
        """A resolver that no longer vouches for any key."""

        async def resolve(self, method: str, signed_at: Any, purpose: str = "assertionMethod") -> Any:
            from microcred.verification import KeyLookup, KeyLookupProblem
            return KeyLookup(None, problem=KeyLookupProblem.UNKNOWN_VERIFICATION_METHOD, message="gone")

        async def knows_issuer(self, issuer_id: str) -> bool:
            return True

    ports.keys = Refusing()  # same list objects, same cache: the lookups differ
    report = await verify(world.credential(2), ports, NOW)
    revocation = report.check(C.REVOCATION)
    assert revocation is not None and revocation.status is S.UNKNOWN
    assert report.verdict is not V.VALID
