"""A small cast of organisations, users and tokens, one per role; passwords on demand.

``cast.headers(actor)`` are Bearer headers; ``cast.password(actor)`` gives the actor a password (set
on first use, hashing is slow) for sign-in tests; ``cast.sign_in(client, actor)`` signs the actor in
on a test client (the client keeps the cookie) and returns the CSRF headers for state-changing requests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol
from uuid import UUID

from sqlalchemy import Engine

from cim_platform.accounts import service as accounts
from cim_platform.accounts.models import User
from cim_platform.core.db.engine import session_scope


class HttpClient(Protocol):
    def post(self, url: str, *, json: Any = ...) -> Any: ...


@dataclass
class Cast:
    tokens: dict[str, str] = field(default_factory=dict)  # actor -> plaintext token
    orgs: dict[str, UUID] = field(default_factory=dict)  # org key -> id
    users: dict[str, UUID] = field(default_factory=dict)
    passwords: dict[str, str] = field(default_factory=dict)  # actor -> password, once set
    engine: Engine | None = None

    def headers(self, actor: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[actor]}"} if actor else {}

    def password(self, actor: str) -> str:
        """The actor's password, set in the database on first use (the username is the actor)."""
        if actor not in self.passwords:
            assert self.engine is not None, "a cast made by make_cast(engine)"
            password = f"{actor}-password-2026"
            with session_scope(self.engine) as session:
                user = session.get(User, self.users[actor])
                assert user is not None
                accounts.set_password(session, user, password, min_length=10)
            self.passwords[actor] = password
        return self.passwords[actor]

    def sign_in(self, client: HttpClient, actor: str) -> dict[str, str]:
        """Sign ``actor`` in on ``client`` (a TestClient or httpx.Client keeps the cookie); the headers a
        state-changing request then needs (``X-CSRF-Token``)."""
        response = client.post("/api/v1/session", json={"username": actor, "password": self.password(actor)})
        assert response.status_code == 200, response.text
        return {"X-CSRF-Token": response.json()["csrf_token"]}


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


def make_cast(engine: Engine, *, passwords: bool = False) -> Cast:
    """The cast in the database; ``passwords=True`` sets every actor's password at once."""
    cast = Cast(engine=engine)
    with session_scope(engine) as session:
        orgs = {key: accounts.create_organization(session, name, kind) for key, (name, kind) in ORGS.items()}
        cast.orgs = {key: org.id for key, org in orgs.items()}
        for actor, (org_key, role) in ACTORS.items():
            user = accounts.create_user(session, orgs[org_key], actor, role)
            cast.users[actor] = user.id
            cast.tokens[actor], _ = accounts.create_token(session, user)
    if passwords:
        for actor in ACTORS:
            cast.password(actor)
    return cast
