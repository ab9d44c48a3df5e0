"""After-publish hooks: an extension point through which a domain learns that a dataset revision was
published (or rolled back to), without the datasets domain knowing that domain (e.g. coverage: a new
snapshot is queued).

A domain registers a hook when it is loaded (``@after_publish("name")``);
``cim_platform.datasets.publishing.publish`` calls every hook after the publication, in the same
transaction (so a hook's writes exist exactly when the publication does). Hooks must be quick.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from cim_platform.core.access import Caller


@dataclass(frozen=True)
class Published:
    dataset_id: uuid.UUID
    revision_id: uuid.UUID
    caller: Caller


AfterPublish = Callable[[Session, Published], None]
AFTER_PUBLISH: dict[str, AfterPublish] = {}
"""Hooks by name (registering again under the same name replaces: modules may be imported twice)."""


def after_publish(name: str) -> Callable[[AfterPublish], AfterPublish]:
    def register(hook: AfterPublish) -> AfterPublish:
        AFTER_PUBLISH[name] = hook
        return hook

    return register


def run_after_publish(session: Session, event: Published) -> None:
    for hook in AFTER_PUBLISH.values():
        hook(session, event)
