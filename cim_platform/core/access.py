"""Who may do what: roles, the scopes they grant, and visibility across organisations.

Rule of thumb: another organisation's private (internal) object is answered as *not found*, never as
*forbidden*, so its existence is not revealed.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from cim_platform.core.errors import Forbidden, NotFound, Unauthenticated


class Role(enum.StrEnum):
    admin = "admin"
    uploader = "uploader"  # design institutes: upload and manage their organisation's models
    surveyor = "surveyor"  # historic-building records and survey archives
    official = "official"  # read everything, edit targets
    viewer = "viewer"  # read public data, stream public tiles


class Scope(enum.StrEnum):
    datasets_read = "datasets:read"
    datasets_write = "datasets:write"
    jobs_read = "jobs:read"
    audit_read = "audit:read"
    admin = "admin"


ROLE_SCOPES: dict[Role, frozenset[Scope]] = {  # the core's scopes; domains add theirs with register_scopes
    Role.admin: frozenset(Scope),
    Role.uploader: frozenset({Scope.datasets_read, Scope.datasets_write, Scope.jobs_read}),
    Role.surveyor: frozenset({Scope.datasets_read, Scope.datasets_write, Scope.jobs_read}),
    Role.official: frozenset({Scope.datasets_read, Scope.jobs_read, Scope.audit_read}),
    Role.viewer: frozenset({Scope.datasets_read}),
}

READS_EVERYTHING = frozenset({Role.admin, Role.official})

_DOMAIN_SCOPES: dict[str, str] = {}  # scope -> the domain that declared it
_DOMAIN_GRANTS: dict[Role, set[str]] = {role: set() for role in Role}


def register_scopes(domain: str, scopes: Iterable[str], grants: Mapping[Role, Iterable[str]]) -> None:
    """A domain's own scopes (a ``StrEnum`` in its package) and the roles that hold them; admins hold all.
    Called when the domain's package is imported, so the core names no domain's scopes."""
    declared = set(scopes)
    for scope in declared:
        owner = _DOMAIN_SCOPES.setdefault(scope, domain)
        if owner != domain or scope in {core.value for core in Scope}:
            raise ValueError(f"scope {scope!r} of domain {domain!r} is already declared by {owner!r}")
    for role, granted in grants.items():
        unknown = set(granted) - declared
        if unknown:
            raise ValueError(f"domain {domain!r} grants undeclared scopes {sorted(unknown)}")
        _DOMAIN_GRANTS[role].update(granted)
    _DOMAIN_GRANTS[Role.admin].update(declared)


def scopes_of(role: Role) -> frozenset[str]:
    return frozenset(ROLE_SCOPES[role]) | _DOMAIN_GRANTS[role]


@dataclass(frozen=True)
class Caller:
    """The authenticated user behind a request (or an anonymous caller)."""

    user_id: uuid.UUID | None
    username: str | None
    organization_id: uuid.UUID | None
    role: Role | None
    token_id: uuid.UUID | None = None

    @property
    def authenticated(self) -> bool:
        return self.role is not None

    @property
    def scopes(self) -> frozenset[str]:
        return scopes_of(self.role) if self.role else frozenset()

    def require(self, scope: str) -> None:
        if not self.authenticated:
            raise Unauthenticated("this needs an API token (Authorization: Bearer <token>)")
        if scope not in self.scopes:
            raise Forbidden(f"role {self.role} lacks the scope {scope}")

    def reads_everything(self) -> bool:
        return self.role in READS_EVERYTHING

    def can_see(self, organization_id: uuid.UUID | None, *, public: bool) -> bool:
        return (
            public
            or self.reads_everything()
            or (self.organization_id is not None and self.organization_id == organization_id)
        )

    def check_visible(self, organization_id: uuid.UUID | None, *, public: bool, what: str) -> None:
        if not self.can_see(organization_id, public=public):
            raise NotFound(f"no {what}")

    def check_manages(self, organization_id: uuid.UUID | None, *, what: str) -> None:
        """Write access to an object the caller can already see."""
        if self.role is Role.admin:
            return
        if self.organization_id is None or self.organization_id != organization_id:
            raise Forbidden(f"this {what} belongs to another organisation")


ANONYMOUS = Caller(user_id=None, username=None, organization_id=None, role=None)
