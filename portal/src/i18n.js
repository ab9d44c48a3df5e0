// Message catalogues (zh-CN default, en), locale-aware numbers and dates, district names.
import { createI18n } from "vue-i18n";
import zhCN from "./locales/zh-CN.json";
import en from "./locales/en.json";
import { withModuleMessages } from "./catalogues.js";

export const LOCALES = ["zh-CN", "en"];
const STORED = "cim.locale";

function initialLocale() {
  const stored = window.localStorage.getItem(STORED);
  return LOCALES.includes(stored) ? stored : "zh-CN";
}

const numberFormats = {
  "zh-CN": {
    integer: { maximumFractionDigits: 0 },
    decimal: { maximumFractionDigits: 2 },
    decimal6: { maximumFractionDigits: 6 },
    percent: { style: "percent", maximumFractionDigits: 0 },
  },
  en: {
    integer: { maximumFractionDigits: 0 },
    decimal: { maximumFractionDigits: 2 },
    decimal6: { maximumFractionDigits: 6 },
    percent: { style: "percent", maximumFractionDigits: 0 },
  },
};
const datetimeFormats = {
  "zh-CN": { short: { dateStyle: "medium", timeStyle: "short" }, day: { dateStyle: "medium" } },
  en: { short: { dateStyle: "medium", timeStyle: "short" }, day: { dateStyle: "medium" } },
};

export const i18n = createI18n({
  legacy: false,
  locale: initialLocale(),
  fallbackLocale: "en",
  messages: { "zh-CN": withModuleMessages(zhCN, "zh-CN"), en: withModuleMessages(en, "en") },
  numberFormats,
  datetimeFormats,
  missingWarn: false,
  fallbackWarn: false,
});

export function setLocale(locale) {
  i18n.global.locale.value = locale;
  window.localStorage.setItem(STORED, locale);
  document.documentElement.lang = locale;
  document.title = i18n.global.t("app.title");
}

/** an API error in the user's language: catalogue entry for its code with its params, else its English detail */
export function errorText(error) {
  const { t, te } = i18n.global;
  if (!error) return "";
  const code = error.code || "unknown";
  if (te(`errors.${code}`)) return t(`errors.${code}`, { ...(error.params || {}), detail: error.detail || "" });
  return error.detail || t("errors.unknown");
}

export function formatDate(value) {
  return value ? i18n.global.d(new Date(value), "short") : "—";
}

export function formatNumber(value, style = "integer") {
  return value === null || value === undefined || Number.isNaN(value) ? "—" : i18n.global.n(value, style);
}

export function formatBytes(bytes) {
  if (bytes === null || bytes === undefined) return "—";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let index = 0;
  let value = bytes;
  while (value >= 1024 && index < units.length - 1) { value /= 1024; index += 1; }
  return i18n.global.t(`units.${units[index]}`, { n: i18n.global.n(value, index ? "decimal" : "integer") });
}

export function formatArea(squareMetres) {
  if (squareMetres === null || squareMetres === undefined) return "—";
  if (squareMetres >= 1e6) return i18n.global.t("units.km2", { n: i18n.global.n(squareMetres / 1e6, "decimal") });
  return i18n.global.t("units.m2", { n: i18n.global.n(squareMetres, "integer") });
}

export function formatLength(metres) {
  if (metres >= 1000) return i18n.global.t("units.km", { n: i18n.global.n(metres / 1000, "decimal") });
  return i18n.global.t("units.m", { n: i18n.global.n(metres, "decimal") });
}

/** 康巴什区 (Kangbashi) in Chinese, Kangbashi (康巴什区) in English */
export function districtLabel(district) {
  if (!district) return i18n.global.t("common.none");
  return i18n.global.locale.value === "zh-CN"
    ? `${district.name_zh} ${district.name}`
    : `${district.name} ${district.name_zh}`;
}
