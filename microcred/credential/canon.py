"""Fast RDFC-1.0 canonical N-Quads for many JSON-LD documents of the same *shape*.

JSON-LD expansion dominates a naive signer (about 6 ms of pyld per credential). But the credentials of one
cohort differ only in their string values: keys, types, contexts, list lengths, booleans and numbers (the
*shape*) are what JSON-LD processing decides on. So, once per shape:

1. every string value of the document (outside ``@context``, ``type`` and other ``@`` keywords) is replaced by a
   unique sentinel IRI ``urn:x-microcred-slot:N`` and pyld canonicalises that document, in safe mode;
2. each sentinel must come back as exactly one whole RDF term (an IRI or a literal's lexical value),
   otherwise the shape is marked *unsafe* and always handled by pyld;
3. the N-Quads, with slots where the sentinels were, are the shape's template
   (:mod:`microcred.credential.rdfc_template`).

Then, per document: fill the slots with the document's strings (IRI slots only take values pyld would pass
through unchanged: absolute, not a blank node, not a compact IRI of a defined term), deduplicate the quads
when the template allows duplicates, and run RDFC-1.0. Whenever every blank node has a unique first-degree
hash (the normal case for credentials) RDFC-1.0 needs no N-degree hashing and is done here; otherwise the
document goes to pyld. The first document of every shape is also canonicalised by pyld and compared: any
difference marks the shape unsafe, so a wrong template can never sign anything.

What is constant across a cohort is cached: RDF terms of unchanged values, first-degree hashes of blank nodes
whose values did not change, and, for sub-documents registered with :meth:`TemplateCanonicalizer.freeze`
(the issuer's rendered achievement, shared by a cohort's credentials), their flattened values.
"""

from __future__ import annotations

import json
import logging
import operator
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from itertools import compress
from typing import Any

from microcred.credential.rdfc_template import (
    SENTINEL,
    STRUCTURAL_KEYS,
    Template,
    UnsafeShape,
    build_template,
    iri_ok,
    picker,
    rdfc_planned,
    rdfc_unique,
    template_from_nquads,
    with_sentinels,
)
from microcred.jsonld import loader

__all__ = ["CanonStats", "ExpandedTemplate", "Shape", "TemplateCanonicalizer", "shape_of"]

log = logging.getLogger(__name__)

# id(node) -> (node, its shape parts, its values): sub-documents promised never to change.
_Frozen = dict[int, tuple[Any, list[str], list[str]]]


def _flatten(node: Any, values: list[str], parts: list[str], frozen: _Frozen) -> None:
    """Append ``node``'s shape to ``parts`` and its string values, in order, to ``values``.

    Leaf strings are handled inline (no call per leaf): this walk runs once per signed credential.
    """
    if isinstance(node, dict):
        parts.append("{")
        for key, value in node.items():
            parts.append(key)
            if key in STRUCTURAL_KEYS:
                parts.append("\x02" + repr(value))
            elif type(value) is str:
                parts.append("\x01")
                values.append(value)
            elif frozen and id(value) in frozen:
                _, frozen_parts, frozen_values = frozen[id(value)]
                parts.extend(frozen_parts)
                values.extend(frozen_values)
            else:
                _flatten(value, values, parts, frozen)
        parts.append("}")
    elif isinstance(node, list):
        parts.append("[")
        for item in node:
            if type(item) is str:
                parts.append("\x01")
                values.append(item)
            else:
                _flatten(item, values, parts, frozen)
        parts.append("]")
    elif isinstance(node, str):
        parts.append("\x01")
        values.append(node)
    else:  # bool, number, None: part of the shape (their RDF form depends on the value)
        parts.append(f"\x03{type(node).__name__}:{node!r}")


@dataclass(frozen=True)
class Shape:
    """A document's shape key and its string values, in :func:`_flatten` order."""

    key: str
    values: list[str]


def shape_of(document: Mapping[str, Any]) -> Shape:
    """The shape of ``document`` (what a template is looked up by)."""
    values: list[str] = []
    parts: list[str] = []
    _flatten(document, values, parts, {})
    return Shape("\x00".join(parts), values)


def _fill_and_canonize(template: Template, values: list[str]) -> str | None:
    """RDFC-1.0 N-Quads of ``template`` filled with ``values``; None when a blank node's first-degree hash is
    not unique (N-degree hashing is pyld's job)."""
    template.fill(values)
    if template.may_collide:
        quads = template.dataset()
        if len(set(quads)) != len(quads):
            return rdfc_unique(list(dict.fromkeys(quads)))
    return rdfc_planned(template, values)


_SLOT_VALUE = re.compile(re.escape(SENTINEL) + r"(\d+)")


