"""Offline, hash-pinned JSON-LD document loader and RDFC-1.0 canonicalisation.

Only the contexts listed in ``contexts/manifest.json`` can be loaded. Each file's SHA-256 is checked
the first time it is read, and the parsed JSON is kept in memory after that. Any other URL raises
:class:`RemoteContextRefused`. Nothing here ever touches the network: a verifier that fetched
contexts on demand would let whoever controls a context URL change what a signed credential means.

:func:`canonize` gives the RDFC-1.0 (URDNA2015) N-Quads used by the ``eddsa-rdfc-2022`` and
``Ed25519Signature2020`` proofs. pyld 3.3 has no ``safe`` option like jsonld.js has. Two hooks give
the same protection here:

* ``on_property_dropped``: a property that does not expand to an absolute IRI raises an error
  instead of silently vanishing from the signed data.
* A pass over the expanded document rejects relative ``@id`` and ``@type`` values. pyld's
  ``to_rdf`` would otherwise drop those triples silently.

Speed: pyld caches resolved remote contexts, and the processed contexts inside them, only when the
loader marks a document with ``tag: "static"``. The loader does that. It also uses its own bounded
cache, so contexts resolved by another loader elsewhere in the process can never be used here.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import threading
import types
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, NoReturn

from pyld import jsonld
from pyld.canon import URDNA2015
from pyld.context_resolver import ContextResolver

__all__ = [
    "CanonicalizationError",
    "ContextIntegrityError",
    "ManifestEntry",
    "RemoteContextRefused",
    "TooComplex",
    "UnsafeJsonLdError",
    "allowed_context_urls",
    "canonize",
    "canonize_and_expand",
    "document_loader",
    "expand",
    "get_context",
    "manifest",
    "verify_all_contexts",
]

_CONTEXTS_PACKAGE = "microcred.jsonld.contexts"
# An IRI is absolute when it starts with a scheme (RFC 3987); blank node ids start with "_:".
_ABSOLUTE_IRI = re.compile(r"^(?:[A-Za-z][A-Za-z0-9+.\-]*:|_:)")
# Mirrors rdf-canonize's default maxWorkFactor=1: each blank node may enter Hash N-Degree Quads at
# most "number of blank nodes" times. Credentials never come close; crafted "poison" datasets do.
_MAX_WORK_FACTOR = 1
# And a bound on the whole document: Hash N-Degree Quads steps in all (each may try many permutations). A
# credential's blank nodes almost always have unique first-degree hashes (no step at all); symmetric trees of
# a few hundred blank nodes, which pass every size limit, would otherwise cost seconds to minutes of CPU.
_MAX_DEEP_CALLS = 256


class RemoteContextRefused(Exception):
    """A document referenced a context URL that is not in the pinned manifest."""

    def __init__(self, url: str) -> None:
        super().__init__(f"JSON-LD context {url!r} is not in the pinned manifest; remote loading is refused")
        self.url = url


class ContextIntegrityError(Exception):
    """A vendored context file does not match the SHA-256 pinned in the manifest."""


class CanonicalizationError(Exception):
    """The document could not be turned into canonical N-Quads."""


class UnsafeJsonLdError(CanonicalizationError):
    """Safe mode: a term or IRI would have been dropped silently from the RDF dataset."""


class TooComplex(CanonicalizationError):
    """The document's JSON-LD processing did not finish within the caller's budget (time or size)."""


@dataclass(frozen=True, slots=True)
class ManifestEntry:
    """One vendored context: its canonical URL, file name in the package and pinned hash."""

    url: str
    file: str
    sha256: str
    source: str
    license: str


@cache
def manifest() -> Mapping[str, ManifestEntry]:
    """Return the pinned manifest as a mapping from every served URL (aliases included) to its entry."""
    raw = resources.files(_CONTEXTS_PACKAGE).joinpath("manifest.json").read_text(encoding="utf-8")
    data = json.loads(raw)
    out: dict[str, ManifestEntry] = {}
    for item in data["documents"]:
        entry = ManifestEntry(item["url"], item["file"], item["sha256"], item["source"], item["license"])
        for url in (item["url"], *item.get("aliases", ())):
            out[url] = entry
    return types.MappingProxyType(out)  # read-only: the cached manifest must not be altered


def allowed_context_urls() -> frozenset[str]:
    """Return every URL the loader will serve."""
    return frozenset(manifest())


@cache
def _load_verified(file: str, sha256: str) -> Any:
    # Cached per file: the hash is checked and the JSON is parsed once per process.
    data = resources.files(_CONTEXTS_PACKAGE).joinpath(file).read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != sha256:
        raise ContextIntegrityError(f"context file {file} has sha256 {digest}, manifest pins {sha256}")
    return json.loads(data)


def get_context(url: str) -> Any:
    """Return a private copy of the parsed context document served for ``url``.

    Raises :class:`RemoteContextRefused` for a URL outside the manifest and
    :class:`ContextIntegrityError` if the vendored file has been altered.
    """
    entry = manifest().get(url)
    if entry is None:
        raise RemoteContextRefused(url)
    # A deep copy, because pyld may rewrite context documents in place and the cached original
    # must stay exactly what the hash covered.
    return copy.deepcopy(_load_verified(entry.file, entry.sha256))


def verify_all_contexts() -> None:
    """Check the hash of every vendored context now (services call this at start-up to fail fast)."""
    for entry in set(manifest().values()):
        _load_verified(entry.file, entry.sha256)


def document_loader(url: str, options: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """pyld ``documentLoader``: serve pinned contexts only and never go to the network."""
    return {
        "contentType": "application/ld+json",
        "contextUrl": None,
        "documentUrl": url,
        "document": get_context(url),
        # "static" is the tag pyld's ContextResolver needs before it shares a resolved context
        # across operations. Without it every canonize() would process the contexts again.
        "tag": "static",
    }


class _BoundedCache:
    """Small thread-safe LRU used as pyld's shared resolved-context cache.

    It has to be bounded: inline contexts in untrusted documents are cached too, under their JSON.
    """

    def __init__(self, maxsize: int) -> None:
        self._data: OrderedDict[Any, Any] = OrderedDict()
        self._maxsize = maxsize
        self._lock = threading.Lock()

    def get(self, key: Any, default: Any = None) -> Any:
        with self._lock:
            if key not in self._data:
                return default
            self._data.move_to_end(key)
            return self._data[key]

    def __setitem__(self, key: Any, value: Any) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self._maxsize:
                self._data.popitem(last=False)


# The immutable mapping type pyld uses for finished active contexts (frozendict, a pyld dependency).
_FROZEN: Any = type(jsonld.freeze({}))
_RESOLVED_CONTEXTS = _BoundedCache(maxsize=256)
_PROCESSED_CONTEXTS = _BoundedCache(maxsize=2048)


def _raise_dropped(expanded_property: str | None) -> None:
    raise UnsafeJsonLdError(
        f"JSON-LD safe mode: property {expanded_property!r} is not defined by any context and would be "
        "dropped from the signed data"
    )


def _check_iris(node: Any) -> None:
    """Reject relative @id/@type values in expanded JSON-LD (to_rdf would drop them silently)."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
            continue
        if not isinstance(item, dict):
            continue
        if "@value" in item:
            datatype = item.get("@type")
            if isinstance(datatype, str) and datatype != "@json" and not _ABSOLUTE_IRI.match(datatype):
                raise UnsafeJsonLdError(f"JSON-LD safe mode: relative datatype IRI {datatype!r}")
            continue
        node_id = item.get("@id")
        if isinstance(node_id, str) and not _ABSOLUTE_IRI.match(node_id):
            raise UnsafeJsonLdError(f"JSON-LD safe mode: relative @id {node_id!r}")
        for type_iri in item.get("@type", ()):
            if not _ABSOLUTE_IRI.match(type_iri):
                raise UnsafeJsonLdError(f"JSON-LD safe mode: relative @type {type_iri!r}")
        for key, value in item.items():
            if key not in ("@id", "@type"):
                stack.append(value)


