"""``cim deploy nginx-conf``: the nginx configuration of the production layout.

nginx (Debian ``nginx-light``) listens for clients and passes every request to ``cim serve``. Tile
requests carry ``X-Cim-Accel: 1``, so the platform still authorises each one (visibility, tokens,
session cookies, revision pinning, ETag/304, CORS) but answers a content with its headers and an
``X-Accel-Redirect`` to the content's file in the on-disk cache (``CIM_TILE_DISK_CACHE_DIR``, files
named by SHA-256, filled from PostGIS on first read); nginx then sends the file itself (sendfile),
restoring the platform's ETag, Vary, CORS and request-id headers. JSON documents, 304s and errors
come from the platform as they are. nginx must run on the machine whose disk holds the cache.

Revision-pinned contents held in memory are the exception: for them nginx sends ``X-Cim-Accel:
cache``, the platform answers with the bytes and ``X-Accel-Expires: CIM_TILE_ACCESS_TTL_S``, and nginx
keeps the answer that long in a proxy cache keyed by URL, Origin and credentials (one cache file per
answer: Vary is ignored, what it names is in the key), revalidating with the ETag afterwards. By
default only anonymous requests get this (a dataset made internal, or a withdrawn revision, stops
being served to them within twice that time); with ``--private-cache`` requests with a token or a
session cookie too, per credential (a revoked token, a withdrawal or a visibility change reaches them
within twice that time; the cache's keys then hold credentials, so its folder must be nginx's only).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from api.datasets.tile_http import (
    ACCEL_CACHE,
    ACCEL_LOCATION,
    ACCEL_REQUEST_HEADER,
    IMMUTABLE,
    PUBLIC_TREE_REQUEST_HEADER,
    caching_headers,
    with_cors_vary,
)
from cim_platform.core.settings import Settings
from cim_platform.datasets.public_tree import FOLDER as PUBLIC_FOLDER
from cim_platform.datasets.tilestore import MEDIA_TYPES

deploy_app = typer.Typer(help="Deployment: configuration of the servers in front of the platform", no_args_is_help=True)

# headers of the platform's answer that nginx does not carry over an X-Accel-Redirect by itself
# (Content-Type and Cache-Control it does)
RESTORED_HEADERS = (
    "ETag",
    "Vary",
    "Access-Control-Allow-Origin",
    "Access-Control-Allow-Credentials",
    "Access-Control-Expose-Headers",
    "X-Request-ID",
)


# requests that carry credentials
CREDENTIALS = "$http_authorization$cookie_cim_session$arg_access_token"
# nginx keeps a content's answer per URL (with ?access_token), Origin and credentials, a few seconds
CACHE_KEY = "$request_uri|$http_origin|$http_authorization|$cookie_cim_session"
# what sends a request for a pinned content to the platform instead of the public tree: credentials, CORS,
# conditional requests (nginx would judge them by the file's own dates) and range requests (the tree answers
# plain anonymous GET and HEAD only)
TREE_BYPASS = (
    "$request_method:"
    + CREDENTIALS
    + "$http_origin$http_if_none_match$http_if_modified_since$http_if_match$http_if_unmodified_since$http_range"
)
UUID_PATTERN = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def _public_tree_headers() -> str:
    """The platform's headers of an anonymous answer with a public immutable content (tile_http)."""
    headers = with_cors_vary(caching_headers("$cim_v", IMMUTABLE))
    lines = [f'add_header {name} "{value.replace(chr(34), chr(92) + chr(34))}";' for name, value in headers.items()]
    lines += ['add_header Last-Modified "";', "add_header X-Request-ID $cim_request_id;"]
    return "\n".join(f"            {line}" for line in lines)


def _types() -> str:
    """nginx's media types of the tree's files: the ones the platform stored them with (by name)."""
    by_type: dict[str, list[str]] = {}
    for suffix, media_type in MEDIA_TYPES.items():
        if media_type != "application/json":
            by_type.setdefault(media_type, []).append(suffix.lstrip("."))
    return " ".join(f"{media_type} {' '.join(suffixes)};" for media_type, suffixes in by_type.items())


