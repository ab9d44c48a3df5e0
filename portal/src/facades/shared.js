// What the facades pages share: the units targets attach to, the workflows' steps, labels in the user's language.
import { ref } from "vue";
import { api, send } from "../api.js";
import { i18n } from "../i18n.js";

export const STREET_STATUSES = ["candidate", "under_construction", "accepted"];
export const STREET_STEPS = { candidate: ["under_construction"], under_construction: ["accepted", "candidate"], accepted: [] };
export const PROJECT_STATUSES = ["planned", "design", "approved", "construction", "completed", "accepted"];
export const PROJECT_STEPS = {
  planned: ["design"], design: ["approved", "planned"], approved: ["construction", "design"],
  construction: ["completed"], completed: ["accepted", "construction"], accepted: [],
};
export const OFFICIAL_STEPS = new Set(["approved", "accepted"]); // steps that need facades:admin
export const ZONES = ["old_town", "protection_zone", "new_district"];
export const USES = ["main", "secondary", "accent"];
export const ORIENTATIONS = ["N", "NE", "E", "SE", "S", "SW", "W", "NW"];
export const MEASURES = ["wall_renewal", "unified_facade", "shop_signs", "lighting", "other"];
export const STAGES = ["before", "progress", "after"];

export const units = ref([]);
let loading = null;

/** the ten units (districts, banners and Altan Xire town), loaded once */
export function loadUnits() {
  loading ||= api("/api/v1/facades/units").then((body) => { units.value = body.units; }).catch((caught) => { loading = null; throw caught; });
  return loading;
}

export function unitByCode(code) {
  return units.value.find((u) => u.code === code || u.slug === code) || null;
}

/** 阿勒腾席热镇 in Chinese, Altan Xire Town in English */
export function unitLabel(unitOrCode) {
  const unit = typeof unitOrCode === "string" ? unitByCode(unitOrCode) : unitOrCode;
  if (!unit) return typeof unitOrCode === "string" ? unitOrCode : "—";
  return i18n.global.locale.value === "zh-CN" ? unit.name_zh : unit.name;
}

/** districts and banners only (the units a project or street belongs to) */
export function districtUnits() {
  return units.value.filter((u) => u.code === u.district_code);
}

export function townsOf(districtCode) {
  return units.value.filter((u) => u.district_code === districtCode && u.code !== u.district_code);
}

/** call `fn` once calls have stopped for `ms` milliseconds; `.cancel()` drops a pending call */
export function debounce(fn, ms) {
  let timer = null;
  const wrapped = (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
  wrapped.cancel = () => clearTimeout(timer);
  return wrapped;
}

export function thisYear() {
  return new Date().getFullYear();
}

/** years to choose from: 2023 (the programme's start) to next year */
export function programmeYears() {
  const out = [];
  for (let year = thisYear() + 1; year >= 2023; year -= 1) out.push(year);
  return out;
}

/** a calendar day (2024-10-01) in the user's language */
export function formatDay(value) {
  if (!value) return "—";
  const [year, month, day] = String(value).slice(0, 10).split("-").map(Number);
  return i18n.global.d(new Date(year, month - 1, day), "day");
}

/** a JSON write with extra headers (If-Match); answers { data, etag } (the core's send()) */
export function sendWith(path, { method, json, headers = {} }) {
  return send(path, { method, json, headers });
}
