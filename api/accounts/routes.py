"""The caller, organisations, users and API tokens."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from sqlalchemy import select

from api.accounts.schemas import (
    Me,
    MePatch,
    OrganizationIn,
    OrganizationOut,
    TokenCreated,
    TokenIn,
    TokenOut,
    UserIn,
    UserOut,
    UserPatch,
)
from api.accounts.sessions import client_address, too_many
from api.deps import CallerDep, SessionDep, SettingsDep, forget_callers, requires
from cim_platform.accounts import service as accounts
from cim_platform.accounts import sessions
from cim_platform.accounts.errors import CurrentPasswordWrong, TooManyAttempts
from cim_platform.accounts.models import ApiToken, Organization, User
from cim_platform.accounts.passwords import verify_password
from cim_platform.core.access import Caller, Role, Scope
from cim_platform.core.errors import InvalidInput, NotFound, Unauthenticated

router = APIRouter(prefix="/api/v1", tags=["accounts"])
AdminDep = Annotated[Caller, Depends(requires(Scope.admin))]


def user_out(user: User) -> UserOut:
    return UserOut(
        id=user.id,
        organization_id=user.organization_id,
        organization_name=user.organization.name,
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        active=user.active,
        disabled=not user.active,
        locale=user.locale,
        has_password=user.password_hash is not None,
        password_changed_at=user.password_changed_at,
        created_at=user.created_at,
    )


@router.get("/me", response_model=Me)
def me(caller: CallerDep) -> Me:
    return Me(
        authenticated=caller.authenticated,
        username=caller.username,
        organization_id=caller.organization_id,
        role=caller.role.value if caller.role else None,
        scopes=sorted(str(s) for s in caller.scopes),
    )


@router.get("/organizations", response_model=list[OrganizationOut])
def list_organizations(caller: AdminDep, session: SessionDep) -> list[Organization]:
    return list(session.scalars(select(Organization).order_by(Organization.name)))


@router.post("/organizations", response_model=OrganizationOut, status_code=201)
def create_organization(body: OrganizationIn, caller: AdminDep, session: SessionDep) -> Organization:
    org = accounts.create_organization(session, body.name, body.kind, caller=caller)
    session.commit()
    return org


@router.get("/users", response_model=list[UserOut])
def list_users(caller: AdminDep, session: SessionDep, organization: str | None = None) -> list[UserOut]:
    """Every user (admins), or those of one organisation (name or id)."""
    org = accounts.find_organization(session, organization) if organization else None
    return [user_out(user) for user in accounts.list_users(session, org)]


@router.post("/users", response_model=UserOut, status_code=201)
def create_user(body: UserIn, caller: AdminDep, session: SessionDep, settings: SettingsDep) -> UserOut:
    org = accounts.find_organization(session, body.organization)
    user = accounts.create_user(
        session,
        org,
        body.username,
        body.role,
        body.display_name,
        password=body.password,
        min_password_length=settings.password_min_length,
        caller=caller,
    )
    session.commit()
    return user_out(user)


def _own_user(caller: Caller, session: SessionDep) -> User:
    if not caller.authenticated or caller.user_id is None:
        raise Unauthenticated("sign in (POST /api/v1/session) or send an API token")
    user = session.get(User, caller.user_id)
    if user is None:
        raise Unauthenticated("the signed-in user no longer exists")
    return user


@router.get("/users/me", response_model=UserOut)
def get_own_user(caller: CallerDep, session: SessionDep) -> UserOut:
    """The signed-in user (by session cookie or token)."""
    return user_out(_own_user(caller, session))


@router.patch(
    "/users/me",
    response_model=UserOut,
    responses={403: {"description": "current_password_wrong"}, 429: {"description": "too_many_attempts"}},
)
def patch_own_user(
    body: MePatch, caller: CallerDep, request: Request, session: SessionDep, settings: SettingsDep
) -> UserOut | JSONResponse:
    """Locale and display name; a new password needs the current one (the user's other sessions end)."""
    user = _own_user(caller, session)
    if body.current_password is not None and body.new_password is None:
        raise InvalidInput("current_password is only needed with new_password")
    if body.new_password is not None:
        address = client_address(request)
        try:
            sessions.check_attempts_allowed(session, settings, user.username, address)
        except TooManyAttempts as exc:
            return too_many(exc)
        if not verify_password(user.password_hash, body.current_password or ""):
            sessions.record_failure(session, settings, user.username, address, "wrong current password")
            session.commit()
            raise CurrentPasswordWrong()
    current_key: str | None = getattr(request.state, "session_key", None)
    accounts.update_user(
        session,
        user,
        accounts.UserChanges(display_name=body.display_name, locale=body.locale, password=body.new_password),
        caller=caller,
        min_password_length=settings.password_min_length,
        keep_session_key_hash=sessions.hash_key(current_key) if current_key else None,
    )
    session.commit()
    if body.new_password is not None:
        forget_callers(request)
    return user_out(user)


@router.patch("/users/{user_id}", response_model=UserOut)
def patch_user(
    user_id: uuid.UUID, body: UserPatch, caller: AdminDep, request: Request, session: SessionDep, settings: SettingsDep
) -> UserOut:
    """An admin changes a user: role, display name, disabled (sessions and tokens stop working), password
    (reset: the user's sessions end)."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"no user {user_id}")
    changes = accounts.UserChanges(
        role=body.role, display_name=body.display_name, disabled=body.disabled, password=body.password
    )
    accounts.update_user(session, user, changes, caller=caller, min_password_length=settings.password_min_length)
    session.commit()
    forget_callers(request)
    return user_out(user)


@router.get("/tokens", response_model=list[TokenOut])
def list_tokens(caller: AdminDep, session: SessionDep, user: str | None = None) -> list[ApiToken]:
    """Every token (admins), newest first, or those of one user (``?user=`` name or id); never the secret."""
    owner = accounts.find_user(session, user) if user else None
    return accounts.list_tokens(session, owner)


@router.post("/tokens", response_model=TokenCreated, status_code=201)
def create_token(body: TokenIn, caller: AdminDep, session: SessionDep) -> TokenCreated:
    user = accounts.find_user(session, body.user)
    plaintext, token = accounts.create_token(session, user, body.role, body.name, body.expires_in_days, caller=caller)
    session.commit()
    return TokenCreated(token=plaintext, **TokenOut.model_validate(token).model_dump())


@router.delete("/tokens/{token_id}", response_model=TokenOut)
def revoke_token(token_id: uuid.UUID, caller: CallerDep, session: SessionDep, request: Request) -> ApiToken:
    """Admins revoke any token; anyone may revoke their own."""
    if not caller.authenticated:
        raise Unauthenticated("this needs an API token (Authorization: Bearer <token>)")
    token = session.get(ApiToken, token_id)
    if token is None or (caller.role is not Role.admin and token.user_id != caller.user_id):
        raise NotFound(f"no token {token_id}")
    accounts.revoke_token(session, token_id, caller=caller)
    session.commit()
    forget_callers(request)
    return token
