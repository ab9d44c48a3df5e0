"""HTTP routes of the pipelines domain (cim_platform/pipelines)."""

from __future__ import annotations

from fastapi import APIRouter

from api.pipelines import routes

ROUTERS: list[APIRouter] = [routes.router]
