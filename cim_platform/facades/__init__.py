"""Facade renovation and showcase streets (issue 11): colour rules, streets, yearly targets, projects."""
