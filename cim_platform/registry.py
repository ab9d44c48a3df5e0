"""The platform's domains, one line each, in dependency order: a domain may read (import) only the
domains it names, which must come before it. ``cim_platform.core`` imports no domain."""

from __future__ import annotations

from functools import cache

from cim_platform.core.domains import Domain, check_declarations

DOMAINS: tuple[Domain, ...] = (
    Domain("accounts"),
    Domain("datasets", reads=("accounts",)),
    Domain("heritage", reads=("accounts", "datasets")),
    Domain("coverage", reads=("accounts", "datasets")),
    Domain("facades", reads=("accounts", "datasets", "heritage")),
    Domain("ground", reads=("accounts", "datasets")),
    Domain("pipelines", reads=("accounts", "datasets", "heritage")),
    Domain("bim_review", reads=("accounts", "datasets")),
)


@cache
def load_domains() -> tuple[Domain, ...]:
    """Import every domain's tables and job kinds (called once by each entry point)."""
    check_declarations(DOMAINS)
    for domain in DOMAINS:
        domain.load()
    return DOMAINS
