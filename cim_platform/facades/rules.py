"""Colour rules per zone: the defaults, with what officials changed stored per zone."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cim_platform.core.access import Caller
from cim_platform.core.audit import record_change
from cim_platform.core.db.base import utcnow
from cim_platform.core.errors import InvalidInput
from cim_platform.facades.models import ColourRuleSet
from cim_platform.facades.palette import DEFAULT_RULES, ColourRules, Outcome, Zone
from cim_platform.facades.scopes import FacadesScope


def rules_for(session: Session, zone: Zone) -> ColourRules:
    row = session.get(ColourRuleSet, zone.value)
    return ColourRules.from_dict(row.rules) if row else DEFAULT_RULES[zone]


def all_rules(session: Session) -> dict[Zone, tuple[ColourRules, bool]]:
    """Each zone's rules and whether officials changed them."""
    rows = {row.zone: row for row in session.scalars(select(ColourRuleSet))}
    return {
        zone: (ColourRules.from_dict(rows[zone.value].rules), True)
        if zone.value in rows
        else (DEFAULT_RULES[zone], False)
        for zone in Zone
    }


def _validate(rules: ColourRules) -> None:
    numbers = {
        "main_max_chroma_warm": rules.main_max_chroma_warm,
        "main_max_chroma_other": rules.main_max_chroma_other,
        "max_chroma": rules.max_chroma,
        "accent_max_share": rules.accent_max_share,
        "main_min_value": rules.main_min_value,
        "main_max_value": rules.main_max_value,
    }
    for key, number in numbers.items():
        if not 0 <= number <= (100 if key == "accent_max_share" else 50 if "chroma" in key else 10):
            raise InvalidInput(f"{key} = {number} is out of range", params={"field": key})
    if rules.main_min_value > rules.main_max_value:
        raise InvalidInput("main_min_value must not exceed main_max_value", params={"field": "main_min_value"})
    for severity in (
        rules.main_chroma_severity,
        rules.max_chroma_severity,
        rules.accent_share_severity,
        rules.main_value_severity,
    ):
        if severity is Outcome.passed:
            raise InvalidInput("a rule's severity is warn or fail", params={"field": "severity"})


def set_rules(session: Session, caller: Caller, zone: Zone, changes: dict[str, Any]) -> ColourRules:
    """Change some of a zone's rules (officials); ``reset`` semantics: pass the defaults."""
    caller.require(FacadesScope.admin)
    before = rules_for(session, zone)
    after = ColourRules.from_dict({**before.as_dict(), **changes})
    _validate(after)
    row = session.get(ColourRuleSet, zone.value)
    if row is None:
        row = ColourRuleSet(zone=zone.value, rules=after.as_dict())
        session.add(row)
    row.rules = after.as_dict()
    row.updated_at = utcnow()
    row.updated_by = caller.user_id
    session.flush()
    record_change(
        session,
        caller,
        action="facades.rules.changed",
        object_type="facade_colour_rules",
        object_id=zone.value,
        before=before.as_dict(),
        after=after.as_dict(),
    )
    return after
