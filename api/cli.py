"""The ``cim`` command: database, server, worker, accounts and offline conversion."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Annotated

import typer

from api.cli_check import check_command
from api.cli_convert import convert_command
from api.cli_deploy import deploy_app
from api.core.logging_config import uvicorn_log_config
from api.coverage.cli import coverage_app
from api.logging_filters import with_redaction
from cim_platform.accounts import service as accounts
from cim_platform.accounts.sessions import load_session_keys
from cim_platform.core import migrate
from cim_platform.core.db.engine import get_engine, libpq_url, private_cluster, session_scope
from cim_platform.core.errors import CimError, SetupError
from cim_platform.core.logs import configure_logging
from cim_platform.core.pgcluster import port_in_use
from cim_platform.core.settings import Settings
from converters.errors import ConversionError
from converters.process_guard import die_with_parent

app = typer.Typer(help="Ordos CIM platform", no_args_is_help=True, pretty_exceptions_enable=False)
db_app = typer.Typer(help="The database", no_args_is_help=True)
admin_app = typer.Typer(help="Organisations and users", no_args_is_help=True)
token_app = typer.Typer(help="API tokens", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(admin_app, name="admin")
app.add_typer(token_app, name="token")
app.command("convert")(convert_command)
app.command("check")(check_command)  # cim check MODEL.ifc --ids RULES.ids
app.add_typer(deploy_app, name="deploy")  # cim deploy nginx-conf
app.add_typer(coverage_app, name="coverage")  # cim coverage [load-built-up | snapshot]


def prepare_database(settings: Settings) -> str:
    """Start the private cluster if needed, migrate to head; the libpq URL."""
    url = libpq_url(settings)
    migrate.upgrade(url)
    return url


@contextmanager
def running_platform_database(
    settings: Settings, *, on_first_start: Callable[[accounts.BootstrapCredentials], None] | None = None
) -> Iterator[str]:
    """The migrated database with a bootstrap admin; a private cluster started here is stopped after.
    The first start's credentials go to ``on_first_start`` (default: printed once)."""
    load_session_keys(settings)  # refuses a weak CIM_SESSION_SECRET; generates one into the data folder
    cluster = None if settings.database_url else private_cluster(settings)
    started_here = cluster is not None and not cluster.is_running()
    url = prepare_database(settings)
    with session_scope(get_engine(settings)) as session:
        first = accounts.bootstrap_admin(session, settings.bootstrap_org)
        nobody_can_sign_in = first is None and not accounts.anyone_has_a_password(session)
    if first and on_first_start is not None:
        on_first_start(first)
    elif first:
        typer.echo(f"first start: admin token (shown once, store it now): {first.token}")
        typer.echo(f"first start: sign in as {first.username!r} with the password (shown once): {first.password}")
    elif nobody_can_sign_in:
        typer.echo("no user has a password yet: set one with `cim admin set-password admin`")
    try:
        yield url
    finally:
        if started_here and cluster is not None:
            get_engine(settings).dispose()
            cluster.stop()
            if on_first_start is None:
                typer.echo("private database stopped")


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply migrations (starting the private cluster when CIM_DATABASE_URL is unset)."""
    url = libpq_url(Settings())
    migrate.upgrade(url, revision)
    typer.echo(f"database at {revision}")


@db_app.command("start")
def db_start() -> None:
    """Start the private cluster (no-op with CIM_DATABASE_URL)."""
    settings = Settings()
    libpq_url(settings)
    typer.echo(
        "external database in use" if settings.database_url else f"private cluster on 127.0.0.1:{settings.pg_port}"
    )


@db_app.command("stop")
def db_stop() -> None:
    """Stop the private cluster."""
    settings = Settings()
    if settings.database_url:
        typer.echo("external database in use; nothing to stop")
        return
    private_cluster(settings).stop()
    typer.echo("private cluster stopped")


@db_app.command("url")
def db_url() -> None:
    """Print the database URL (contains the password)."""
    typer.echo(libpq_url(Settings()))


@admin_app.command("create-org")
def create_org(
    name: str, kind: Annotated[str, typer.Option(help="design_institute, survey_team, city_bureau, other")] = "other"
) -> None:
    settings = Settings()
    with session_scope(get_engine(settings)) as session:
        org = accounts.create_organization(session, name, kind)
        typer.echo(f"organisation {org.name!r} ({org.kind}) id {org.id}")


@admin_app.command("create-user")
def create_user(
    username: str,
    org: Annotated[str, typer.Option(help="Organisation name or id")],
    role: Annotated[str, typer.Option(help="admin, uploader, surveyor, official, viewer")],
    display_name: str = "",
    password_stdin: Annotated[bool, typer.Option(help="Read the user's password from standard input")] = False,
) -> None:
    settings = Settings()
    password = _password_from_stdin() if password_stdin else None
    with session_scope(get_engine(settings)) as session:
        user = accounts.create_user(
            session,
            accounts.find_organization(session, org),
            username,
            role,
            display_name,
            password=password,
            min_password_length=settings.password_min_length,
        )
        typer.echo(f"user {user.username!r} ({user.role}) in {user.organization.name!r}, id {user.id}")
        typer.echo(f"next: cim token create --user {user.username}")


def _password_from_stdin() -> str:
    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise CimError("no password on standard input")
    return password


@admin_app.command("set-password")
def set_password(
    username: str,
    password_stdin: Annotated[bool, typer.Option(help="Read the password from standard input")] = False,
) -> None:
    """Set a user's password (asked twice, or read from standard input); the user's sessions end."""
    settings = Settings()
    with session_scope(get_engine(settings)) as session:
        accounts.find_user(session, username)  # an unknown user is said before the password is asked
    if password_stdin:
        password = _password_from_stdin()
    else:
        password = typer.prompt(f"new password for {username}", hide_input=True, confirmation_prompt=True)
    with session_scope(get_engine(settings)) as session:
        user = accounts.find_user(session, username)
        accounts.set_password(session, user, password, min_length=settings.password_min_length)
        typer.echo(f"password of {user.username!r} set; sign in at POST /api/v1/session")


@token_app.command("create")
def create_token(
    user: Annotated[str, typer.Option(help="Username or id")],
    role: Annotated[str | None, typer.Option(help="Role of the token (default: the user's)")] = None,
    name: str = "",
    expires_days: int | None = None,
) -> None:
    settings = Settings()
    with session_scope(get_engine(settings)) as session:
        plaintext, token = accounts.create_token(session, accounts.find_user(session, user), role, name, expires_days)
        typer.echo(f"token {token.id} for {token.user.username} ({token.role}); shown once, store it now:")
        typer.echo(plaintext)
        typer.echo(
            f"use it as: curl -H 'Authorization: Bearer {plaintext}' http://{settings.host}:{settings.port}/api/v1/me"
        )


@token_app.command("revoke")
def revoke_token(token_id: str) -> None:
    import uuid

    settings = Settings()
    with session_scope(get_engine(settings)) as session:
        try:
            parsed = uuid.UUID(token_id)
        except ValueError:
            raise CimError(f"{token_id!r} is not a token id") from None
        accounts.revoke_token(session, parsed)
    typer.echo(f"token {token_id} revoked")


@app.command()
def worker(concurrency: int | None = None) -> None:
    """Run a job worker (as many as you like, on any machine sharing the database)."""
    from cim_platform.core.jobs.worker import run_worker
    from cim_platform.registry import load_domains

    load_domains()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = Settings()
    configure_logging(settings.log_format)  # CIM_LOG_FORMAT=json: one JSON object per line
    libpq_url(settings)
    run_worker(settings, concurrency)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on (default 127.0.0.1)")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 8000)", min=1, max=65535)] = None,
    with_worker: Annotated[bool, typer.Option(help="Also run a job worker")] = False,
    workers: Annotated[int, typer.Option(help="Server processes")] = 1,
) -> None:
    """Serve the API (and, with --with-worker, process jobs): one command, a working platform."""
    settings = Settings()
    settings.host, settings.port = host or settings.host, port or settings.port
    if port_in_use(settings.port, settings.host if settings.host not in ("0.0.0.0", "::") else "127.0.0.1"):  # noqa: S104
        raise SetupError(f"port {settings.port} is in use: choose another with --port")
    with running_platform_database(settings) as url:
        _serve(settings, url, with_worker, workers)


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(0)


def _serve(settings: Settings, url: str, with_worker: bool, workers: int) -> None:
    import uvicorn

    from api.app import create_app
    from api.http_limits import BoundedHttpToolsProtocol

    worker_process = None
    if with_worker:
        # uvicorn ends a SIGTERM'd server by raising the signal again with the handler found at start: the
        # default one would end this process at once, before the worker is stopped below (`cim serve`
        # runs in the main thread, where handlers can be set)
        signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        if with_worker:
            worker_process = subprocess.Popen(
                [sys.executable, "-m", "api.cli", "worker"],
                env={**os.environ, "CIM_DATABASE_URL": url},
                # asked to stop (SIGTERM) if this process dies without stopping it (SIGKILL, a crash)
                preexec_fn=partial(die_with_parent, os.getpid(), signal.SIGTERM),
            )
        if workers > 1:
            os.environ["CIM_DATABASE_URL"] = url
            uvicorn.run(
                "api.asgi:app_factory",
                factory=True,
                workers=workers,
                # a worker answers the supervisor's pings only once it has imported the platform: on a
                # busy machine that takes longer than uvicorn's 5 s, and the workers were killed and
                # restarted for ever (issue 17's benchmark under load)
                timeout_worker_healthcheck=60,
                host=settings.host,
                port=settings.port,
                log_level="warning",
                log_config=with_redaction(uvicorn_log_config(settings)),
                http=BoundedHttpToolsProtocol,
            )
        else:
            uvicorn.run(
                create_app(settings),
                host=settings.host,
                port=settings.port,
                log_level="info",
                log_config=with_redaction(uvicorn_log_config(settings)),
                http=BoundedHttpToolsProtocol,
            )
    finally:
        if worker_process is not None:
            signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second SIGTERM must not skip stopping the worker
            worker_process.terminate()  # a running job is requeued by the next worker if this one must be killed
            try:
                worker_process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker_process.kill()
                worker_process.wait()


@app.command()
def demo(
    host: Annotated[str | None, typer.Option(help="Address to listen on (default 127.0.0.1)")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 8000)", min=1, max=65535)] = None,
) -> None:
    """Bring the platform up (database, server, worker, viewer) with the demo city loaded, until Ctrl-C."""
    from api.demo import remember_credentials, run_demo

    settings = Settings()
    settings.host, settings.port = host or settings.host, port or settings.port
    if port_in_use(settings.port):
        raise SetupError(f"port {settings.port} is in use: choose another with --port")
    typer.echo("starting the database …")
    with running_platform_database(settings, on_first_start=remember_credentials(settings)) as url:
        run_demo(settings, url)
    typer.echo("stopped.")


@app.command("backup")
def backup_command(out: Annotated[Path, typer.Argument(help="The archive to write, e.g. cim-2026-12-02.tar")]) -> None:
    """The database (pg_dump, PostGIS and the queue included) and the original uploads in one archive,
    with a manifest of SHA-256 checksums."""
    from cim_platform.core import backup

    settings = Settings()
    summary = backup.backup(settings, libpq_url(settings), out)
    typer.echo(
        f"backup written to {summary.archive}: the database (schema {summary.schema_revision}) and "
        f"{summary.files} original files, {summary.bytes} bytes"
    )


@app.command("restore")
def restore_command(
    archive: Annotated[Path, typer.Argument(help="An archive written by `cim backup`")],
    force: Annotated[bool, typer.Option("--force", help="Replace a platform that is not empty")] = False,
) -> None:
    """Restore a backup into this platform (empty, unless --force); every checksum is verified first."""
    from cim_platform.core import backup

    settings = Settings()
    summary = backup.restore(settings, libpq_url(settings), archive, force=force)
    typer.echo(
        f"restored {summary.archive}: the database (schema {summary.schema_revision}) and "
        f"{summary.files} original files; `cim db upgrade` (or `cim serve`) brings the schema up to date"
    )


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def main() -> None:
    """Expected failures end with one line on stderr and exit code 2, never a traceback."""
    import psycopg
    import pydantic
    import sqlalchemy.exc

    try:
        app()
    except (CimError, ConversionError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise SystemExit(2) from None
    except pydantic.ValidationError as exc:
        problem = exc.errors()[0]
        field = "CIM_" + "_".join(str(part) for part in problem["loc"]).upper()
        typer.echo(f"error: setting {field}: {problem['msg']}", err=True)
        raise SystemExit(2) from None
    except (sqlalchemy.exc.OperationalError, psycopg.OperationalError) as exc:
        typer.echo(f"error: cannot reach the database: {_first_line(exc)}", err=True)
        raise SystemExit(2) from None
    except KeyboardInterrupt:
        raise SystemExit(130) from None


if __name__ == "__main__":
    main()
