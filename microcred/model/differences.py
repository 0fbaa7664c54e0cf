"""Which fields of two micro-credentials differ: what an idempotency conflict names.

A key reused for other content must be refused, not answered with the earlier credential as if nothing
happened; the refusal says which fields differ (``learner.full_name``, ``title.values[en]``,
``learning_outcomes[1].text.values[en]``), so that a corrected row can be recognised as a correction.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from google.protobuf import json_format

from microcred.gen.microcred.v1 import elements_pb2 as pb

__all__ = ["changed_fields"]


def _leaves(value: Any, path: str, out: dict[str, Any]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if path.endswith(".values"):  # LangString maps read as title.values[en]
                _leaves(item, f"{path}[{key}]", out)
            else:
                _leaves(item, f"{path}.{key}" if path else key, out)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _leaves(item, f"{path}[{i}]", out)
        if not value:
            out[path] = []
    else:
        out[path] = value


def changed_fields(before: pb.MicroCredential, after: pb.MicroCredential, *,
                   ignore: Iterable[str] = ()) -> list[str]:
    """The paths of the fields whose values differ (set in one, unset or different in the other), sorted;
    fields under a top-level name in ``ignore`` are not compared."""
    skip = set(ignore)
    sides = []
    for message in (before, after):
        out: dict[str, Any] = {}
        _leaves(json_format.MessageToDict(message, preserving_proto_field_name=True), "", out)
        sides.append({p: v for p, v in out.items() if p.split(".")[0].split("[")[0] not in skip})
    first, second = sides
    return sorted(p for p in first.keys() | second.keys() if first.get(p) != second.get(p))
