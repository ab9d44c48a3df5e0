"""Where ifctester 0.9 disagrees with buildingSMART's published IDS 1.0 test cases, the published
semantics, applied to a parsed IDS (tests/test_bim_ids_conformance.py runs those test cases):

- several ``xs:pattern`` in one restriction are alternatives (XML Schema: a value matches if any
  pattern does); ifctester requires all of them;
- a ``partOf`` containment may be indirect (an element contained in a space of a storey is part of
  the storey), and so may a group (an element of a system assigned to a zone is part of the zone);
  ifctester looks only at the direct container and the first group.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from typing import Any

import ifcopenshell
import ifcopenshell.util.element
from elementpath.regex import translate_pattern
from ifctester import facet as ids_facet  # type: ignore[import-untyped]
from ifctester import ids as ids_model


@cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(translate_pattern(pattern, back_references=False, lazy_quantifiers=False, anchors=False))


class AlternativePatterns(ids_facet.Restriction):  # type: ignore[misc]
    """A restriction whose patterns are alternatives, as in XML Schema."""

    def __eq__(self, other: object) -> bool:
        patterns = self.options.get("pattern")
        if not isinstance(patterns, list) or len(patterns) < 2:
            return bool(super().__eq__(other))
        if not isinstance(other, str) or not any(_compiled(p).fullmatch(other) for p in patterns):
            return False
        others = {key: value for key, value in self.options.items() if key != "pattern"}
        return not others or bool(ids_facet.Restriction(others, self.base) == other)

    __hash__ = None  # type: ignore[assignment]


def _matches(facet: Any, element: ifcopenshell.entity_instance) -> bool:
    if not facet.name == element.is_a().upper():  # the name may be a restriction
        return False
    if facet.predefinedType:
        return bool(ifcopenshell.util.element.get_predefined_type(element) == facet.predefinedType)
    return True


def _spatial_ancestors(element: ifcopenshell.entity_instance) -> Iterator[ifcopenshell.entity_instance]:
    container = ifcopenshell.util.element.get_container(element)
    seen: set[int] = set()
    while container is not None and container.id() not in seen:
        seen.add(container.id())
        yield container
        container = ifcopenshell.util.element.get_aggregate(container) or ifcopenshell.util.element.get_container(
            container
        )


def _groups(element: ifcopenshell.entity_instance) -> Iterator[ifcopenshell.entity_instance]:
    pending = [element]
    seen: set[int] = set()
    while pending:
        current = pending.pop()
        for rel in getattr(current, "HasAssignments", None) or []:
            if rel.is_a("IfcRelAssignsToGroup") and rel.RelatingGroup.id() not in seen:
                seen.add(rel.RelatingGroup.id())
                yield rel.RelatingGroup
                pending.append(rel.RelatingGroup)


class IndirectPartOf(ids_facet.PartOf):  # type: ignore[misc]
    """partOf whose containment and group relations may be indirect."""

    def __call__(self, inst: ifcopenshell.entity_instance, logger: object = None) -> Any:
        if self.relation == "IFCRELCONTAINEDINSPATIALSTRUCTURE":
            related = list(_spatial_ancestors(inst))
        elif self.relation == "IFCRELASSIGNSTOGROUP":
            related = list(_groups(inst))
        else:
            return super().__call__(inst, logger)
        reason: dict[str, Any] | None = None
        if not related:
            is_pass, reason = False, {"type": "NOVALUE"}
        elif self.name:
            is_pass = any(_matches(self, candidate) for candidate in related)
            if not is_pass:
                reason = {"type": "ENTITY", "actual": [candidate.is_a().upper() for candidate in related]}
        else:
            is_pass = True
        if self.cardinality == "prohibited":
            return ids_facet.PartOfResult(not is_pass, {"type": "PROHIBITED"})
        return ids_facet.PartOfResult(is_pass, reason)


def _restrictions(facet: Any) -> Iterator[Any]:
    for value in vars(facet).values():
        if type(value) is ids_facet.Restriction:
            yield value


def apply_published_semantics(document: Any) -> Any:
    """Swap the facets of a parsed IDS (``ifctester.ids.Ids``) to the published semantics; returns it."""
    specifications: list[ids_model.Specification] = document.specifications
    for specification in specifications:
        for facet in [*specification.applicability, *specification.requirements]:
            if type(facet) is ids_facet.PartOf:
                facet.__class__ = IndirectPartOf
            for restriction in _restrictions(facet):
                restriction.__class__ = AlternativePatterns
    return document
