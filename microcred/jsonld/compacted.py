"""The compaction rule: a document is read as JSON only when its JSON is the compacted form of its pinned contexts.

A Data Integrity proof signs the canonical RDF dataset, not the JSON text. Many JSON texts have the same
dataset: a key written as its full IRI, a value written as an expanded value object (``{"@value", "@type"}``),
an alias from an inline context, ``@graph`` wrapping, a node split in two objects that share an ``id``. A check
that reads ``document["credentialStatus"]`` or ``document["validUntil"]`` from such a text reads something
other than what was signed: a revoked or expired credential could verify "valid".

So every check reads the JSON, and :func:`compaction_problem` refuses (``NOT_COMPACTED``) any document whose
JSON is not in the one form those readers understand, the compacted form under its own pinned contexts:

1. ``@context`` appears only at the top of a document (a credential, a presentation, or a credential embedded
   in a presentation) and lists pinned context URLs, and after the first of them inline contexts that only add
   vocabulary no check reads (:mod:`microcred.jsonld.inline_context`): no aliases of pinned terms or keywords,
   no redefinitions, no scoped contexts, no ``@base``, no ``@vocab`` over a pinned namespace;
2. no other key starts with ``@`` (no ``@graph``, ``@id``, ``@type``, ``@value``, ``@list``, ``@set``,
   ``@reverse``, ``@included``, ``@nest``, ``@index``...) and no key contains ``:`` (no IRI or compact-IRI
   keys); the keys of a language map (a term whose pinned definition has ``@container: @language``) must be
   language tags with string values;
3. ``type`` values are terms (no ``:``): a type written as an IRI would also escape the type-scoped contexts;
4. every ``id`` is an absolute IRI that JSON-LD leaves unchanged: no blank-node identifiers (``_:``), no
   compact IRIs of a defined prefix (:func:`microcred.credential.rdfc_template.iri_ok`);
5. no object other than the document itself carries the document's ``id`` with further properties (that
   would add properties, such as ``validUntil``, to the credential's node), and every status entry's ``id`` is
   used by no other object with properties;
6. a proof is a flat object of the Data Integrity proof terms with string values (``domain`` and
   ``previousProof`` may be lists of strings), so the proof options read are the ones signed.

Bounded cost (``TOO_COMPLEX``): the same walk counts and limits nesting depth, objects, values, objects without
an ``id`` (blank nodes), proofs and embedded credentials before any JSON-LD processing runs.

It is one pass over the JSON, without JSON-LD processing: cheap enough for every request. The same pass also
yields the document's *shape* (:func:`read_compacted`), the key of the JSON-LD template that canonicalises
documents of that shape (:mod:`microcred.verification.canonical`), so a verification walks the JSON once.

The shape key (:func:`shape_key`) lists the document's keys, structure, structural values (``type``,
``@context``, ``proofPurpose``: by ``repr``) and non-string scalars; its string values are listed apart, in the
order :func:`microcred.credential.rdfc_template.with_sentinels` numbers them (the template's slots). The key is
*injective*: two documents with the same key differ in their string values only. Keys are separated by
``\x00`` and every marker starts with a control character, so a document whose keys contain ``\x00`` or begin
with a control character has no shape (None): it would be ambiguous (a key ``"a\x00\x03int:1\x00b"`` would spell
the same text as the keys ``a`` and ``b`` with the number 1 between them), and such a document is processed by
pyld, never by a template.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from microcred.credential.rdfc_template import STRUCTURAL_KEYS, iri_ok
from microcred.jsonld.inline_context import inline_context_problem, pinned_vocabulary

__all__ = ["NOT_COMPACTED", "TOO_COMPLEX", "Limits", "Refusal", "ShapeKey", "compaction_problem", "read_compacted",
           "shape_key"]

NOT_COMPACTED = "NOT_COMPACTED"
TOO_COMPLEX = "TOO_COMPLEX"
_LANGUAGE_TAG = re.compile(r"[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*")
_PROOF_STRINGS = frozenset({"id", "type", "cryptosuite", "created", "expires", "verificationMethod",
                            "proofPurpose", "proofValue", "challenge", "nonce"})
_PROOF_STRING_LISTS = frozenset({"domain", "previousProof"})
_EMBEDDED = "verifiableCredential"
# The shape key's markers (see the module docstring); a key never starts with a control character.
_OPEN, _CLOSE, _LIST, _END, _STRING, _STRUCTURAL, _SCALAR = "\x04", "\x05", "\x06", "\x07", "\x01", "\x02", "\x03"
#: Keys whose values are part of the shape, written whole (rdfc_template.STRUCTURAL_KEYS that a compacted
#: document can carry below its top: every other one is an ``@`` keyword, refused there).
_STRUCTURAL_TERMS = frozenset({"type", "proofPurpose"})

ShapeKey = tuple[str, list[str]]
"""A shape: its key and the document's string values in slot order."""


