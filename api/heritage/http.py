"""HTTP details of the heritage routes: ETags, and the 412/428 answers of conditional writes.

``api/errors.py`` maps the platform's errors once; the two precondition errors are this domain's own, so
its routes answer them through this route class (same error body as every other error).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

from api.errors import error_response
from api.heritage.schemas import ErrorBody
from cim_platform.heritage.errors import PreconditionFailed, PreconditionRequired

PRECONDITION_STATUS: dict[type[Exception], int] = {PreconditionFailed: 412, PreconditionRequired: 428}

CONDITIONAL: dict[int | str, dict[str, Any]] = {
    412: {"model": ErrorBody, "description": "If-Match names an older version of the record: nothing was written"},
    428: {"model": ErrorBody, "description": "If-Match is missing: read the record and send its ETag"},
}


class HeritageRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except (PreconditionFailed, PreconditionRequired) as exc:
                status = PRECONDITION_STATUS[type(exc)]
                headers = {"ETag": str(exc.params["etag"])} if "etag" in exc.params else None
                return error_response(status, exc.code, exc.message, exc.params or None, headers=headers)

        return route
