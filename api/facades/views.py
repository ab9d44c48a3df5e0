"""Domain objects to response bodies."""

from __future__ import annotations

from api.facades.schemas import ColourOut, FacadeColourOut, MunsellOut, RulesOut, StreetOut, TargetRow, UnitOut
from cim_platform.facades import geometry, units
from cim_platform.facades.colours import ColourReading
from cim_platform.facades.models import Street
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
