"""A small IFC4 building in metres with known exterior colours and areas, for the facades colour check.

``python sample_models/facades/make_facade_ifc.py OUT.ifc`` writes it; ``make_facade_model(path)``
returns what the check must find (``EXPECTED``): element name → (hex colour, area m², area source).

- two long external walls 20 × 6 m, cream #E6DCC8, areas from their geometry (≈ 120 m² each: half the
  surface of a 0.2 m thick wall, edges included, is 125.2 m²);
- one short external wall 10 × 6 m, cream, with ``Qto_WallBaseQuantities.NetSideArea`` = 55 m²
  (a door's worth less than 60 m²);
- one short external wall 10 × 6 m, warm grey #B4A596, geometry;
- a red cladding covering #C00000 (chroma > 6: fails), ``Qto_CoveringBaseQuantities.NetArea`` = 30 m²;
- an internal wall, blue, not exterior (ignored);
- a roof slab (PredefinedType ROOF) 20 × 10 m, grey #808080, ``Qto_SlabBaseQuantities.GrossArea`` = 200 m².
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import ifcopenshell
import ifcopenshell.api.aggregate
import ifcopenshell.api.context
import ifcopenshell.api.geometry
import ifcopenshell.api.project
import ifcopenshell.api.pset
import ifcopenshell.api.root
import ifcopenshell.api.spatial
import ifcopenshell.api.style
import ifcopenshell.api.unit
import numpy as np

CREAM = (230 / 255, 220 / 255, 200 / 255)  # #E6DCC8
WARM_GREY = (180 / 255, 165 / 255, 150 / 255)  # #B4A596
RED = (192 / 255, 0.0, 0.0)  # #C00000
BLUE = (0.1, 0.2, 0.9)
GREY = (128 / 255, 128 / 255, 128 / 255)  # #808080

EXPECTED: dict[str, tuple[str, float, str]] = {
    "South wall": ("#E6DCC8", 125.2, "geometry"),
    "North wall": ("#E6DCC8", 125.2, "geometry"),
    "East wall": ("#E6DCC8", 55.0, "Qto_WallBaseQuantities.NetSideArea"),
    "West wall": ("#B4A596", 63.2, "geometry"),
    "Shop front cladding": ("#C00000", 30.0, "Qto_CoveringBaseQuantities.NetArea"),
    "Roof": ("#808080", 200.0, "Qto_SlabBaseQuantities.GrossArea"),
}


def _matrix(x: float, y: float, z: float = 0.0, angle_deg: float = 0.0) -> np.ndarray:
    m = np.eye(4)
    a = np.radians(angle_deg)
    m[:2, :2] = [[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]]
    m[:3, 3] = [x, y, z]
    return m


def make_facade_model(path: Path) -> dict[str, tuple[str, float, str]]:
    f = ifcopenshell.api.project.create_file(version="IFC4")
    project = ifcopenshell.api.root.create_entity(f, ifc_class="IfcProject", name="示例 facade sample")
    ifcopenshell.api.unit.assign_unit(f, units=[ifcopenshell.api.unit.add_si_unit(f, unit_type="LENGTHUNIT")])
    model = ifcopenshell.api.context.add_context(f, context_type="Model")
    body = ifcopenshell.api.context.add_context(
        f, context_type="Model", context_identifier="Body", target_view="MODEL_VIEW", parent=model
    )
    site = ifcopenshell.api.root.create_entity(f, ifc_class="IfcSite", name="Site")
    building = ifcopenshell.api.root.create_entity(f, ifc_class="IfcBuilding", name="示例 shop house")
    storey = ifcopenshell.api.root.create_entity(f, ifc_class="IfcBuildingStorey", name="1F")
    ifcopenshell.api.aggregate.assign_object(f, products=[site], relating_object=project)
    ifcopenshell.api.aggregate.assign_object(f, products=[building], relating_object=site)
    ifcopenshell.api.aggregate.assign_object(f, products=[storey], relating_object=building)
    for product in (site, building, storey):
        ifcopenshell.api.geometry.edit_object_placement(f, product=product)

    styles: dict[tuple[float, float, float], Any] = {}

    def style(rgb: tuple[float, float, float]) -> Any:
        if rgb not in styles:
            s = ifcopenshell.api.style.add_style(f, name=f"colour {rgb}")
            ifcopenshell.api.style.add_surface_style(
                f,
                style=s,
                ifc_class="IfcSurfaceStyleShading",
                attributes={"SurfaceColour": {"Name": None, "Red": rgb[0], "Green": rgb[1], "Blue": rgb[2]}},
            )
            styles[rgb] = s
        return styles[rgb]

    def product(
        ifc_class: str, name: str, rep: Any, matrix: np.ndarray, rgb: tuple[float, float, float], **kw: Any
    ) -> Any:
        element = ifcopenshell.api.root.create_entity(f, ifc_class=ifc_class, name=name, **kw)
        ifcopenshell.api.geometry.assign_representation(f, product=element, representation=rep)
        ifcopenshell.api.geometry.edit_object_placement(f, product=element, matrix=matrix)
        ifcopenshell.api.spatial.assign_container(f, products=[element], relating_structure=storey)
        ifcopenshell.api.style.assign_representation_styles(f, shape_representation=rep, styles=[style(rgb)])
        return element

    def pset(element: Any, name: str, values: dict[str, Any], qto: bool = False) -> None:
        if qto:
            q = ifcopenshell.api.pset.add_qto(f, product=element, name=name)
            ifcopenshell.api.pset.edit_qto(f, qto=q, properties=values)
        else:
            p = ifcopenshell.api.pset.add_pset(f, product=element, name=name)
            ifcopenshell.api.pset.edit_pset(f, pset=p, properties=values)

    def wall(name: str, length: float, matrix: np.ndarray, rgb: tuple[float, float, float], external: bool) -> Any:
        rep = ifcopenshell.api.geometry.add_wall_representation(
            f, context=body, length=length, height=6.0, thickness=0.2
        )
        element = product("IfcWall", name, rep, matrix, rgb)
        pset(element, "Pset_WallCommon", {"IsExternal": external})
        return element

    wall("South wall", 20.0, _matrix(0, 0), CREAM, True)
    wall("North wall", 20.0, _matrix(0, 10), CREAM, True)
    east = wall("East wall", 10.0, _matrix(20, 0, angle_deg=90), CREAM, True)
    pset(east, "Qto_WallBaseQuantities", {"NetSideArea": 55.0}, qto=True)
    wall("West wall", 10.0, _matrix(0, 0, angle_deg=90), WARM_GREY, True)
    wall("Internal wall", 10.0, _matrix(10, 0, angle_deg=90), BLUE, False)
    cladding_rep = ifcopenshell.api.geometry.add_wall_representation(
        f, context=body, length=10.0, height=3.0, thickness=0.05
    )
    cladding = product(
        "IfcCovering", "Shop front cladding", cladding_rep, _matrix(5, -0.05), RED, predefined_type="CLADDING"
    )
    pset(cladding, "Qto_CoveringBaseQuantities", {"NetArea": 30.0}, qto=True)
    roof_rep = ifcopenshell.api.geometry.add_slab_representation(
        f, context=body, depth=0.2, polyline=[(0.0, 0.0), (20.0, 0.0), (20.0, 10.0), (0.0, 10.0)]
    )
    roof = product("IfcSlab", "Roof", roof_rep, _matrix(0, 0, 6.0), GREY, predefined_type="ROOF")
    pset(roof, "Qto_SlabBaseQuantities", {"GrossArea": 200.0}, qto=True)
    f.write(str(path))
    return EXPECTED


if __name__ == "__main__":
    make_facade_model(Path(sys.argv[1] if len(sys.argv) > 1 else "facade_sample.ifc"))
