"""HTTP routes of the bim_review domain (cim_platform/bim_review)."""

from __future__ import annotations

from fastapi import APIRouter

from api.bim_review import bcf_api, diff_routes, ids_routes, topic_routes

ROUTERS: list[APIRouter] = [ids_routes.router, diff_routes.router, topic_routes.router, bcf_api.router]

PORTAL_PATHS = ("/bim",)  # the portal's BIM-review pages (api/portal.py answers them with the app)
# (the BCF REST API of bcf_api lives under /bcf: no portal page)
