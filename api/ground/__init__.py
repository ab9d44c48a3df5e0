"""HTTP routes of the ground domain (cim_platform/ground)."""

from __future__ import annotations

from fastapi import APIRouter

ROUTERS: list[APIRouter] = []
