"""HTTP routes of the ground domain (cim_platform/ground): the city's terrain and orthophoto tiles."""

from __future__ import annotations

from fastapi import APIRouter

from api.ground import routes

ROUTERS: list[APIRouter] = [routes.router]
