"""What a coverage figure means: the parameters of its definition, with a stable key."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from typing import Any

from cim_platform.core.errors import InvalidInput

DEFINITION_TEXT = (
    "area coverage = geodesic area (WGS84 ellipsoid) of the union of the footprints of the published revisions "
    "of datasets at or above the CIM level (optionally of one source kind), intersected with the unit's built-up "
    "area of the latest year at or before `year`, divided by the geodesic area of that built-up area; overlapping "
    "datasets count once, internal and public datasets both count, unpublished, failed and superseded revisions do "
    "not. The city figure adds up the nine districts and banners (towns lie inside them). Count coverage: "
    "inventory buildings whose footprint is covered to at least `count_share` / inventory buildings. The breakdown "
    "gives each source kind's and each CIM level's own covered area (they overlap, so they may add up to more "
    "than the total)."
)


@dataclass(frozen=True)
class Definition:
    level: int = 1  # at or above this CIM level
    kind: str | None = None  # one source kind (dataset kind) only
    year: int | None = None  # built-up areas of this year or the latest before it; None: the latest
    count_share: float = 0.5

    def __post_init__(self) -> None:
        if not 1 <= self.level <= 7:
            raise InvalidInput("level must be CIM1 … CIM7", params={"level": self.level})
        if not 0 < self.count_share <= 1:
            raise InvalidInput("count_share must be in (0, 1]", params={"count_share": self.count_share})
        if self.year is not None and not 1900 <= self.year <= 2200:
            raise InvalidInput("year must be between 1900 and 2200", params={"year": self.year})
        if self.kind is not None and not (0 < len(self.kind) <= 16):
            raise InvalidInput("kind must be 1 to 16 characters")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def key(self) -> str:
        return digest(self.as_dict())

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> Definition:
        return cls(
            level=int(values.get("level", 1)),
            kind=values.get("kind"),
            year=values.get("year"),
            count_share=float(values.get("count_share", 0.5)),
        )


def digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()
