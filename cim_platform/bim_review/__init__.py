"""BIM review for design institutes: IDS checks, BCF topics, model differences (issue 16)."""

from cim_platform.bim_review import scopes as scopes  # registers the domain's scopes
