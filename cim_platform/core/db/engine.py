"""Where the database is, and sessions on it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from cim_platform.core.errors import DatabaseUnavailable, SetupError
from cim_platform.core.pgcluster import PrivateCluster, ensure_installed
from cim_platform.core.settings import Settings


def private_cluster(settings: Settings) -> PrivateCluster:
    bin_dir = ensure_installed(settings.pg_bin_dir)
    return PrivateCluster(data_dir=settings.pg_data_dir, port=settings.pg_port, bin_dir=bin_dir)


def libpq_url(settings: Settings, *, start: bool = True) -> str:
    """The ``postgresql://`` URL, starting the private cluster if that is what we use."""
    if settings.database_url:
        url = settings.database_url
        for prefix in ("postgresql+psycopg://", "postgres://"):
            if url.startswith(prefix):
                url = "postgresql://" + url[len(prefix) :]
        if not url.startswith("postgresql://"):
            raise SetupError(f"CIM_DATABASE_URL must start with postgresql://, got {url.split(':', 1)[0]}:…")
        return url
    cluster = private_cluster(settings)
    if start:
        cluster.start()
        cluster.ensure_database(settings.database_name)
    elif not cluster.password_file.exists():
        raise SetupError("the private database was never started: run `cim db upgrade` first")
    return cluster.url(settings.database_name)


def sqlalchemy_url(libpq: str) -> str:
    return "postgresql+psycopg://" + libpq.removeprefix("postgresql://")


@lru_cache(maxsize=8)
def _engine_for(url: str) -> Engine:
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def get_engine(settings: Settings, *, start: bool = True) -> Engine:
    return _engine_for(sqlalchemy_url(libpq_url(settings, start=start)))


def check_connection(engine: Engine) -> str:
    """The PostGIS version; DatabaseUnavailable with one line if the server cannot be reached."""
    try:
        with engine.connect() as conn:
            return str(conn.execute(text("SELECT postgis_lib_version()")).scalar_one())
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise DatabaseUnavailable(f"cannot reach the database: {reason}") from exc


@lru_cache(maxsize=16)
def session_factory(engine: Engine) -> sessionmaker[Session]:
    """The one way sessions are made (request dependencies and ``session_scope`` alike)."""
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    with session_factory(engine)() as session, session.begin():
        yield session
