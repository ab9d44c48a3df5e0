"""Per-element attributes for the feature tables, gathered in one pass over the relationships.

Each element gets: GlobalId, IfcClass, Name, ObjectType (or its type's name), TypeName, Storey,
Building, Materials (``; ``-joined) and the values of its ``Pset_*Common`` property sets (from the
occurrence, falling back to the type), keyed by bare property name (``IsExternal``...).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import ifcopenshell

FIXED_COLUMNS = ("GlobalId", "IfcClass", "Name", "ObjectType", "TypeName", "Storey", "Building", "Materials")


def _value(value: Any) -> Any:
    wrapped = getattr(value, "wrappedValue", value)
    if isinstance(wrapped, bool | int | float | str) or wrapped is None:
        return wrapped
    return str(wrapped)


def _common_values(definition: Any) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if not definition.is_a("IfcPropertySet") or not (definition.Name or "").startswith("Pset_"):
        return values
    if not definition.Name.endswith("Common"):
        return values
    for prop in definition.HasProperties or ():
        if prop.is_a("IfcPropertySingleValue") and prop.NominalValue is not None:
            values[prop.Name] = _value(prop.NominalValue)
    return values


def _material_names(material: Any) -> list[str]:
    if material is None:
        return []
    if material.is_a("IfcMaterial"):
        return [material.Name or ""]
    if material.is_a("IfcMaterialLayerSetUsage"):
        return _material_names(material.ForLayerSet)
    if material.is_a("IfcMaterialLayerSet"):
        return [layer.Material.Name for layer in material.MaterialLayers or () if layer.Material]
    if material.is_a("IfcMaterialList"):
        return [m.Name for m in material.Materials or ()]
    if material.is_a("IfcMaterialProfileSetUsage"):
        return _material_names(material.ForProfileSet)
    if material.is_a("IfcMaterialProfileSet"):
        return [p.Material.Name for p in material.MaterialProfiles or () if p.Material]
    if material.is_a("IfcMaterialConstituentSet"):
        return [c.Material.Name for c in material.MaterialConstituents or () if c.Material]
    name = getattr(material, "Name", None)
    return [name] if name else []


class ElementProperties:
    """Looks up the attributes of any element of ``model`` (built once, O(relationships))."""

    def __init__(self, model: ifcopenshell.file) -> None:
        self.psets: dict[int, dict[str, Any]] = defaultdict(dict)
        self.type_of: dict[int, Any] = {}
        self.materials: dict[int, list[str]] = {}
        self.container: dict[int, Any] = {}
        self.parent: dict[int, Any] = {}
        self._type_values: dict[int, dict[str, Any]] = {}
        self._spatial_of: dict[int, tuple[str | None, str | None]] = {}
        for rel in model.by_type("IfcRelDefinesByProperties"):
            definition = rel.RelatingPropertyDefinition
            if definition is None or not hasattr(definition, "is_a"):
                continue
            values = _common_values(definition)
            if values:
                for obj in rel.RelatedObjects or ():
                    self.psets[obj.id()].update(values)
        for rel in model.by_type("IfcRelDefinesByType"):
            for obj in rel.RelatedObjects or ():
                self.type_of[obj.id()] = rel.RelatingType
        for rel in model.by_type("IfcRelAssociatesMaterial"):
            names = [n for n in _material_names(rel.RelatingMaterial) if n]
            for obj in rel.RelatedObjects or ():
                self.materials[obj.id()] = names
        for rel in model.by_type("IfcRelContainedInSpatialStructure"):
            for obj in rel.RelatedElements or ():
                self.container[obj.id()] = rel.RelatingStructure
        for rel in model.by_type("IfcRelAggregates"):
            for obj in rel.RelatedObjects or ():
                self.parent[obj.id()] = rel.RelatingObject

    def _type_psets(self, element_type: Any) -> dict[str, Any]:
        cached = self._type_values.get(element_type.id())
        if cached is None:
            cached = {}
            for definition in getattr(element_type, "HasPropertySets", None) or ():
                cached.update(_common_values(definition))
            self._type_values[element_type.id()] = cached
        return dict(cached)

    def _spatial(self, element: Any) -> tuple[str | None, str | None]:
        start = self.container.get(element.id()) or self.parent.get(element.id())
        if start is None:
            return None, None
        found = self._spatial_of.get(start.id())  # elements share a few containers
        if found is None:
            found = self._spatial_of[start.id()] = self._walk(start)
        return found

    def _walk(self, node: Any) -> tuple[str | None, str | None]:
        storey = building = None
        seen = 0
        while node is not None and seen < 32:
            if storey is None and node.is_a("IfcBuildingStorey"):
                storey = node.Name
            if node.is_a("IfcBuilding"):
                building = node.Name
                break
            node = self.container.get(node.id()) or self.parent.get(node.id())
            seen += 1
        return storey, building

    def of(self, element: Any) -> dict[str, Any]:
        element_type = self.type_of.get(element.id())
        common = self._type_psets(element_type) if element_type is not None else {}
        common.update(self.psets.get(element.id(), {}))
        materials = self.materials.get(element.id())
        if materials is None and element_type is not None:
            materials = self.materials.get(element_type.id())
        storey, building = self._spatial(element)
        type_name = element_type.Name if element_type is not None else None
        row = {
            "GlobalId": element.GlobalId,
            "IfcClass": element.is_a(),
            "Name": element.Name,
            "ObjectType": getattr(element, "ObjectType", None) or type_name,
            "TypeName": type_name,
            "Storey": storey,
            "Building": building,
            "Materials": "; ".join(dict.fromkeys(materials)) if materials else None,
        }
        for key, value in common.items():
            if key not in row:
                row[key] = value
        return row
