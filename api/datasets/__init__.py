"""Datasets over HTTP: uploads, revisions, publishing, tile streaming, OGC API – 3D GeoVolumes."""

from fastapi import APIRouter

from api.datasets import ogc, routes, tiles

ROUTERS: list[APIRouter] = [routes.router, tiles.router, ogc.router]