@dataclass(frozen=True)
class Limits:
    """What one document may contain before it is refused as ``TOO_COMPLEX`` (a platform credential uses a
    small fraction of each: depth 7, ~60 objects, ~250 values, ~50 objects without an id, 1 proof)."""

    max_depth: int = 24
    # 1,900 objects inside the old limits took pyld about a second, past the JSON-LD worker's deadline: each such
    # request cost the worker a kill and a respawn. 1,500 / 7,500 still take a presentation of max_embedded
    # platform credentials (39 objects, 187 values each)
    max_objects: int = 1_500
    max_values: int = 7_500
    max_contexts: int = 16
    max_blank_nodes: int = 500
    max_proofs: int = 4
    max_embedded: int = 32
    look_alike_check_above: int = 48
    max_look_alike: int = 24


@dataclass(frozen=True)
class Refusal:
    """Why a document is not read: ``reason`` is ``NOT_COMPACTED`` or ``TOO_COMPLEX``; ``path`` where."""

    reason: str
    path: str
    problem: str


class _Refused(Exception):
    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.problem)
        self.refusal = refusal


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [] if value is None else [value]


def _proof_problem(proof: Any) -> str | None:
    """The first key of a proof that is not a Data Integrity proof term with a string value, else None."""
    if not isinstance(proof, dict):
        return None  # the signature check reports a malformed proof
    for key, value in proof.items():
        if key in _PROOF_STRINGS and isinstance(value, str):
            continue
        if key in _PROOF_STRING_LISTS and all(isinstance(v, str) for v in _as_list(value)):
            continue
        if key == "@context" and all(isinstance(v, str) for v in _as_list(value)):
            continue  # eddsa-jcs-2022 proofs repeat the document's context (pinned URLs only)
        return str(key)
    return None


