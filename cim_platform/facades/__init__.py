"""Facade renovation and showcase streets (issue 11): colour rules, streets, yearly targets, projects."""

from cim_platform.facades import scopes as scopes  # registers the domain's scopes
