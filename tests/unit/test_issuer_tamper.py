"""Tampering with any field of an issued credential breaks its proof (property test over every leaf)."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from microcred.crypto.data_integrity import verify_data_integrity
from services.issuer.application.issuance import Caller, IssueItem
from tests.fixtures.issuer.world import AGENCY
from tests.harness.factories import valid_micro_credential
from tests.unit.test_issuer_issuance import Rig, issued, rig

Path = tuple[str | int, ...]


@pytest.fixture(scope="module")
def signed() -> tuple[Rig, dict[str, Any]]:
    import asyncio

    r = rig()
    [outcome] = asyncio.run(r.issuance.issue(Caller("uni-a", AGENCY), [IssueItem("tamper", valid_micro_credential())]))
    return r, json.loads(issued(outcome).credential_json)


def leaves(node: Any, path: Path = ()) -> Iterator[tuple[Path, Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from leaves(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from leaves(value, (*path, i))
    else:
        yield path, node


def _set(doc: Any, path: Path, value: Any) -> None:
    for step in path[:-1]:
        doc = doc[step]
    doc[path[-1]] = value


def _delete(doc: Any, path: Path) -> None:
    for step in path[:-1]:
        doc = doc[step]
    del doc[path[-1]]


def _verified(r: Rig, doc: dict[str, Any]) -> bool | None:
    key = r.world.keystore.get_signing_key("uni-a/key-1").public_key()
    return verify_data_integrity(doc, lambda vm: key).verified


def test_the_untampered_credential_verifies(signed: tuple[Rig, dict[str, Any]]) -> None:
    r, doc = signed
    assert _verified(r, doc) is True
    assert len(list(leaves(doc))) > 150


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(data=st.data())
def test_changing_any_leaf_breaks_the_proof(signed: tuple[Rig, dict[str, Any]], data: st.DataObject) -> None:
    r, original = signed
    path, value = data.draw(st.sampled_from(list(leaves(original))), label="leaf")
    if isinstance(value, bool):
        replacement: Any = not value
    elif isinstance(value, str):
        replacement = data.draw(st.one_of(
            st.just(value + " "), st.just(value.upper() if value != value.upper() else value.lower()),
            st.text(min_size=1, max_size=12)).filter(lambda v: v != value), label="replacement")
    else:
        replacement = data.draw(st.integers().filter(lambda v: v != value), label="replacement")
    doc = copy.deepcopy(original)
    _set(doc, path, replacement)
    assert _verified(r, doc) is not True, (path, value, replacement)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(data=st.data())
def test_removing_any_field_breaks_the_proof(signed: tuple[Rig, dict[str, Any]], data: st.DataObject) -> None:
    r, original = signed
    path, _ = data.draw(st.sampled_from(list(leaves(original))), label="leaf")
    cut = data.draw(st.integers(1, len(path)), label="depth")  # drop the leaf or one of its containers
    doc = copy.deepcopy(original)
    _delete(doc, path[:cut])
    assert _verified(r, doc) is not True, path[:cut]


def test_adding_a_field_breaks_the_proof(signed: tuple[Rig, dict[str, Any]]) -> None:
    r, original = signed
    doc = copy.deepcopy(original)
    doc["credentialSubject"]["achievement"]["alignment"].append(
        {"type": ["Alignment"], "targetName": "EQF level 8", "targetUrl": "http://data.europa.eu/snb/eqf/8"})
    assert _verified(r, doc) is False
