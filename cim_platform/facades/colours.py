"""Colours of facades in Munsell terms (pure functions, no database).

A colour comes in as sRGB hex, CIELAB (D65, 2° observer: the sRGB white) or Munsell notation
(``H V/C``, ``N V``). Munsell readings use the renotation data, defined under illuminant C: sRGB and
CIELAB colours are adapted from D65 to C with the Bradford transform first. Every notation is kept.

Colours outside the renotation domain (strong saturated colours such as #0000FF or #FFFF00) cannot be
converted: they are high-chroma by definition and flagged (``in_renotation_domain`` False, an
approximate reading from CIELAB LCh), never an exception. Black is N0 and white N10.

Conversions cost 0.1–0.6 s per chromatic colour, so readings are cached by colour (LRU).
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import numpy as np

from cim_platform.core.errors import InvalidInput

GivenAs = Literal["hex", "lab", "munsell"]

HUE_FAMILIES: dict[int, str] = {1: "B", 2: "BG", 3: "G", 4: "GY", 5: "Y", 6: "YR", 7: "R", 8: "RP", 9: "P", 10: "PB"}
_HEX = re.compile(r"^#?([0-9A-Fa-f]{6})$")
_CACHE_SIZE = 4096
NEAR_NEUTRAL_CHROMA = 2.0
"""Near-whites and near-blacks the renotation cannot reach (e.g. #FFFFFE) read approximately, not high-chroma."""
_ILLUMINANT_C = (0.31006, 0.31616)
_ILLUMINANT_D65 = (0.3127, 0.329)
_NUDGES = ((0.0, 0.0), (0.0, 1e-5), (1e-5, 0.0))


class InvalidColour(InvalidInput):
    code = "invalid_colour"


@dataclass(frozen=True)
class Munsell:
    """A Munsell reading: ``hue`` within its ``family`` (0–10; None for neutrals, family ``N``).

    ``notation`` shows one decimal (as rules compare); the fields keep two."""

    notation: str
    hue: float | None
    family: str
    value: float
    chroma: float
    in_renotation_domain: bool

    @property
    def neutral(self) -> bool:
        return self.family == "N"


@dataclass(frozen=True)
class ColourReading:
    """One colour in every notation: what was given, and what it converts to."""

    given_as: GivenAs
    given: str
    hex: str | None  # None when the colour is outside the sRGB gamut or has no xyY (outside the domain)
    lab: tuple[float, float, float] | None  # CIELAB D65
    xyY: tuple[float, float, float] | None  # CIE xyY under illuminant C, Y in 0..1
    munsell: Munsell
    note: str | None = None  # why the reading is approximate, if it is

    @property
    def high_chroma(self) -> bool:
        """Outside the renotation domain and not a near-neutral: a strong saturated colour."""
        return not self.munsell.in_renotation_domain and self.munsell.chroma > NEAR_NEUTRAL_CHROMA


@contextmanager
def _quiet() -> Iterator[None]:
    """colour-science warns on every out-of-gamut or edge colour, and numpy on 0/0 for black."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        yield


@lru_cache(maxsize=1)
def _load() -> bool:
    """Import colour-science once, without its notice that matplotlib (plotting) is missing."""
    with _quiet():
        import colour  # noqa: F401
    return True


def _r1(x: float) -> float:
    return round(float(x), 1)


def _r2(x: float) -> float:
    return round(float(x), 2)


def _munsell_from_spec(spec: np.ndarray, *, in_domain: bool) -> Munsell:
    from colour.notation import munsell as m

    with _quiet():
        spec = np.asarray(m.normalise_munsell_specification(spec), dtype=float)
    hue, value, chroma, code = (float(v) for v in spec)
    value = min(max(value, 0.0), 10.0)
    if math.isnan(hue) or math.isnan(chroma) or _r1(chroma) == 0.0:
        return Munsell(
            notation=f"N{_r1(value)}",
            hue=None,
            family="N",
            value=_r2(value),
            chroma=0.0,
            in_renotation_domain=in_domain,
        )
    family = HUE_FAMILIES[int(code)]
    notation = f"{_r1(hue)}{family} {_r1(value)}/{_r1(chroma)}"
    return Munsell(
        notation=notation,
        hue=_r2(hue),
        family=family,
        value=_r2(value),
        chroma=_r2(chroma),
        in_renotation_domain=in_domain,
    )


def _lab_from_xyY(xyY: np.ndarray) -> np.ndarray:
    import colour

    XYZ_c = colour.xyY_to_XYZ(xyY)
    XYZ_d65 = colour.chromatic_adaptation(
        XYZ_c,
        colour.xy_to_XYZ(np.array(_ILLUMINANT_C)),
        colour.xy_to_XYZ(np.array(_ILLUMINANT_D65)),
        method="Von Kries",
        transform="Bradford",
    )
    return np.asarray(colour.XYZ_to_Lab(XYZ_d65, illuminant=np.array(_ILLUMINANT_D65)), dtype=float)


def _xyY_from_lab(lab: np.ndarray) -> np.ndarray:
    import colour

    XYZ_d65 = colour.Lab_to_XYZ(lab, illuminant=np.array(_ILLUMINANT_D65))
    XYZ_c = colour.chromatic_adaptation(
        XYZ_d65,
        colour.xy_to_XYZ(np.array(_ILLUMINANT_D65)),
        colour.xy_to_XYZ(np.array(_ILLUMINANT_C)),
        method="Von Kries",
        transform="Bradford",
    )
    return np.asarray(colour.XYZ_to_xyY(XYZ_c), dtype=float)


def _hex_from_xyY(xyY: np.ndarray) -> str | None:
    """The sRGB colour of an xyY (illuminant C), or None outside the sRGB gamut."""
    import colour

    rgb = np.asarray(
        colour.XYZ_to_sRGB(
            colour.xyY_to_XYZ(xyY), illuminant=np.array(_ILLUMINANT_C), chromatic_adaptation_transform="Bradford"
        ),
        dtype=float,
    )
    if not np.all(np.isfinite(rgb)) or np.any(rgb < -0.002) or np.any(rgb > 1.002):
        return None
    return "#" + "".join(f"{round(min(max(c, 0.0), 1.0) * 255):02X}" for c in rgb)


def _approximate(xyY: np.ndarray) -> Munsell:
    """A reading for a colour outside the renotation domain: value from Y, hue and chroma from LCh."""
    import colour
    from colour.notation import munsell as m

    with _quiet():
        L, a, b = (float(v) for v in colour.XYZ_to_Lab(colour.xyY_to_XYZ(xyY), illuminant=np.array(_ILLUMINANT_C)))
        lch = np.array([L, math.hypot(a, b), math.degrees(math.atan2(b, a)) % 360])
        spec = np.asarray(m.LCHab_to_munsell_specification(lch), dtype=float)
        spec[1] = float(m.munsell_value_ASTMD1535(min(float(xyY[2]), 1.0) * 100))
    return _munsell_from_spec(spec, in_domain=False)


def munsell_from_xyY(x: float, y: float, Y: float) -> Munsell:
    """The Munsell reading of a colour given as CIE xyY under illuminant C (Y in 0..1)."""
    _load()
    from colour.notation import munsell as m

    Y = min(max(float(Y), 0.0), 1.0)
    if Y <= 1e-4:  # black: achromatic whatever its chromaticity (colour-science refuses value 0)
        return Munsell(notation="N0.0", hue=None, family="N", value=0.0, chroma=0.0, in_renotation_domain=True)
    xyY = np.array([x, y, Y])
    if Y >= 0.9999 and math.hypot(x - _ILLUMINANT_C[0], y - _ILLUMINANT_C[1]) < 2e-3:
        return Munsell(notation="N10.0", hue=None, family="N", value=10.0, chroma=0.0, in_renotation_domain=True)
    with _quiet():
        # colour-science's iteration sometimes fails to converge right on a renotation hue (e.g. the
        # renotation's own 5R 6/2): a nudge of 1e-5 in chromaticity, far below any visible difference, helps
        for dx, dy in _NUDGES:
            try:
                spec = np.asarray(m.xyY_to_munsell_specification(xyY + np.array([dx, dy, 0.0])), dtype=float)
            except RuntimeError:
                continue
            except (AssertionError, ValueError, ZeroDivisionError, FloatingPointError):
                break
            return _munsell_from_spec(spec, in_domain=True)
    return _approximate(xyY)


def _reading_from_xyY(given_as: GivenAs, given: str, xyY: np.ndarray) -> ColourReading:
    munsell = munsell_from_xyY(float(xyY[0]), float(xyY[1]), float(xyY[2]))
    with _quiet():
        lab = _lab_from_xyY(xyY)
        hex_ = given if given_as == "hex" else _hex_from_xyY(xyY)
    note = None
    if not munsell.in_renotation_domain:
        note = (
            "outside the Munsell renotation domain: high chroma (approximate reading)"
            if munsell.chroma > NEAR_NEUTRAL_CHROMA
            else "near-neutral outside the Munsell renotation domain (approximate reading)"
        )
    return ColourReading(
        given_as=given_as,
        given=given,
        hex=hex_,
        lab=(round(float(lab[0]), 2), round(float(lab[1]), 2), round(float(lab[2]), 2)),
        xyY=(round(float(xyY[0]), 5), round(float(xyY[1]), 5), round(float(xyY[2]), 5)),
        munsell=munsell,
        note=note,
    )


def normalise_hex(text: str) -> str:
    match = _HEX.match(text.strip())
    if not match:
        raise InvalidColour(f"{text!r} is not an sRGB hex colour (#RRGGBB)", params={"colour": text[:40]})
    return "#" + match.group(1).upper()


@lru_cache(maxsize=_CACHE_SIZE)
def _read_hex(hex_: str) -> ColourReading:
    _load()
    import colour

    with _quiet():
        rgb = colour.notation.HEX_to_RGB(hex_)
        XYZ = colour.sRGB_to_XYZ(rgb, illuminant=np.array(_ILLUMINANT_C), chromatic_adaptation_transform="Bradford")
        xyY = np.asarray(colour.XYZ_to_xyY(XYZ), dtype=float)
    if float(xyY[2]) <= 0:
        xyY = np.array([_ILLUMINANT_C[0], _ILLUMINANT_C[1], 0.0])
    return _reading_from_xyY("hex", hex_, xyY)


def read_hex(text: str) -> ColourReading:
    """An sRGB colour (``#RRGGBB``, D65) in Munsell terms."""
    return _read_hex(normalise_hex(text))


@lru_cache(maxsize=_CACHE_SIZE)
def _read_lab(L: float, a: float, b: float) -> ColourReading:
    _load()
    xyY = _xyY_from_lab(np.array([L, a, b]))
    if float(xyY[2]) <= 0 or not np.all(np.isfinite(xyY)):
        xyY = np.array([_ILLUMINANT_C[0], _ILLUMINANT_C[1], 0.0])
    return _reading_from_xyY("lab", f"{L:g} {a:g} {b:g}", xyY)


def read_lab(L: float, a: float, b: float) -> ColourReading:
    """A CIELAB colour (D65 white, 2° observer; L 0–100) in Munsell terms."""
    values = (float(L), float(a), float(b))
    if (
        not all(math.isfinite(v) for v in values)
        or not 0 <= values[0] <= 100
        or abs(values[1]) > 200
        or abs(values[2]) > 200
    ):
        raise InvalidColour("CIELAB needs L in 0–100 and a, b within ±200", params={"colour": f"{L} {a} {b}"[:40]})
    return _read_lab(*(round(v, 2) for v in values))


_NUMBER = r"(\d+(?:\.\d+)?)"
_MUNSELL = re.compile(
    rf"^\s*(?:N\s*{_NUMBER}(?:\s*/\s*0*(?:\.0+)?)?"
    rf"|{_NUMBER}\s*(BG|GY|YR|RP|PB|R|Y|G|B|P)\s*{_NUMBER}\s*/\s*{_NUMBER})\s*$"
)


@lru_cache(maxsize=_CACHE_SIZE)
def _read_munsell(text: str) -> ColourReading:
    _load()
    from colour.notation import munsell as m

    match = _MUNSELL.match(text)
    if not match:
        raise InvalidColour(f"{text!r} is not a Munsell notation (e.g. 5YR 7/2, N8)", params={"colour": text[:40]})
    if match.group(1) is not None:
        value = float(match.group(1))
        spec = np.array([np.nan, value, np.nan, np.nan])
    else:
        hue, family, value, chroma = float(match.group(2)), match.group(3), float(match.group(4)), float(match.group(5))
        if not 0 <= hue <= 10:
            raise InvalidColour(f"Munsell hue {hue} is outside 0–10", params={"colour": text[:40]})
        code = next(k for k, v in HUE_FAMILIES.items() if v == family)
        spec = np.array([hue, value, chroma, float(code)])
    if not 0 <= value <= 10:
        raise InvalidColour(f"Munsell value {value} is outside 0–10", params={"colour": text[:40]})
    given = text.strip().upper()
    if value == 0 or (match.group(1) is None and float(spec[2]) == 0):
        value_only = np.array([np.nan, value, np.nan, np.nan])
        spec = value_only
    with _quiet():
        try:
            xyY = np.asarray(m.munsell_specification_to_xyY(spec), dtype=float) if value > 0 else None
        except (AssertionError, ValueError, RuntimeError, ZeroDivisionError, FloatingPointError):
            reading = _munsell_from_spec(spec, in_domain=False)
            return ColourReading(
                given_as="munsell",
                given=given,
                hex=None,
                lab=None,
                xyY=None,
                munsell=reading,
                note="outside the Munsell renotation domain: high chroma",
            )
        munsell = _munsell_from_spec(spec, in_domain=True)
        if xyY is None:
            return ColourReading(
                given_as="munsell",
                given=given,
                hex="#000000",
                lab=(0.0, 0.0, 0.0),
                xyY=(_ILLUMINANT_C[0], _ILLUMINANT_C[1], 0.0),
                munsell=munsell,
            )
        lab = _lab_from_xyY(xyY)
        hex_ = _hex_from_xyY(xyY)
    return ColourReading(
        given_as="munsell",
        given=given,
        hex=hex_,
        lab=(round(float(lab[0]), 2), round(float(lab[1]), 2), round(float(lab[2]), 2)),
        xyY=(round(float(xyY[0]), 5), round(float(xyY[1]), 5), round(float(xyY[2]), 5)),
        munsell=munsell,
        note=None if hex_ else "outside the sRGB gamut: no hex",
    )


def read_munsell(text: str) -> ColourReading:
    """A Munsell notation (``5YR 7/2``, ``N8``) with its other notations."""
    return _read_munsell(" ".join(text.split()).upper())


def read_colour(
    *, hex: str | None = None, lab: tuple[float, float, float] | None = None, munsell: str | None = None
) -> ColourReading:
    """Exactly one of ``hex``, ``lab`` or ``munsell``."""
    given = [v for v in (hex, lab, munsell) if v is not None]
    if len(given) != 1:
        raise InvalidColour("give a colour as exactly one of hex, lab or munsell")
    if hex is not None:
        return read_hex(hex)
    if lab is not None:
        return read_lab(*lab)
    assert munsell is not None
    return read_munsell(munsell)


def rgb_to_hex(r: float, g: float, b: float) -> str:
    """0..1 floats (IFC surface colours) to ``#RRGGBB``."""
    return "#" + "".join(f"{round(min(max(float(c), 0.0), 1.0) * 255):02X}" for c in (r, g, b))


def cache_info() -> dict[str, int]:
    infos = [f.cache_info() for f in (_read_hex, _read_lab, _read_munsell)]
    return {
        "hits": sum(i.hits for i in infos),
        "misses": sum(i.misses for i in infos),
        "size": sum(i.currsize for i in infos),
    }
