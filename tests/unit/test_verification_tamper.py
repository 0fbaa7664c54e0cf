"""Property: changing any field of a signed credential makes the signature check fail.

Any leaf may be replaced (null included), any key deleted, any object may gain a key with a non-null value
(JSON-LD reads an added ``null`` as "no value": the signed statements are unchanged, so it is not tampering).
The signature check is then never
``valid``; it is ``invalid`` except where the change makes the proof uncheckable rather than wrong (the
``@context``, the proof's type/suite/verification method), where ``unknown`` is the honest answer. Either way
the verdict is never ``valid``.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from microcred.verification import CheckId, CheckStatus, Verdict, VerificationPorts, verify
from microcred.verification.checks import Reason
from microcred.verification.keys import ChainKeyResolver, ControllerDocumentResolver, DidKeyResolver
from tests.verifier_support import NOW, DictStatusSource, World, controller_documents, fixture_lists, load

Path = tuple[str | int, ...]
UNCHECKABLE_ROOTS = {("@context",), ("proof", "type"), ("proof", "cryptosuite"), ("proof", "verificationMethod")}
WORLD = World()
DOCUMENTS = {
    "w3c-eddsa-rdfc-2022": load("w3c/eddsa-rdfc-2022.json"),
    "w3c-ed25519-signature-2020": load("w3c/ed25519-signature-2020.json"),
    "platform-micro-credential": WORLD.credential(),
}
PORTS = VerificationPorts(keys=ChainKeyResolver(DidKeyResolver(), ControllerDocumentResolver(controller_documents())),
                          status=DictStatusSource(fixture_lists()))


def paths(node: Any, prefix: Path = ()) -> list[Path]:
    """Every path to a value (objects, lists and leaves)."""
    found: list[Path] = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += paths(value, (*prefix, i))
    return found


def parent_and_key(doc: Any, path: Path) -> tuple[Any, str | int]:
    node = doc
    for step in path[:-1]:
        node = node[step]
    return node, path[-1]


def normalised(path: Path) -> Path:
    return tuple(p for p in path if not isinstance(p, int))


def uncheckable(path: Path) -> bool:
    plain = normalised(path)
    return any(plain[: len(root)] == root for root in UNCHECKABLE_ROOTS)


leaves = st.one_of(st.text(min_size=0, max_size=20), st.integers(-5, 10**6), st.booleans(), st.none(),
                   st.floats(allow_nan=False, allow_infinity=False))
new_keys = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=12)


@st.composite
def tampered(draw: st.DrawFn, name: str) -> tuple[dict[str, Any], Path]:
    doc = copy.deepcopy(DOCUMENTS[name])
    path = draw(st.sampled_from(paths(doc)))
    parent, key = parent_and_key(doc, path)
    action = draw(st.sampled_from(["replace", "delete", "add"]))
    if action == "add" and isinstance(parent[key], dict):
        existing = set(parent[key])
        added = draw(new_keys.filter(lambda k: k not in existing))
        parent[key][added] = draw(leaves.filter(lambda v: v is not None))  # JSON-LD null = "no value": a no-op
    elif action == "delete":
        del parent[key]
    else:
        old = parent[key]
        parent[key] = draw(leaves.filter(lambda v: bool(v != old or type(v) is not type(old))))
    return doc, path


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
async def test_untampered_documents_verify(name: str) -> None:
    report = await verify(DOCUMENTS[name], WORLD.ports() if name.startswith("platform") else PORTS, NOW)
    signature = report.check(CheckId.SIGNATURE)
    assert signature is not None and signature.status is CheckStatus.VALID


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(data=st.data())
async def test_any_tampering_breaks_the_signature(name: str, data: st.DataObject) -> None:
    doc, path = data.draw(tampered(name))
    ports = WORLD.ports(cache=None) if name.startswith("platform") else PORTS
    report = await verify(doc, ports, NOW)
    signature = report.check(CheckId.SIGNATURE)
    assert signature is not None
    assert signature.status is not CheckStatus.VALID, (path, signature)
    fmt = report.check(CheckId.FORMAT)
    refused = fmt is not None and fmt.reason_code in (Reason.NOT_COMPACTED, Reason.TOO_COMPLEX)
    if not uncheckable(path) and not refused:  # a refused document is not canonicalised: NOT_CHECKED
        assert signature.status is CheckStatus.INVALID, (path, signature)
    assert report.verdict is not Verdict.VALID
