"""The one place where errors become HTTP answers, and where those answers are documented.

Every error answer has the same body, ``{"error": code, "detail": one line}`` (plus ``params`` when the
error carries them): domain errors by their class, malformed requests (FastAPI's validation, bodies
that cannot be parsed) as ``invalid_input``, an unreachable database as ``database_unavailable`` (503),
a full disk as ``insufficient_storage`` (507). ``document_errors`` adds these answers to every
operation of the OpenAPI document, so clients (and the API fuzzer) know every status a route answers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from procrastinate.exceptions import ConnectorException
from psycopg_pool import PoolTimeout
from sqlalchemy.exc import DataError, DBAPIError, InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from cim_platform.core.errors import (
    CimError,
    Conflict,
    DatabaseUnavailable,
    Forbidden,
    InsufficientStorage,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    SetupError,
    Unauthenticated,
)

logger = logging.getLogger(__name__)

STATUS_BY_ERROR: dict[type[Exception], int] = {
    InvalidInput: 422,
    NotFound: 404,
    Unauthenticated: 401,
    Forbidden: 403,
    Conflict: 409,
    PayloadTooLarge: 413,
    DatabaseUnavailable: 503,
    SetupError: 503,
    InsufficientStorage: 507,
}
CODE_BY_HTTP_STATUS = {404: NotFound.code, 405: "method_not_allowed", 401: Unauthenticated.code, 403: Forbidden.code}


def status_for(error: Exception) -> int:
    for cls in type(error).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return 500


def first_line(error: BaseException | None, default: str) -> str:
    """The first non-empty line of an error's text (database errors span several lines)."""
    text = str(error).strip() if error is not None else ""
    return text.splitlines()[0].strip() if text else default