class _Walk:
    """One pass over a document (and the credentials embedded in it), counting and checking.

    The position is kept as a stack of keys and indexes and turned into text only for a refusal: this walk
    runs on every request."""

    def __init__(self, limits: Limits, shape: bool = False) -> None:
        self.limits = limits
        self.objects = self.values = self.blank = self.embedded = 0
        self.languages = pinned_vocabulary().language_maps
        self.at: list[str | int] = []
        # The shape of the proof-less document, as shape_key() writes it; None when not taken (not asked, a
        # presentation, or an ambiguous key).
        self.parts: list[str] | None = [] if shape else None
        self.strings: list[str] = []
        # With the shape: the slot of every node's id value, and whether the id counts as one of "another object
        # with properties" (what _Plan needs to judge the next document of the shape).
        self.id_slots: list[tuple[int, bool]] = []

    def refuse(self, reason: str, problem: str, *extra: str | int) -> None:
        path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in [*self.at, *extra]).lstrip(".")
        raise _Refused(Refusal(reason, path or "$", problem))

    def contexts(self, value: Any) -> None:
        entries = _as_list(value)
        if len(entries) > self.limits.max_contexts:  # each costs the JSON-LD processor about 1.4 ms to apply
            self.refuse(TOO_COMPLEX, f"more than {self.limits.max_contexts} contexts", "@context")
        for i, entry in enumerate(entries):
            if isinstance(entry, str):
                continue
            if not isinstance(entry, dict) or i == 0:
                self.refuse(NOT_COMPACTED, "a context is a pinned context URL or, after the first, an inline "
                                           "context that only adds vocabulary", "@context", i)
            problem = inline_context_problem(entry)
            if problem is not None:
                self.refuse(NOT_COMPACTED, problem[1], "@context", i, problem[0][:80])

    def document(self, doc: Mapping[str, Any], depth: int) -> None:
        """A credential or presentation: its own @context, ids and proofs are judged on their own."""
        self.contexts(doc.get("@context"))
        proofs = _as_list(doc.get("proof"))
        if len(proofs) > self.limits.max_proofs:
            self.refuse(TOO_COMPLEX, f"more than {self.limits.max_proofs} proofs", "proof")
        for i, proof in enumerate(proofs):
            self.proof(proof, i)
        ids: dict[str, int] = {}
        self.node(doc, depth, ids, top=True)
        own = doc.get("id")
        if isinstance(own, str) and ids.get(own, 0) > 0:
            self.refuse(NOT_COMPACTED, "another object carries the document's id with properties", "id")
        for i, status in enumerate(_as_list(doc.get("credentialStatus"))):
            sid = status.get("id") if isinstance(status, dict) else None
            if isinstance(sid, str) and ids.get(sid, 0) > 1:
                self.refuse(NOT_COMPACTED, "the status entry's id is shared with another object",
                            "credentialStatus", i, "id")

    def proof(self, proof: Any, index: int) -> None:
        key = _proof_problem(proof)
        if key is not None:
            self.refuse(NOT_COMPACTED, "a proof holds only Data Integrity proof terms with string values",
                        "proof", index, key)

    def node(self, node: Mapping[str, Any], depth: int, ids: dict[str, int], top: bool = False) -> None:
        self.objects += 1
        limits = self.limits
        if depth > limits.max_depth:
            self.refuse(TOO_COMPLEX, f"nested deeper than {limits.max_depth}")
        if self.objects > limits.max_objects:
            self.refuse(TOO_COMPLEX, f"more than {limits.max_objects} objects")
        node_id = node.get("id")
        if node_id is None:
            self.blank += 1
            if self.blank > limits.max_blank_nodes:
                self.refuse(TOO_COMPLEX, f"more than {limits.max_blank_nodes} objects without an id")
        elif type(node_id) is not str or not iri_ok(node_id):
            self.refuse(NOT_COMPACTED, "an id must be an absolute IRI (no blank node or compact IRI)", "id")
        elif not top and len(node) > 1:
            ids[node_id] = ids.get(node_id, 0) + 1
        at = self.at
        parts = self.parts
        if parts is not None:
            parts.append(_OPEN)
        for key, value in node.items():
            if not key or key[0] == "@" or ":" in key:
                if key == "@context" and not top:
                    self.contexts(value)  # a nested credential (an OB endorsement) names its own contexts
                    if parts is not None:
                        parts += (key, _STRUCTURAL + repr(value))
                    continue
                if top and key in ("@context", "proof"):
                    if parts is not None and key == "@context":
                        parts += (key, _STRUCTURAL + repr(value))
                    continue
                self.refuse(NOT_COMPACTED, f"key {key[:80]!r} is not a term of the pinned contexts", key)
            if top and key == "proof":
                continue
            if parts is not None and key[0] < " ":
                self.parts = parts = None  # no unambiguous shape (see the module docstring)
            kind = type(value)
            if kind is str or value is None or kind is bool or kind is int or kind is float:
                self.values += 1
                if key == "type" and (value is None or kind is not str or ":" in value or not value):
                    self.refuse(NOT_COMPACTED, "a type must be a term of the pinned contexts", key)
                if parts is not None:
                    if key in _STRUCTURAL_TERMS:
                        parts += (key, _STRUCTURAL + repr(value))
                    elif kind is str:
                        if key == "id":
                            self.id_slots.append((len(self.strings), not top and len(node) > 1))
                        parts += (key, _STRING)
                        self.strings.append(value)
                    else:
                        parts += (key, f"{_SCALAR}{kind.__name__}:{value!r}")
                continue
            at.append(key)
            if key == "type":
                for t in _as_list(value):
                    if type(t) is not str or ":" in t or not t:
                        self.refuse(NOT_COMPACTED, "a type must be a term of the pinned contexts")
                self.values += len(value)
                if parts is not None:
                    parts += (key, _STRUCTURAL + repr(value))
            elif key == _EMBEDDED:
                self.parts = parts = None  # a presentation: its shape is taken by shape_key()
                for i, item in enumerate(_as_list(value)):
                    self.embedded += 1
                    if self.embedded > limits.max_embedded:
                        self.refuse(TOO_COMPLEX, f"more than {limits.max_embedded} credentials")
                    if isinstance(item, dict):
                        at.append(i)
                        self.document(item, depth + 1)
                        at.pop()
            elif key in self.languages and isinstance(value, dict):
                if parts is not None:
                    parts.append(key)
                self.language_map(value)
            elif parts is not None and key in _STRUCTURAL_TERMS:  # a list of proof purposes: written whole
                parts += (key, _STRUCTURAL + repr(value))
                self.parts = None
                self.value(value, depth + 1, ids)
                self.parts = parts
            else:
                if parts is not None:
                    parts.append(key)
                self.value(value, depth + 1, ids)
                parts = self.parts  # None when a key below made the shape ambiguous
            at.pop()
        if parts is not None:
            parts.append(_CLOSE)
        if self.values > limits.max_values:
            self.refuse(TOO_COMPLEX, f"more than {limits.max_values} values")

    def language_map(self, value: Mapping[str, Any]) -> None:
        parts = self.parts
        if parts is not None:
            parts.append(_OPEN)
        for tag, text in value.items():
            if not _LANGUAGE_TAG.fullmatch(tag) or not all(isinstance(t, str) for t in _as_list(text)):
                self.refuse(NOT_COMPACTED, "a language map holds language tags and strings", tag[:40])
            self.values += len(_as_list(text))
            if parts is not None:  # a tag is letters, digits and hyphens: never ambiguous
                if type(text) is list:
                    parts += (tag, _LIST, *([_STRING] * len(text)), _END)
                    self.strings += text
                else:
                    parts += (tag, _STRING)
                    self.strings.append(text)
        if parts is not None:
            parts.append(_CLOSE)

    def value(self, value: Any, depth: int, ids: dict[str, int]) -> None:
        if isinstance(value, dict):
            self.node(value, depth, ids)
        elif type(value) is list:
            if depth > self.limits.max_depth:
                self.refuse(TOO_COMPLEX, f"nested deeper than {self.limits.max_depth}")
            at = self.at
            parts = self.parts
            if parts is not None:
                parts.append(_LIST)
            for i, item in enumerate(value):
                kind = type(item)
                if kind is str or item is None or kind is bool or kind is int or kind is float:
                    self.values += 1
                    if parts is not None:
                        if kind is str:
                            parts.append(_STRING)
                            self.strings.append(item)
                        else:
                            parts.append(f"{_SCALAR}{kind.__name__}:{item!r}")
                    continue
                at.append(i)
                if kind is list:
                    self.refuse(NOT_COMPACTED, "lists of lists are not in compacted form")
                self.value(item, depth + 1, ids)
                parts = self.parts
                at.pop()
            if parts is not None:
                parts.append(_END)
        else:
            self.values += 1
            if self.parts is not None:
                self.parts.append(f"{_SCALAR}{type(value).__name__}:{value!r}")


