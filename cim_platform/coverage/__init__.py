"""3D-data coverage against the targets (issue 12): units, built-up areas, CIM levels, snapshots."""
