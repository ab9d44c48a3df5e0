"""3D-data coverage over HTTP: units, built-up areas, CIM levels, figures, snapshots, targets (issue 12)."""

from fastapi import APIRouter

from api.coverage import admin, routes

ROUTERS: list[APIRouter] = [routes.router, admin.router]
