"""Administrative units that showcase-street targets attach to: the nine districts and banners, and
Altan Xire town (阿勒腾席热镇, Ejin Horo Banner) as a unit of its own. A street in Altan Xire counts
for the town, not for the rest of the banner.

Default yearly targets (issue 11): from 2023, Dongsheng, Kangbashi and Altan Xire at least 3 showcase
streets a year each, every other unit at least 1; none before 2023. Officials override them per unit
and year.
"""

from __future__ import annotations

from dataclasses import dataclass

from cim_platform.facades.errors import UnknownUnit

FIRST_TARGET_YEAR = 2023


@dataclass(frozen=True)
class Unit:
    code: str  # administrative division code
    slug: str
    name: str
    name_zh: str
    district_code: str  # the district or banner it lies in (itself for districts and banners)
    default_target: int


UNITS: tuple[Unit, ...] = (
    Unit("150602", "dongsheng", "Dongsheng District", "东胜区", "150602", 3),
    Unit("150603", "kangbashi", "Kangbashi District", "康巴什区", "150603", 3),
    Unit("150621", "dalad", "Dalad Banner", "达拉特旗", "150621", 1),
    Unit("150622", "jungar", "Jungar Banner", "准格尔旗", "150622", 1),
    Unit("150623", "otog-front", "Otog Front Banner", "鄂托克前旗", "150623", 1),
    Unit("150624", "otog", "Otog Banner", "鄂托克旗", "150624", 1),
    Unit("150625", "hanggin", "Hanggin Banner", "杭锦旗", "150625", 1),
    Unit("150626", "uxin", "Uxin Banner", "乌审旗", "150626", 1),
    Unit("150627", "ejin-horo", "Ejin Horo Banner (outside Altan Xire)", "伊金霍洛旗（阿勒腾席热镇以外）", "150627", 1),
    Unit("150627100", "altan-xire", "Altan Xire Town", "阿勒腾席热镇", "150627", 3),
)
_BY_KEY = {key: unit for unit in UNITS for key in (unit.code, unit.slug)}
DISTRICT_CODES = frozenset(u.district_code for u in UNITS)
TOWN_CODES = frozenset(u.code for u in UNITS if u.code != u.district_code)


def unit(key: str) -> Unit:
    """A unit by code or slug."""
    found = _BY_KEY.get(key.strip().lower())
    if found is None:
        raise UnknownUnit(
            f"no administrative unit {key!r} (e.g. dongsheng, altan-xire, 150602)", params={"unit": key[:40]}
        )
    return found


def district(key: str) -> Unit:
    found = unit(key)
    if found.code != found.district_code:
        raise UnknownUnit(f"{key!r} is a town, not a district or banner", params={"unit": key[:40]})
    return found


def unit_for(district_code: str, town_code: str | None) -> Unit:
    """The unit a street counts for: its town when the town has a unit of its own, else its district."""
    if town_code is not None and town_code in TOWN_CODES:
        return _BY_KEY[town_code]
    return _BY_KEY[district_code]


def default_target(unit_: Unit, year: int) -> int:
    return unit_.default_target if year >= FIRST_TARGET_YEAR else 0
