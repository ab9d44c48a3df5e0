"""Facade colours (issue 11): Munsell readings against the renotation data and known sRGB colours,
every notation kept, colours outside the renotation domain flagged, and the palette rules' edge cases."""

from __future__ import annotations

import time

import numpy as np
import pytest
from colour.notation import MUNSELL_COLOURS_REAL

from cim_platform.facades import colours
from cim_platform.facades.palette import (
    DEFAULT_RULES,
    ColourRules,
    ColourUse,
    FacadeColour,
    Outcome,
    Rule,
    Zone,
    check_colours,
)

FAMILIES = ("R", "YR", "Y", "GY", "G", "BG", "B", "PB", "P", "RP")
_REAL = {(hue, value, chroma): xyY for (hue, value, chroma), xyY in MUNSELL_COLOURS_REAL}


def _renotation_samples() -> list[tuple[str, float, float]]:
    """Across every hue family: a low-chroma sample (/2) and one of chroma 4, 6 or 8 at values 3, 5, 8."""
    picks: list[tuple[str, float, float]] = []
    for i, family in enumerate(FAMILIES):
        picks.append((f"5{family}", 6.0, 2.0))
        picks.append((f"{('2.5', '7.5', '10')[i % 3]}{family}", (3.0, 5.0, 8.0)[i % 3], (4.0, 6.0, 8.0)[i % 3]))
    picks.append(("10YR", 8.0, 2.0))
    picks.append(("5PB", 2.0, 2.0))
    assert all(p in _REAL for p in picks)
    return picks


def _hue_steps(hue: float | None, family: str) -> float:
    """Position on the 100-step hue circle (R 0–10, YR 10–20, …)."""
    order = ("R", "YR", "Y", "GY", "G", "BG", "B", "PB", "P", "RP")
    assert hue is not None
    return (order.index(family) * 10 + hue) % 100


def _expected_hue(hue: str) -> tuple[float, str]:
    number = hue.rstrip("BGPRY")
    return float(number), hue[len(number) :]


def _check_reading(m: colours.Munsell, hue: str, value: float, chroma: float) -> None:
    assert m.in_renotation_domain
    assert abs(m.value - value) <= 0.1, (m, value)
    assert abs(m.chroma - chroma) <= 0.5, (m, chroma)
    h, family = _expected_hue(hue)
    diff = abs(_hue_steps(m.hue, m.family) - _hue_steps(h, family))
    assert min(diff, 100 - diff) <= 0.5, (m, hue)


@pytest.mark.parametrize("sample", _renotation_samples(), ids=lambda s: f"{s[0]} {s[1]:g}/{s[2]:g}")
def test_renotation_xyY_round_trip(sample: tuple[str, float, float]) -> None:
    x, y, Y = _REAL[sample]
    _check_reading(colours.munsell_from_xyY(float(x), float(y), float(Y) / 100), *sample)


@pytest.mark.parametrize("sample", _renotation_samples()[1::4], ids=lambda s: f"{s[0]} {s[1]:g}/{s[2]:g}")
def test_renotation_through_cielab_and_back_from_notation(sample: tuple[str, float, float]) -> None:
    """The renotation colour given as CIELAB (D65) reads back as itself; the notation given reads its xy."""
    hue, value, chroma = sample
    x, y, Y = (float(v) for v in _REAL[sample])
    lab = colours._lab_from_xyY(np.array([x, y, Y / 100]))
    via_lab = colours.read_lab(*(float(v) for v in lab))
    _check_reading(via_lab.munsell, hue, value, chroma)
    assert via_lab.xyY is not None and via_lab.xyY == pytest.approx((x, y, Y / 100), abs=2e-4)
    given = colours.read_munsell(f"{hue} {value:g}/{chroma:g}")
    assert given.munsell.in_renotation_domain and given.xyY is not None and given.lab is not None
    assert given.xyY[:2] == pytest.approx((x, y), abs=2e-4)
    assert given.xyY[2] == pytest.approx(Y / 100, rel=0.03)  # ASTM D1535 values vs the renotation's Y (MgO)


@pytest.mark.parametrize(
    ("hex_", "notation"),
    [
        ("#EAE3E1", "9.5R 9.1/0.7"),
        ("#E6DCC8", "2.0Y 8.8/1.4"),
        ("#A0522D", "2.3YR 4.3/8.1"),
        ("#808080", "N5.3"),
        ("#FF0000", "7.8R 5.2/20.6"),
        ("#000000", "N0.0"),
        ("#010101", "N0.0"),
        ("#FFFFFF", "N10.0"),
    ],
)
def test_known_srgb_colours(hex_: str, notation: str) -> None:
    reading = colours.read_hex(hex_)
    assert reading.munsell.notation == notation
    assert reading.munsell.in_renotation_domain and not reading.high_chroma
    assert reading.given_as == "hex" and reading.hex == hex_ and reading.lab is not None and reading.xyY is not None


@pytest.mark.parametrize("hex_", ["#0000FF", "#FFFF00"])
def test_outside_the_renotation_domain_is_high_chroma_not_a_crash(hex_: str) -> None:
    reading = colours.read_hex(hex_)
    assert reading.high_chroma and not reading.munsell.in_renotation_domain
    assert reading.munsell.chroma > 6 and reading.note and "high chroma" in reading.note
    assert reading.hex == hex_ and reading.lab is not None


def test_near_white_outside_the_domain_is_not_high_chroma() -> None:
    reading = colours.read_hex("#FFFFFE")
    assert not reading.high_chroma and reading.munsell.value > 9.9 and reading.munsell.chroma < 1


