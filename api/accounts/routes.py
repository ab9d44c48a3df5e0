"""The caller, organisations, users and API tokens."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select

from api.accounts.schemas import Me, OrganizationIn, OrganizationOut, TokenCreated, TokenIn, TokenOut, UserIn, UserOut
from api.deps import CallerDep, SessionDep, requires
from cim_platform.accounts import service as accounts
from cim_platform.accounts.models import ApiToken, Organization, User
from cim_platform.core.access import Caller, Role, Scope
from cim_platform.core.errors import NotFound, Unauthenticated

router = APIRouter(prefix="/api/v1", tags=["accounts"])
AdminDep = Annotated[Caller, Depends(requires(Scope.admin))]


@router.get("/me", response_model=Me)
def me(caller: CallerDep) -> Me:
    return Me(
        authenticated=caller.authenticated,
        username=caller.username,
        organization_id=caller.organization_id,
        role=caller.role.value if caller.role else None,
        scopes=sorted(s.value for s in caller.scopes),
    )


@router.get("/organizations", response_model=list[OrganizationOut])
def list_organizations(caller: AdminDep, session: SessionDep) -> list[Organization]:
    return list(session.scalars(select(Organization).order_by(Organization.name)))


@router.post("/organizations", response_model=OrganizationOut, status_code=201)
def create_organization(body: OrganizationIn, caller: AdminDep, session: SessionDep) -> Organization:
    org = accounts.create_organization(session, body.name, body.kind)
    session.commit()
    return org


@router.post("/users", response_model=UserOut, status_code=201)
def create_user(body: UserIn, caller: AdminDep, session: SessionDep) -> User:
    org = accounts.find_organization(session, body.organization)
    user = accounts.create_user(session, org, body.username, body.role, body.display_name)
    session.commit()
    return user


@router.post("/tokens", response_model=TokenCreated, status_code=201)
def create_token(body: TokenIn, caller: AdminDep, session: SessionDep) -> TokenCreated:
    user = accounts.find_user(session, body.user)
    plaintext, token = accounts.create_token(session, user, body.role, body.name, body.expires_in_days)
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
    accounts.revoke_token(session, token_id)
    session.commit()
    request.app.state.callers.clear()  # at once here; other server processes within CIM_TILE_ACCESS_TTL_S
    return token
