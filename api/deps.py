"""FastAPI dependencies: settings, database sessions and the caller."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from cim_platform.accounts.service import authenticate
from cim_platform.core.access import ANONYMOUS, Caller, Scope
from cim_platform.core.caches import TTLCache
from cim_platform.core.db.engine import session_scope
from cim_platform.core.errors import Unauthenticated
from cim_platform.core.settings import Settings


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_engine(request: Request) -> Engine:
    return request.app.state.engine


def get_session(request: Request) -> Iterator[Session]:
    session = Session(request.app.state.engine, expire_on_commit=False)
    try:
        yield session
    finally:
        session.close()


def _token_from(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise Unauthenticated("the Authorization header must be 'Bearer <token>'")
        return value.strip()
    token = request.query_params.get("access_token")
    if token is not None and request.method not in ("GET", "HEAD"):
        raise Unauthenticated("pass the token in the Authorization header; access_token in the URL is for reading only")
    return token


def _authenticate(engine: Engine, token: str) -> Caller | None:
    with session_scope(engine) as session:
        return authenticate(session, token)


async def get_caller(request: Request) -> Caller:
    """The caller behind the request's token (cached a few seconds: CIM_TILE_ACCESS_TTL_S)."""
    token = _token_from(request)
    if token is None:
        return ANONYMOUS
    cache: TTLCache[str, Caller] = request.app.state.callers
    caller = cache.get(token)
    if caller is None:
        caller = await run_in_threadpool(_authenticate, request.app.state.engine, token)
        if caller is None:
            raise Unauthenticated("the token is unknown, revoked or expired")
        cache.put(token, caller)
    return caller


SettingsDep = Annotated[Settings, Depends(get_settings)]
EngineDep = Annotated[Engine, Depends(get_engine)]
SessionDep = Annotated[Session, Depends(get_session)]
CallerDep = Annotated[Caller, Depends(get_caller)]


def requires(scope: Scope) -> Callable[[Caller], Caller]:
    """A dependency yielding the caller once it holds ``scope`` (401 without a token, 403 without the scope)."""

    def dependency(caller: CallerDep) -> Caller:
        caller.require(scope)
        return caller

    dependency.__name__ = f"requires_{scope.name}"
    return dependency
