"""Historic buildings over HTTP: records, groups, reviewed edits and protection conflicts (issue 10)."""

from fastapi import APIRouter

from api.heritage import alerts, archive, buildings, review, transfer

ROUTERS: list[APIRouter] = [buildings.router, review.router, archive.router, transfer.router, alerts.router]
