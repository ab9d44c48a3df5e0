"""Publish guards: an extension point through which a domain may hold back the publication of a dataset
revision, without the datasets domain knowing that domain (e.g. heritage: a revision whose footprint
overlaps a protection zone needs an approval reference first).

A domain registers a guard when it is loaded (``@publish_guard``); ``cim_platform.datasets.publishing``
asks every guard before it publishes. A guard answers the reasons it refuses (an empty list: no
objection). Publishing asked by a person is refused with those reasons (409); a new conversion's
automatic publication is held back (the revision stays ready, unpublished, until someone publishes it).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from cim_platform.core.access import Caller


@dataclass(frozen=True)
class PublishAttempt:
    dataset_id: uuid.UUID
    revision_id: uuid.UUID
    caller: Caller


PublishGuard = Callable[[Session, PublishAttempt], list[str]]
PUBLISH_GUARDS: dict[str, PublishGuard] = {}
"""Guards by name (registering again under the same name replaces: modules may be imported twice)."""


def publish_guard(name: str) -> Callable[[PublishGuard], PublishGuard]:
    def register(guard: PublishGuard) -> PublishGuard:
        PUBLISH_GUARDS[name] = guard
        return guard

    return register


def publish_refusals(session: Session, attempt: PublishAttempt) -> list[str]:
    """Every registered guard's reasons to refuse this publication (empty: it may go ahead)."""
    reasons: list[str] = []
    for guard in PUBLISH_GUARDS.values():
        reasons += guard(session, attempt)
    return reasons