def error_response(
    status: int, code: str, detail: str, params: dict[str, Any] | None = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    headers = dict(headers or {})
    if status == 401:
        headers.setdefault("WWW-Authenticate", "Bearer")
    if status == 503:
        headers.setdefault("Retry-After", "5")
    body: dict[str, Any] = {"error": code, "detail": detail}
    if params:
        body["params"] = params
    return JSONResponse(body, status_code=status, headers=headers or None)


def _validation_detail(errors: Iterable[Any]) -> tuple[str, list[dict[str, Any]]]:
    """One line naming each invalid field, and the fields as JSON-safe params."""
    fields: list[dict[str, Any]] = []
    for error in errors:
        location = [str(part) for part in error.get("loc", ())]
        where = location[0] if location else "request"
        name = ".".join(location[1:]) or where
        fields.append({"in": where, "field": name, "problem": str(error.get("msg", "invalid"))})
    if not fields:
        return "the request is invalid", []
    shown = "; ".join(f"{f['in']} {f['field']!r}: {f['problem']}" for f in fields[:3])
    more = f" (and {len(fields) - 3} more)" if len(fields) > 3 else ""
    return f"invalid request: {shown}{more}".replace("\n", " "), fields


CONNECTION_ERRORS = (OperationalError, InterfaceError, PoolTimeout, psycopg.OperationalError, psycopg.InterfaceError)


def is_connection_error(exc: BaseException) -> bool:
    """Whether ``exc`` (or the error it wraps) means the database cannot be reached."""
    seen: BaseException | None = exc
    for _ in range(4):
        if seen is None:
            return False
        if isinstance(seen, CONNECTION_ERRORS) or (isinstance(seen, DBAPIError) and seen.connection_invalidated):
            return True
        seen = seen.__cause__ or getattr(seen, "orig", None)
    return False


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(CimError)
    async def _cim_error(request: Request, exc: CimError) -> JSONResponse:
        params = getattr(exc, "params", None)
        return error_response(status_for(exc), exc.code, exc.message, params if isinstance(params, dict) else None)

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        detail, fields = _validation_detail(exc.errors())
        return error_response(422, InvalidInput.code, detail, {"fields": fields} if fields else None)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        status = exc.status_code
        code = CODE_BY_HTTP_STATUS.get(status, "invalid_input" if status < 500 else "internal")
        detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(status).phrase
        if status == 404 and detail == "Not Found":
            detail = f"no route {request.url.path}"
        elif status == 405:
            detail = f"{request.method} is not allowed on {request.url.path}"
        return error_response(status, code, detail, headers=dict(exc.headers or {}))

    @app.exception_handler(DataError)
    async def _bad_value(request: Request, exc: DataError) -> JSONResponse:
        return error_response(
            422, InvalidInput.code, f"a value cannot be stored or compared: {first_line(exc.orig or exc, 'invalid')}"
        )

    async def _database_down(request: Request, exc: Exception) -> JSONResponse:
        reason = first_line(getattr(exc, "orig", None) or exc, "no answer")
        logger.warning("database unavailable on %s %s: %s", request.method, request.url.path, reason)
        return error_response(503, DatabaseUnavailable.code, f"cannot reach the database: {reason}")

    for connection_error in CONNECTION_ERRORS:
        app.add_exception_handler(connection_error, _database_down)

    async def _database_error(request: Request, exc: Exception) -> JSONResponse:
        if is_connection_error(exc):
            return await _database_down(request, exc)
        return await _unexpected(request, exc)

    app.add_exception_handler(DBAPIError, _database_error)
    app.add_exception_handler(ConnectorException, _database_error)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        logger.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(500, "internal", "internal error; the server log has the details")

    document_errors(app)


# -- the OpenAPI side ---------------------------------------------------------------------------------

ERROR_SCHEMA: dict[str, Any] = {
    "title": "Error",
    "type": "object",
    "required": ["error", "detail"],
    "properties": {
        "error": {"type": "string", "description": "machine-readable code, e.g. not_found, invalid_input"},
        "detail": {"type": "string", "description": "one line for the person who caused it"},
        "params": {"type": "object", "description": "values the message was made from (for translations)"},
    },
}
ERROR_DESCRIPTIONS = {
    401: "No valid token (missing where required, malformed, unknown, revoked or expired)",
    403: "The token's role does not allow this",
    404: "No such object, or not visible to the caller",
    409: "The object's state does not allow this",
    413: "The upload exceeds the size limit",
    422: "The request is malformed or refers to something impossible",
    503: "The database cannot be reached; try again shortly",
    507: "The server has no room left to store the upload; nothing was kept",
}


def _uses(route: APIRoute, dependency: Callable[..., Any]) -> bool:
    stack = [route.dependant]
    while stack:
        dependant = stack.pop()
        if dependant.call is dependency:
            return True
        stack.extend(dependant.dependencies)
    return False


def _statuses(route: APIRoute, method: str, caller_dependency: Callable[..., Any] | None) -> list[int]:
    statuses = [422, 503]
    if caller_dependency is None or _uses(route, caller_dependency):
        statuses += [401, 403, 404]
    elif route.dependant.path_params:
        statuses.append(404)
    if method in ("post", "put", "patch", "delete"):
        statuses.append(409)
    if method in ("post", "put", "patch"):
        statuses += [413, 507]
    return sorted(set(statuses))


def document_errors(app: FastAPI) -> None:
    """Add the error answers to every operation of ``app``'s OpenAPI document (once, when first built)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = build()
        try:
            from api.deps import get_caller
        except ImportError:  # pragma: no cover - an app without the platform's dependencies
            caller_dependency = None
        else:
            caller_dependency = get_caller
        document.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
        error_ref = {"$ref": "#/components/schemas/Error"}
        for route in app.routes:
            if not isinstance(route, APIRoute) or not route.include_in_schema:
                continue
            operations = document.get("paths", {}).get(route.path_format, {})
            for method in route.methods:
                operation = operations.get(method.lower())
                if operation is None:
                    continue
                responses = operation.setdefault("responses", {})
                for status in _statuses(route, method.lower(), caller_dependency):
                    existing = responses.get(str(status))
                    if existing is not None and status != 422 and "content" in existing:
                        continue  # the route documents this answer itself (e.g. /health's 503)
                    responses[str(status)] = {
                        "description": ERROR_DESCRIPTIONS[status],
                        "content": {"application/json": {"schema": error_ref}},
                    }
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to extend the document
