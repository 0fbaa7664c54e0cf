"""JSON-LD processing of a document for verification: once per document, bounded, off the event loop.

The signature needs the document's canonical N-Quads (RDFC-1.0) and the FORMAT check its expansion. Both come
from one place, :meth:`Canonicalizer.process`, once per document (not once per proof: every proof of a proof
set signs the same proof-less document; only proof configs differ, and those are small).

* **Known shapes** (the platform's own credentials, and any shape seen before): the per-shape template
  canonicaliser (:mod:`microcred.credential.canon`) fills the shape's N-Quads and expansion templates, in
  microseconds, in process, without pyld. A template is used only after it reproduced pyld's output for a real
  document of that shape (exactly as at signing).
* **Unknown shapes** go to a :class:`Runner`. :class:`ProcessRunner` (the gateway, the wallet) runs pyld in a
  separate process with a deadline: past it the process is killed and replaced, and the document gets
  ``TOO_COMPLEX``; waiting for the process counts against the same deadline. The event loop is never blocked by
  pyld. The same call computes the shape's sentinel document, so the next document of that shape is a known
  shape. :class:`InProcessRunner` (the command line, tests) runs pyld in the caller.

Hostile documents are refused before they get here by size and shape limits
(:mod:`microcred.jsonld.compacted`); the deadline is the backstop for what the limits let through.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import multiprocessing
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any, Protocol

from microcred.credential.canon import Shape, TemplateCanonicalizer
from microcred.credential.rdfc_template import with_sentinels
from microcred.jsonld.compacted import ShapeKey, shape_key
from microcred.jsonld.loader import (
    CanonicalizationError,
    ContextIntegrityError,
    RemoteContextRefused,
    TooComplex,
    UnsafeJsonLdError,
    canonize_and_expand,
)
from microcred.verification.cache import ResultCache

__all__ = [
    "Canonicalizer",
    "InProcessRunner",
    "ProcessRunner",
    "Processed",
    "Runner",
    "TooComplex",
    "default_canonicalizer",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Processed:
    """A document's canonical N-Quads and its JSON-LD expansion (safe mode). The expansion may share objects
    with other documents' (templates fill it copy-on-write): it is read-only, nothing may modify it."""

    nquads: str
    expanded: list[Any]
    templated: bool = False
    """Filled from the template of the document's shape (so the expansion's structure is the shape's)."""


# What a runner returns: (nquads, expanded) of the document and, when asked, of its sentinel document (None when
# the sentinel document could not be processed: the shape is then not templatable).
Outcome = tuple[tuple[str, list[Any]], tuple[str, list[Any]] | None]


class Runner(Protocol):
    """Runs pyld on a document (and optionally its sentinel document)."""

    async def run(self, document: Mapping[str, Any], sentinel: Mapping[str, Any] | None) -> Outcome:
        """The canonical forms; raises the loader's errors for the document, or :class:`TooComplex`."""
        ...


def _compute(document: Mapping[str, Any], sentinel: Mapping[str, Any] | None) -> Outcome:
    own = canonize_and_expand(document)
    shaped = None
    if sentinel is not None:
        try:
            shaped = canonize_and_expand(sentinel)
        except (CanonicalizationError, RemoteContextRefused, ContextIntegrityError):
            shaped = None
    return own, shaped


class InProcessRunner:
    """pyld in the caller (blocking; for the command line and tests)."""

    async def run(self, document: Mapping[str, Any], sentinel: Mapping[str, Any] | None) -> Outcome:
        """:func:`_compute` here and now."""
        return _compute(document, sentinel)


_ERRORS: dict[str, type[Exception]] = {"unsafe": UnsafeJsonLdError, "canon": CanonicalizationError,
                                       "integrity": ContextIntegrityError, "complex": TooComplex}


def _serve(conn: Connection) -> None:
    """The worker process: documents in, canonical forms (or the error) out, until the pipe closes."""
    conn.send(("ready",))  # imports are done: deadlines count from here
    while True:
        try:
            data = conn.recv_bytes()
        except (EOFError, OSError):
            return
        document, sentinel = json.loads(data)
        try:
            reply: tuple[Any, ...] = ("ok", _compute(document, sentinel))
        except RemoteContextRefused as exc:
            reply = ("remote", exc.url)
        except UnsafeJsonLdError as exc:
            reply = ("unsafe", str(exc))
        except ContextIntegrityError as exc:
            reply = ("integrity", str(exc))
        except TooComplex as exc:
            reply = ("complex", str(exc))
        except CanonicalizationError as exc:
            reply = ("canon", str(exc))
        except Exception as exc:  # anything pyld raises unexpectedly is a processing failure of this document
            reply = ("canon", f"{type(exc).__name__}: {exc}")
        conn.send(reply)


