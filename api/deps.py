"""FastAPI dependencies: settings, database sessions and the caller.

The caller comes from an API token (``Authorization: Bearer``, or ``?access_token=`` for reading) or
from the session cookie of a person who signed in (``POST /api/v1/session``); state-changing requests
signed in by the cookie must carry ``X-CSRF-Token``. Both are cached per process for
CIM_TILE_ACCESS_TTL_S, the time a revocation (sign-out, disabled user, revoked token) takes to reach
every server process.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from cim_platform.accounts import sessions
from cim_platform.accounts.errors import CsrfFailed
from cim_platform.accounts.service import authenticate
from cim_platform.core.access import ANONYMOUS, Caller, Scope
from cim_platform.core.caches import TTLCache
from cim_platform.core.db.engine import session_factory, session_scope
from cim_platform.core.errors import Unauthenticated
from cim_platform.core.settings import Settings


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def get_session(request: Request) -> Iterator[Session]:
    session = session_factory(request.app.state.engine)()
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


CallerCache = TTLCache[str | tuple[str, str], Caller]
"""Tokens are cached under their plaintext, sessions under ("session", SHA-256 of the key): a key no
token (nor anything a request carries) can equal."""

STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def session_keys(request: Request) -> sessions.SessionKeys:
    """The app's cookie signing key (loaded at startup; loaded here if the app was not started)."""
    keys: sessions.SessionKeys | None = getattr(request.app.state, "session_keys", None)
    if keys is None:
        keys = request.app.state.session_keys = sessions.load_session_keys(request.app.state.settings)
    return keys


def session_key_from(request: Request) -> str | None:
    """The session key of a correctly signed session cookie (live or not), else None."""
    cookie = request.cookies.get(sessions.COOKIE_NAME)
    return session_keys(request).key_from_cookie(cookie) if cookie else None


def _session_caller(engine: Engine, settings: Settings, key: str) -> Caller:
    with session_scope(engine) as session:
        row = sessions.live_session(session, settings, key)
        return ANONYMOUS if row is None else sessions.session_caller(row)


def cached_session_caller(callers: CallerCache, keys: sessions.SessionKeys, cookie_value: str) -> Caller | None:
    """The cached caller of a session cookie without touching the database (for the tile fast path):
    None when not cached, ANONYMOUS for a cookie that signs in nobody. Reads need no CSRF token."""
    key = keys.key_from_cookie(cookie_value)
    return ANONYMOUS if key is None else callers.get(("session", sessions.hash_key(key)))


async def _cookie_caller(request: Request) -> Caller:
    """The person signed in by the cookie; a cookie naming no live session counts as no cookie."""
    key = session_key_from(request)
    if key is None:
        return ANONYMOUS
    cache: CallerCache = request.app.state.callers
    cache_key = ("session", sessions.hash_key(key))
    caller = cache.get(cache_key)
    if caller is None:
        caller = await run_in_threadpool(_session_caller, request.app.state.engine, request.app.state.settings, key)
        cache.put(cache_key, caller)
    if caller.authenticated:
        request.state.session_key = key
        if request.method in STATE_CHANGING and not session_keys(request).csrf_matches(
            key, request.headers.get(sessions.CSRF_HEADER)
        ):
            raise CsrfFailed()
    return caller


async def get_caller(request: Request) -> Caller:
    """The caller behind the request's token or session cookie (cached a few seconds: CIM_TILE_ACCESS_TTL_S).

    A token wins over a cookie (and needs no CSRF token: a browser never adds it by itself)."""
    token = _token_from(request)
    if token is None:
        return await _cookie_caller(request)
    cache: CallerCache = request.app.state.callers
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


def forget_callers(request: Request) -> None:
    """After revoking access (sign-out, disabled user, role change, revoked token): at once in this
    process; other server processes follow within CIM_TILE_ACCESS_TTL_S."""
    cache: CallerCache = request.app.state.callers
    cache.clear()