class _SafeProcessor(jsonld.JsonLdProcessor):  # type: ignore[misc]  # pyld is untyped
    """JsonLdProcessor whose expansion fails instead of silently dropping data.

    ``to_rdf`` calls ``self.expand``, so this override also covers canonicalisation, with no second
    expansion pass.
    """

    def __init__(self) -> None:
        super().__init__(on_property_dropped=_raise_dropped)

    def expand(self, input_: Any, options: Any) -> Any:
        expanded = super().expand(input_, options)
        _check_iris(expanded)
        return expanded

    def _process_context(
        self,
        active_ctx: Any,
        local_ctx: Any,
        options: Any,
        override_protected: bool = False,
        propagate: bool = True,
        validate_scoped: bool = True,
        cycles: Any = None,
    ) -> Any:
        # Memoises context processing. pyld's own processed-context cache misses every type-scoped
        # context: it clones the active context and gives it a fresh id, so the OB 3.0 contexts were
        # processed again on every call (about 60% of canonize time). The key is the content id
        # (_uuid) of a frozen, immutable active context plus the local context's identity. A
        # dict/list local context is held in the entry, so its id() cannot be reused while cached.
        # Inline contexts from the input never hit across calls (pyld deep-copies the input first),
        # so a caller who mutates a document between calls cannot get a stale result.
        if cycles is not None or not isinstance(active_ctx, _FROZEN) or "_uuid" not in active_ctx:
            return super()._process_context(
                active_ctx, local_ctx, options, override_protected, propagate, validate_scoped, cycles
            )
        local_key: Any
        if isinstance(local_ctx, str):
            local_key = local_ctx
        elif isinstance(local_ctx, list) and all(isinstance(c, str) for c in local_ctx):
            local_key = tuple(local_ctx)
        else:
            local_key = id(local_ctx)
        key = (active_ctx["_uuid"], local_key, override_protected, propagate, validate_scoped)
        hit = _PROCESSED_CONTEXTS.get(key)
        if hit is not None and (not isinstance(local_key, int) or hit[0] is local_ctx):
            return hit[1]
        result = super()._process_context(
            active_ctx, local_ctx, options, override_protected, propagate, validate_scoped, cycles
        )
        if isinstance(result, _FROZEN):  # only immutable results may be shared between calls
            _PROCESSED_CONTEXTS[key] = (local_ctx, result)
        return result


