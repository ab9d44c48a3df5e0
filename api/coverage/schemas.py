"""Response and request models of the coverage routes."""

from __future__ import annotations

from pydantic import BaseModel


class UnitOut(BaseModel):
    code: str
    district_code: str
    parent_code: str | None
    level: str
    name: str
    name_zh: str
    has_boundary: bool


class UnitList(BaseModel):
    items: list[UnitOut]