def _proxy(accel: bool, cache: bool = False, private_cache: bool = False, tree_fill: bool = False) -> str:
    accel_value = "$cim_accel" if cache else "1" if accel else ""
    # only nginx says a request missed the public tree (a client's own header is replaced)
    tree_value = "$cim_tree_fill" if tree_fill else ""
    lines = [
        "proxy_pass http://cim_platform;",
        "proxy_http_version 1.1;",
        'proxy_set_header Connection "";',
        "proxy_set_header Host $http_host;",
        "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
        "proxy_set_header X-Forwarded-Proto $scheme;",
        f'proxy_set_header {ACCEL_REQUEST_HEADER.title()} "{accel_value}";',
        f'proxy_set_header {PUBLIC_TREE_REQUEST_HEADER.title()} "{tree_value}";',
    ]
    if cache:
        lines += [
            "proxy_set_header X-Request-ID $cim_request_id;",
            "proxy_set_header If-None-Match $cim_if_none_match;",
            "proxy_cache cim_tiles;",
            f'proxy_cache_key "{CACHE_KEY}";',
            *(() if private_cache else (f"proxy_cache_bypass {CREDENTIALS};", f"proxy_no_cache {CREDENTIALS};")),
            # only X-Accel-Expires decides; what Vary names (Origin, Authorization) is in the key, so one
            # cache file per answer (no second open per hit)
            "proxy_ignore_headers Cache-Control Expires Vary;",
            "proxy_cache_revalidate on;",
            "proxy_cache_lock on;",
            "proxy_cache_use_stale updating;",
            "proxy_hide_header X-Request-ID;",
            "add_header X-Request-ID $cim_request_id always;",
        ]
    return "\n".join(f"            {line}" for line in lines)


