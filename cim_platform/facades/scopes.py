"""Scopes of the facades domain (registered with the core when the package is imported)."""

from __future__ import annotations

import enum

from cim_platform.core.access import Role, register_scopes


class FacadesScope(enum.StrEnum):
    read = "facades:read"  # facade projects, showcase streets, targets, colour checks (every signed-in role)
    write = "facades:write"  # facade projects and showcase streets (design institutes, officials)
    admin = "facades:admin"  # colour rules, yearly targets, street acceptance (officials)


register_scopes(
    "facades",
    [s.value for s in FacadesScope],
    grants={
        Role.uploader: {FacadesScope.read.value, FacadesScope.write.value},
        Role.surveyor: {FacadesScope.read.value},
        Role.official: {FacadesScope.read.value, FacadesScope.write.value, FacadesScope.admin.value},
        Role.viewer: {FacadesScope.read.value},
    },
)
