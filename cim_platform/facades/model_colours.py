"""Surface colours of an IFC model's exterior elements with their areas (no database).

Exterior elements: walls with ``Pset_WallCommon.IsExternal`` true, curtain walls (unless IsExternal is
false), coverings of type CLADDING (or IsExternal), roofs and roof slabs. An element's colour is the
surface colour of its styled representation items (mapped items followed), else of its material's
style. Its area is the facade-side quantity when the model carries one (``NetSideArea``,
``GrossSideArea``, ``NetArea``, ``GrossArea``), else half its geometry's surface area (a thin element
seen from both sides; approximate, said so per element).

Colours are grouped by sRGB hex; the largest is a main colour, as is any with at least 30 % of the
exterior area; 10–30 % secondary; below 10 % accent. The check then runs the zone's palette rules.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ifcopenshell
import ifcopenshell.util.element
import numpy as np

from cim_platform.core.errors import InvalidInput
from cim_platform.facades.colours import read_hex, rgb_to_hex
from cim_platform.facades.palette import ColourUse, FacadeColour

MAIN_SHARE = 30.0
SECONDARY_SHARE = 10.0
AREA_QUANTITIES = ("NetSideArea", "GrossSideArea", "NetArea", "GrossArea", "NetSurfaceArea", "GrossSurfaceArea")


@dataclass(frozen=True)
class ElementColour:
    global_id: str
    ifc_class: str
    name: str
    hex: str | None  # None: no surface colour found
    area_m2: float
    area_source: str  # quantity name, or "geometry"


@dataclass
class ModelColours:
    elements: list[ElementColour] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # exterior elements without a colour or area

    def groups(self) -> list[tuple[str, float, list[str]]]:
        """(hex, area m², element GlobalIds), largest first."""
        areas: dict[str, float] = {}
        members: dict[str, list[str]] = {}
        for e in self.elements:
            if e.hex is None or e.area_m2 <= 0:
                continue
            areas[e.hex] = areas.get(e.hex, 0.0) + e.area_m2
            members.setdefault(e.hex, []).append(e.global_id)
        return sorted(((h, a, members[h]) for h, a in areas.items()), key=lambda g: -g[1])

    def facade_colours(self) -> list[FacadeColour]:
        groups = self.groups()
        total = sum(a for _, a, _ in groups)
        out = []
        for i, (hex_, area, ids) in enumerate(groups):
            share = round(100.0 * area / total, 3) if total else 0.0
            if i == 0 or share >= MAIN_SHARE:
                use = ColourUse.main
            elif share >= SECONDARY_SHARE:
                use = ColourUse.secondary
            else:
                use = ColourUse.accent
            out.append(FacadeColour(read_hex(hex_), use, share, label=f"{hex_} ({len(ids)} elements, {area:.1f} m²)"))
        return out


def _bool_property(element: Any, pset: str, prop: str) -> bool | None:
    value = ifcopenshell.util.element.get_psets(element).get(pset, {}).get(prop)
    return value if isinstance(value, bool) else None


def _predefined(element: Any) -> str:
    value = getattr(element, "PredefinedType", None)
    if value in (None, "NOTDEFINED", "USERDEFINED"):
        type_ = ifcopenshell.util.element.get_type(element)
        value = getattr(type_, "PredefinedType", None) if type_ is not None else value
    return str(value or "")


def exterior_elements(model: ifcopenshell.file) -> Iterator[Any]:
    for wall in model.by_type("IfcWall"):
        if _bool_property(wall, "Pset_WallCommon", "IsExternal"):
            yield wall
    for wall in model.by_type("IfcCurtainWall"):
        if _bool_property(wall, "Pset_CurtainWallCommon", "IsExternal") is not False:
            yield wall
    for covering in model.by_type("IfcCovering"):
        if _predefined(covering) == "CLADDING" or _bool_property(covering, "Pset_CoveringCommon", "IsExternal"):
            yield covering
    yield from model.by_type("IfcRoof")
    for slab in model.by_type("IfcSlab"):
        if _predefined(slab) == "ROOF":
            yield slab


def _surface_colour(style: Any) -> tuple[float, float, float] | None:
    if style.is_a("IfcPresentationStyleAssignment"):
        for inner in style.Styles:
            found = _surface_colour(inner)
            if found:
                return found
        return None
    if not style.is_a("IfcSurfaceStyle"):
        return None
    for element in style.Styles:
        if element.is_a("IfcSurfaceStyleShading") and element.SurfaceColour is not None:
            c = element.SurfaceColour
            return float(c.Red), float(c.Green), float(c.Blue)
    return None


def _items(item: Any) -> Iterator[Any]:
    yield item
    if item.is_a("IfcMappedItem"):
        for inner in item.MappingSource.MappedRepresentation.Items:
            yield from _items(inner)
    if item.is_a("IfcBooleanResult"):
        yield from _items(item.FirstOperand)


def _styled_colour(item: Any) -> tuple[float, float, float] | None:
    for styled in getattr(item, "StyledByItem", None) or ():
        for style in styled.Styles:
            found = _surface_colour(style)
            if found:
                return found
    return None


def element_colour(element: Any) -> tuple[float, float, float] | None:
    representation = getattr(element, "Representation", None)
    for rep in representation.Representations if representation else ():
        for top in rep.Items:
            for item in _items(top):
                found = _styled_colour(item)
                if found:
                    return found
    material = ifcopenshell.util.element.get_material(element, should_skip_usage=True)
    materials = []
    if material is not None:
        materials = (
            [material] if material.is_a("IfcMaterial") else list(ifcopenshell.util.element.get_materials(element))
        )
    for m in materials:
        for definition in getattr(m, "HasRepresentation", None) or ():
            for rep in definition.Representations:
                for item in rep.Items:
                    found = _styled_colour(item)
                    if found:
                        return found
    return None


def _quantity_area(element: Any) -> tuple[float, str] | None:
    for name, quantities in ifcopenshell.util.element.get_psets(element, qtos_only=True).items():
        for key in AREA_QUANTITIES:
            value = quantities.get(key)
            if isinstance(value, int | float) and value > 0:
                return float(value), f"{name}.{key}"
    return None


def _geometry_area(element: Any) -> float | None:
    import ifcopenshell.geom

    settings = ifcopenshell.geom.settings()
    try:
        shape: Any = ifcopenshell.geom.create_shape(settings, element)
    except RuntimeError:
        return None
    verts = np.asarray(shape.geometry.verts, dtype=float).reshape(-1, 3)
    faces = np.asarray(shape.geometry.faces, dtype=int).reshape(-1, 3)
    if len(faces) == 0:
        return None
    a, b, c = verts[faces[:, 0]], verts[faces[:, 1]], verts[faces[:, 2]]
    return float(np.linalg.norm(np.cross(b - a, c - a), axis=1).sum() / 2.0) / 2.0


def read_model(path: Path) -> ModelColours:
    """The exterior elements' colours and areas of an IFC file."""
    try:
        model = ifcopenshell.open(str(path))
    except (OSError, RuntimeError) as exc:
        raise InvalidInput(f"the IFC model cannot be read: {exc}") from None
    out = ModelColours()
    seen: set[int] = set()
    for element in exterior_elements(model):
        if element.id() in seen:
            continue
        seen.add(element.id())
        rgb = element_colour(element)
        quantity = _quantity_area(element)
        if quantity is None:
            area = _geometry_area(element)
            quantity = (area, "geometry") if area else None
        if rgb is None or quantity is None:
            out.skipped.append(element.GlobalId)
        out.elements.append(
            ElementColour(
                global_id=element.GlobalId,
                ifc_class=element.is_a(),
                name=element.Name or "",
                hex=rgb_to_hex(*rgb) if rgb else None,
                area_m2=round(quantity[0], 3) if quantity else 0.0,
                area_source=quantity[1] if quantity else "none",
            )
        )
    return out
