"""HTTP errors as RFC 9457 ``application/problem+json``; the only place wallet errors meet status codes."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.wallet.domain.errors import (
    Conflict,
    NotAuthenticated,
    NotFound,
    NotPermitted,
    ProviderUnavailable,
    ShareGone,
    Unavailable,
    Unprocessable,
    WalletError,
)

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://microcred.eu/problems/"

# Most specific first: the first matching class decides the status.
_STATUS: tuple[tuple[type[WalletError], int], ...] = (
    (ProviderUnavailable, 503),
    (Unavailable, 503),
    (NotAuthenticated, 401),
    (NotPermitted, 403),
    (NotFound, 404),
    (ShareGone, 410),
    (Conflict, 409),
    (Unprocessable, 422),
)


def status_of(error: WalletError) -> int:
    """The HTTP status for a wallet error."""
    return next((status for cls, status in _STATUS if isinstance(error, cls)), 500)


#: Seconds a client should wait before retrying a retriable error (a rebuild by replay takes seconds).
RETRY_AFTER_SECONDS = 2


def problem(status: int, code: str, detail: str, title: str | None = None, retry_after: int | None = None
            ) -> JSONResponse:
    """A problem+json response."""
    body = {"type": PROBLEM_BASE + code.lower().replace("_", "-"), "title": title or code.replace("_", " ").title(),
            "status": status, "detail": detail, "code": code}
    headers = {"WWW-Authenticate": 'Bearer realm="microcred-wallet"'} if status == 401 else {}
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def install_problem_handlers(app: FastAPI) -> None:
    """Render wallet errors, request validation errors and HTTP errors as problem+json."""

    @app.exception_handler(WalletError)
    async def wallet_error(_: Request, exc: WalletError) -> JSONResponse:
        return problem(status_of(exc), exc.code, exc.message,
                       retry_after=RETRY_AFTER_SECONDS if isinstance(exc, Unavailable) else None)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = "; ".join(f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', '')}" for e in exc.errors())
        return problem(422, "INVALID_REQUEST", errors)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem(exc.status_code, "HTTP_" + str(exc.status_code), str(exc.detail))
