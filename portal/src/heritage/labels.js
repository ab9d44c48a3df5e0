// The heritage domain's vocabularies (the API's enumerations), its workflow and which fields a form edits.
import { hasScope } from "../api.js";

export const BASE = "/api/v1/heritage";
export const STATUSES = ["draft", "submitted", "under_review", "listed", "delisted"];
export const LEVELS = ["national", "regional", "city", "county", "historic_building", "unclassified"];
export const SECTIONS = ["features", "technical", "use_ownership", "interventions", "survey"];
export const QA_NEXT = { self_check: "re_check", re_check: "accepted" };

// draft → submitted → under_review → listed (→ delisted with an approval document), as cim_platform/heritage/service.py
export const TRANSITIONS = [
  { from: "draft", to: "submitted", scope: "heritage:write" },
  { from: "submitted", to: "draft", scope: "heritage:write" },
  { from: "submitted", to: "under_review", scope: "heritage:review" },
  { from: "under_review", to: "draft", scope: "heritage:review" },
  { from: "under_review", to: "listed", scope: "heritage:review" },
  { from: "listed", to: "delisted", scope: "heritage:review" },
];

export function stepsFor(building) {
  if (!building || building.retired_at) return [];
  return TRANSITIONS.filter((t) => t.from === building.status && hasScope(t.scope));
}

export const canWrite = () => hasScope("heritage:write");
export const canReview = () => hasScope("heritage:review");
/** who may open the edit form (a surveyor's edit of a listed record becomes a proposal) */
export const canEdit = (building) => Boolean(building && !building.retired_at && (canWrite() || canReview()));
/** the edit becomes a proposal for review */
export const editIsProposal = (building) => ["listed", "delisted"].includes(building?.status) && !canReview();

/** demo records are synthetic: codes EX-…, names marked 示例 / Example */
export function isSynthetic(building) {
  return /^EX-/i.test(building?.code || "") || /示例|example/i.test(building?.name || "");
}

const ENUMS = {
  level: LEVELS,
  category: ["building", "structure"],
  year_precision: ["exact", "decade", "period"],
  ownership: ["state", "collective", "private", "mixed"],
  preservation: ["good", "fair", "poor", "endangered"],
};
export function enumOptions(field) {
  return ENUMS[field] || [];
}

// The form's fields (BuildingFields of api/heritage/schemas.py), with the API's limits for validation messages.
export const FIELDS = [
  { key: "code", type: "text", max: 64, required: true, createOnly: true },
  { key: "name", type: "text", max: 300, required: true },
  { key: "aliases", type: "list", max: 300 },
  { key: "district", type: "district", required: true, createOnly: true },
  { key: "level", type: "enum", required: true },
  { key: "listing_batch", type: "text", max: 100 },
  { key: "announcement_number", type: "text", max: 200 },
  { key: "announcement_date", type: "date" },
  { key: "town", type: "text", max: 100 },
  { key: "address", type: "text", max: 300 },
  { key: "category", type: "enum" },
  { key: "construction_period", type: "text", max: 100 },
  { key: "construction_year", type: "integer", min: -3000, maxValue: 2100 },
  { key: "year_precision", type: "enum" },
  { key: "structure_type", type: "text", max: 100 },
  { key: "storeys", type: "integer", min: 0, maxValue: 200 },
  { key: "height_m", type: "number", min: 0, maxValue: 1000 },
  { key: "floor_area_m2", type: "number", min: 0, maxValue: 10000000 },
  { key: "ownership", type: "enum" },
  { key: "owner", type: "text", max: 300 },
  { key: "occupant", type: "text", max: 300 },
  { key: "current_use", type: "text", max: 300 },
  { key: "preservation", type: "enum" },
  { key: "value_features", type: "textarea", max: 20000 },
  { key: "key_parts", type: "textarea", max: 20000 },
];

/** shown on the record page, in this order (fields, not geometries) */
export const FACTS = FIELDS.filter((f) => !["code", "name"].includes(f.key)).map((f) => f.key);