class ExpandedTemplate:
    """The JSON-LD expansion of one document shape, with slots for its string values.

    Built from the expansion of the shape's sentinel document: every sentinel must appear as a whole string
    value (an ``@id`` or an ``@value``), otherwise :class:`UnsafeShape`; it is then the same expansion pyld gives
    a document of the shape, under the same conditions as the N-Quads template (IRI slots only take values pyld
    passes through unchanged).

    Filling is copy-on-write against the previous fill: only the containers on the paths to the values that
    changed are copied, the rest is shared (a cohort's credentials differ in a handful of values out of a few
    hundred, and building a fresh expansion of ~1,000 objects per request cost more than the rest of the
    canonicalisation). So an expansion handed out is **shared and read-only**: nothing may modify it.
    """

    def __init__(self, expanded_sentinel: list[Any]) -> None:
        text = json.dumps(expanded_sentinel, ensure_ascii=False, separators=(",", ":"))
        tree = json.loads(text)  # a private copy
        paths: dict[int, list[tuple[str | int, ...]]] = {}
        stack: list[tuple[Any, tuple[str | int, ...]]] = [(tree, ())]
        while stack:
            node, path = stack.pop()
            items = node.items() if isinstance(node, dict) else enumerate(node)
            for key, value in items:
                if isinstance(value, dict | list):
                    stack.append((value, (*path, key)))
                elif isinstance(value, str) and SENTINEL in value:
                    match = _SLOT_VALUE.fullmatch(value)
                    if match is None:
                        raise UnsafeShape("sentinel inside a longer string of the expansion")
                    paths.setdefault(int(match.group(1)), []).append((*path, key))
        if text.count(SENTINEL) != sum(len(p) for p in paths.values()):
            raise UnsafeShape("sentinel outside a value of the expansion")
        self._paths = paths
        self._tree: list[Any] = tree
        self._slots = sorted(paths)
        # the slots' values, picked from a document's values in C; None while the sentinel is still in place
        self._pick = picker(self._slots)
        self._filled: tuple[str | None, ...] = (None,) * len(self._slots)
        self._lock = threading.Lock()

    def fill(self, values: list[str]) -> list[Any]:
        """The expansion of the document with these values (shared, read-only)."""
        with self._lock:
            picked = self._pick(values)
            # the slots whose values changed since the last fill, found in C (map/compress)
            changed = [self._slots[i] for i in compress(range(len(picked)), map(operator.ne, picked, self._filled))]
            if not changed:
                return self._tree
            self._filled = picked
            root = list(self._tree)
            copied = {id(root)}
            for slot in changed:
                value = values[slot]
                for path in self._paths[slot]:
                    node: Any = root
                    for step in path[:-1]:
                        child = node[step]
                        if id(child) not in copied:
                            child = dict(child) if isinstance(child, dict) else list(child)
                            node[step] = child
                            copied.add(id(child))
                        node = child
                    node[path[-1]] = value
            self._tree = root
            return root


@dataclass
class CanonStats:
    """Counters: documents done by template, by pyld (fallback) and templates built."""

    fast: int = 0
    fallback: int = 0
    templates: int = 0
    unsafe_shapes: int = 0
    checks: int = 0


