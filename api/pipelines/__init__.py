"""HTTP routes of the pipelines domain (cim_platform/pipelines)."""

from __future__ import annotations

from fastapi import APIRouter

ROUTERS: list[APIRouter] = []
