"""Error types that carry their HTTP status, and the one handler that renders them as problem+json."""

from __future__ import annotations

import json
import logging
import socket
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Send

PROBLEM_JSON = "application/problem+json"
#: deadlock detected, serialization failure, lock not available
RETRYABLE_SQLSTATES = frozenset({"40P01", "40001", "55P03"})
#: the server is starting, shutting down or full; the connection failed or was lost
UNREACHABLE_SQLSTATES = frozenset({"57P01", "57P02", "57P03", "53300", "08000", "08001", "08003", "08004", "08006"})
log = logging.getLogger("xbm.errors")


def database_unreachable(exc: BaseException) -> bool:
    """The database cannot be reached right now (refused, unresolvable, timed out, restarting, out of
    connections, or an SQLite file that cannot be opened): the client should retry later, it is no bug."""
    if isinstance(exc, PoolTimeout):
        return True
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        code = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
        return code in UNREACHABLE_SQLSTATES or "unable to open database file" in str(exc.orig)
    return isinstance(exc, ConnectionError | TimeoutError | socket.gaierror)


class AppError(Exception):
    status = 500
    title = "Internal Server Error"

    def __init__(self, detail: str | None = None, *, headers: dict[str, str] | None = None, **extra: Any):
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.headers = headers or {}
        self.extra = extra


class BadRequest(AppError):
    status, title = 400, "Bad Request"


class Unauthorized(AppError):
    status, title = 401, "Unauthorized"

    def __init__(self, detail: str | None = None, **extra: Any):
        super().__init__(detail, headers={"WWW-Authenticate": "Bearer"}, **extra)


class Forbidden(AppError):
    status, title = 403, "Forbidden"


class NotFound(AppError):
    status, title = 404, "Not Found"


class Conflict(AppError):
    status, title = 409, "Conflict"


class PreconditionFailed(AppError):
    status, title = 412, "Precondition Failed"


class UnsupportedMediaType(AppError):
    status, title = 415, "Unsupported Media Type"


class Unprocessable(AppError):
    status, title = 422, "Unprocessable Content"

    def __init__(self, detail: str | None = None, *, loc: list[str | int] | None = None, **extra: Any):
        if loc is not None:
            extra.setdefault("errors", [{"loc": loc, "msg": detail or self.title}])
        super().__init__(detail, **extra)


class FieldError(Unprocessable):
    """The domain refuses one field of the request body, named by its path there: ``FieldError("price", …)``,
    ``FieldError(("rows", 3, "date"), …)``, or ``()`` for the body as a whole. The problem lists it like a
    validation error, with ``loc`` ``["body", *path]``; domain code names fields, not HTTP locations."""

    def __init__(self, field: str | tuple[str | int, ...], detail: str, **extra: Any):
        self.field: tuple[str | int, ...] = (field,) if isinstance(field, str) else tuple(field)
        super().__init__(detail, loc=["body", *self.field], **extra)


class TooManyRequests(AppError):
    status, title = 429, "Too Many Requests"

    def __init__(self, detail: str | None = None, *, retry_after: int = 60, **extra: Any):
        super().__init__(detail, **extra)
        self.headers["Retry-After"] = str(retry_after)


class Unavailable(AppError):
    status, title = 503, "Service Unavailable"

    def __init__(self, detail: str | None = None, *, retry_after: int = 5, **extra: Any):
        super().__init__(detail, **extra)
        self.headers["Retry-After"] = str(retry_after)


def problem(status: int, title: str, detail: str, headers: dict[str, str] | None = None, **extra: Any):
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


async def send_problem(send: Send, status: int, title: str, detail: str, retry_after: int | None = None) -> None:
    """problem+json straight onto an ASGI ``send``, for middleware that answers before the app runs."""
    body = json.dumps({"type": "about:blank", "title": title, "status": status, "detail": detail}).encode()
    headers = [(b"content-type", PROBLEM_JSON.encode()), (b"content-length", str(len(body)).encode())]
    if retry_after is not None:
        headers.append((b"retry-after", str(retry_after).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _clean_loc(loc: Any) -> list[str | int]:
    return [part if isinstance(part, int) else str(part) for part in loc]


def validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    out = []
    for err in exc.errors():
        msg = str(err.get("msg", "invalid"))
        ctx = err.get("ctx") or {}
        if err.get("type") == "value_error" and "error" in ctx:
            msg = str(ctx["error"])
        out.append({"loc": _clean_loc(err.get("loc", ())), "msg": msg, "type": err.get("type")})
    return out


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def _app_error(_: Request, exc: AppError):
        return problem(exc.status, exc.title, exc.detail, headers=exc.headers, **exc.extra)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError):
        errors = validation_errors(exc)
        first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
        where = ".".join(str(p) for p in first["loc"])
        detail = f"{where}: {first['msg']}" if where else str(first["msg"])
        return problem(422, "Unprocessable Content", detail, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException):
        title = _phrase(exc.status_code)
        return problem(exc.status_code, title, str(exc.detail), headers=dict(exc.headers or {}))

    @app.exception_handler(StaleDataError)
    async def _stale(request: Request, _: StaleDataError):
        # a versioned row's UPDATE matched no row: another request changed it after this one read it
        if request.headers.get("if-match") is not None:
            return problem(412, "Precondition Failed", "the resource changed since you read it; read it again")
        return problem(409, "Conflict", "another request changed this resource at the same time; read it again")

    @app.exception_handler(DBAPIError)
    async def _database(request: Request, exc: DBAPIError):
        # contention is the client's to retry, not a bug: a deadlock or serialisation failure (PostgreSQL), a
        # database busy past its timeout (SQLite); anything else is a bug and stays a 500
        code = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
        if code in RETRYABLE_SQLSTATES or "database is locked" in str(exc.orig):
            log.warning("database contention on %s %s: %s", request.method, request.url.path, code or "locked")
            return problem(
                503, "Service Unavailable", "the database was busy; retry the request", headers={"Retry-After": "1"}
            )
        return await _unreachable(request, exc)

    @app.exception_handler(OSError)
    @app.exception_handler(PoolTimeout)
    async def _unreachable(request: Request, exc: Exception):
        if not database_unreachable(exc):
            return await _bug(request, exc)
        log.error("database unreachable on %s %s: %r", request.method, request.url.path, exc)
        return problem(
            503, "Service Unavailable", "the database cannot be reached; retry later", headers={"Retry-After": "5"}
        )

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception):  # a bug stays a 500, but a readable one, and logged
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem(500, "Internal Server Error", "an unexpected error occurred; it has been logged")