@dataclass
class TemplateCanonicalizer:
    """Drop-in for :func:`microcred.jsonld.loader.canonize` that caches one template per document shape."""

    max_templates: int = 256
    max_frozen: int = 64
    fallback: Callable[[Mapping[str, Any]], str] = loader.canonize
    stats: CanonStats = field(default_factory=CanonStats)

    def __post_init__(self) -> None:
        self._templates: OrderedDict[str, Template | None] = OrderedDict()
        self._expanded: dict[str, ExpandedTemplate] = {}
        self._frozen: OrderedDict[int, tuple[Any, list[str], list[str]]] = OrderedDict()
        self._lock = threading.Lock()

    def freeze(self, node: dict[str, Any]) -> None:
        """Promise that ``node`` (a sub-document, e.g. a shared achievement) will never be modified again, so
        its flattened values can be reused wherever it appears. The promise is the caller's to keep."""
        with self._lock:
            if id(node) in self._frozen:
                self._frozen.move_to_end(id(node))
                return
        values: list[str] = []
        parts: list[str] = []
        _flatten(node, values, parts, {})
        with self._lock:
            self._frozen[id(node)] = (node, parts, values)  # holds ``node``, so its id cannot be reused
            while len(self._frozen) > self.max_frozen:
                self._frozen.popitem(last=False)

    def canonize(self, document: Mapping[str, Any]) -> str:
        """RDFC-1.0 N-Quads of ``document``, identical to ``loader.canonize`` (and raising the same errors)."""
        values: list[str] = []
        parts: list[str] = []
        _flatten(document, values, parts, dict(self._frozen) if self._frozen else {})
        key = "\x00".join(parts)
        template = self._template(key, document, len(values))
        if template is None or not all(iri_ok(values[i]) for i in template.iri_slots):
            self.stats.fallback += 1
            return self.fallback(document)
        result = _fill_and_canonize(template, values)
        if result is None:
            self.stats.fallback += 1
            return self.fallback(document)
        if not template.checked:
            return self._check(key, template, document, result)
        self.stats.fast += 1
        return result

    def _template(self, key: str, document: Mapping[str, Any], slots: int) -> Template | None:
        with self._lock:
            if key in self._templates:
                self._templates.move_to_end(key)
                return self._templates[key]
        template: Template | None
        try:
            template = build_template(with_sentinels(document, [0]), slots)
            self.stats.templates += 1
        except UnsafeShape as exc:
            log.info("JSON-LD shape not templatable, using pyld for it", extra={"why": str(exc)})
            template = None
            self.stats.unsafe_shapes += 1
        # Errors of the document itself (remote context, undefined term) propagate from loader.canonize.
        with self._lock:
            self._templates[key] = template
            while len(self._templates) > self.max_templates:
                self._templates.popitem(last=False)
        return template

    def _check(self, key: str, template: Template, document: Mapping[str, Any], result: str) -> str:
        """First use of a template: compare with pyld once; a difference disables the template for good."""
        self.stats.checks += 1
        reference = self.fallback(document)
        if reference != result:
            log.error("template canonicalisation differs from pyld; shape disabled")
            with self._lock:
                self._templates[key] = None
            self.stats.unsafe_shapes += 1
        else:
            template.checked = True
        return reference

    # ---------------------------------------------------------------------------------------------------------
    # verification: never run pyld here; shapes are learnt from canonical forms computed elsewhere (bounded)

    def known(self, shape: Shape) -> tuple[str, list[Any] | None] | None:
        """``(N-Quads, expansion or None)`` of the document of ``shape`` when a checked template covers it, else
        None (unknown or unsafe shape, or values a template cannot take). Never calls pyld."""
        with self._lock:
            template = self._templates.get(shape.key)
            expanded = self._expanded.get(shape.key)
        if template is None or not template.checked:
            return None
        values = shape.values
        if not all(iri_ok(values[i]) for i in template.iri_slots):
            return None
        with self._lock:  # templates keep per-fill state (last terms, memos): one fill at a time
            result = _fill_and_canonize(template, values)
        if result is None:
            return None
        self.stats.fast += 1
        return result, expanded.fill(values) if expanded is not None else None

    def seen(self, shape: Shape) -> bool:
        """Whether ``shape`` was learnt already (a checked template, or marked unsafe)."""
        with self._lock:
            template = self._templates.get(shape.key, False)
        return template is None or (isinstance(template, Template) and template.checked)

    def learn_unsafe(self, shape: Shape) -> None:
        """Remember that ``shape`` has no template (its sentinel document could not be processed)."""
        with self._lock:
            self._templates[shape.key] = None
            while len(self._templates) > self.max_templates:
                dropped, _ = self._templates.popitem(last=False)
                self._expanded.pop(dropped, None)
        self.stats.unsafe_shapes += 1

    def learn(self, shape: Shape, sentinel_nquads: str, sentinel_expanded: list[Any], nquads: str) -> None:
        """Learn ``shape`` from pyld's canonical forms of its sentinel document and of one document of that shape
        (``nquads``), computed elsewhere: the template is kept, as checked, only when it reproduces ``nquads``."""
        template: Template | None
        expanded: ExpandedTemplate | None = None
        try:
            template = template_from_nquads(sentinel_nquads, len(shape.values))
            expanded = ExpandedTemplate(sentinel_expanded)
        except UnsafeShape as exc:
            log.info("JSON-LD shape not templatable, using pyld for it", extra={"why": str(exc)})
            template = None
        if template is not None and all(iri_ok(shape.values[i]) for i in template.iri_slots):
            mine = _fill_and_canonize(template, shape.values)
            if mine != nquads:
                if mine is not None:
                    log.error("template canonicalisation differs from pyld; shape disabled")
                template = None
            else:
                template.checked = True
        with self._lock:
            self._templates[shape.key] = template
            if template is not None and expanded is not None:
                self._expanded[shape.key] = expanded
            while len(self._templates) > self.max_templates:
                dropped, _ = self._templates.popitem(last=False)
                self._expanded.pop(dropped, None)
            self.stats.templates += template is not None
            self.stats.unsafe_shapes += template is None

