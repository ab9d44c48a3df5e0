"""Records as response bodies (public or full, by the caller's scopes)."""

from __future__ import annotations

from fastapi import Request

from api.heritage.schemas import BuildingLinks, BuildingOut, BuildingPublic, ProposalOut, SectionSummary
from cim_platform.heritage.archive import missing_sections
from cim_platform.heritage.geometry import to_geojson
from cim_platform.heritage.models import ArchiveItem, Building, Proposal, ProposalState, QaStage, Section


def path_for(request: Request, name: str, **params: object) -> str:
    return str(request.app.url_path_for(name, **{k: str(v) for k, v in params.items()}))


def proposal_view(proposal: Proposal) -> ProposalOut:
    return ProposalOut(
        id=proposal.id,
        building_id=proposal.building_id,
        base_version=proposal.base_version,
        changes=proposal.changes,
        note=proposal.note,
        state=ProposalState(proposal.state),
        proposed_by=proposal.proposed_by_name,
        created_at=proposal.created_at,
        reviewed_by=proposal.reviewed_by_name,
        reviewed_at=proposal.reviewed_at,
        review_comment=proposal.review_comment,
    )


def sections_view(items: list[ArchiveItem]) -> list[SectionSummary]:
    missing = set(missing_sections(items))
    return [
        SectionSummary(
            section=section,
            items=sum(1 for i in items if i.section == section.value),
            accepted=sum(1 for i in items if i.section == section.value and i.qa_stage == QaStage.accepted.value),
            complete=section not in missing,
        )
        for section in Section
    ]


def building_view(
    request: Request,
    building: Building,
    *,
    full: bool,
    pending: list[Proposal] | None = None,
    items: list[ArchiveItem] | None = None,
) -> BuildingOut | BuildingPublic:
    links = BuildingLinks(self=path_for(request, "get_building", building_id=building.id))
    common = {
        "id": building.id,
        "code": building.code,
        "name": building.name,
        "aliases": list(building.aliases or []),
        "listing_batch": building.listing_batch,
        "announcement_number": building.announcement_number,
        "announcement_date": building.announcement_date,
        "status": building.status,
        "level": building.level,
        "district": building.district_code,
        "town": building.town,
        "location": to_geojson(building.location),
        "outline": to_geojson(building.outline),
        "protection_range": to_geojson(building.protection_range),
        "control_zone": to_geojson(building.control_zone),
        "category": building.category,
        "construction_period": building.construction_period,
        "construction_year": building.construction_year,
        "year_precision": building.year_precision,
        "structure_type": building.structure_type,
        "storeys": building.storeys,
        "height_m": building.height_m,
        "floor_area_m2": building.floor_area_m2,
        "value_features": building.value_features,
        "group_id": building.group_id,
    }
    if not full:
        return BuildingPublic.model_validate({**common, "links": links})
    links.history = path_for(request, "building_history", building_id=building.id)
    links.proposals = path_for(request, "list_proposals") + f"?building={building.id}"
    return BuildingOut.model_validate(
        {
            **common,
            "links": links,
            "version": building.version,
            "address": building.address,
            "ownership": building.ownership,
            "owner": building.owner,
            "occupant": building.occupant,
            "current_use": building.current_use,
            "preservation": building.preservation,
            "key_parts": building.key_parts,
            "delisting_reference": building.delisting_reference,
            "retired_at": building.retired_at,
            "retired_reason": building.retired_reason,
            "created_at": building.created_at,
            "updated_at": building.updated_at,
            "pending_proposals": [proposal_view(p) for p in pending] if pending is not None else None,
            "archive": sections_view(items) if items is not None else None,
        }
    )
