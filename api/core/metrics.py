"""``/metrics`` in the Prometheus text format, for the people who run the platform.

- ``cim_http_requests_total{method, route, status}`` and ``cim_http_request_duration_seconds{method, route}``:
  per route *template* (``/api/v1/datasets/{dataset_id}``), never per raw path; requests no route
  answered are ``<unmatched>`` (404s) or ``<middleware>`` (e.g. tile contents from the fast path).
- ``cim_jobs{kind, state}``, ``cim_job_queue_depth{queue}``, ``cim_job_duration_seconds{kind, state}``:
  read from the database on each scrape (:mod:`cim_platform.core.metrics`).
- ``cim_cache_lookups_total{cache, result}``: hits and misses of the tile-content cache.

Several server processes (``cim serve --workers N``): set ``PROMETHEUS_MULTIPROC_DIR`` to an empty
folder before starting, and every process answers for all of them (prometheus-client's multiprocess
mode; clear the folder at each start). Without it, each process answers for itself.

Access: clients whose address is in ``CIM_METRICS_ALLOW`` (default loopback only), or a request
carrying ``CIM_METRICS_TOKEN`` or an admin's API token as ``Authorization: Bearer …``.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import time
from collections.abc import Iterable
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from starlette.concurrency import run_in_threadpool
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.deps import get_caller
from cim_platform.core.access import Scope as AccessScope
from cim_platform.core.errors import Forbidden, SetupError
from cim_platform.core.metrics import JobsCollector
from cim_platform.core.settings import Settings

REQUESTS = Counter(
    "cim_http_requests", "HTTP requests answered, by method, route template and status", ["method", "route", "status"]
)
LATENCY = Histogram(
    "cim_http_request_duration_seconds",
    "Time to answer an HTTP request (until the last byte was handed over), by method and route template",
    ["method", "route"],
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0),
)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "<unmatched>"
MIDDLEWARE = "<middleware>"

router = APIRouter(tags=["platform"])


# -- which route answered ----------------------------------------------------------------------------


def _flat_routes(routes: Iterable[Any], prefix: str = "") -> Iterable[tuple[str, frozenset[str] | None]]:
    """(path template, methods) of every route, through included routers and mounts."""
    for route in routes:
        original = getattr(route, "original_router", None)  # FastAPI's lazily included router
        if original is not None:
            context = getattr(route, "include_context", None)
            yield from _flat_routes(original.routes, prefix + str(getattr(context, "prefix", "") or ""))
            continue
        path = getattr(route, "path", None)
        if path is None:
            continue
        methods = getattr(route, "methods", None)
        yield prefix + str(path), frozenset(methods) if methods else None
        if getattr(route, "routes", None) and not methods:  # a Mount with routes of its own
            yield from _flat_routes(route.routes, prefix + str(path))


class RouteTemplates:
    """Finds the template of a path that no route handled itself (answered by a middleware)."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self._table: list[tuple[Any, str, frozenset[str] | None]] | None = None

    def _compiled(self) -> list[tuple[Any, str, frozenset[str] | None]]:
        if self._table is None:
            self._table = [(compile_path(path)[0], path, methods) for path, methods in _flat_routes(self.app.routes)]
        return self._table

    def find(self, method: str, path: str) -> str | None:
        for regex, template, methods in self._compiled():
            if (methods is None or method in methods) and regex.match(path):
                return template
        return None


def route_label(scope: Scope, status: int, templates: RouteTemplates) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None) if route is not None else None
    if isinstance(path, str):
        return path
    if status == 404:
        return UNMATCHED
    return templates.find(scope["method"], scope["path"]) or MIDDLEWARE


class MetricsMiddleware:
    """Counts and times every HTTP request by route template (pure ASGI: nothing buffered)."""

    def __init__(self, app: ASGIApp, templates: RouteTemplates) -> None:
        self.app, self.templates = app, templates

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_counting(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_counting)
        finally:
            method = scope["method"] if scope["method"] in METHODS else "other"
            route = route_label(scope, status, self.templates)
            REQUESTS.labels(method, route, str(status)).inc()
            LATENCY.labels(method, route).observe(time.perf_counter() - started)


# -- exposition --------------------------------------------------------------------------------------


class _ProcessMetrics(Collector):
    """This process's metrics (the default registry: ours, plus process and Python ones)."""

    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()


def build_registry(app: FastAPI) -> CollectorRegistry:
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]  # unannotated upstream; sums every process
    else:
        registry.register(_ProcessMetrics())
    registry.register(JobsCollector(app.state.engine))
    return registry


def parse_allow_list(entries: list[str]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            raise SetupError(f"CIM_METRICS_ALLOW: {entry!r} is not an address or CIDR block") from None
    return networks


def _address_allowed(request: Request) -> bool:
    networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = request.app.state.metrics_allow
    host = request.client.host if request.client else None
    if host is None:
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in networks)


async def _token_allowed(request: Request, settings: Settings) -> bool:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return False
    if settings.metrics_token and hmac.compare_digest(token.strip().encode(), settings.metrics_token.encode()):
        return True
    caller = await get_caller(request)
    return AccessScope.admin in caller.scopes


@router.get("/metrics", include_in_schema=False, name="metrics")
async def metrics(request: Request) -> Response:
    """Prometheus text format; from an allowed address or with a metrics or admin token."""
    settings: Settings = request.app.state.settings
    if not _address_allowed(request) and not await _token_allowed(request, settings):
        raise Forbidden("/metrics is readable from CIM_METRICS_ALLOW addresses or with a metrics or admin token")
    registry: CollectorRegistry = request.app.state.metrics_registry
    body = await run_in_threadpool(generate_latest, registry)
    return Response(body, media_type=CONTENT_TYPE_LATEST)


def install_metrics(app: FastAPI, settings: Settings) -> None:
    """Count requests (call before install_request_id, after the other middlewares) and prepare /metrics."""
    app.state.metrics_allow = parse_allow_list(settings.metrics_allow)
    app.state.metrics_registry = build_registry(app)
    app.add_middleware(MetricsMiddleware, templates=RouteTemplates(app))
