"""A small cast of organisations, users and tokens, one per role."""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID

from sqlalchemy import Engine

from cim_platform.accounts import service as accounts
from cim_platform.core.db.engine import session_scope


@dataclass
class Cast:
    tokens: dict[str, str] = field(default_factory=dict)  # actor -> plaintext token
    orgs: dict[str, UUID] = field(default_factory=dict)  # org key -> id
    users: dict[str, UUID] = field(default_factory=dict)

    def headers(self, actor: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[actor]}"} if actor else {}


ACTORS = {
    # actor: (org key, role)
    "admin": ("bureau", "admin"),
    "official": ("bureau", "official"),
    "uploader_a": ("institute_a", "uploader"),
    "uploader_b": ("institute_b", "uploader"),
    "surveyor": ("survey", "surveyor"),
    "viewer": ("institute_a", "viewer"),
}
ORGS = {
    "bureau": ("Ordos Housing and Urban-Rural Development Bureau", "city_bureau"),
    "institute_a": ("Ordos Architectural Design Institute", "design_institute"),
    "institute_b": ("Inner Mongolia Planning Institute", "design_institute"),
    "survey": ("Ordos Survey Team", "survey_team"),
}


def make_cast(engine: Engine) -> Cast:
    cast = Cast()
    with session_scope(engine) as session:
        orgs = {key: accounts.create_organization(session, name, kind) for key, (name, kind) in ORGS.items()}
        cast.orgs = {key: org.id for key, org in orgs.items()}
        for actor, (org_key, role) in ACTORS.items():
            user = accounts.create_user(session, orgs[org_key], actor, role)
            cast.users[actor] = user.id
            cast.tokens[actor], _ = accounts.create_token(session, user)
    return cast
