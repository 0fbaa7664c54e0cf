"""RFC 9457 problem details (``application/problem+json``) for every error the gateway returns.

Errors are mapped to HTTP only here and in the routers; the verification domain never raises for content. A
request that fails validation names the failing field (``field`` and ``errors[].field``, JSON-pointer-like
dotted paths), so clients can point at it.
"""

from __future__ import annotations

import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from microcred.credential.jsontext import first_path

__all__ = ["PROBLEM_BASE", "PROBLEM_MEDIA_TYPE", "Problem", "install_problem_handlers", "non_finite_field",
           "non_finite_problem", "problem"]

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_BASE = "https://microcred.eu/problems/"


class Problem(BaseModel):
    """RFC 9457 problem details (the OpenAPI schema of every error response)."""

    type: str
    title: str
    status: int
    detail: str = ""
    instance: str | None = None
    field: str | None = None
    errors: list[dict[str, Any]] | None = None


_TITLES = {400: "Bad request", 404: "Not found", 405: "Method not allowed", 406: "Not acceptable",
           410: "Gone", 413: "Request body too large", 415: "Unsupported media type",
           422: "Request not valid", 429: "Too many requests", 500: "Internal error",
           502: "Bad gateway", 503: "Service unavailable"}


def problem(status: int, detail: str = "", *, code: str | None = None, field: str | None = None,
            instance: str | None = None, headers: dict[str, str] | None = None, **extra: Any) -> JSONResponse:
    """A problem+json response; ``code`` names the problem type (defaults to the status' title)."""
    title = _TITLES.get(status, "Error")
    slug = code or title.lower().replace(" ", "-")
    body: dict[str, Any] = {"type": PROBLEM_BASE + slug, "title": title, "status": status, "detail": detail}
    if instance is not None:
        body["instance"] = instance
    if field is not None:
        body["field"] = field
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def non_finite_field(value: Any, prefix: str = "") -> str | None:
    """The dotted path of the first NaN/±Infinity in a parsed JSON value, or None when every number is finite.

    The stdlib parser accepts ``NaN``, ``Infinity`` and overflowing literals (``1e999``); orjson writes them as
    ``null``, so such a document would share a result-cache digest with its ``null`` twin. Iterative, so a
    deeply nested body cannot exhaust the stack, and the path is written only for the hit
    (:func:`~microcred.credential.jsontext.first_path`).
    """
    found = first_path(value, lambda item: isinstance(item, float) and not math.isfinite(item))
    if found is None:
        return None
    keys = [prefix] if prefix else []
    keys += [str(key) for key in found[0]]
    return ".".join(keys) or "body"


def non_finite_problem(field: str) -> JSONResponse:
    """400 problem+json for a non-finite number at ``field``."""
    return problem(400, f"{field} is not a finite number (NaN and Infinity are not JSON values)",
                   code="non-finite-number", field=field)


def _field(location: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in location if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or str(location[0] if location else "body")


def install_problem_handlers(app: FastAPI) -> None:
    """Render validation errors, HTTP errors and unexpected errors as problem+json."""

    @app.exception_handler(RequestValidationError)
    async def validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"field": _field(e.get("loc", ())), "message": str(e.get("msg", ""))} for e in exc.errors()]
        first = errors[0]["field"] if errors else None
        return problem(422, errors[0]["message"] if errors else "request not valid", code="validation",
                       field=first, errors=errors, instance=request.url.path)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem(exc.status_code, str(exc.detail), instance=request.url.path,
                       headers=dict(exc.headers) if exc.headers else None)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        return problem(500, "the gateway failed unexpectedly; the error was logged", code="internal",
                       instance=request.url.path)