def nginx_conf(
    settings: Settings,
    *,
    listen: str = "80",
    upstream: str | None = None,
    worker_processes: str = "auto",
    user: str | None = "www-data",
    run_dir: Path | None = None,
    access_log: Path | None = None,
    private_cache: bool = False,
) -> str:
    """The whole nginx.conf (for ``nginx -c``) of the production layout. ``private_cache``: nginx also
    keeps answers to requests with credentials a few seconds (per credential), instead of asking the
    platform each time."""
    cache_dir = (settings.tile_disk_cache_dir or settings.resolved_data_dir / "tile-cache").resolve()
    upstream = upstream or f"{settings.host}:{settings.port}"
    main = [f"user {user};" if user else "", f"worker_processes {worker_processes};"]
    temp = ""
    proxy_cache = Path("/var/cache/nginx/cim-tiles")
    if run_dir is not None:
        proxy_cache = run_dir.resolve() / "proxy_cache"
        run_dir = run_dir.resolve()
        main += [f"pid {run_dir}/nginx.pid;", f"error_log {run_dir}/error.log warn;"]
        kinds = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        temp = "\n".join(f"    {kind}_temp_path {run_dir}/{kind}_temp;" for kind in kinds)
    restored = "\n".join(
        f"            add_header {name} $upstream_http_{name.lower().replace('-', '_')};" for name in RESTORED_HEADERS
    )
    upload_mb = max(1, settings.max_upload_bytes // (1024 * 1024))
    return f"""# nginx in front of the Ordos CIM platform; written by `cim deploy nginx-conf` (see the README,
# "Deployment with nginx"). Run: nginx -c <this file>; start `cim serve` on {upstream}.
{chr(10).join(line for line in main if line)}

events {{
    worker_connections 4096;
}}

http {{
    types {{ }}
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_timeout 65;
    keepalive_requests 100000;
    server_tokens off;
    access_log {access_log or "off"};
    open_file_cache max=10000 inactive=60s;  # descriptors of cached files: no open() per request
    open_file_cache_valid 2s;
{temp}

    upstream cim_platform {{
        server {upstream};
        keepalive 128;
    }}

    # contents' answers per URL, Origin and credentials, for X-Accel-Expires seconds (CIM_TILE_ACCESS_TTL_S);
    # the keys hold the callers' credentials: this folder must be readable by nginx's user only
    proxy_cache_path {proxy_cache} levels=1:2 keys_zone=cim_tiles:16m max_size=1g inactive=10m use_temp_path=off;
    map "{CREDENTIALS}" $cim_accel {{           # X-Cim-Accel: "{ACCEL_CACHE}" where nginx keeps the answer
        "" {ACCEL_CACHE};
        default {ACCEL_CACHE if private_cache else "1"};
    }}
    map "{CREDENTIALS}" $cim_if_none_match {{
        "" $upstream_cache_etag;               # kept answers: nginx revalidates its copy, 304s are its own
        default {"$upstream_cache_etag" if private_cache else "$http_if_none_match"};
    }}
    map "{TREE_BYPASS}" $cim_tree {{         # the public tree, or a folder that never exists
        "GET:" /{PUBLIC_FOLDER};
        "HEAD:" /{PUBLIC_FOLDER};
        default /-;
    }}
    map $arg_v $cim_v {{                       # the content's SHA-256 named by the URL
        "~^[0-9a-f]{{64}}$" $arg_v;
        default -;
    }}
    map "$cim_tree$cim_v" $cim_tree_fill {{     # missed in the tree: the platform puts it there
        "~^/{PUBLIC_FOLDER}[0-9a-f]{{64}}$" 1;
        default "";
    }}
    map $http_x_request_id $cim_request_id {{  # the client's id when sane, as the platform does, else nginx's
        "~^[A-Za-z0-9][A-Za-z0-9._:@/+=-]{{0,127}}$" $http_x_request_id;
        default $request_id;
    }}

    server {{
        listen {listen};
        server_name _;
        client_max_body_size {upload_mb}m;     # CIM_MAX_UPLOAD_BYTES
        proxy_request_buffering off;           # uploads stream through to the platform
        proxy_read_timeout 3600s;
        proxy_send_timeout 3600s;

        location / {{
{_proxy(accel=False)}
        }}

        # tiles: the platform authorises every request; contents are answered with X-Accel-Redirect
        location /tiles/ {{
{_proxy(accel=True)}
        }}

        # revision-pinned (immutable) contents of public datasets, asked anonymously with their SHA-256
        # (?v=, as the served tileset.json writes them): sent by nginx from the public tree, which the
        # platform fills on the first read and sweeps every CIM_TILE_ACCESS_TTL_S seconds
        location ~ "^/tiles/(?<cim_dataset>{UUID_PATTERN})/r/(?<cim_revision>{UUID_PATTERN})/(?<cim_path>.+)$" {{
            root {cache_dir};
            try_files $cim_tree/$cim_dataset/$cim_revision/$cim_v/$cim_path @cim_pinned;
            types {{ {_types()} }}
            default_type application/octet-stream;
            etag off;                          # the platform's ETag (the SHA-256) is set below
            max_ranges 0;
{_public_tree_headers()}
        }}

        # other revision-pinned (immutable) contents: authorised by the platform, and each caller's answer
        # kept a few seconds
        location ~ ^/tiles/[^/]+/r/ {{
{_proxy(accel=True, cache=True, private_cache=private_cache)}
        }}

        location @cim_pinned {{
{_proxy(accel=True, cache=True, private_cache=private_cache, tree_fill=True)}
        }}

        # the content-addressed on-disk cache (files named by SHA-256), reachable only by X-Accel-Redirect
        location {ACCEL_LOCATION} {{
            internal;
            alias {cache_dir}/;
            etag off;                          # the platform's ETag (the SHA-256) is restored below
            add_header Last-Modified "";
{restored}
        }}
    }}
}}
"""


@deploy_app.command("nginx-conf")
def nginx_conf_command(
    out: Annotated[Path | None, typer.Option(help="Write here (default: standard output)")] = None,
    listen: Annotated[str, typer.Option(help="nginx's listen address, e.g. 80 or 0.0.0.0:8080")] = "80",
    upstream: Annotated[str | None, typer.Option(help="Where `cim serve` listens (default CIM_HOST:CIM_PORT)")] = None,
    workers: Annotated[str, typer.Option(help="nginx worker processes")] = "auto",
    user: Annotated[str, typer.Option(help="User of nginx's workers ('' keeps nginx's default)")] = "www-data",
    run_dir: Annotated[
        Path | None, typer.Option(help="Folder for nginx's pid, error log and temporary files (default: nginx's)")
    ] = None,
    access_log: Annotated[Path | None, typer.Option(help="nginx access log (default: off)")] = None,
    private_cache: Annotated[
        bool,
        typer.Option(
            help="Keep answers to requests with a token or session a few seconds too (CIM_TILE_ACCESS_TTL_S): "
            "faster, but a revoked token, a withdrawal or a visibility change reaches them only after that time"
        ),
    ] = False,
) -> None:
    """The nginx configuration of the production layout: nginx in front, the platform authorising every
    tile request, nginx sending the bytes of contents from the on-disk cache."""
    text = nginx_conf(
        Settings(),
        listen=listen,
        upstream=upstream,
        worker_processes=workers,
        user=user or None,
        run_dir=run_dir,
        access_log=access_log,
        private_cache=private_cache,
    )
    if out is None:
        typer.echo(text, nl=False)
        return
    out.write_text(text)
    typer.echo(f"nginx configuration written to {out}; run `nginx -c {out.resolve()}` with `cim serve` started")
