"""The city palette's rules per zone and the check of a facade's colours (pure, no database).

Defaults (issue 11), the same in every zone until officials edit them: main colours chroma ≤ 4 for
R, YR and Y hues and ≤ 2 for other hues; any colour with chroma > 6 fails (colours outside the
renotation domain are high-chroma by definition); accent colours together ≤ 20 % of the facade area;
main colours' Munsell value within 5–9.5 (a warning). Limits are inclusive and compared with the
readings as shown (one decimal): chroma 4.0 passes a limit of 4.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from cim_platform.facades.colours import ColourReading


class Zone(enum.StrEnum):
    old_town = "old_town"
    protection_zone = "protection_zone"  # historic protection zone
    new_district = "new_district"


class ColourUse(enum.StrEnum):
    main = "main"
    secondary = "secondary"
    accent = "accent"


class Outcome(enum.StrEnum):
    passed = "pass"
    warn = "warn"
    fail = "fail"


class Rule(enum.StrEnum):
    main_chroma = "main_chroma"  # main colours: chroma limit by hue family
    max_chroma = "max_chroma"  # any colour: chroma limit (and colours outside the renotation domain)
    accent_share = "accent_share"  # accent colours together: share of the facade area
    main_value = "main_value"  # main colours: Munsell value range
    shares_total = "shares_total"  # the shares should add up to 100 %
    no_main_colour = "no_main_colour"


@dataclass(frozen=True)
class ColourRules:
    """One zone's rules. Shares in percent of the facade area; severities ``warn`` or ``fail``."""

    main_max_chroma_warm: float = 4.0
    warm_families: tuple[str, ...] = ("R", "YR", "Y")
    main_max_chroma_other: float = 2.0
    max_chroma: float = 6.0
    accent_max_share: float = 20.0
    main_min_value: float = 5.0
    main_max_value: float = 9.5
    main_chroma_severity: Outcome = Outcome.fail
    max_chroma_severity: Outcome = Outcome.fail
    accent_share_severity: Outcome = Outcome.fail
    main_value_severity: Outcome = Outcome.warn

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["warm_families"] = list(self.warm_families)
        return {k: (v.value if isinstance(v, Outcome) else v) for k, v in data.items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ColourRules:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        if "warm_families" in known:
            known["warm_families"] = tuple(known["warm_families"])
        for key in ("main_chroma_severity", "max_chroma_severity", "accent_share_severity", "main_value_severity"):
            if key in known:
                known[key] = Outcome(known[key])
        return replace(cls(), **known)


DEFAULT_RULES: dict[Zone, ColourRules] = {zone: ColourRules() for zone in Zone}


@dataclass(frozen=True)
class FacadeColour:
    reading: ColourReading
    use: ColourUse
    share: float  # percent of the facade area
    label: str | None = None  # e.g. an IFC element's name


@dataclass(frozen=True)
class Finding:
    outcome: Outcome
    rule: Rule
    message: str
    colour: str | None = None  # the colour behind it, as given
    munsell: str | None = None
    limit: float | None = None
    actual: float | None = None
    index: int | None = None  # position of the colour in the checked list


@dataclass(frozen=True)
class CheckResult:
    outcome: Outcome
    zone: Zone
    findings: tuple[Finding, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome.value,
            "zone": self.zone.value,
            "findings": [{**asdict(f), "outcome": f.outcome.value, "rule": f.rule.value} for f in self.findings],
        }


def _worst(outcomes: Sequence[Outcome]) -> Outcome:
    if Outcome.fail in outcomes:
        return Outcome.fail
    if Outcome.warn in outcomes:
        return Outcome.warn
    return Outcome.passed


def main_chroma_limit(rules: ColourRules, family: str) -> float:
    return rules.main_max_chroma_warm if family in rules.warm_families else rules.main_max_chroma_other


def check_colours(colours: Sequence[FacadeColour], rules: ColourRules, zone: Zone) -> CheckResult:
    """pass / warn / fail, with the rule and the colour behind every reason."""
    findings: list[Finding] = []
    for i, c in enumerate(colours):
        m = c.reading.munsell
        chroma, value = round(m.chroma, 1), round(m.value, 1)  # as the notation shows them
        who = c.label or c.reading.given
        if c.reading.high_chroma:
            findings.append(
                Finding(
                    rules.max_chroma_severity,
                    Rule.max_chroma,
                    f"{who} ({m.notation}) is outside the Munsell renotation domain: high chroma",
                    colour=c.reading.given,
                    munsell=m.notation,
                    limit=rules.max_chroma,
                    actual=chroma,
                    index=i,
                )
            )
            continue
        if chroma > rules.max_chroma:
            findings.append(
                Finding(
                    rules.max_chroma_severity,
                    Rule.max_chroma,
                    f"{who} ({m.notation}) has chroma {chroma} > {rules.max_chroma}",
                    colour=c.reading.given,
                    munsell=m.notation,
                    limit=rules.max_chroma,
                    actual=chroma,
                    index=i,
                )
            )
            continue
        if c.use is ColourUse.main:
            limit = main_chroma_limit(rules, m.family)
            if chroma > limit:
                findings.append(
                    Finding(
                        rules.main_chroma_severity,
                        Rule.main_chroma,
                        f"main colour {who} ({m.notation}) has chroma {chroma} > {limit} for {m.family} hues",
                        colour=c.reading.given,
                        munsell=m.notation,
                        limit=limit,
                        actual=chroma,
                        index=i,
                    )
                )
            if not rules.main_min_value <= value <= rules.main_max_value:
                bound = rules.main_min_value if value < rules.main_min_value else rules.main_max_value
                findings.append(
                    Finding(
                        rules.main_value_severity,
                        Rule.main_value,
                        f"main colour {who} ({m.notation}) has value {value} outside "
                        f"{rules.main_min_value}–{rules.main_max_value}",
                        colour=c.reading.given,
                        munsell=m.notation,
                        limit=bound,
                        actual=value,
                        index=i,
                    )
                )
    accent = round(sum(c.share for c in colours if c.use is ColourUse.accent), 6)
    if accent > rules.accent_max_share:
        findings.append(
            Finding(
                rules.accent_share_severity,
                Rule.accent_share,
                f"accent colours cover {accent:g} % of the facade > {rules.accent_max_share:g} %",
                limit=rules.accent_max_share,
                actual=accent,
            )
        )
    if colours and not any(c.use is ColourUse.main for c in colours):
        findings.append(Finding(Outcome.warn, Rule.no_main_colour, "no main colour given"))
    total = round(sum(c.share for c in colours), 6)
    if colours and abs(total - 100.0) > 0.5:
        findings.append(
            Finding(
                Outcome.warn,
                Rule.shares_total,
                f"the colours' shares add up to {total:g} %, not 100 %",
                limit=100.0,
                actual=total,
            )
        )
    return CheckResult(outcome=_worst([f.outcome for f in findings]), zone=zone, findings=tuple(findings))