def _look_alike(document: Mapping[str, Any]) -> int:
    """How many objects without an id share their *first-degree shape* with another one in the same graph: the
    key they hang under and their own keys and scalar values, nested objects standing as anonymous blank nodes.
    That is what RDFC-1.0's first-degree hash sees of a blank node; nodes that look alike there need its costly
    N-degree hashing (whose cost grows with how many look alike), so a document with many is refused up front.

    Each credential embedded in a presentation is a named graph of its own: N-degree hashing walks the quads
    that link a node to others, and nothing links a node in one credential to a node in another but their
    graph names, each told apart by its own content. So look-alikes are counted per graph and the worst graph
    counts: two credentials of one cohort side by side are not twice as costly to tell apart."""
    seen: dict[Any, int] = {}
    graphs: list[Any] = []
    stack: list[tuple[str, Any]] = [("", document)]
    while stack:
        key, node = stack.pop()
        if isinstance(node, list):
            stack.extend((key, item) for item in node)
            continue
        if not isinstance(node, dict):
            continue
        shape = []
        for k, v in node.items():
            if k == _EMBEDDED and isinstance(v, dict | list):
                graphs.extend(_as_list(v))
                shape.append((k, f"_:[{len(_as_list(v))}]"))
            elif isinstance(v, dict | list):
                stack.append((k, v))
                shape.append((k, "_:" if isinstance(v, dict) else f"_:[{len(v)}]"))
            else:
                shape.append((k, v))
        if "id" not in node:
            signature = (key, tuple(sorted(shape, key=repr)))
            seen[signature] = seen.get(signature, 0) + 1
    own = sum(n for n in seen.values() if n > 1)
    return max([own, *(_look_alike(g) for g in graphs if isinstance(g, Mapping))])


