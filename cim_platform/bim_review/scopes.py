"""Scopes of the BIM review domain (registered with the core when the package is imported)."""

from __future__ import annotations

import enum

from cim_platform.core.access import Role, register_scopes


class BimScope(enum.StrEnum):
    read = "bim:read"  # IDS checks, BCF topics and differences of the models the caller can see
    write = "bim:write"  # BCF topics and comments, checks and differences asked for (design institutes, officials)
    manage_ids = "bim:manage-ids"  # IDS files: upload, versions, assignment, "require a pass" (officials)


register_scopes(
    "bim_review",
    [s.value for s in BimScope],
    grants={
        Role.uploader: {BimScope.read.value, BimScope.write.value},
        Role.official: {BimScope.read.value, BimScope.write.value, BimScope.manage_ids.value},
        Role.surveyor: {BimScope.read.value},
        Role.viewer: {BimScope.read.value},
    },
)
