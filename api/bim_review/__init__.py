"""HTTP routes of the bim_review domain (cim_platform/bim_review)."""

from __future__ import annotations

from fastapi import APIRouter

ROUTERS: list[APIRouter] = []
