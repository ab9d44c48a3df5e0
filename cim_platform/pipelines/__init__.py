"""Underground pipelines fused with the CIM: registry, clearance checks, monitoring (issue 15)."""
