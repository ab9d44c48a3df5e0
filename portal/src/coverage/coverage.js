// What the coverage pages share: API calls, shares as percentages, unit and kind labels, the target to show.
import { api } from "../api.js";
import { i18n } from "../i18n.js";

export const LEVELS = [1, 2, 3, 4, 5, 6, 7];
export const ADMIN_SCOPE = "coverage:admin";
/** the portal's font in the charts (their SVG text would otherwise fall back to a font without Chinese) */
export const FONT = '"Noto Sans SC Variable", system-ui, sans-serif';

/** 0.1234 → "12.34%" in the current language (two decimals: a figure moves by hundredths) */
export function percent(share, digits = 2) {
  if (share === null || share === undefined || Number.isNaN(share)) return "—";
  return new Intl.NumberFormat(i18n.global.locale.value, { style: "percent", minimumFractionDigits: digits, maximumFractionDigits: digits }).format(share);
}

/** square metres as km² with two decimals */
export function km2(squareMetres) {
  if (squareMetres === null || squareMetres === undefined) return "—";
  return i18n.global.t("units.km2", { n: i18n.global.n(squareMetres / 1e6, "decimal") });
}

/** 东胜区 Dongsheng in Chinese, Dongsheng 东胜区 in English; the city by its own label */
export function unitLabel(figure) {
  if (!figure) return "";
  if (figure.unit === "city") return i18n.global.t("coverage.city");
  return i18n.global.locale.value === "zh-CN" ? `${figure.name_zh} ${figure.name}` : `${figure.name} ${figure.name_zh}`;
}

export function kindLabel(kind) {
  const { t, te } = i18n.global;
  return te(`kinds.${kind}`) ? t(`kinds.${kind}`) : kind;
}

export function levelLabel(level) {
  return i18n.global.t("coverage.levelName", { n: level, name: i18n.global.t(`coverage.levels.l${level}`) });
}

/** the target an official looks at first: the next one due (else the latest) */
export function mainTarget(targets, level = 1, unit = "city") {
  const mine = (targets || []).filter((t) => t.unit === unit && t.min_level === level).sort((a, b) => a.due_date.localeCompare(b.due_date));
  const today = new Date().toISOString().slice(0, 10);
  return mine.find((t) => t.due_date >= today) || mine[mine.length - 1] || null;
}

export function query(filters) {
  return { level: filters.level > 1 ? `CIM${filters.level}` : undefined, kind: filters.kind || undefined };
}

export const getCoverage = (filters) => api("/api/v1/coverage", { query: query(filters) });
export const getHistory = (unit, filters) => api("/api/v1/coverage/history", { query: { unit, ...query(filters) } });
export const getMap = (filters) => api("/api/v1/coverage/map", { query: query(filters) });
export const getBoundaries = () => api("/api/v1/coverage/boundaries");
export const getLevels = () => api("/api/v1/coverage/levels");
export const getBuiltUp = () => api("/api/v1/coverage/built-up");

/** a link to an API download with the filters (CSV, SVG) */
export function downloadLink(path, params) {
  const target = new URL(path, window.location.origin);
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== null && value !== "") target.searchParams.set(key, value);
  return target.pathname + target.search;
}
