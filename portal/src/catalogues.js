// The domain modules' message catalogues (portal/src/<domain>/locales/<locale>.json) merged into the core's. Each
// domain owns its top-level keys; "errors" is shared: a domain adds the messages of its own error codes there.
// Kept apart from modules.js so i18n.js imports no page component.
const catalogues = import.meta.glob("./*/locales/*.json", { eager: true, import: "default" });
const SHARED = "errors";

export function withModuleMessages(core, locale) {
  const merged = { ...core, [SHARED]: { ...(core[SHARED] || {}) } };
  for (const [path, messages] of Object.entries(catalogues)) {
    if (!path.endsWith(`/locales/${locale}.json`)) continue;
    for (const [key, value] of Object.entries(messages)) {
      if (key === SHARED) {
        for (const code of Object.keys(value)) {
          if (code in merged[SHARED]) throw new Error(`error message "${code}" is defined twice (${path})`);
        }
        Object.assign(merged[SHARED], value);
      } else if (key in merged) {
        throw new Error(`message key "${key}" is defined twice (${path})`);
      } else {
        merged[key] = value;
      }
    }
  }
  return merged;
}
