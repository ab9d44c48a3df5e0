"""Underground pipelines fused with the CIM: registry, clearance checks, monitoring (issue 15).

Scopes: every signed-in role reads the registry (``pipelines:read``, limited to the datasets it can see);
design institutes, survey teams and officials register monitoring devices (``pipelines:write``); officials
edit clearance rules and the monitoring target and issue device tokens (``pipelines:admin``).
"""

from __future__ import annotations

import enum

from cim_platform.core.access import Role, register_scopes


class PipelineScope(enum.StrEnum):
    read = "pipelines:read"
    write = "pipelines:write"
    admin = "pipelines:admin"


register_scopes(
    "pipelines",
    PipelineScope,
    grants={
        Role.uploader: {PipelineScope.read, PipelineScope.write},
        Role.surveyor: {PipelineScope.read, PipelineScope.write},
        Role.official: {PipelineScope.read, PipelineScope.write, PipelineScope.admin},
        Role.viewer: {PipelineScope.read},
    },
)
