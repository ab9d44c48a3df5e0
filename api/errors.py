"""The one place where errors become HTTP answers, and where those answers are documented.

Every error answer has the same body, ``{"error": code, "detail": one line}`` (plus ``params`` when the
error carries them): domain errors by their class, malformed requests (FastAPI's validation, bodies
that cannot be parsed) as ``invalid_input``, an unreachable database as ``database_unavailable`` (503),
a full disk as ``insufficient_storage`` (507). ``document_errors`` adds these answers to every
operation of the OpenAPI document, so clients (and the API fuzzer) know every status a route answers.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from http import HTTPStatus
from typing import Any

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from procrastinate.exceptions import ConnectorException
from psycopg_pool import PoolTimeout
from sqlalchemy.exc import DataError, DBAPIError, InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from cim_platform.core.errors import (
    CimError,
    Conflict,
    DatabaseUnavailable,
    Forbidden,
    Gone,
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
    Gone: 410,
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
        errors = list(exc.errors())
        if any(tuple(error.get("loc", ()))[:1] == ("path",) for error in errors):
            other = _literal_route_methods(request)
            if other:  # e.g. GET …/revisions/raw: the path names PUT's route, not a revision id
                return _method_not_allowed(request, other)
        detail, fields = _validation_detail(errors)
        return error_response(422, InvalidInput.code, detail, {"fields": fields} if fields else None)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        status = exc.status_code
        if status == 405:
            return _method_not_allowed(request, _documented_methods(request))
        if status == 400 and exc.detail == "There was an error parsing the body":  # FastAPI's words for bad JSON
            return error_response(422, InvalidInput.code, "the request body cannot be parsed: send valid JSON in UTF-8")
        if status == 400:
            status = 422
        code = CODE_BY_HTTP_STATUS.get(status, "invalid_input" if status < 500 else "internal")
        detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(status).phrase
        if status == 404 and detail == "Not Found":
            detail = f"no route {request.url.path}"
        return error_response(status, code, detail.replace("\n", " "), headers=dict(exc.headers or {}))

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


# -- which methods a path takes (from the OpenAPI document: exactly what clients are told) ----------

HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


def _path_templates(app: FastAPI) -> list[tuple[re.Pattern[str], int, set[str]]]:
    """(pattern, number of parameters, methods) of every documented path, most literal first."""
    cached: list[tuple[re.Pattern[str], int, set[str]]] | None = getattr(app.state, "error_path_templates", None)
    if cached is not None:
        return cached
    templates = []
    for template, operations in app.openapi().get("paths", {}).items():
        parts = re.split(r"(\{[^}]+\})", template)
        pattern = "".join(
            (".+" if part == "{path}" else "[^/]+") if part.startswith("{") else re.escape(part) for part in parts
        )
        methods = {method.upper() for method in operations if method in HTTP_METHODS}
        if "GET" in methods:
            methods.add("HEAD")
        templates.append((re.compile(f"^{pattern}$"), template.count("{"), methods))
    templates.sort(key=lambda entry: entry[1])
    app.state.error_path_templates = templates
    return templates


def _documented_methods(request: Request) -> set[str]:
    """The methods of the most literal documented paths matching this one (``…/revisions/raw`` names
    the raw-upload route, not a revision)."""
    matching = [
        (params, methods)
        for pattern, params, methods in _path_templates(request.app)
        if pattern.match(request.url.path)
    ]
    fewest = min((params for params, _ in matching), default=0)
    return set().union(*(methods for params, methods in matching if params == fewest))


def _literal_route_methods(request: Request) -> set[str]:
    """The methods of a more literal path matching this one (``…/revisions/raw`` rather than
    ``…/revisions/{revision_id}``) when they do not include the request's method."""
    matching = [
        (params, methods)
        for pattern, params, methods in _path_templates(request.app)
        if pattern.match(request.url.path)
    ]
    if len(matching) < 2 or matching[0][0] == matching[-1][0] or request.method in matching[0][1]:
        return set()
    return matching[0][1]


def _method_not_allowed(request: Request, methods: set[str]) -> JSONResponse:
    allowed = ", ".join(sorted(methods))
    return error_response(
        405,
        "method_not_allowed",
        f"{request.method} is not allowed on {request.url.path}" + (f"; allowed: {allowed}" if allowed else ""),
        headers={"Allow": allowed},
    )


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


def _statuses(method: str) -> list[int]:
    """The error answers an operation may give: malformed requests and an unreachable database anywhere;
    an unknown, revoked or insufficient token and objects not found (or not visible) anywhere a token
    is read; conflicts on changes; size and disk limits where a body is stored."""
    statuses = [401, 403, 404, 422, 503]
    if method in ("post", "put", "patch", "delete"):
        statuses.append(409)
    if method in ("post", "put", "patch"):
        statuses += [413, 507]
    return statuses


def document_errors(app: FastAPI) -> None:
    """Add the error answers to every operation of ``app``'s OpenAPI document, whenever it is built."""
    build = app.openapi
    documented: set[int] = set()

    def openapi() -> dict[str, Any]:
        document = build()
        if id(document) in documented:
            return document
        document.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
        error_ref = {"$ref": "#/components/schemas/Error"}
        for operations in document.get("paths", {}).values():
            for method, operation in operations.items():
                if method not in HTTP_METHODS:
                    continue
                responses = operation.setdefault("responses", {})
                for status in _statuses(method):
                    existing = responses.get(str(status))
                    if existing is not None and status != 422 and "content" in existing:
                        continue  # the route documents this answer itself (e.g. /health's 503)
                    responses[str(status)] = {
                        "description": ERROR_DESCRIPTIONS[status],
                        "content": {"application/json": {"schema": error_ref}},
                    }
        documented.add(id(document))
        return document

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to extend the document
