"""Generate the project's own IFC sample models with ``ifcopenshell.api``.

``python sample_models/make_ifc_samples.py`` writes ``sample_models/ifc/``:

- ``ordos_kangbashi_hall_4546.ifc`` — IFC4, millimetre units, a small hall in Kangbashi (Ordos)
  georeferenced by ``IfcMapConversion`` to ``IfcProjectedCRS`` EPSG:4546 (CGCS2000 3-degree GK CM
  111E) with vertical datum EPSG:5737 (Yellow Sea 1985). Map origin E 389 500, N 4 385 200,
  H 1 300 m; engineering x axis 30° counter-clockwise from grid east; Scale 0.001 (mm → m, the
  IFC4.3 definition). Walls with Pset_WallCommon, a slab, columns at known positions, a window
  type mapped to four windows in openings, and a space.

Importable: ``make_hall(path, variant=...)`` (variants ``ifc43`` [default], ``scale1000`` — the
buildingSMART sample's inverse Scale, ``mapunit_mm`` — Eastings in mm with MapUnit millimetre)
and ``make_large_model(path, n_elements)`` for benchmarks. ``COLUMN_POSITIONS_MM`` lists the
columns' engineering positions (the tests check where they land on the globe).
``make_raw_grid_model(path, columns, site_lonlat)`` writes a model in metres whose placements hold
raw national-grid coordinates, georeferenced only by IfcSite RefLatitude/RefLongitude (as exports
from city models are); ``make_tower(path)`` a storeyed building with many small elements (LOD tests).
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import ifcopenshell
import ifcopenshell.api
import ifcopenshell.api.aggregate
import ifcopenshell.api.context
import ifcopenshell.api.feature
import ifcopenshell.api.geometry
import ifcopenshell.api.georeference
import ifcopenshell.api.material
import ifcopenshell.api.project
import ifcopenshell.api.pset
import ifcopenshell.api.root
import ifcopenshell.api.spatial
import ifcopenshell.api.style
import ifcopenshell.api.type
import ifcopenshell.api.unit
import ifcopenshell.guid
import numpy as np

MAP_ORIGIN = (389_500.0, 4_385_200.0, 1_300.0)  # EPSG:4546 metres, Yellow Sea 1985 height
ROTATION_DEG = 30.0
COLUMN_POSITIONS_MM = [(x, y) for x in (0.0, 10_000.0, 20_000.0) for y in (0.0, 12_000.0)]
OUT_DIR = Path(__file__).resolve().parent / "ifc"


def _matrix(x_mm: float, y_mm: float, z_mm: float = 0.0, angle_deg: float = 0.0) -> np.ndarray:
    m = np.eye(4)
    a = math.radians(angle_deg)
    m[:2, :2] = [[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]]
    m[:3, 3] = [x_mm, y_mm, z_mm]
    return m


def _setup(name: str, unit: str = "MILLIMETERS") -> tuple[ifcopenshell.file, dict[str, ifcopenshell.entity_instance]]:
    f = ifcopenshell.api.project.create_file(version="IFC4")
    project = ifcopenshell.api.root.create_entity(f, ifc_class="IfcProject", name=name)
    length = ifcopenshell.api.unit.add_si_unit(
        f, unit_type="LENGTHUNIT", prefix="MILLI" if unit == "MILLIMETERS" else None
    )
    ifcopenshell.api.unit.assign_unit(f, units=[length])
    model = ifcopenshell.api.context.add_context(f, context_type="Model")
    body = ifcopenshell.api.context.add_context(
        f, context_type="Model", context_identifier="Body", target_view="MODEL_VIEW", parent=model
    )
    site = ifcopenshell.api.root.create_entity(f, ifc_class="IfcSite", name="Kangbashi site")
    building = ifcopenshell.api.root.create_entity(f, ifc_class="IfcBuilding", name="Kangbashi Demo Hall")
    storey = ifcopenshell.api.root.create_entity(f, ifc_class="IfcBuildingStorey", name="1F")
    ifcopenshell.api.aggregate.assign_object(f, products=[site], relating_object=project)
    ifcopenshell.api.aggregate.assign_object(f, products=[building], relating_object=site)
    ifcopenshell.api.aggregate.assign_object(f, products=[storey], relating_object=building)
    for product in (site, building, storey):
        ifcopenshell.api.geometry.edit_object_placement(f, product=product)
    return f, {"project": project, "body": body, "site": site, "building": building, "storey": storey}


def _georeference(f: ifcopenshell.file, variant: str) -> None:
    ifcopenshell.api.georeference.add_georeferencing(f, ifc_class="IfcMapConversion", name="EPSG:4546")
    e, n, h = MAP_ORIGIN
    a = math.radians(ROTATION_DEG)
    operation = {
        "Eastings": e,
        "Northings": n,
        "OrthogonalHeight": h,
        "XAxisAbscissa": math.cos(a),
        "XAxisOrdinate": math.sin(a),
        "Scale": {"ifc43": 0.001, "scale1000": 1000.0, "mapunit_mm": 1.0}[variant],
    }
    crs = {"Name": "EPSG:4546", "VerticalDatum": "EPSG:5737", "GeodeticDatum": "CGCS2000"}
    if variant == "mapunit_mm":
        operation.update(Eastings=e * 1000, Northings=n * 1000, OrthogonalHeight=h * 1000)
    ifcopenshell.api.georeference.edit_georeferencing(f, coordinate_operation=operation, projected_crs=crs)
    if variant == "mapunit_mm":
        unit = f.createIfcSIUnit(None, "LENGTHUNIT", "MILLI", "METRE")
        f.by_type("IfcProjectedCRS")[0].MapUnit = unit
    else:
        f.by_type("IfcProjectedCRS")[0].MapUnit = f.createIfcSIUnit(None, "LENGTHUNIT", None, "METRE")


def _style(f: ifcopenshell.file, name: str, rgb: tuple[float, float, float], transparency: float = 0.0):
    style = ifcopenshell.api.style.add_style(f, name=name)
    ifcopenshell.api.style.add_surface_style(
        f,
        style=style,
        ifc_class="IfcSurfaceStyleShading",
        attributes={
            "SurfaceColour": {"Name": None, "Red": rgb[0], "Green": rgb[1], "Blue": rgb[2]},
            "Transparency": transparency,
        },
    )
    return style


def _product(f, ctx, ifc_class: str, name: str, representation, matrix, style=None, psets=None):
    product = ifcopenshell.api.root.create_entity(f, ifc_class=ifc_class, name=name)
    ifcopenshell.api.geometry.assign_representation(f, product=product, representation=representation)
    ifcopenshell.api.geometry.edit_object_placement(f, product=product, matrix=matrix, is_si=False)
    ifcopenshell.api.spatial.assign_container(f, products=[product], relating_structure=ctx["storey"])
    if style is not None:
        ifcopenshell.api.style.assign_representation_styles(f, shape_representation=representation, styles=[style])
    for pset_name, values in (psets or {}).items():
        pset = ifcopenshell.api.pset.add_pset(f, product=product, name=pset_name)
        ifcopenshell.api.pset.edit_pset(f, pset=pset, properties=values)
    return product


def make_hall(path: Path, variant: str = "ifc43") -> Path:
    f, ctx = _setup("Ordos Kangbashi demo hall")
    _georeference(f, variant)
    body = ctx["body"]
    concrete = ifcopenshell.api.material.add_material(f, name="C30 concrete")
    wall_style = _style(f, "Wall plaster", (0.85, 0.8, 0.7))
    slab_style = _style(f, "Slab concrete", (0.6, 0.6, 0.6))
    glass = _style(f, "Glass", (0.5, 0.7, 0.9), transparency=0.6)
    walls = []
    # 20 m x 12 m outline, walls 300 mm thick, 4 m high (api lengths are in metres)
    for i, (x, y, angle, length) in enumerate(
        [(0, 0, 0, 20.0), (20_000, 0, 90, 12.0), (20_000, 12_000, 180, 20.0), (0, 12_000, 270, 12.0)]
    ):
        rep = ifcopenshell.api.geometry.add_wall_representation(
            f, context=body, length=length, height=4.0, thickness=0.3
        )
        wall = _product(
            f,
            ctx,
            "IfcWall",
            f"External wall {i + 1}",
            rep,
            _matrix(x, y, 0, angle),
            wall_style,
            {"Pset_WallCommon": {"IsExternal": True, "LoadBearing": True, "FireRating": "REI90"}},
        )
        ifcopenshell.api.material.assign_material(f, products=[wall], material=concrete)
        walls.append(wall)
    inner = ifcopenshell.api.geometry.add_wall_representation(f, context=body, length=12.0, height=4.0, thickness=0.2)
    _product(
        f,
        ctx,
        "IfcWall",
        "Internal wall",
        inner,
        _matrix(10_000, 0, 0, 90),
        wall_style,
        {"Pset_WallCommon": {"IsExternal": False, "LoadBearing": False}},
    )
    slab_rep = ifcopenshell.api.geometry.add_slab_representation(
        f, context=body, depth=0.3, polyline=[(0.0, 0.0), (20.0, 0.0), (20.0, 12.0), (0.0, 12.0)]
    )
    _product(
        f,
        ctx,
        "IfcSlab",
        "Ground slab",
        slab_rep,
        _matrix(0, 0, -300),
        slab_style,
        {"Pset_SlabCommon": {"IsExternal": False, "LoadBearing": True}},
    )
    for i, (x, y) in enumerate(COLUMN_POSITIONS_MM):
        rep = ifcopenshell.api.geometry.add_wall_representation(f, context=body, length=0.4, height=4.0, thickness=0.4)
        _product(
            f,
            ctx,
            "IfcColumn",
            f"Column C{i + 1}",
            rep,
            _matrix(x + 300, y + 300),
            None,
            {"Pset_ColumnCommon": {"LoadBearing": True}},
        )
    window_type = ifcopenshell.api.root.create_entity(f, ifc_class="IfcWindowType", name="W1 1500x1200")
    window_rep = ifcopenshell.api.geometry.add_wall_representation(
        f, context=body, length=1.5, height=1.2, thickness=0.05
    )
    ifcopenshell.api.geometry.assign_representation(f, product=window_type, representation=window_rep)
    ifcopenshell.api.style.assign_representation_styles(f, shape_representation=window_rep, styles=[glass])
    for i, x in enumerate((3_000, 7_000, 12_000, 16_000)):
        opening_rep = ifcopenshell.api.geometry.add_wall_representation(
            f, context=body, length=1.5, height=1.2, thickness=0.5
        )
        opening = ifcopenshell.api.root.create_entity(f, ifc_class="IfcOpeningElement", name=f"Opening {i + 1}")
        ifcopenshell.api.geometry.assign_representation(f, product=opening, representation=opening_rep)
        ifcopenshell.api.geometry.edit_object_placement(f, product=opening, matrix=_matrix(x, -100, 1000), is_si=False)
        ifcopenshell.api.feature.add_feature(f, feature=opening, element=walls[0])
        window = ifcopenshell.api.root.create_entity(f, ifc_class="IfcWindow", name=f"Window {i + 1}")
        ifcopenshell.api.geometry.edit_object_placement(f, product=window, matrix=_matrix(x, 125, 1000), is_si=False)
        ifcopenshell.api.type.assign_type(f, related_objects=[window], relating_type=window_type)
        ifcopenshell.api.spatial.assign_container(f, products=[window], relating_structure=ctx["storey"])
        ifcopenshell.api.feature.add_filling(f, opening=opening, element=window)
    space_rep = ifcopenshell.api.geometry.add_slab_representation(
        f, context=body, depth=3.0, polyline=[(0.5, 0.5), (9.5, 0.5), (9.5, 11.5), (0.5, 11.5)]
    )
    space = ifcopenshell.api.root.create_entity(f, ifc_class="IfcSpace", name="Hall A")
    ifcopenshell.api.geometry.assign_representation(f, product=space, representation=space_rep)
    ifcopenshell.api.geometry.edit_object_placement(f, product=space, is_si=False)
    ifcopenshell.api.aggregate.assign_object(f, products=[space], relating_object=ctx["storey"])
    path.parent.mkdir(parents=True, exist_ok=True)
    f.write(str(path))
    return path


def make_large_model(path: Path, n_elements: int = 50_000, per_storey: int = 2_500) -> Path:
    """A georeferenced IFC4 model with ``n_elements`` box elements (walls, columns, slabs) on storeys.

    Built with low-level entity creation (the api is too slow for 50 000 elements); geometry is
    extruded rectangles, one per element (walls 3 × 0.2 × 3 m, columns 0.4 × 0.4 × 3 m, slabs
    2 × 2 × 0.2 m on a 4 m grid; no shared representations).
    """
    f, ctx = _setup("Large benchmark model")
    _georeference(f, "ifc43")
    body = ctx["body"]
    origin = f.createIfcCartesianPoint((0.0, 0.0, 0.0))
    z_dir, x_dir = f.createIfcDirection((0.0, 0.0, 1.0)), f.createIfcDirection((1.0, 0.0, 0.0))
    axis = f.createIfcAxis2Placement3D(origin, z_dir, x_dir)
    building_placement = ctx["building"].ObjectPlacement
    style = _style(f, "Generic", (0.8, 0.78, 0.74))
    storeys, contained = [], []
    grid = math.isqrt(per_storey - 1) + 1
    for i in range(n_elements):
        level, k = divmod(i, per_storey)
        if level >= len(storeys):
            storey = f.createIfcBuildingStorey(
                ifcopenshell.guid.new(),
                None,
                f"L{level}",
                None,
                None,
                f.createIfcLocalPlacement(
                    building_placement,
                    f.createIfcAxis2Placement3D(f.createIfcCartesianPoint((0.0, 0.0, level * 3500.0)), None, None),
                ),
                None,
                None,
                "ELEMENT",
                level * 3500.0,
            )
            storeys.append(storey)
            contained.append([])
        gx, gy = divmod(k, grid)
        size_x, size_y = (3000.0, 200.0) if k % 3 == 0 else ((400.0, 400.0) if k % 3 == 1 else (2000.0, 2000.0))
        height = 3000.0 if k % 3 != 2 else 200.0
        profile = f.createIfcRectangleProfileDef(
            "AREA",
            None,
            f.createIfcAxis2Placement2D(f.createIfcCartesianPoint((size_x / 2, size_y / 2)), None),
            size_x,
            size_y,
        )
        solid = f.createIfcExtrudedAreaSolid(profile, axis, z_dir, height)
        rep = f.createIfcShapeRepresentation(body, "Body", "SweptSolid", [solid])
        f.createIfcStyledItem(solid, [style], None)
        placement = f.createIfcLocalPlacement(
            storeys[level].ObjectPlacement,
            f.createIfcAxis2Placement3D(f.createIfcCartesianPoint((gx * 4000.0, gy * 4000.0, 0.0)), None, None),
        )
        cls = ("IfcWall", "IfcColumn", "IfcSlab")[k % 3]
        element = f.create_entity(
            cls,
            GlobalId=ifcopenshell.guid.new(),
            Name=f"{cls[3:]} {i}",
            ObjectPlacement=placement,
            Representation=f.createIfcProductDefinitionShape(None, None, [rep]),
        )
        contained[level].append(element)
    owner = ctx["storey"].OwnerHistory
    for storey, elements in zip(storeys, contained, strict=True):
        f.createIfcRelAggregates(ifcopenshell.guid.new(), owner, None, None, ctx["building"], [storey])
        f.createIfcRelContainedInSpatialStructure(ifcopenshell.guid.new(), owner, None, None, elements, storey)
    path.parent.mkdir(parents=True, exist_ok=True)
    f.write(str(path))
    return path


def compound_angle(degrees: float) -> tuple[int, int, int, int]:
    """Decimal degrees → IFC compound plane angle (deg, min, s, millionths; every part carries the sign)."""
    sign = -1 if degrees < 0 else 1
    micro = round(abs(degrees) * 3600 * 1e6)
    d, rest = divmod(micro, 3600 * 10**6)
    m, rest = divmod(rest, 60 * 10**6)
    s, u = divmod(rest, 10**6)
    return (sign * d, sign * m, sign * s, sign * u)


def make_raw_grid_model(
    path: Path,
    columns: list[tuple[float, float, float]],
    site_lonlat: tuple[float, float] | None,
    ref_elevation: float = 0.0,
    column_size: float = 0.4,
    height: float = 3.0,
) -> Path:
    """IFC4 in metres: one column (``column_size`` square, ``height`` tall) placed at each raw map
    coordinate (E, N, H) of ``columns``; IfcSite at the origin with RefLatitude/RefLongitude
    ``site_lonlat`` (None: no georeferencing at all) and RefElevation."""
    f, ctx = _setup("Raw grid coordinates export", unit="METERS")
    site = ctx["site"]
    if site_lonlat is not None:
        site.RefLongitude, site.RefLatitude = compound_angle(site_lonlat[0]), compound_angle(site_lonlat[1])
        site.RefElevation = ref_elevation
    for i, (e, n, h) in enumerate(columns):
        rep = ifcopenshell.api.geometry.add_wall_representation(
            f, context=ctx["body"], length=column_size, height=height, thickness=column_size
        )
        _product(f, ctx, "IfcColumn", f"Column {i + 1}", rep, _matrix(e, n, h))
    path.parent.mkdir(parents=True, exist_ok=True)
    f.write(str(path))
    return path


def make_tower(path: Path, storeys: int = 6, bays: int = 5) -> Path:
    """A georeferenced (EPSG:4546) storeyed building in metres: per storey a slab, four outer walls,
    a column per grid node and small furniture boxes: many small elements under a clear silhouette.
    The plan is an L (``bays`` × ``bays`` grid of 6 m bays with one corner quadrant left out)."""
    f, ctx = _setup("LOD test tower", unit="METERS")
    _georeference(f, "mapunit_mm")
    body = ctx["body"]
    span = 6.0 * bays
    cut = 6.0 * (bays // 2)
    outline = [(0.0, 0.0), (span, 0.0), (span, cut), (cut, cut), (cut, span), (0.0, span)]
    for level in range(storeys):
        z = level * 3.5
        slab = ifcopenshell.api.geometry.add_slab_representation(f, context=body, depth=0.3, polyline=outline)
        _product(f, ctx, "IfcSlab", f"Slab {level}", slab, _matrix(0, 0, z))
        for i, ((x0, y0), (x1, y1)) in enumerate(zip(outline, outline[1:] + outline[:1], strict=True)):
            length = math.hypot(x1 - x0, y1 - y0)
            angle = math.degrees(math.atan2(y1 - y0, x1 - x0))
            wall = ifcopenshell.api.geometry.add_wall_representation(
                f, context=body, length=length, height=3.2, thickness=0.25
            )
            _product(f, ctx, "IfcWall", f"Wall {level}.{i}", wall, _matrix(x0, y0, z + 0.3, angle))
        for gx in range(bays + 1):
            for gy in range(bays + 1):
                x, y = gx * 6.0, gy * 6.0
                if x > cut and y > cut:
                    continue
                column = ifcopenshell.api.geometry.add_wall_representation(
                    f, context=body, length=0.4, height=3.2, thickness=0.4
                )
                cx, cy = (0.3 if x == 0 else x - 0.7), (0.3 if y == 0 else y - 0.7)  # inside the walls
                _product(f, ctx, "IfcColumn", f"Column {level}.{gx}.{gy}", column, _matrix(cx, cy, z + 0.3))
                if gx < bays and gy < bays and not (x + 3 > cut and y + 3 > cut):
                    box = ifcopenshell.api.geometry.add_wall_representation(
                        f, context=body, length=1.2, height=0.75, thickness=0.6
                    )
                    _product(
                        f, ctx, "IfcFurnishingElement", f"Desk {level}.{gx}.{gy}", box, _matrix(x + 2, y + 2, z + 0.3)
                    )
    path.parent.mkdir(parents=True, exist_ok=True)
    f.write(str(path))
    return path


def main() -> None:
    out = make_hall(OUT_DIR / "ordos_kangbashi_hall_4546.ifc")
    print(out)
    if "--large" in sys.argv:
        print(make_large_model(OUT_DIR.parent / "large" / "large_50k.ifc"))


if __name__ == "__main__":
    main()
