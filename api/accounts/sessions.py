"""Sign-in for people: ``POST/GET/DELETE /api/v1/session`` and the session cookie."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from api.accounts.schemas import SessionIn, SessionOut, SessionUser
from api.deps import SessionDep, SettingsDep, forget_callers, session_key_from, session_keys
from api.errors import error_response
from cim_platform.accounts import passwords, sessions
from cim_platform.accounts.errors import CsrfFailed, NotSignedIn, TooManyAttempts
from cim_platform.accounts.models import User, UserSession
from cim_platform.core.access import Role, scopes_of
from cim_platform.core.errors import CimError
from cim_platform.core.settings import Settings


@asynccontextmanager
async def _load_keys(app: FastAPI) -> AsyncIterator[None]:
    """At startup: the signing key (a weak one stops the app) and the dummy hash for unknown users."""
    app.state.session_keys = sessions.load_session_keys(app.state.settings)
    await run_in_threadpool(passwords.warm_up)
    yield


router = APIRouter(prefix="/api/v1", tags=["sign-in"], lifespan=_load_keys)

SESSION_RESPONSES: dict[int | str, dict[str, str]] = {
    401: {"description": "invalid_credentials / not_signed_in"},
    403: {"description": "account_disabled / csrf_failed"},
    429: {"description": "too_many_attempts (Retry-After header)"},
}


def client_address(request: Request) -> str:
    """The client's address (behind a reverse proxy: run uvicorn with --forwarded-allow-ips)."""
    return request.client.host if request.client else "unknown"


def is_https(request: Request, settings: Settings) -> bool:
    """Over HTTPS: the request's scheme, or X-Forwarded-Proto when CIM_PUBLIC_URL is https."""
    if request.url.scheme == "https":
        return True
    forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return bool(settings.public_url and settings.public_url.lower().startswith("https://") and forwarded == "https")


def too_many(exc: TooManyAttempts) -> JSONResponse:
    return error_response(429, exc.code, exc.message, exc.params, headers={"Retry-After": str(exc.retry_after_s)})


def session_user(user: User) -> SessionUser:
    return SessionUser(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        organization_id=user.organization_id,
        organization_name=user.organization.name,
        locale=user.locale,
        scopes=sorted(scopes_of(Role(user.role))),
    )


def session_out(row: UserSession, csrf_token: str, settings: Settings) -> SessionOut:
    return SessionOut(
        user=session_user(row.user),
        csrf_token=csrf_token,
        expires_at=row.expires_at,
        idle_expires_at=sessions.idle_expires_at(row, settings),
    )


@router.post("/session", response_model=SessionOut, responses=SESSION_RESPONSES)
def sign_in(
    body: SessionIn, request: Request, response: Response, session: SessionDep, settings: SettingsDep
) -> Response | SessionOut:
    """Sign in with username and password: sets the HTTP-only session cookie ``cim_session`` and answers
    the user and the CSRF token for state-changing requests. Needs no CSRF token itself."""
    previous = session_key_from(request)
    try:
        new = sessions.sign_in(
            session,
            settings,
            session_keys(request),
            body.username,
            body.password,
            address=client_address(request),
            user_agent=request.headers.get("user-agent", ""),
        )
    except TooManyAttempts as exc:
        session.rollback()
        return too_many(exc)
    except CimError:
        session.commit()  # the failure counts even though the sign-in fails
        raise
    if previous is not None:
        sessions.sign_out(session, previous)  # a new sign-in replaces the browser's earlier session
    session.commit()
    response.headers["Cache-Control"] = "no-store"
    response.set_cookie(
        sessions.COOKIE_NAME,
        new.cookie_value,
        max_age=int(settings.session_max_age_s),
        path="/",
        secure=is_https(request, settings),
        httponly=True,
        samesite="lax",
    )
    return session_out(new.row, new.csrf_token, settings)


@router.get("/session", response_model=SessionOut, responses={401: {"description": "not_signed_in"}})
def current_session(request: Request, response: Response, session: SessionDep, settings: SettingsDep) -> SessionOut:
    """The signed-in person and the session's CSRF token; 401 ``not_signed_in`` without a live session."""
    key = session_key_from(request)
    row = sessions.live_session(session, settings, key) if key else None
    if key is None or row is None:
        raise NotSignedIn()
    session.commit()  # last_seen_at
    response.headers["Cache-Control"] = "no-store"
    return session_out(row, session_keys(request).csrf_token(key), settings)


@router.delete("/session", status_code=204, responses={403: {"description": "csrf_failed"}})
def sign_out(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    """Sign out: the session ends and the cookie is cleared (204 also when there was no live session).
    A live session needs its X-CSRF-Token."""
    key = session_key_from(request)
    if key is not None and sessions.live_session(session, settings, key) is not None:
        if not session_keys(request).csrf_matches(key, request.headers.get(sessions.CSRF_HEADER)):
            raise CsrfFailed()
        sessions.sign_out(session, key)
        session.commit()
        forget_callers(request)
    response = Response(status_code=204)
    response.delete_cookie(
        sessions.COOKIE_NAME, path="/", secure=is_https(request, settings), httponly=True, samesite="lax"
    )
    return response
