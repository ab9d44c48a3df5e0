"""The one place where domain errors become HTTP answers."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, OperationalError

from cim_platform.core.errors import (
    CimError,
    Conflict,
    DatabaseUnavailable,
    ErrorParams,
    Forbidden,
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
}


def status_for(error: Exception) -> int:
    for cls in type(error).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return 500


def error_response(
    status: int,
    code: str,
    detail: str,
    params: ErrorParams | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """Every error body: {"error": code, "detail": English message, "params": values to word it by code}."""
    all_headers = {"WWW-Authenticate": "Bearer"} if status == 401 else {}
    all_headers.update(headers or {})
    return JSONResponse(
        {"error": code, "detail": detail, "params": params or {}}, status_code=status, headers=all_headers or None
    )


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(CimError)
    async def _cim_error(request: Request, exc: CimError) -> JSONResponse:
        return error_response(status_for(exc), exc.code, exc.message, exc.params)

    @app.exception_handler(DataError)
    async def _bad_value(request: Request, exc: DataError) -> JSONResponse:
        first = str(exc.orig or exc).strip().splitlines()[0] if str(exc.orig or exc).strip() else "invalid value"
        return error_response(422, InvalidInput.code, f"a value cannot be stored or compared: {first}")

    @app.exception_handler(OperationalError)
    async def _database_down(request: Request, exc: OperationalError) -> JSONResponse:
        first = str(exc.orig or exc).strip().splitlines()[0] if str(exc.orig or exc).strip() else "no answer"
        logger.warning("database unavailable on %s %s: %s", request.method, request.url.path, first)
        return error_response(503, DatabaseUnavailable.code, f"cannot reach the database: {first}")

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        logger.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(500, "internal", "internal error; the server log has the details")
