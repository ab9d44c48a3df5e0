// A record's values as text in the user's language (enumerations, districts, numbers, geometries).
import { i18n, districtLabel, formatNumber } from "../i18n.js";
import { districtByCode } from "../districts.js";
import { enumOptions } from "./labels.js";

const GEOMETRIES = ["location", "outline", "protection_range", "control_zone"];
const ENUM_KEYS = { level: "level", category: "category", year_precision: "precision", ownership: "ownership", preservation: "preservation", status: "status" };

export function fieldLabel(field) {
  const key = field === "district_code" ? "district" : field;
  return i18n.global.te(`heritage.field.${key}`) ? i18n.global.t(`heritage.field.${key}`) : field;
}

export function valueText(field, value) {
  const { t } = i18n.global;
  if (value === null || value === undefined || value === "" || (Array.isArray(value) && !value.length)) return "—";
  if (GEOMETRIES.includes(field)) return t("heritage.value.geometry", { type: value.type || "" });
  if (field === "district" || field === "district_code") return districtLabel(districtByCode(value));
  if (ENUM_KEYS[field] && (enumOptions(field).includes(value) || field === "status")) return t(`heritage.${ENUM_KEYS[field]}.${value}`);
  if (Array.isArray(value)) return value.join("、");
  if (field === "construction_year") return String(value); // a year, not a quantity: no grouping
  if (typeof value === "number") return formatNumber(value, "decimal");
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}
