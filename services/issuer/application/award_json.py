"""Awards (``MicroCredential``) from protobuf JSON, a cohort's repeated parts parsed once.

``json_format.ParseDict`` walks every value in Python: about half of the issuer's CPU per offer when a cohort of
awards is posted to ``POST /oid4vci/offers``. The awards of a cohort repeat most of their content (the
achievement with its learning outcomes, the awarding body, quality assurance, ...) and differ in the learner and a
few scalars. :class:`AwardParser` parses each top-level object or array value once per distinct content (keyed by
its field and its canonical JSON bytes), keeps its wire encoding, and builds each award from the scalars parsed
as usual plus those encodings merged in (protobuf's merge of disjoint top-level fields: the same message as parsing
the whole document).

The result equals ``ParseDict(document, MicroCredential())`` or the same error: anything the shortcut cannot
vouch for goes through ``ParseDict`` whole (a key that names no field, two keys naming one field or one
``oneof``, a value ``orjson`` cannot write, any parse error, so the error message is ``ParseDict``'s own).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import orjson
from google.protobuf import json_format

from microcred.gen.microcred.v1 import elements_pb2 as pb

__all__ = ["AwardParser", "parse_award"]

_FIELDS: dict[str, Any] = {  # a key as ParseDict takes it (the field's name or its JSON name) -> its descriptor
    **{f.name: f for f in pb.MicroCredential.DESCRIPTOR.fields},
    **{f.json_name: f for f in pb.MicroCredential.DESCRIPTOR.fields}}
_MAX_PART_BYTES = 64 * 1024  # a part larger than this is parsed every time, not kept


def parse_award(document: Any) -> pb.MicroCredential:
    """A ``MicroCredential`` from protobuf JSON (ValueError naming what is wrong)."""
    if not isinstance(document, dict):
        raise ValueError("credential must be a JSON object")
    award = pb.MicroCredential()
    try:
        json_format.ParseDict(document, award)
    except json_format.ParseError as exc:
        raise ValueError(f"credential is not a MicroCredential: {str(exc)[:300]}") from exc
    return award


class AwardParser:
    """:func:`parse_award` with the top-level object and array values kept, parsed, by content (at most
    ``entries`` of them, the least recently used dropped). Not for concurrent use from threads."""

    def __init__(self, entries: int = 1024) -> None:
        self.entries = entries
        self._parts: OrderedDict[tuple[str, bytes], bytes] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def parse(self, document: Any) -> pb.MicroCredential:
        """As :func:`parse_award`."""
        if not isinstance(document, dict) or not self._plain(document):
            return parse_award(document)
        scalars: dict[str, Any] = {}
        parts: list[bytes] = []
        try:
            for key, value in document.items():
                if isinstance(value, dict | list) and value:
                    parts.append(self._part(key, value))
                else:
                    scalars[key] = value
            award = pb.MicroCredential()
            json_format.ParseDict(scalars, award)
        except (json_format.ParseError, TypeError, orjson.JSONEncodeError):
            return parse_award(document)  # ParseDict's own error, for the whole document
        award.MergeFromString(b"".join(parts))
        return award

    @staticmethod
    def _plain(document: dict[str, Any]) -> bool:
        """Every key names a field, no field or ``oneof`` twice (else ParseDict must judge the whole)."""
        fields: set[str] = set()
        oneofs: set[str] = set()
        for key in document:
            field = _FIELDS.get(key)
            if field is None or field.name in fields:
                return False
            fields.add(field.name)
            if field.containing_oneof is not None:
                if field.containing_oneof.name in oneofs:
                    return False
                oneofs.add(field.containing_oneof.name)
        return True

    def _part(self, key: str, value: Any) -> bytes:
        """The wire encoding of a message holding only ``key``'s value (ParseError when it is not valid)."""
        content = orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
        if b"null" in content:  # orjson writes NaN and Infinity as null too: such content is not a safe key
            return _encoded(key, value)
        kept = self._parts.get((key, content))
        if kept is not None:
            self._parts.move_to_end((key, content))
            self.hits += 1
            return kept
        self.misses += 1
        encoded = _encoded(key, value)
        if len(content) <= _MAX_PART_BYTES and self.entries:
            self._parts[(key, content)] = encoded
            if len(self._parts) > self.entries:
                self._parts.popitem(last=False)
        return encoded


def _encoded(key: str, value: Any) -> bytes:
    message = pb.MicroCredential()
    json_format.ParseDict({key: value}, message)
    return message.SerializeToString()
