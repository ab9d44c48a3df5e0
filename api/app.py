"""``create_app(settings)``: the FastAPI application."""

from __future__ import annotations

import importlib

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from api import core, logging_filters
from api.core.metrics import install_metrics
from api.core.request_id import install_request_id
from api.datasets.public_fill import PublicFill
from api.datasets.tile_fastpath import TileFastPath, install_outermost
from api.errors import install_error_handlers
from api.portal import install_portal
from api.public_front import PublicFront
from api.routers import viewer
from cim_platform import __version__
from cim_platform.core.caches import TTLCache
from cim_platform.core.db.engine import get_engine, libpq_url
from cim_platform.core.settings import Settings
from cim_platform.datasets.streaming import TileStreamer
from cim_platform.registry import load_domains


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    app = FastAPI(
        title="Ordos CIM platform",
        version=__version__,
        description="IFC and survey data as georeferenced OGC 3D Tiles 1.1 in PostGIS, streamed to web viewers.",
    )
    if not settings.database_url:  # resolve (and start) the private cluster once, not per request
        settings.database_url = libpq_url(settings)
    app.state.settings = settings
    app.state.engine = get_engine(settings)
    app.state.tiles = TileStreamer(app.state.engine, settings)
    app.state.callers = TTLCache(settings.tile_access_ttl_s)
    # the bare server answers plain anonymous reads of public pinned contents from the public tree itself
    app.state.public_front = PublicFront(app.state.tiles.public_tree.root)
    app.state.public_fill = PublicFill(app.state.tiles)
    app.add_middleware(TileFastPath, streamer=app.state.tiles, callers=app.state.callers, fill=app.state.public_fill)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
        allow_headers=["*"],
        expose_headers=["ETag", "Content-Length", "Content-Encoding", "X-Total-Count", "X-Request-ID"],
    )
    install_metrics(app, settings)  # counts every request, the fast path's too
    install_request_id(app)  # outermost middleware: wraps every other one
    # cached tile contents: before any middleware
    install_outermost(app, app.state.tiles, app.state.callers, app.state.public_fill)
    install_error_handlers(app)
    logging_filters.install()
    for router in core.ROUTERS:
        app.include_router(router)
    for domain in load_domains():
        for router in importlib.import_module(f"api.{domain.name}").ROUTERS:
            app.include_router(router)
    app.include_router(viewer.router)
    viewer.mount_cesium(app, settings)
    install_portal(app, settings)
    return app
