"""A finished conversion links its protection conflicts: the datasets domain's ``convert_revision`` job kind
keeps its own links, and the heritage domain (loaded after it) adds ``heritage_conflicts`` (the route
answering the revision's conflicts with protection ranges and construction-control zones)."""

from __future__ import annotations

import dataclasses
from typing import Any

from cim_platform.core.jobs.models import JobState
from cim_platform.core.jobs.registry import KINDS, Linker, RouteLink
from cim_platform.datasets.jobs import CONVERT_TASK

CONFLICTS_ROUTE = "revision_conflicts"


def with_conflicts(linker: Linker | None) -> Linker:
    def links(params: dict[str, Any], state: str) -> dict[str, RouteLink]:
        found = dict(linker(params, state)) if linker is not None else {}
        if state == JobState.succeeded and "dataset_id" in params and "revision_id" in params:
            revision = {"dataset_id": str(params["dataset_id"]), "revision_id": str(params["revision_id"])}
            found["heritage_conflicts"] = RouteLink(CONFLICTS_ROUTE, revision)
        return found

    links.heritage_conflicts = True  # type: ignore[attr-defined]
    return links


def install() -> None:
    """Idempotent: the conversion kind's linker wrapped once."""
    kind = KINDS.get(CONVERT_TASK)
    if kind is None or getattr(kind.links, "heritage_conflicts", False):
        return
    KINDS[CONVERT_TASK] = dataclasses.replace(kind, links=with_conflicts(kind.links))


install()
