"""HTTP errors as RFC 9457 ``application/problem+json``; the only place wallet errors meet status codes."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from microcred.errors import http_status
from services.wallet.domain.errors import Unavailable, WalletError

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://microcred.eu/problems/"


def status_of(error: WalletError) -> int:
    """The HTTP status for a wallet error: the shared table of :mod:`microcred.errors` (each wallet error is a
    kind of one of its errors: NotAuthenticated 401, NotPermitted 403, NotFound 404, ShareGone 410, Conflict 409,
    Unprocessable 422, Unavailable and ProviderUnavailable 503)."""
    return http_status(error)


def problem(status: int, code: str, detail: str, title: str | None = None, retry_after: int | None = None,
            field: str | None = None) -> JSONResponse:
    """A problem+json response (``field``: the request member that failed, when one did)."""
    body: dict[str, object] = {"type": PROBLEM_BASE + code.lower().replace("_", "-"),
                               "title": title or code.replace("_", " ").title(), "status": status, "detail": detail,
                               "code": code}
    if field is not None:
        body["field"] = field
    headers = {"WWW-Authenticate": 'Bearer realm="microcred-wallet"'} if status == 401 else {}
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def body_too_large(path: str, limit: int) -> JSONResponse:
    """413 for a request body over ``limit`` (the refusal of the wallet's ``BodyLimitMiddleware``)."""
    return problem(413, "BODY_TOO_LARGE", f"request bodies are limited to {limit} bytes",
                   title="Request body too large", field="body")


def install_problem_handlers(app: FastAPI) -> None:
    """Render wallet errors, request validation errors and HTTP errors as problem+json."""

    @app.exception_handler(WalletError)
    async def wallet_error(_: Request, exc: WalletError) -> JSONResponse:
        return problem(status_of(exc), exc.code, exc.message,
                       retry_after=int(exc.retry_after) if isinstance(exc, Unavailable) and exc.retry_after else None)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = "; ".join(f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', '')}" for e in exc.errors())
        return problem(422, "INVALID_REQUEST", errors)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem(exc.status_code, "HTTP_" + str(exc.status_code), str(exc.detail))
