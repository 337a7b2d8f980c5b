"""API errors: one exception type, one JSON shape ``{"error": {"code", "message", ...}}``."""

from __future__ import annotations

import re
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

log = structlog.get_logger("sintra.api")

#: Seconds a client is told to wait when the database is unreachable.
DB_RETRY_AFTER = 5


class ApiError(Exception):
    """A domain error with its HTTP status and a message that says what is wrong."""

    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.extra = status, code, message, extra


def _body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, **extra}}


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body",)]
    return ".".join(parts) or "body"


def install_error_handlers(app: FastAPI) -> None:
    """Map ApiError, validation errors and HTTP errors to the JSON error shape."""

    @app.exception_handler(ApiError)
    async def _api_error(_req: Request, exc: ApiError) -> JSONResponse:
        extra = dict(exc.extra)
        headers = extra.pop("headers", None)
        return JSONResponse(_body(exc.code, exc.message, **extra), status_code=exc.status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_req: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            detail = next(e for e in errors if e.get("type") == "json_invalid")
            return JSONResponse(_body("malformed_json", f"request body is not valid JSON: "
                                      f"{detail.get('ctx', {}).get('error', 'parse error')}"), status_code=400)
        fields = [{"field": _field(tuple(e["loc"])), "problem": e["msg"]} for e in errors]
        names = ", ".join(f["field"] for f in fields)
        return JSONResponse(_body("invalid_request", f"invalid request: {names}", fields=fields), status_code=422)

    @app.exception_handler(DBAPIError)
    async def _database(_req: Request, exc: DBAPIError) -> JSONResponse:
        # a lost or refused connection is an outage: say so and when to come back; nothing was changed
        # (the request's transaction was rolled back). Anything else is a bug: log it, answer 500 JSON.
        if exc.connection_invalidated or isinstance(exc, (OperationalError, InterfaceError)):
            log.warning("api.database_unavailable", error=type(exc.orig).__name__)
            return JSONResponse(_body("database_unavailable", "the database is unavailable; nothing was changed, "
                                      f"try again in {DB_RETRY_AFTER} s"), status_code=503,
                                headers={"Retry-After": str(DB_RETRY_AFTER)})
        log.error("api.database_error", error=type(exc).__name__)
        return JSONResponse(_body("internal_error", "internal database error"), status_code=500)

    @app.exception_handler(StarletteHTTPException)
    async def _http(req: Request, exc: StarletteHTTPException) -> JSONResponse:
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405:  # Starlette names only the first matching route's methods
            headers["Allow"] = ", ".join(_allowed_methods(req))
        return JSONResponse(_body("http_error", str(exc.detail)), status_code=exc.status_code,
                            headers=headers or None)


def _allowed_methods(request: Request) -> list[str]:
    """Every method the OpenAPI document lists for the request's path."""
    table = getattr(request.app.state, "allow_table", None)
    if table is None:
        table = [(re.compile("^" + re.sub(r"\\{[^/]+?\\}", "[^/]+", re.escape(path)) + "$"),
                  {m.upper() for m in ops}) for path, ops in request.app.openapi()["paths"].items()]
        request.app.state.allow_table = table
    return sorted(set().union(*(methods for rx, methods in table if rx.match(request.url.path))))
