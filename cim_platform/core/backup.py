"""``cim backup`` and ``cim restore``: the database and the original uploads in one tar archive.

The archive (plain tar; the dump is compressed by pg_dump itself) holds

- ``database.dump``: ``pg_dump --format=custom`` of the platform's database, everything in it
  (the PostGIS extension, procrastinate's queue tables and functions, the audit trail and its trigger);
- ``uploads/sources/<revision>/<file>``: every original upload, byte for byte;
- ``manifest.json`` (last): the format, when, the schema revision, and each member's size and SHA-256.

The database is dumped first (one consistent snapshot), the originals copied after: originals are
written before their revision row commits and never change, so every revision in the dump finds its
file in the archive.

Restore refuses a non-empty target (a table other than PostGIS's in the database, or an original in
the data folder) unless ``force``; it reads the whole archive and checks every checksum before it
touches anything, then loads the dump in one transaction and moves the originals into place.
The dump and restore binaries are those of the PostgreSQL 15 that the private cluster uses.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import IO, Any

import psycopg
from psycopg.conninfo import conninfo_to_dict

from cim_platform.core.errors import CimError, Conflict, SetupError
from cim_platform.core.pgcluster import PG_MAJOR, find_bin_dir
from cim_platform.core.settings import Settings

FORMAT = "cim-backup"
VERSION = 1
MANIFEST = "manifest.json"
DUMP = "database.dump"
SOURCES = PurePosixPath("uploads/sources")
CHUNK = 1024 * 1024
POSTGIS_TABLES = frozenset({"spatial_ref_sys"})


class BackupError(CimError):
    """The archive is unusable (corrupted, truncated, not a backup) or a dump/restore step failed."""

    code = "backup"
    blames_input = True


@dataclass
class Summary:
    archive: Path
    files: int = 0
    bytes: int = 0
    schema_revision: str | None = None
    members: list[dict[str, Any]] = field(default_factory=list)


# -- the database connection and the PostgreSQL binaries ------------------------------------------


def _binary(settings: Settings, name: str) -> Path:
    bin_dir = find_bin_dir(settings.pg_bin_dir)
    if bin_dir is None or not (bin_dir / name).exists():
        raise SetupError(f"{name} of PostgreSQL {PG_MAJOR} is not installed (apt-get install postgresql-{PG_MAJOR})")
    return bin_dir / name


def _connection_args(url: str) -> tuple[list[str], dict[str, str]]:
    """Command-line options and environment for pg_dump/pg_restore: the password in the environment,
    never on a command line other users can read."""
    params = conninfo_to_dict(url)
    args: list[str] = []
    for key, option in (("host", "--host"), ("port", "--port"), ("user", "--username"), ("dbname", "--dbname")):
        value = params.get(key)
        if value is not None:
            args.append(f"{option}={value}")
    env = {**os.environ, "PGCONNECT_TIMEOUT": "10"}
    if params.get("password") is not None:
        env["PGPASSWORD"] = str(params["password"])
    if params.get("sslmode") is not None:
        env["PGSSLMODE"] = str(params["sslmode"])
    return args, env


def _run(command: list[str], env: dict[str, str], what: str) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        lines = [line for line in result.stderr.strip().splitlines() if line.strip()]
        raise BackupError(f"{what} failed: {lines[0] if lines else f'exit code {result.returncode}'}")


def _schema_revision(url: str) -> str | None:
    with psycopg.connect(url) as conn:
        exists = conn.execute("SELECT to_regclass('public.alembic_version')").fetchone()
        if not exists or exists[0] is None:
            return None
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        return str(row[0]) if row else None


def _user_tables(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
        ).fetchall()
    return sorted(str(row[0]) for row in rows if row[0] not in POSTGIS_TABLES)


# -- originals --------------------------------------------------------------------------------------


def _originals(settings: Settings) -> Iterator[tuple[Path, PurePosixPath]]:
    """Every original upload: (path on disk, path in the archive), in a stable order."""
    root = settings.uploads_dir / "sources"
    if not root.is_dir():
        return
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        yield path, SOURCES / path.relative_to(root).as_posix()


class _HashingReader:
    """Reads a file for tarfile while hashing what was read."""

    def __init__(self, handle: IO[bytes]) -> None:
        self.handle = handle
        self.hash = hashlib.sha256()
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        data = self.handle.read(size)
        self.hash.update(data)
        self.size += len(data)
        return data


def _add_file(archive: tarfile.TarFile, path: Path, name: PurePosixPath) -> dict[str, Any]:
    info = tarfile.TarInfo(str(name))
    stat = path.stat()
    info.size, info.mtime, info.mode = stat.st_size, int(stat.st_mtime), 0o444
    with path.open("rb") as handle:
        reader = _HashingReader(handle)
        archive.addfile(info, reader)  # tarfile only calls read()
    if reader.size != stat.st_size:
        raise BackupError(f"{path} changed while it was archived")
    return {"path": str(name), "bytes": reader.size, "sha256": reader.hash.hexdigest()}


# -- backup -----------------------------------------------------------------------------------------


def backup(settings: Settings, url: str, out: Path) -> Summary:
    """Write the archive to ``out`` (via a temporary file renamed at the end: never half an archive)."""
    out = out.expanduser().resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    pg_dump = _binary(settings, "pg_dump")
    summary = Summary(archive=out, schema_revision=_schema_revision(url))
    with tempfile.TemporaryDirectory(prefix="cim-backup-", dir=out.parent) as scratch:
        dump = Path(scratch) / DUMP
        args, env = _connection_args(url)
        _run([str(pg_dump), "--format=custom", "--no-password", f"--file={dump}", *args], env, "pg_dump")
        partial = out.with_name(out.name + ".partial")
        try:
            # readable by its owner only: the dump holds password and token hashes
            handle = os.fdopen(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb")
            with handle, tarfile.open(fileobj=handle, mode="w", format=tarfile.PAX_FORMAT) as archive:
                summary.members.append(_add_file(archive, dump, PurePosixPath(DUMP)))
                for path, name in _originals(settings):
                    summary.members.append(_add_file(archive, path, name))
                manifest = {
                    "format": FORMAT,
                    "version": VERSION,
                    "created_at": datetime.now(UTC).isoformat(),
                    "schema_revision": summary.schema_revision,
                    "postgresql": PG_MAJOR,
                    "files": summary.members,
                }
                body = json.dumps(manifest, indent=1, sort_keys=True).encode()
                info = tarfile.TarInfo(MANIFEST)
                info.size, info.mtime, info.mode = len(body), int(datetime.now(UTC).timestamp()), 0o444
                archive.addfile(info, _BytesReader(body))
            with partial.open("rb+") as written:
                os.fsync(written.fileno())
            partial.replace(out)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    summary.files = len(summary.members) - 1
    summary.bytes = out.stat().st_size
    return summary


class _BytesReader:
    def __init__(self, data: bytes) -> None:
        self.data, self.offset = data, 0

    def read(self, size: int = -1) -> bytes:
        end = len(self.data) if size < 0 else self.offset + size
        chunk, self.offset = self.data[self.offset : end], min(end, len(self.data))
        return chunk


# -- restore ----------------------------------------------------------------------------------------


def _safe_member_name(name: str) -> PurePosixPath:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise BackupError(f"the archive is corrupted or not a backup: unsafe member name {name!r}")
    return path


def _hash_member(archive: tarfile.TarFile, member: tarfile.TarInfo, sink: IO[bytes] | None = None) -> str:
    handle = archive.extractfile(member)
    if handle is None:
        raise BackupError(f"the archive is corrupted or not a backup: {member.name} is not a file")
    digest = hashlib.sha256()
    while chunk := handle.read(CHUNK):
        digest.update(chunk)
        if sink is not None:
            sink.write(chunk)
    return digest.hexdigest()


def verify(archive_path: Path) -> dict[str, Any]:
    """The manifest, once every member of the archive matches it (size and SHA-256), or BackupError."""
    hashes: dict[str, tuple[int, str]] = {}
    manifest_body: bytes | None = None
    try:
        with tarfile.open(archive_path, "r:") as archive:
            for member in archive:
                name = str(_safe_member_name(member.name))
                if not member.isfile():
                    raise BackupError(f"the archive is corrupted or not a backup: {name} is not a file")
                if name == MANIFEST:
                    handle = archive.extractfile(member)
                    manifest_body = handle.read() if handle else None
                    continue
                if name in hashes:
                    raise BackupError(f"the archive is corrupted: {name} appears twice")
                hashes[name] = (member.size, _hash_member(archive, member))
    except FileNotFoundError:
        raise BackupError(f"no archive {archive_path}") from None
    except (tarfile.TarError, EOFError, OSError, UnicodeDecodeError) as exc:
        raise BackupError(f"the archive is corrupted or not a backup: {exc}") from None
    if manifest_body is None:
        raise BackupError("the archive is corrupted or not a backup: it has no manifest.json")
    try:
        manifest: dict[str, Any] = json.loads(manifest_body)
        files = {str(entry["path"]): (int(entry["bytes"]), str(entry["sha256"])) for entry in manifest["files"]}
    except (ValueError, KeyError, TypeError) as exc:
        raise BackupError(f"the archive is corrupted: its manifest cannot be read ({exc})") from None
    if manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
        raise BackupError(f"not a {FORMAT} archive of version {VERSION}")
    for name, (size, sha256) in files.items():
        if name not in hashes:
            raise BackupError(f"the archive is corrupted: {name} is missing")
        if hashes[name] != (size, sha256):
            raise BackupError(f"the archive is corrupted: {name} does not match its checksum")
    unexpected = sorted(set(hashes) - set(files))
    if unexpected:
        raise BackupError(f"the archive is corrupted: {unexpected[0]} is not in its manifest")
    if DUMP not in files:
        raise BackupError(f"the archive is corrupted: it has no {DUMP}")
    for name in files:
        if name != DUMP and SOURCES not in PurePosixPath(name).parents:
            raise BackupError(f"the archive is corrupted: unexpected member {name}")
    return manifest


def target_contents(settings: Settings, url: str) -> list[str]:
    """What makes the target platform non-empty (empty list: empty)."""
    found = [f"table {name}" for name in _user_tables(url)]
    originals = next(iter(_originals(settings)), None)
    if originals is not None:
        found.append(f"original {originals[0]}")
    return found


def _clear_database(url: str) -> None:
    """Everything in the public schema (tables, PostGIS, the queue) goes; the schema stays."""
    with psycopg.connect(url, autocommit=True) as conn:
        schemas = conn.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname NOT IN ('pg_catalog', 'information_schema', 'public') "
            "AND nspname NOT LIKE 'pg_%'"
        ).fetchall()
        for (schema,) in schemas:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")


def restore(settings: Settings, url: str, archive_path: Path, *, force: bool = False) -> Summary:
    archive_path = archive_path.expanduser().resolve()
    manifest = verify(archive_path)  # nothing is touched before every checksum matched
    found = target_contents(settings, url)
    if found and not force:
        raise Conflict(f"the target platform is not empty ({found[0]}, …): restore with --force to replace it")
    pg_restore = _binary(settings, "pg_restore")
    data_dir = settings.resolved_data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    summary = Summary(archive=archive_path, schema_revision=manifest.get("schema_revision"))
    with tempfile.TemporaryDirectory(prefix=".restore-", dir=data_dir) as scratch:
        staging = Path(scratch)
        expected = {str(entry["path"]): str(entry["sha256"]) for entry in manifest["files"]}
        try:
            with tarfile.open(archive_path, "r:") as archive:
                for member in archive:
                    name = str(_safe_member_name(member.name))
                    if name == MANIFEST:
                        continue
                    target = staging / name
                    target.parent.mkdir(parents=True, exist_ok=True)
                    with target.open("wb") as sink:
                        if _hash_member(archive, member, sink) != expected[name]:
                            raise BackupError(f"the archive is corrupted: {name} changed while it was restored")
                    summary.members.append({"path": name, "bytes": member.size, "sha256": expected[name]})
        except (tarfile.TarError, EOFError, KeyError) as exc:
            raise BackupError(f"the archive is corrupted or changed while it was restored: {exc}") from None
        if found:
            _clear_database(url)
        args, env = _connection_args(url)
        _run(
            [
                str(pg_restore),
                "--no-password",
                "--no-owner",
                "--no-privileges",
                "--exit-on-error",
                "--single-transaction",
                *args,
                str(staging / DUMP),
            ],
            env,
            "pg_restore",
        )
        sources = settings.uploads_dir / "sources"
        if sources.exists():
            shutil.rmtree(sources)
        sources.parent.mkdir(parents=True, exist_ok=True)
        staged_sources = staging / SOURCES
        if staged_sources.is_dir():
            for path in staged_sources.rglob("*"):
                path.chmod(0o400 if path.is_file() else 0o700)  # never written again; the platform's user only
            staged_sources.chmod(0o700)
            staged_sources.replace(sources)
        else:
            sources.mkdir(mode=0o700)
        sources.parent.chmod(0o700)
    summary.files = len(summary.members) - 1
    summary.bytes = archive_path.stat().st_size
    return summary
