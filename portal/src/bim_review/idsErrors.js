// An error of the IDS pages in the user's language, followed by the server's own reason (its detail).
import { errorText, i18n } from "../i18n.js";

export function idsErrorText(error) {
  const { t, te } = i18n.global;
  const key = `bim.idsAdmin.errors.${error.code}`;
  const heading = te(key) ? t(key) : errorText(error);
  if (!error.detail || heading === error.detail) return heading;
  return `${heading} ${t("bim.idsAdmin.reason", { detail: error.detail })}`;
}
