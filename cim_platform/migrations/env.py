"""Alembic environment: the platform's metadata, PostGIS-aware, ignoring tables we do not own."""

from __future__ import annotations

from typing import Any

from alembic import context
from geoalchemy2 import alembic_helpers
from sqlalchemy import create_engine, pool

from cim_platform.core.audit import AuditEntry
from cim_platform.core.db.base import Base
from cim_platform.core.jobs.models import Job
from cim_platform.registry import load_domains

CORE_TABLES = (AuditEntry, Job)  # the core's own tables join the metadata
load_domains()  # every domain's tables join the metadata

FOREIGN_TABLE_PREFIXES = ("procrastinate_",)
POSTGIS_TABLES = {"spatial_ref_sys", "layer", "topology"}


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    if type_ == "table" and (name in POSTGIS_TABLES or str(name).startswith(FOREIGN_TABLE_PREFIXES)):
        return False
    table = getattr(obj, "table", None)
    if table is not None and str(table.name).startswith(FOREIGN_TABLE_PREFIXES):
        return False
    helper_says = alembic_helpers.include_object(obj, name, type_, reflected, compare_to)  # type: ignore[no-untyped-call]  # geoalchemy2 ships it unannotated
    return bool(helper_says)


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    if type_ == "schema":
        return name in (None, "public")
    return True


def run_migrations() -> None:
    config = context.config
    url = config.get_main_option("sqlalchemy.url")
    if url is None:
        raise RuntimeError("sqlalchemy.url is not set (run migrations through cim_platform.core.migrate)")
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            include_object=include_object,
            include_name=include_name,
            process_revision_directives=alembic_helpers.writer,
            render_item=alembic_helpers.render_item,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations()