def compaction_problem(document: Mapping[str, Any], limits: Limits | None = None) -> Refusal | None:
    """Why ``document`` (a credential or presentation) is not read, or None when it is in compacted form and
    within ``limits``. Pure and linear in the size of the document."""
    return _read(document, limits, False)[0]


def read_compacted(document: Mapping[str, Any], limits: Limits | None = None
                   ) -> tuple[Refusal | None, ShapeKey | None]:
    """:func:`compaction_problem` and the shape of the document without its ``proof`` (what :func:`shape_key`
    gives it), or None for a presentation or a refused document.

    With the default limits, a document of a shape that passed before is judged by its shape (see
    :class:`_Plan`): only what the walk reads of its string values (the ids) and its proofs are looked at again.
    """
    if limits is None and _EMBEDDED not in document:
        found = _shape(document, top=True)
        if found is not None:
            plan = _PLANS.get(found[0])
            if plan is not None and plan.passes(document, found[1]):
                return None, found
    refused, shape, plan = _read(document, limits, True)
    if plan is not None and shape is not None and limits is None:
        if len(_PLANS) >= _MAX_PLANS:
            _PLANS.clear()
        _PLANS[shape[0]] = plan
    return refused, shape


@dataclass(frozen=True)
class _Plan:
    """What the walk reads of the string values of a document whose shape passed.

    The walk's verdict on a document is a function of its shape (keys, nesting, ``@context`` and types, scalar
    types and non-string values: everything the limits count and the rules read, written whole in the shape
    key), of its ids (each an absolute IRI; the document's and each status entry's not carried by another object
    with properties) and of its proofs (outside the shape). Both last parts are judged again per document:
    every id slot through ``iri_ok`` and the same counting, every proof by the same rule. A shape whose
    documents need the look-alike count (which reads values) gets no plan."""

    id_slots: tuple[tuple[int, bool], ...]
    max_proofs: int

    def passes(self, document: Mapping[str, Any], values: list[str]) -> bool:
        """True when the walk would pass ``document`` (of this plan's shape, string values ``values``);
        False means: walk it (which says why, with the path)."""
        proofs = _as_list(document.get("proof"))
        if len(proofs) > self.max_proofs or any(_proof_problem(p) is not None for p in proofs):
            return False
        ids: dict[str, int] = {}
        for slot, counted in self.id_slots:
            value = values[slot]
            if not iri_ok(value):
                return False
            if counted:
                ids[value] = ids.get(value, 0) + 1
        own = document.get("id")
        if isinstance(own, str) and ids.get(own, 0) > 0:
            return False
        for status in _as_list(document.get("credentialStatus")):
            sid = status.get("id") if isinstance(status, dict) else None
            if isinstance(sid, str) and ids.get(sid, 0) > 1:
                return False
        return True


