"""All configuration in one place: environment variables with the ``CIM_`` prefix (or a ``.env``)."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CIM_", env_file=".env", extra="ignore")

    data_dir: Path = Field(default=Path("./var"), description="Uploads, tiles in transit, private database")
    database_url: str | None = Field(
        default=None,
        description="postgresql://… of an existing PostGIS server; unset: a private cluster under data_dir",
    )
    database_name: str = "cim"
    pg_port: int = Field(default=54329, description="Port of the private cluster (loopback only)")
    pg_bin_dir: Path | None = Field(default=None, description="Where initdb/pg_ctl live; found if unset")

    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str | None = Field(default=None, description="Base URL clients see; derived from requests if unset")
    cors_origins: list[str] = ["*"]

    max_upload_bytes: int = 2 * 1024**3
    upload_chunk_bytes: int = 1024 * 1024

    worker_concurrency: int = 1
    worker_heartbeat_s: float = 10.0
    stalled_worker_timeout_s: float = 30.0
    job_timeout_s: float = 3600.0
    geoid_grid: Path | None = Field(
        default=None,
        description="The city's quasi-geoid grid (GTX or GeoTIFF) for Yellow Sea 1985 heights; EGM96 if unset",
    )
    job_import_paths: list[str] = Field(
        default_factory=list, description="Extra modules with procrastinate tasks (plug-ins)"
    )

    coverage_count_share: float = Field(
        default=0.5, gt=0, le=1, description="Share of a building's footprint covered for it to count as covered"
    )

    tile_cache_mb: int = Field(default=256, description="Per-process cache of immutable tile contents")
    tile_access_ttl_s: float = Field(default=2.0, description="How long visibility and tokens are cached")
    # tile streaming: large contents, the on-disk cache, nginx in front (cim_platform/datasets/streaming.py)
    tile_disk_cache_dir: Path | None = Field(
        default=None, description="Content-addressed cache of tile contents (SHA-256 names); data_dir/tile-cache"
    )
    tile_max_concurrent_reads: int = Field(
        default=4, ge=1, description="Contents read from the database at once per server process; others wait"
    )

    # sign-in for people (cim_platform/accounts): passwords, session cookies, failed sign-ins
    session_secret: str | None = Field(
        default=None,
        description="Key signing session cookies (32+ bytes); unset: generated into data_dir/session_secret (0600)",
    )
    session_idle_timeout_s: float = Field(default=2 * 3600, gt=0, description="A session unused this long ends")
    session_max_age_s: float = Field(default=12 * 3600, gt=0, description="A session ends this long after sign-in")
    password_min_length: int = Field(default=10, ge=1)
    sign_in_window_s: float = Field(default=15 * 60, gt=0, description="Window in which failed sign-ins count")
    sign_in_max_failures_per_user: int = Field(default=5, ge=1, description="Failures per username in the window")
    sign_in_max_failures_per_address: int = Field(default=20, ge=1, description="Failures per client address")

    # operations: /metrics and logs (api/core/metrics.py, cim_platform/core/logs.py)
    metrics_allow: list[str] = Field(
        default_factory=lambda: ["127.0.0.1/32", "::1/128"],
        description="Client addresses or CIDR blocks that may read /metrics (JSON list); others need a token",
    )
    metrics_token: str | None = Field(
        default=None, description="A bearer token that may read /metrics from any address (admins' API tokens may too)"
    )
    log_format: Literal["text", "json"] = Field(
        default="text", description="json: one JSON object per line (time, level, logger, message, request_id)"
    )

    bootstrap_org: str = "City Bureau"
    cesium_dir: Path | None = Field(default=None, description="CesiumJS build folder; node_modules/cesium if unset")

    @cached_property
    def resolved_data_dir(self) -> Path:
        return self.data_dir.expanduser().resolve()

    @property
    def pg_data_dir(self) -> Path:
        return self.resolved_data_dir / "postgres"

    @property
    def uploads_dir(self) -> Path:
        return self.resolved_data_dir / "uploads"

    @property
    def work_dir(self) -> Path:
        return self.resolved_data_dir / "work"
