"""Scopes of the coverage domain (registered with the core when the package is imported)."""

from __future__ import annotations

import enum

from cim_platform.core.access import Role, register_scopes


class CoverageScope(enum.StrEnum):
    admin = "coverage:admin"  # coverage: built-up areas, CIM-level mapping, targets, snapshots


register_scopes(
    "coverage",
    [s.value for s in CoverageScope],
    grants={
        Role.official: {CoverageScope.admin.value},
    },
)
