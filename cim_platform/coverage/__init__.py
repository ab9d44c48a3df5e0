"""3D-data coverage against the targets (issue 12): units, built-up areas, CIM levels, snapshots."""

from cim_platform.coverage import scopes as scopes  # registers the domain's scopes
