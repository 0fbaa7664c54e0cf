"""Canonical N-Quads templates of JSON-LD document shapes, and the RDFC-1.0 fast path over filled templates.

Used by :class:`microcred.credential.canon.TemplateCanonicalizer` (see there for the idea). A template is the
RDFC-1.0 output of a document whose string values were replaced by sentinel IRIs, with each sentinel turned
into a *slot*. Filling the slots with a document's values gives that document's dataset (before blank-node
relabelling); :func:`rdfc_planned` then canonicalises it when every blank node's first-degree hash is unique,
and caches those hashes per blank node, keyed by the values that feed them (for a cohort most blank nodes,
e.g. the achievement's alignments, hash the same every time).
"""

from __future__ import annotations

import hashlib
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import compress, repeat
from typing import Any

from pyld.nquads import escape, parse_nquads

from microcred.jsonld import loader
from microcred.jsonld.inline_context import pinned_vocabulary

__all__ = ["STRUCTURAL_KEYS", "Template", "UnsafeShape", "build_template", "iri_ok", "picker", "rdfc_planned",
           "rdfc_unique", "template_from_nquads", "with_sentinels"]

SENTINEL = "urn:x-microcred-slot:"
_SENTINEL_RE = re.compile(re.escape(SENTINEL) + r"(\d+)")
_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
_RDF_LANGSTRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
# What pyld leaves untouched in an @id / @type:@id position: an absolute IRI whose scheme is not a term.
_IRI_OK = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|^`\\]*")
_NEEDS_ESCAPE = re.compile(r'[\\\t\n\r"]')
#: Keys whose values are part of a document's shape, never slots (``proofPurpose``: its value is an IRI by
#: vocabulary, ``assertionMethod`` -> ``sec:assertionMethod``, so each value is a shape of a proof config).
STRUCTURAL_KEYS = frozenset({"type", "proofPurpose", "@context", "@type", "@language", "@direction", "@container",
                             "@list", "@set", "@graph", "@included", "@nest", "@json", "@version", "@vocab", "@base"})
_MEMO_LIMIT = 4096  # cached first-degree hashes per blank node
_MEMO_GIVE_UP = 256  # misses without a hit after which a blank node is no longer cached (per-learner nodes)

# A template quad: (subject, predicate, object); an int is a slot index, a str constant N-Quads text.
TQuad = tuple[int | str, str, int | str]
# How one quad appears in a blank node's first-degree hash: (quad index, subject text or None = the filled
# term, object text or None).
Mention = tuple[int, str | None, str | None]


class UnsafeShape(Exception):
    """A sentinel did not come back as one whole RDF term: values influence the structure."""


@lru_cache(maxsize=8192)  # asked for every IRI slot of every document; a cohort repeats most of its IRIs
def iri_ok(value: str) -> bool:
    """True if pyld would emit ``value`` unchanged as an IRI (absolute, not a blank node, no term prefix)."""
    if not _IRI_OK.fullmatch(value):
        return False
    prefix, _, suffix = value.partition(":")
    terms = pinned_vocabulary().terms
    return prefix != "_" and (suffix.startswith("//") or prefix not in terms) and value not in terms


def with_sentinels(node: Any, counter: list[int]) -> Any:
    """``node`` with its i-th string value (in :func:`canon._flatten` order) replaced by sentinel i."""
    if isinstance(node, str):
        counter[0] += 1
        return f"{SENTINEL}{counter[0] - 1}"
    if isinstance(node, dict):
        return {k: (v if k in STRUCTURAL_KEYS else with_sentinels(v, counter)) for k, v in node.items()}
    if isinstance(node, list):
        return [with_sentinels(item, counter) for item in node]
    return node


@dataclass
class Template:
    """The canonical quads of one document shape, with slots for its string values.

    A template remembers its last fill, and the next fill redoes only what its
    changed values reach. A cohort's documents differ in a handful of values out of a hundred or more, so:

    * only the changed slots' terms are written again (the changed slots are found in C, ``map``/``compress``);
    * a blank node's first-degree hash is a function of the template and of its ``plan_slots``: it is kept
      while none of those change, else memoised on their values;
    * the dataset (the filled quads) is made only when a hash has to be computed or duplicates looked for.

    A template is not safe for concurrent use: callers fill and canonicalise one document at a time.
    """

    quads: list[TQuad]
    suffixes: list[str | None]  # per slot: None for an IRI slot, else the literal's suffix (^^<dt>, @lang, "")
    iri_slots: tuple[int, ...]
    plan: list[tuple[str, list[Mention]]]  # per blank node: its mentions
    plan_slots: list[tuple[int, ...]]  # per blank node: the slots its first-degree hash depends on
    may_collide: bool  # can two quads become equal once filled (then the dataset must be deduplicated)?
    checked: bool = False
    memos: list[dict[tuple[str, ...], str] | None] = field(default_factory=list)
    constants: list[str] = field(default_factory=list)
    hits: list[int] = field(default_factory=list)
    misses: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.memos = [{} for _ in self.plan]
        self.hits = [0] * len(self.plan)
        self.misses = [0] * len(self.plan)
        nodes: list[list[int]] = [[] for _ in self.suffixes]
        for b, slots in enumerate(self.plan_slots):
            for slot in slots:
                nodes[slot].append(b)
        self._nodes_of_slot = [tuple(n) for n in nodes]  # per slot: the blank nodes whose hash it feeds
        # Quads as indexes into (slot terms + constants), so filling and serialising run in C.
        self.constants = sorted({t for q in self.quads for t in q if isinstance(t, str)})
        self._blank_constants = [(i, c) for i, c in enumerate(self.constants) if c.startswith("_:")]
        at = {c: len(self.suffixes) + i for i, c in enumerate(self.constants)}
        self._pick = picker([t if isinstance(t, int) else at[t] for q in self.quads for t in q])
        self._subjects = picker([t if isinstance(t, int) else at[t] for t, _, _ in self.quads])
        self._objects = picker([t if isinstance(t, int) else at[t] for _, _, t in self.quads])
        self._middles = [f" {p} " for _, p, _ in self.quads]
        # The last fill: its values and their terms, its dataset (made when asked), per blank node its hash
        # under it (None: not known yet).
        self._values: list[str] | None = None
        self._filled: list[str] = []
        self._dataset: list[tuple[str, str, str]] | None = None
        self._hashes: list[str | None] = [None] * len(self.plan)

    def _term(self, slot: int, value: str) -> str:
        suffix = self.suffixes[slot]
        if suffix is None:
            return f"<{value}>"
        return f'"{escape(value) if _NEEDS_ESCAPE.search(value) else value}"{suffix}'

    def fill(self, values: list[str]) -> None:
        """Take these values as the document's (its dataset is :meth:`dataset`)."""
        last = self._values
        if last is None or len(last) != len(values):
            self._filled = [self._term(i, value) for i, value in enumerate(values)]
            self._hashes = [None] * len(self.plan)
        else:
            terms, hashes, nodes_of_slot = self._filled, self._hashes, self._nodes_of_slot
            for i in compress(range(len(values)), map(operator.ne, values, last)):
                terms[i] = self._term(i, values[i])
                for b in nodes_of_slot[i]:
                    hashes[b] = None
        self._values = list(values)
        self._dataset = None

    def dataset(self) -> list[tuple[str, str, str]]:
        """The quads of the last fill, in template order (blank nodes under their template labels)."""
        if self._dataset is None:
            flat = iter(self._pick(self._filled + self.constants))
            self._dataset = list(zip(flat, flat, flat, strict=True))
        return self._dataset

    def serialize(self, label: dict[str, str]) -> str:
        """The sorted canonical N-Quads of the last :meth:`fill`, blank nodes relabelled by ``label``.

        Every line is written and sorted again: keeping the last sorted lines and redoing only the changed ones
        does not pay, as the blank nodes whose hashes depend on a changed value (those next to the credential's
        own id, for one) take new places in the hash order, which relabels most of the others."""
        constants = self.constants.copy()
        for i, node in self._blank_constants:
            constants[i] = label.get(node, node)
        terms = self._filled + constants
        # "<s> <p> <o> ." per quad, concatenated in C (two map(add) passes: ≈ 15 % less than formatting one text
        # and splitting it into lines). Sorted without their line ends: the same order, as no N-Quads line is a
        # proper prefix of another (each ends with " ." after a whole term).
        lines = list(map(operator.add, map(operator.add, self._subjects(terms), self._middles),
                         map(operator.add, self._objects(terms), repeat(" ."))))
        lines.sort()
        return "\n".join(lines) + "\n" if lines else ""  # an empty dataset is an empty text, as pyld writes it

    def first_degree_hash(self, b: int, values: list[str]) -> str:
        """Hash First Degree Quads of blank node ``b`` under the last fill (whose values are ``values``): kept
        from an earlier fill when none of its slots changed since, else memoised on the values it depends on."""
        known = self._hashes[b]
        if known is not None:
            return known
        memo = self.memos[b]
        key: tuple[str, ...] = ()
        if memo is not None:
            key = tuple([values[i] for i in self.plan_slots[b]])
            hit = memo.get(key)
            if hit is not None:
                self.hits[b] += 1
                self._hashes[b] = hit
                return hit
        quads = self.dataset()
        digest = _hash_lines([f"{s or quads[i][0]} {quads[i][1]} {o or quads[i][2]} .\n"
                              for i, s, o in self.plan[b][1]])
        if memo is not None:
            self.misses[b] += 1
            if self.misses[b] > _MEMO_GIVE_UP and self.hits[b] * 10 < self.misses[b]:  # per-learner node
                self.memos[b] = None
            elif len(memo) < _MEMO_LIMIT:
                memo[key] = digest
        self._hashes[b] = digest
        return digest


def picker(indexes: list[int]) -> Callable[[list[str]], tuple[str, ...]]:
    """``operator.itemgetter`` that always returns a tuple (itemgetter of one index returns the item itself)."""
    if len(indexes) == 1:
        only = indexes[0]
        return lambda items: (items[only],)
    if not indexes:
        return lambda items: ()
    return operator.itemgetter(*indexes)


def _slot_of(value: str) -> int | None:
    match = _SENTINEL_RE.fullmatch(value)
    if match is not None:
        return int(match.group(1))
    if SENTINEL in value:
        raise UnsafeShape(f"sentinel inside {value!r}")
    return None


def _term(component: Mapping[str, Any], suffixes: dict[int, str | None]) -> int | str:
    kind, value = component["type"], component["value"]
    if kind == "blank node":
        return str(value)
    slot = _slot_of(value)
    if kind == "IRI":
        if slot is None:
            return f"<{value}>"
        suffixes[slot] = None
        return slot
    datatype = component.get("datatype", _XSD_STRING)
    if SENTINEL in datatype:
        raise UnsafeShape("sentinel in a datatype")
    if datatype == _RDF_LANGSTRING:
        suffix = f"@{component['language']}" if component.get("language") else ""
    else:
        suffix = "" if datatype == _XSD_STRING else f"^^<{datatype}>"
    if slot is None:
        return f'"{escape(value)}"{suffix}'
    suffixes[slot] = suffix
    return slot


def _is_bnode(term: int | str) -> bool:
    return isinstance(term, str) and term.startswith("_:")


def _plan(quads: list[TQuad]) -> tuple[list[tuple[str, list[Mention]]], list[tuple[int, ...]]]:
    mentions: dict[str, list[Mention]] = {}
    for index, (subj, _, obj) in enumerate(quads):
        for node in [t for t in (subj, obj) if _is_bnode(t)]:
            assert isinstance(node, str)
            s_text = ("_:a" if subj == node else "_:z") if _is_bnode(subj) else None
            o_text = ("_:a" if obj == node else "_:z") if _is_bnode(obj) else None
            mentions.setdefault(node, []).append((index, s_text, o_text))
    plan = list(mentions.items())
    slots = [tuple(sorted({t for i, _, _ in m for t in (quads[i][0], quads[i][2]) if isinstance(t, int)}))
             for _, m in plan]
    return plan, slots


def _may_collide(quads: list[TQuad]) -> bool:
    """Could two distinct template quads become equal once their slots are filled?"""
    by_predicate: dict[str, list[TQuad]] = {}
    for quad in quads:
        by_predicate.setdefault(quad[1], []).append(quad)

    def compatible(a: int | str, b: int | str) -> bool:
        return isinstance(a, int) or isinstance(b, int) or a == b

    for group in by_predicate.values():
        for i, first in enumerate(group):
            for second in group[i + 1:]:
                if compatible(first[0], second[0]) and compatible(first[2], second[2]):
                    return True
    return False


def build_template(sentinel_doc: Mapping[str, Any], slots: int) -> Template:
    """The template of a sentinel document (raises :class:`UnsafeShape`, or pyld's errors for the document)."""
    return template_from_nquads(loader.canonize(sentinel_doc), slots)


def template_from_nquads(nquads: str, slots: int) -> Template:
    """The template of a sentinel document whose canonical N-Quads are ``nquads`` (raises :class:`UnsafeShape`)."""
    dataset = parse_nquads(nquads)
    if set(dataset) - {"@default"}:
        raise UnsafeShape("named graphs")
    suffixes: dict[int, str | None] = {}
    quads: list[TQuad] = []
    for triple in dataset.get("@default", []):
        if SENTINEL in triple["predicate"]["value"]:
            raise UnsafeShape("sentinel as a predicate")
        quads.append((_term(triple["subject"], suffixes), f"<{triple['predicate']['value']}>",
                      _term(triple["object"], suffixes)))
    if set(suffixes) != set(range(slots)):
        raise UnsafeShape(f"{slots - len(suffixes)} values do not appear as RDF terms")
    iri_slots = tuple(sorted(i for i, suffix in suffixes.items() if suffix is None))
    plan, plan_slots = _plan(quads)
    return Template(quads, [suffixes[i] for i in range(slots)], iri_slots, plan, plan_slots, _may_collide(quads))


def _hash_lines(lines: list[str]) -> str:
    lines.sort()
    return hashlib.sha256("".join(lines).encode()).hexdigest()


def _label(hashed: list[tuple[str, str]]) -> dict[str, str] | None:
    """Canonical labels in first-degree-hash order, or None when two hashes collide (N-degree needed)."""
    hashed.sort()
    for i in range(1, len(hashed)):
        if hashed[i][0] == hashed[i - 1][0]:
            return None
    return {node: f"_:c14n{i}" for i, (_, node) in enumerate(hashed)}


def _serialize(quads: list[tuple[str, str, str]], label: dict[str, str]) -> str:
    out = [f"{label.get(s, s)} {p} {label.get(o, o)} .\n" for s, p, o in quads]
    out.sort()
    return "".join(out)


def rdfc_unique(quads: list[tuple[str, str, str]]) -> str | None:
    """RDFC-1.0 of distinct quads when every blank node's first-degree hash is unique, else None."""
    by_node: dict[str, list[tuple[str, str, str]]] = {}
    for quad in quads:
        s, _, o = quad
        if s[:2] == "_:":
            by_node.setdefault(s, []).append(quad)
        if o[:2] == "_:":  # a self-loop is listed twice, exactly as pyld (and RDFC-1.0 step 2.1) do
            by_node.setdefault(o, []).append(quad)
    hashed = [
        (_hash_lines([
            f"{'_:a' if s == node else '_:z' if s[:2] == '_:' else s} {p} "
            f"{'_:a' if o == node else '_:z' if o[:2] == '_:' else o} .\n"
            for s, p, o in mentions
        ]), node)
        for node, mentions in by_node.items()
    ]
    label = _label(hashed)
    return None if label is None else _serialize(quads, label)


def rdfc_planned(template: Template, values: list[str]) -> str | None:
    """:func:`rdfc_unique` of the template's last fill (``values``; its quads must be distinct), using the
    template's blank-node plan, hashes and memo."""
    hashed = [(template.first_degree_hash(b, values), node) for b, (node, _) in enumerate(template.plan)]
    label = _label(hashed)
    return None if label is None else template.serialize(label)
