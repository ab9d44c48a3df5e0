"""Historic buildings over HTTP (issue 10): records, groups, reviewed edits, the archive, protection conflicts
and approvals, the demolition watch, import and export."""

from fastapi import APIRouter

from api.heritage import alerts, archive, buildings, review, transfer

ROUTERS: list[APIRouter] = [
    buildings.router,
    review.router,
    archive.router,
    transfer.router,
    alerts.router,
]
