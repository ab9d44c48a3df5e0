"""Domain objects to response bodies."""

from __future__ import annotations

from api.facades.schemas import (
    CheckOut,
    ColourOut,
    FacadeColourOut,
    MunsellOut,
    PhotoOut,
    ProjectOut,
    RulesOut,
    StreetOut,
    TargetRow,
    UnitOut,
)
from cim_platform.facades import geometry, units
from cim_platform.facades.colours import ColourReading
from cim_platform.facades.models import Photo, Project, Street
from cim_platform.facades.palette import ColourRules, FacadeColour, Zone
from cim_platform.facades.targets import UnitReport


def colour_view(reading: ColourReading) -> ColourOut:
    m = reading.munsell
    return ColourOut(
        given_as=reading.given_as,
        given=reading.given,
        hex=reading.hex,
        lab=reading.lab,
        xyY=reading.xyY,
        munsell=MunsellOut(
            notation=m.notation,
            hue=m.hue,
            family=m.family,
            value=m.value,
            chroma=m.chroma,
            in_renotation_domain=m.in_renotation_domain,
        ),
        high_chroma=reading.high_chroma,
        note=reading.note,
    )


def facade_colour_view(colour: FacadeColour) -> FacadeColourOut:
    return FacadeColourOut(
        **colour_view(colour.reading).model_dump(), use=colour.use, share=colour.share, label=colour.label
    )


def rules_view(zone: Zone, rules: ColourRules, changed: bool) -> RulesOut:
    return RulesOut.model_validate({**rules.as_dict(), "zone": zone, "changed": changed})


def unit_view(unit: units.Unit) -> UnitOut:
    return UnitOut(
        code=unit.code,
        slug=unit.slug,
        name=unit.name,
        name_zh=unit.name_zh,
        district_code=unit.district_code,
        default_target=unit.default_target,
    )


def target_view(row: UnitReport) -> TargetRow:
    return TargetRow(
        unit=unit_view(row.unit),
        year=row.year,
        target=row.target,
        target_is_default=row.target_is_default,
        accepted=row.accepted,
        under_way=row.under_way,
        candidates=row.candidates,
        year_over=row.year_over,
        state=row.state,
    )


def street_view(street: Street) -> StreetOut:
    return StreetOut(
        id=street.id,
        version=street.version,
        code=street.code,
        name=street.name,
        district_code=street.district_code,
        town_code=street.town_code,
        unit_code=street.unit_code,
        zone=Zone(street.zone),
        year=street.year,
        status=street.status,  # type: ignore[arg-type]  # validated by pydantic from the stored value
        acceptance_document=street.acceptance_document,
        accepted_on=street.accepted_on,
        length_m=street.length_m,
        note=street.note,
        geometry=geometry.to_geojson(street.geometry),
        created_at=street.created_at,
        updated_at=street.updated_at,
    )


def project_view(project: Project) -> ProjectOut:
    colours = [{k: v for k, v in c.items() if k != "input"} for c in project.colours]
    return ProjectOut.model_validate(
        {
            "id": project.id,
            "version": project.version,
            "code": project.code,
            "name": project.name,
            "organization_id": project.organization_id,
            "street_id": project.street_id,
            "district_code": project.district_code,
            "zone": project.zone,
            "status": project.status,
            "dataset_id": project.dataset_id,
            "feature_id": project.feature_id,
            "footprint": geometry.to_geojson(project.footprint),
            "orientation": project.orientation,
            "facade_area_m2": project.facade_area_m2,
            "measures": project.measures,
            "materials": project.materials,
            "signs": project.signs or {},
            "lighting": project.lighting,
            "budget_cny": project.budget_cny,
            "spent_cny": project.spent_cny,
            "funding_source": project.funding_source,
            "contractor": project.contractor,
            "planned_start": project.planned_start,
            "planned_end": project.planned_end,
            "actual_start": project.actual_start,
            "actual_end": project.actual_end,
            "colours": colours,
            "colour_check": CheckOut.model_validate(project.colour_check) if project.colour_check else None,
            "heritage": project.heritage,
            "approval_required": project.approval_required,
            "approval_documents": project.approval_documents,
            "note": project.note,
            "created_at": project.created_at,
            "updated_at": project.updated_at,
        }
    )


def photo_view(photo: Photo) -> PhotoOut:
    return PhotoOut(
        id=photo.id,
        project_id=photo.project_id,
        stage=photo.stage,  # type: ignore[arg-type]  # validated by pydantic from the stored value
        filename=photo.filename,
        bytes=photo.bytes,
        sha256=photo.sha256,
        width=photo.width,
        height=photo.height,
        captured_at=photo.captured_at,
        direction_deg=photo.direction_deg,
        caption=photo.caption,
        created_at=photo.created_at,
        file_url=f"/api/v1/facades/photos/{photo.id}/file",
    )