def test_notations_are_kept_and_parsed() -> None:
    m = colours.read_munsell("  5yr   6/4 ")
    assert m.given == "5YR 6/4" and m.munsell.notation == "5.0YR 6.0/4.0" and m.munsell.family == "YR"
    assert m.hex is not None and m.hex.startswith("#") and m.lab is not None
    assert colours.read_munsell("N8").munsell.neutral
    assert colours.read_munsell("N0").munsell.notation == "N0.0"
    out = colours.read_munsell("5B 5/30")
    assert out.high_chroma and out.hex is None and out.munsell.chroma == 30
    lab = colours.read_lab(70, 5, 10)
    assert lab.given_as == "lab" and lab.lab == (70.0, 5.0, 10.0) and lab.hex is not None
    assert colours.read_colour(hex="a0522d").hex == "#A0522D"
    for bad in ("#12345", "red", ""):
        with pytest.raises(colours.InvalidColour):
            colours.read_hex(bad)
    for bad_munsell in ("5XY 5/2", "11R 5/2", "5R 12/2"):
        with pytest.raises(colours.InvalidColour):
            colours.read_munsell(bad_munsell)
    with pytest.raises(colours.InvalidColour):
        colours.read_lab(120, 0, 0)
    with pytest.raises(colours.InvalidColour):
        colours.read_colour(hex="#FFFFFF", munsell="N9")


def test_readings_are_cached_by_colour() -> None:
    colours.read_hex("#B0A090")
    before = colours.cache_info()
    started = time.perf_counter()
    for _ in range(200):
        colours.read_hex("#b0a090")
    assert time.perf_counter() - started < 0.1
    after = colours.cache_info()
    assert after["misses"] == before["misses"] and after["hits"] == before["hits"] + 200


def _colour(notation: str, use: ColourUse, share: float) -> FacadeColour:
    return FacadeColour(reading=colours.read_munsell(notation), use=use, share=share)


RULES = DEFAULT_RULES[Zone.old_town]


def test_rules_pass_at_exact_limits() -> None:
    result = check_colours(
        [
            _colour("5YR 7/4", ColourUse.main, 60),  # warm main colour at chroma 4 exactly
            _colour("5B 7/2", ColourUse.main, 10),  # other hue at chroma 2 exactly
            _colour("5R 5/6", ColourUse.secondary, 10),  # any colour at chroma 6 exactly
            _colour("5R 4/6", ColourUse.accent, 12),
            _colour("N2", ColourUse.accent, 8),  # accents together exactly 20 %
        ],
        RULES,
        Zone.old_town,
    )
    assert result.outcome is Outcome.passed, result.findings
    assert result.findings == ()


def test_rules_fail_just_over_the_limits_with_rule_and_colour() -> None:
    result = check_colours(
        [
            _colour("5YR 7/4.2", ColourUse.main, 50),
            _colour("5B 7/2.2", ColourUse.main, 25),
            _colour("5R 5/6.2", ColourUse.secondary, 4.9),
            _colour("N2", ColourUse.accent, 20.1),
        ],
        RULES,
        Zone.old_town,
    )
    assert result.outcome is Outcome.fail
    by_rule = {(f.rule, f.colour) for f in result.findings}
    assert (Rule.main_chroma, "5YR 7/4.2") in by_rule
    assert (Rule.main_chroma, "5B 7/2.2") in by_rule
    assert (Rule.max_chroma, "5R 5/6.2") in by_rule
    accent = next(f for f in result.findings if f.rule is Rule.accent_share)
    assert accent.actual == pytest.approx(20.1) and accent.limit == 20 and accent.outcome is Outcome.fail
    main = next(f for f in result.findings if f.colour == "5B 7/2.2")
    assert main.limit == 2 and main.actual == 2.2 and main.munsell == "5.0B 7.0/2.2" and main.index == 1


def test_a_colour_outside_the_domain_fails_the_chroma_rule() -> None:
    result = check_colours(
        [
            FacadeColour(colours.read_hex("#E6DCC8"), ColourUse.main, 90),
            FacadeColour(colours.read_hex("#0000FF"), ColourUse.accent, 10),
        ],
        RULES,
        Zone.protection_zone,
    )
    assert result.outcome is Outcome.fail
    (finding,) = result.findings
    assert finding.rule is Rule.max_chroma and finding.colour == "#0000FF" and "renotation" in finding.message


def test_value_range_and_shares_warn() -> None:
    result = check_colours(
        [_colour("N3", ColourUse.main, 70), _colour("5Y 8/1", ColourUse.secondary, 20)], RULES, Zone.new_district
    )
    assert result.outcome is Outcome.warn
    assert {f.rule for f in result.findings} == {Rule.main_value, Rule.shares_total}


def test_rules_are_editable_per_zone() -> None:
    strict = ColourRules.from_dict({**RULES.as_dict(), "main_max_chroma_warm": 3.0, "accent_share_severity": "warn"})
    colours_ = [_colour("5YR 7/4", ColourUse.main, 75), _colour("5R 4/6", ColourUse.accent, 25)]
    assert check_colours(colours_, RULES, Zone.old_town).outcome is Outcome.fail
    result = check_colours(colours_, strict, Zone.protection_zone)
    assert {(f.rule, f.outcome) for f in result.findings} == {
        (Rule.main_chroma, Outcome.fail),
        (Rule.accent_share, Outcome.warn),
    }
    assert ColourRules.from_dict(strict.as_dict()) == strict
    assert result.as_dict()["findings"][0]["rule"] == "main_chroma"


def test_no_nan_in_any_reading() -> None:
    for hex_ in ("#000000", "#FFFFFF", "#0000FF", "#7F7F80"):
        reading = colours.read_hex(hex_)
        values = [reading.munsell.value, reading.munsell.chroma, *(reading.lab or ()), *(reading.xyY or ())]
        assert np.all(np.isfinite(values))
