"""What a domain is: a package of its own (models, services, job kinds, errors) with declared readers.

A domain lives in ``cim_platform/<name>/`` (``models.py`` for its tables, ``jobs.py`` for its job
kinds, ``service.py``, ``errors.py``) with its routes and schemas in ``api/<name>/`` (a ``ROUTERS``
list). It is switched on by one line in ``cim_platform/registry.py``, which also says which other
domains it may import (``reads``); the import contracts are generated from those lines.
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass
from types import ModuleType

CONVENTIONAL_MODULES = ("models", "jobs")


@dataclass(frozen=True)
class Domain:
    name: str
    reads: tuple[str, ...] = ()
    """Domains whose modules this one may import (directly); every other domain is out of reach."""

    @property
    def package(self) -> str:
        return f"cim_platform.{self.name}"

    def load(self) -> list[ModuleType]:
        """Import the domain's tables and job kinds, so metadata and job registry know them."""
        loaded = [importlib.import_module(self.package)]
        for module in CONVENTIONAL_MODULES:
            path = f"{self.package}.{module}"
            if importlib.util.find_spec(path) is not None:
                loaded.append(importlib.import_module(path))
        return loaded


def check_declarations(domains: tuple[Domain, ...]) -> None:
    """Names unique, reads only earlier domains (so directions cannot form a cycle)."""
    seen: set[str] = set()
    for domain in domains:
        if domain.name in seen:
            raise ValueError(f"domain {domain.name!r} is registered twice")
        unknown = [name for name in domain.reads if name not in seen]
        if unknown:
            raise ValueError(f"domain {domain.name!r} reads {unknown}, which are not registered before it")
        seen.add(domain.name)