# Shape key -> plan, for the default limits; cleared when full (a process sees a few shapes: the platform's own
# and those of the issuers whose credentials its employers check).
_PLANS: dict[str, _Plan] = {}
_MAX_PLANS = 512


def _read(document: Mapping[str, Any], limits: Limits | None, shape: bool
          ) -> tuple[Refusal | None, ShapeKey | None, _Plan | None]:
    limits = limits or Limits()
    walk = _Walk(limits, shape)
    try:
        walk.document(document, 0)
    except _Refused as refused:
        return refused.refusal, None, None
    # Only documents with many blank nodes are looked at twice (a platform credential has about 30).
    if walk.blank > limits.look_alike_check_above:
        alike = _look_alike(document)
        if alike > limits.max_look_alike:
            return Refusal(TOO_COMPLEX, "$", f"{alike} objects without an id look alike to RDFC-1.0 (at most "
                                             f"{limits.max_look_alike}): telling them apart costs without "
                                             "bound"), None, None
    if walk.parts is None:
        return None, None, None
    key = "\x00".join(walk.parts)
    if key.count("\x00") != len(walk.parts) - 1:  # a key holds \x00: ambiguous (see the module docstring)
        return None, None, None
    plan = _Plan(tuple(walk.id_slots), limits.max_proofs) if walk.blank <= limits.look_alike_check_above else None
    return None, (key, walk.strings), plan


def _flatten(node: Any, values: list[str], parts: list[str]) -> bool:
    """Append ``node``'s shape to ``parts`` and its string values to ``values`` (as the walk above writes them);
    False when a key makes the shape ambiguous."""
    if isinstance(node, dict):
        parts.append(_OPEN)
        for key, value in node.items():
            if not key or key[0] < " ":
                return False
            parts.append(key)
            if key in STRUCTURAL_KEYS:
                parts.append(_STRUCTURAL + repr(value))
            elif type(value) is str:
                parts.append(_STRING)
                values.append(value)
            elif not _flatten(value, values, parts):
                return False
        parts.append(_CLOSE)
    elif isinstance(node, list):
        parts.append(_LIST)
        for item in node:
            if type(item) is str:
                parts.append(_STRING)
                values.append(item)
            elif not _flatten(item, values, parts):
                return False
        parts.append(_END)
    elif isinstance(node, str):
        parts.append(_STRING)
        values.append(node)
    else:  # bool, number, None: part of the shape (their RDF form depends on the value)
        parts.append(f"{_SCALAR}{type(node).__name__}:{node!r}")
    return True


def _shape(document: Mapping[str, Any], top: bool) -> ShapeKey | None:
    values: list[str] = []
    parts: list[str] = []
    if top:  # the document without its proof, without copying it
        document = {k: v for k, v in document.items() if k != "proof"} if "proof" in document else document
    if not _flatten(document, values, parts):
        return None
    key = "\x00".join(parts)
    if key.count("\x00") != len(parts) - 1:  # a key holds \x00
        return None
    return key, values


def shape_key(document: Mapping[str, Any]) -> ShapeKey | None:
    """The shape of ``document`` (all of it: pass it without its proof when the proof is not signed data), or
    None when a key makes it ambiguous (see the module docstring). Any JSON document, read or not."""
    return _shape(document, top=False)