class _GuardedURDNA2015(URDNA2015):  # type: ignore[misc]  # pyld is untyped
    """URDNA2015 with rdf-canonize's guard against dataset poisoning (exponential blank-node work)."""

    def __init__(self) -> None:
        super().__init__()
        self._iterations: dict[str, int] = {}
        self._max_iterations = -1
        self._total = 0

    def hash_n_degree_quads(self, id_: str, issuer: Any) -> Any:
        if self._max_iterations < 0:
            self._max_iterations = max(1, len(self.blank_node_info)) ** _MAX_WORK_FACTOR
        self._total += 1
        if self._total > _MAX_DEEP_CALLS:
            raise TooComplex(f"RDFC-1.0 stopped after {_MAX_DEEP_CALLS} deep hashing steps (too many blank nodes "
                             "that look alike)")
        count = self._iterations.get(id_, 0)
        if count > self._max_iterations:
            raise CanonicalizationError(
                f"RDFC-1.0 aborted after {self._max_iterations} deep iterations on one blank node "
                "(possible dataset poisoning)"
            )
        self._iterations[id_] = count + 1
        return super().hash_n_degree_quads(id_, issuer)


def _options() -> dict[str, Any]:
    return {
        "documentLoader": document_loader,
        # A fresh resolver per call (its per-operation dict grows) over the shared bounded cache.
        "contextResolver": ContextResolver(_RESOLVED_CONTEXTS, document_loader),
        "base": None,  # None keeps relative IRIs relative (pyld would resolve "" against example.org)
        "processingMode": "json-ld-1.1",
    }


def _reraise(exc: Exception) -> NoReturn:
    """Re-raise our own error from pyld's exception chain; wrap anything else.

    pyld wraps errors raised by the loader and by the safe-mode hooks, sometimes twice.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, RemoteContextRefused | ContextIntegrityError | CanonicalizationError):
            if current is exc:
                raise exc
            raise current from None  # drop pyld's wrappers: callers want our specific error
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    raise CanonicalizationError(f"JSON-LD processing failed: {exc}") from exc


def expand(document: Mapping[str, Any]) -> list[Any]:
    """Expand ``document`` with the pinned contexts, in safe mode."""
    try:
        result: list[Any] = _SafeProcessor().expand(dict(document), _options())
    except Exception as exc:
        _reraise(exc)
    return result


class _KeepingProcessor(_SafeProcessor):
    """The safe processor, keeping the expansion ``to_rdf`` computes on the way (one pass gives both)."""

    def __init__(self) -> None:
        super().__init__()
        self.expanded: list[Any] = []

    def expand(self, input_: Any, options: Any) -> Any:
        expanded = super().expand(input_, options)
        self.expanded = expanded
        return expanded


def canonize_and_expand(document: Mapping[str, Any]) -> tuple[str, list[Any]]:
    """:func:`canonize` and :func:`expand` of ``document`` from one JSON-LD expansion (same errors)."""
    try:
        processor = _KeepingProcessor()
        dataset = processor.to_rdf(dict(document), _options())
        nquads: str = _GuardedURDNA2015().main(dataset, {"format": "application/n-quads"})
    except Exception as exc:
        _reraise(exc)
    return nquads, processor.expanded


def canonize(document: Mapping[str, Any]) -> str:
    """Return the RDFC-1.0 (URDNA2015) canonical N-Quads of ``document``.

    Raises :class:`RemoteContextRefused` when a context is not pinned. It raises
    :class:`UnsafeJsonLdError` (a :class:`CanonicalizationError`) when a term or IRI would be dropped.
    Any other JSON-LD or canonicalisation failure raises :class:`CanonicalizationError`.
    """
    try:
        options = _options()
        dataset = _SafeProcessor().to_rdf(dict(document), options)
        nquads: str = _GuardedURDNA2015().main(dataset, {"format": "application/n-quads"})
    except Exception as exc:
        _reraise(exc)
    return nquads
