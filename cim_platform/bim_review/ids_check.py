"""IDS checking of IFC models on ifctester, without a database: load an IDS (validated against
buildingSMART's IDS 1.0 XSD), open a model, and get results per specification and per requirement
with the failing elements (GlobalId, class, name, reason)."""

from __future__ import annotations

import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import ifcopenshell
from ifctester import ids as ids_model  # type: ignore[import-untyped]

from cim_platform.bim_review.errors import IdsUnreadable, ModelUnreadable
from cim_platform.bim_review.ids_semantics import apply_published_semantics

FAILURES_KEPT_PER_REQUIREMENT = 500
"""A requirement failing on more elements keeps the first ones and the count."""


@dataclass(frozen=True)
class FailingElement:
    global_id: str
    ifc_class: str
    name: str
    reason: str


@dataclass
class RequirementResult:
    description: str
    facet: str
    passed: bool
    passed_count: int
    failed_count: int
    failures: list[FailingElement] = field(default_factory=list)


@dataclass
class SpecificationResult:
    name: str
    description: str
    ifc_versions: list[str]
    applies_to_model: bool
    """False when the IDS restricts the specification to other IFC versions (then it is not checked)."""
    applicable_count: int
    passed: bool
    requirements: list[RequirementResult] = field(default_factory=list)


@dataclass
class CheckReport:
    ids_title: str
    model_schema: str
    specifications: list[SpecificationResult]

    @property
    def passed(self) -> bool:
        """Every applicable specification (and so every applicable requirement) passes."""
        return all(s.passed for s in self.specifications if s.applies_to_model)

    @property
    def failed_specifications(self) -> int:
        return sum(1 for s in self.specifications if s.applies_to_model and not s.passed)

    def to_dict(self) -> dict[str, Any]:
        result = asdict(self)
        result["passed"] = self.passed
        return result


def load_ids_text(xml: str) -> Any:
    """Parse and validate an IDS document (``ifctester.ids.Ids``); ``IdsUnreadable`` if it is not IDS 1.0."""
    with tempfile.NamedTemporaryFile("w", suffix=".ids", encoding="utf-8") as handle:
        handle.write(xml)
        handle.flush()
        return load_ids(Path(handle.name), shown_as="the IDS")


def load_ids(path: Path, *, shown_as: str | None = None) -> Any:
    shown = shown_as or path.name
    try:
        document = ids_model.open(str(path), validate=True)
    except ids_model.IdsXmlValidationError as error:
        reason = str(getattr(error.xml_error, "reason", None) or error).splitlines()[0]
        raise IdsUnreadable(f"{shown} does not follow the IDS 1.0 schema: {reason}") from None
    except FileNotFoundError:
        raise IdsUnreadable(f"{shown}: no such file") from None
    except Exception as error:  # XML syntax errors and the like come from several parsers
        raise IdsUnreadable(f"{shown} is not a readable IDS file: {str(error).splitlines()[0]}") from None
    if not document.specifications:
        raise IdsUnreadable(f"{shown} has no specification")
    return apply_published_semantics(document)


def open_model(path: Path, *, shown_as: str | None = None) -> ifcopenshell.file:
    shown = shown_as or path.name
    if not path.is_file():
        raise ModelUnreadable(f"{shown}: no such file")
    try:
        return ifcopenshell.open(str(path))
    except Exception as error:
        first = (str(error).splitlines() or [type(error).__name__])[0]
        raise ModelUnreadable(f"{shown} is not a readable IFC file: {first}") from None


def _label(element: ifcopenshell.entity_instance, attribute: str) -> str:
    value = getattr(element, attribute, None) if hasattr(element, attribute) else None
    return str(value) if value is not None else ""


def _requirement(facet: Any) -> RequirementResult:
    failures = [
        FailingElement(
            global_id=_label(failure["element"], "GlobalId"),
            ifc_class=failure["element"].is_a(),
            name=_label(failure["element"], "Name"),
            reason=str(failure["reason"] or ""),
        )
        for failure in facet.failures[:FAILURES_KEPT_PER_REQUIREMENT]
    ]
    return RequirementResult(
        description=str(facet.to_string("requirement", None, None)),
        facet=_facet_kind(facet),
        passed=bool(facet.status),
        passed_count=len(facet.passed_entities),
        failed_count=len(facet.failures),
        failures=failures,
    )


def _facet_kind(facet: Any) -> str:
    for kind in type(facet).__mro__:
        if kind.__module__.startswith("ifctester"):
            return kind.__name__
    return type(facet).__name__


def check_model(model: ifcopenshell.file, document: Any) -> CheckReport:
    """Check a model against an IDS (from ``load_ids``)."""
    document.validate(model)
    specifications = []
    for spec in document.specifications:
        applies = model.schema_identifier in spec.ifcVersion or model.schema in spec.ifcVersion
        specifications.append(
            SpecificationResult(
                name=str(spec.name or ""),
                description=str(spec.description or ""),
                ifc_versions=[str(v) for v in spec.ifcVersion],
                applies_to_model=bool(applies),
                applicable_count=len(spec.applicable_entities),
                passed=bool(spec.status),
                requirements=[_requirement(facet) for facet in spec.requirements],
            )
        )
    return CheckReport(
        ids_title=str(document.info.get("title", "")), model_schema=model.schema, specifications=specifications
    )


def check_files(model_path: Path, ids_path: Path) -> CheckReport:
    return check_model(open_model(model_path), load_ids(ids_path))