class ProcessRunner:
    """pyld in a child process, one document at a time, with a deadline (wait included) per document."""

    def __init__(self, deadline_seconds: float = 0.9) -> None:
        self.deadline = deadline_seconds
        self._lock = asyncio.Lock()
        self._process: Any = None
        self._conn: Connection | None = None
        self._start_lock = threading.Lock()
        self.killed = 0
        """Child processes ended because a document ran past the deadline."""

    def _ensure(self) -> Connection:
        with self._start_lock:
            if self._process is None or not self._process.is_alive() or self._conn is None:
                # spawn, not fork: the parent has threads (telemetry, Kafka clients) that a fork would copy.
                context = multiprocessing.get_context("spawn")
                parent, child = context.Pipe()
                self._process = context.Process(target=_serve, args=(child,), daemon=True,
                                                name="microcred-jsonld")
                self._process.start()
                child.close()
                if not parent.poll(120) or parent.recv() != ("ready",):
                    self._process.kill()
                    raise TooComplex("the JSON-LD worker did not start")
                self._conn = parent
            return self._conn

    def start(self) -> None:
        """Start the child process now (otherwise on first use)."""
        self._ensure()

    def _kill(self) -> None:
        with self._start_lock:
            if self._process is not None:
                self._process.kill()
                self._process.join(5)
            if self._conn is not None:
                self._conn.close()
            self._process, self._conn = None, None
        self.killed += 1

    def close(self) -> None:
        """Stop the child process."""
        with self._start_lock:
            if self._conn is not None:
                self._conn.close()
            if self._process is not None:
                self._process.join(2)
                if self._process.is_alive():
                    self._process.kill()
            self._process, self._conn = None, None

    async def run(self, document: Mapping[str, Any], sentinel: Mapping[str, Any] | None) -> Outcome:
        """The canonical forms computed in the child; :class:`TooComplex` when the child is busy for longer than
        the deadline, or the document's processing runs past it (so at most twice the deadline in all)."""
        try:
            async with asyncio.timeout(self.deadline):
                await self._lock.acquire()
        except TimeoutError:
            raise TooComplex(f"not processed within {self.deadline:g} s (the JSON-LD worker is busy)") from None
        try:
            payload = json.dumps([document, sentinel], ensure_ascii=False).encode("utf-8", "surrogatepass")
            conn = await asyncio.to_thread(self._ensure)
            conn.send_bytes(payload)
            ready = await asyncio.to_thread(conn.poll, self.deadline)
            if not ready:
                await asyncio.to_thread(self._kill)
                raise TooComplex(f"JSON-LD processing did not finish within {self.deadline:g} s")
            reply = conn.recv()
        except (EOFError, OSError, BrokenPipeError) as exc:
            await asyncio.to_thread(self._kill)
            raise TooComplex(f"the JSON-LD worker failed: {type(exc).__name__}") from None
        finally:
            self._lock.release()
        kind = reply[0]
        if kind == "ok":
            outcome: Outcome = reply[1]
            return outcome
        if kind == "remote":
            raise RemoteContextRefused(reply[1])
        raise _ERRORS.get(kind, CanonicalizationError)(reply[1])


class Canonicalizer:
    """Canonical N-Quads and expansion of documents: templates for known shapes, ``runner`` for the rest."""

    def __init__(self, runner: Runner | None = None, templates: TemplateCanonicalizer | None = None,
                 recent: int = 64) -> None:
        self.runner: Runner = runner or InProcessRunner()
        self.templates = templates or TemplateCanonicalizer(max_templates=512)
        # The last few results by document digest: a document posted again (a share page reloaded) is not
        # processed again. Few, because a result (expansion included) is large.
        self._recent = ResultCache(recent)

    async def process(self, document: Mapping[str, Any], digest: str | None = None,
                      shape: ShapeKey | None = None) -> Processed:
        """``document``'s canonical N-Quads and expansion; raises the loader's errors or :class:`TooComplex`.
        ``digest``: a digest of the document's bytes (:func:`~.cache.document_digest`), to reuse a recent result;
        ``shape``: the document's :func:`~microcred.jsonld.compacted.shape_key` when the caller has it (from the
        compaction walk, :func:`~microcred.jsonld.compacted.read_compacted`)."""
        if digest is not None:
            kept = self._recent.get(digest)
            if isinstance(kept, Processed):
                return kept
            processed = await self._process(document, shape)
            self._recent.put(digest, processed)
            return processed
        return await self._process(document, shape)

    async def _process(self, document: Mapping[str, Any], given: ShapeKey | None) -> Processed:
        # The shape key is injective (microcred.jsonld.compacted): a template is only ever applied to a document
        # that differs from the one it was learnt from in its string values. A document without a shape (a key
        # that would make it ambiguous) is pyld's, always.
        found = given or shape_key(document)
        if found is None:
            (nquads, expanded), _ = await self.runner.run(document, None)
            return Processed(nquads, expanded)
        shape = Shape(*found)
        hit = self.templates.known(shape)
        if hit is not None and hit[1] is not None:
            return Processed(hit[0], hit[1], templated=True)
        learn = not self.templates.seen(shape)
        sentinel = with_sentinels(document, [0]) if learn else None
        (nquads, expanded), shaped = await self.runner.run(document, sentinel)
        if learn:
            if shaped is None:
                self.templates.learn_unsafe(shape)
            else:
                with contextlib.suppress(Exception):  # learning is an optimisation: never fail a verification
                    self.templates.learn(shape, shaped[0], shaped[1], nquads)
        return Processed(nquads, expanded)

    def close(self) -> None:
        """Stop a child process, if the runner has one."""
        if isinstance(self.runner, ProcessRunner):
            self.runner.close()


_DEFAULT: Canonicalizer | None = None


def default_canonicalizer() -> Canonicalizer:
    """The process-wide in-process canonicaliser (for callers that wire none)."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = Canonicalizer()
    return _DEFAULT
