"""Routes of the core: health, jobs (and, as they come, audit and metrics)."""

from fastapi import APIRouter

from api.core import audit, health, jobs, metrics

ROUTERS: list[APIRouter] = [health.router, jobs.router, audit.router, metrics.router]
