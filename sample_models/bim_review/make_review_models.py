"""Generate two revisions of a small office (synthetic example, 示例) for BIM review, with
``ifcopenshell.api``, with known IDS failures and known changes between them.

``python sample_models/bim_review/make_review_models.py OUTDIR`` writes ``review_r1.ifc`` and
``review_r2.ifc``. Against ``sample_models/ids/ordos-delivery.ids`` revision 1 fails exactly:

- ORDOS-01 (on a storey): ``Loose wall`` (contained nowhere); the column, contained in a space of
  the storey, passes (containment may be indirect);
- ORDOS-02 (IsExternal): ``Partition`` (no Pset_WallCommon);
- ORDOS-03 (spaces): the second space has neither a name nor a NetFloorArea.

Revision 2, from revision 1: ``External wall`` moved 1 m east (geometry), ``Partition`` renamed
``Partition P1`` (attribute), ``Loose wall`` deleted, the column's ``Pset_ColumnCommon.Reference``
changed (property), ``Slab`` moved to storey 2F (container), ``Typed wall`` given another type
(type), ``New wall`` added. ``KNOWN`` holds the names by change.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import ifcopenshell
import ifcopenshell.api.aggregate
import ifcopenshell.api.context
import ifcopenshell.api.geometry
import ifcopenshell.api.georeference
import ifcopenshell.api.project
import ifcopenshell.api.pset
import ifcopenshell.api.root
import ifcopenshell.api.spatial
import ifcopenshell.api.type
import ifcopenshell.api.unit
import ifcopenshell.util.element
import numpy as np

MAP_ORIGIN = (389_800.0, 4_385_400.0, 1_300.0)  # EPSG:4546 metres (Kangbashi), Yellow Sea 1985 height
ROTATION_DEG = 20.0
KNOWN = {
    "added": ["New wall"],
    "deleted": ["Loose wall"],
    "geometry": ["External wall"],
    "attribute": ["Partition"],
    "property": ["Column K1"],
    "container": ["Slab"],
    "type": ["Typed wall"],
}


def _matrix(x: float, y: float, z: float = 0.0, angle_deg: float = 0.0) -> np.ndarray:
    m = np.eye(4)
    a = math.radians(angle_deg)
    m[:2, :2] = [[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]]
    m[:3, 3] = [x, y, z]
    return m


def _wall(f: ifcopenshell.file, body, name: str, x: float, y: float, angle: float, length: float):
    wall = ifcopenshell.api.root.create_entity(f, ifc_class="IfcWall", name=name)
    rep = ifcopenshell.api.geometry.add_wall_representation(f, context=body, length=length, height=3.0, thickness=0.2)
    ifcopenshell.api.geometry.assign_representation(f, product=wall, representation=rep)
    ifcopenshell.api.geometry.edit_object_placement(f, product=wall, matrix=_matrix(x, y, 0, angle))
    return wall


def _pset(f: ifcopenshell.file, product, name: str, values: dict[str, object]) -> None:
    pset = ifcopenshell.api.pset.add_pset(f, product=product, name=name)
    ifcopenshell.api.pset.edit_pset(f, pset=pset, properties=values)


def make_revision_1(path: Path) -> Path:
    f = ifcopenshell.api.project.create_file(version="IFC4")
    project = ifcopenshell.api.root.create_entity(f, ifc_class="IfcProject", name="Ordos review office (synthetic)")
    ifcopenshell.api.unit.assign_unit(f, units=[ifcopenshell.api.unit.add_si_unit(f, unit_type="LENGTHUNIT")])
    model = ifcopenshell.api.context.add_context(f, context_type="Model")
    body = ifcopenshell.api.context.add_context(
        f, context_type="Model", context_identifier="Body", target_view="MODEL_VIEW", parent=model
    )
    ifcopenshell.api.georeference.add_georeferencing(f, ifc_class="IfcMapConversion", name="EPSG:4546")
    a = math.radians(ROTATION_DEG)
    ifcopenshell.api.georeference.edit_georeferencing(
        f,
        coordinate_operation={
            "Eastings": MAP_ORIGIN[0],
            "Northings": MAP_ORIGIN[1],
            "OrthogonalHeight": MAP_ORIGIN[2],
            "XAxisAbscissa": math.cos(a),
            "XAxisOrdinate": math.sin(a),
            "Scale": 1.0,
        },
        projected_crs={"Name": "EPSG:4546", "VerticalDatum": "EPSG:5737", "GeodeticDatum": "CGCS2000"},
    )
    site = ifcopenshell.api.root.create_entity(f, ifc_class="IfcSite", name="Site")
    building = ifcopenshell.api.root.create_entity(f, ifc_class="IfcBuilding", name="Office")
    storey1 = ifcopenshell.api.root.create_entity(f, ifc_class="IfcBuildingStorey", name="1F")
    storey2 = ifcopenshell.api.root.create_entity(f, ifc_class="IfcBuildingStorey", name="2F")
    ifcopenshell.api.aggregate.assign_object(f, products=[site], relating_object=project)
    ifcopenshell.api.aggregate.assign_object(f, products=[building], relating_object=site)
    ifcopenshell.api.aggregate.assign_object(f, products=[storey1, storey2], relating_object=building)
    for product in (site, building, storey1):
        ifcopenshell.api.geometry.edit_object_placement(f, product=product)
    ifcopenshell.api.geometry.edit_object_placement(f, product=storey2, matrix=_matrix(0, 0, 3.0))

    external = _wall(f, body, "External wall", 0, 0, 0, 10.0)
    _pset(f, external, "Pset_WallCommon", {"IsExternal": True, "LoadBearing": True})
    partition = _wall(f, body, "Partition", 5, 0, 90, 6.0)  # no Pset_WallCommon: fails ORDOS-02
    typed = _wall(f, body, "Typed wall", 0, 6, 0, 10.0)
    _pset(f, typed, "Pset_WallCommon", {"IsExternal": True})
    wall_type = ifcopenshell.api.root.create_entity(f, ifc_class="IfcWallType", name="WT-200")
    ifcopenshell.api.type.assign_type(f, related_objects=[typed], relating_type=wall_type)
    ifcopenshell.api.root.create_entity(f, ifc_class="IfcWallType", name="WT-300")
    loose = _wall(f, body, "Loose wall", 12, 0, 90, 6.0)  # contained nowhere: fails ORDOS-01
    _pset(f, loose, "Pset_WallCommon", {"IsExternal": False})
    slab = ifcopenshell.api.root.create_entity(f, ifc_class="IfcSlab", name="Slab")
    rep = ifcopenshell.api.geometry.add_slab_representation(
        f, context=body, depth=0.2, polyline=[(0.0, 0.0), (10.0, 0.0), (10.0, 6.0), (0.0, 6.0)]
    )
    ifcopenshell.api.geometry.assign_representation(f, product=slab, representation=rep)
    ifcopenshell.api.geometry.edit_object_placement(f, product=slab, matrix=_matrix(0, 0, -0.2))
    ifcopenshell.api.spatial.assign_container(
        f, products=[external, partition, typed, slab], relating_structure=storey1
    )

    office = ifcopenshell.api.root.create_entity(f, ifc_class="IfcSpace", name="Office 101")
    unnamed = ifcopenshell.api.root.create_entity(f, ifc_class="IfcSpace")  # no name, no area: fails ORDOS-03
    ifcopenshell.api.aggregate.assign_object(f, products=[office, unnamed], relating_object=storey1)
    quantities = ifcopenshell.api.pset.add_qto(f, product=office, name="Qto_SpaceBaseQuantities")
    ifcopenshell.api.pset.edit_qto(f, qto=quantities, properties={"NetFloorArea": 28.5})
    column = ifcopenshell.api.root.create_entity(f, ifc_class="IfcColumn", name="Column K1")
    rep = ifcopenshell.api.geometry.add_wall_representation(f, context=body, length=0.4, height=3.0, thickness=0.4)
    ifcopenshell.api.geometry.assign_representation(f, product=column, representation=rep)
    ifcopenshell.api.geometry.edit_object_placement(f, product=column, matrix=_matrix(2.5, 3.0))
    ifcopenshell.api.spatial.assign_container(f, products=[column], relating_structure=office)  # indirect
    _pset(f, column, "Pset_ColumnCommon", {"Reference": "K-400x400", "LoadBearing": True})
    f.write(str(path))
    return path


def _named(f: ifcopenshell.file, ifc_class: str, name: str) -> ifcopenshell.entity_instance:
    return next(e for e in f.by_type(ifc_class) if e.Name == name)


def make_revision_2(revision_1: Path, path: Path) -> Path:
    f = ifcopenshell.open(str(revision_1))
    body = next(c for c in f.by_type("IfcGeometricRepresentationSubContext") if c.ContextIdentifier == "Body")
    external = _named(f, "IfcWall", "External wall")
    ifcopenshell.api.geometry.edit_object_placement(f, product=external, matrix=_matrix(1.0, 0, 0, 0))
    _named(f, "IfcWall", "Partition").Name = "Partition P1"
    ifcopenshell.api.root.remove_product(f, product=_named(f, "IfcWall", "Loose wall"))
    column = _named(f, "IfcColumn", "Column K1")
    pset = ifcopenshell.util.element.get_psets(column)["Pset_ColumnCommon"]
    ifcopenshell.api.pset.edit_pset(f, pset=f.by_id(pset["id"]), properties={"Reference": "K-500x500"})
    storey2 = _named(f, "IfcBuildingStorey", "2F")
    ifcopenshell.api.spatial.assign_container(f, products=[_named(f, "IfcSlab", "Slab")], relating_structure=storey2)
    ifcopenshell.api.type.assign_type(
        f, related_objects=[_named(f, "IfcWall", "Typed wall")], relating_type=_named(f, "IfcWallType", "WT-300")
    )
    new = _wall(f, body, "New wall", 10, 0, 90, 6.0)
    _pset(f, new, "Pset_WallCommon", {"IsExternal": True})
    ifcopenshell.api.spatial.assign_container(
        f, products=[new], relating_structure=_named(f, "IfcBuildingStorey", "1F")
    )
    f.write(str(path))
    return path


def make_revisions(out_dir: Path) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    first = make_revision_1(out_dir / "review_r1.ifc")
    return first, make_revision_2(first, out_dir / "review_r2.ifc")


if __name__ == "__main__":
    for written in make_revisions(Path(sys.argv[1] if len(sys.argv) > 1 else ".")):
        print(written)
