// The portal's domain modules: each domain brings its pages, messages and extensions in a folder of its own,
// and nothing else in the portal changes when one is added.
//
//   portal/src/<domain>/module.js        export default {
//       order: 40,                                         // place in the navigation
//       routes: [{ path: "/heritage", name: "heritage", component: () => import("./HeritageList.vue"),
//                  meta: { scope: "heritage:read" } }],        // scopes: what GET /api/v1/session lists (hasScope)
//       nav: [{ id: "heritage", to: "/heritage", label: "heritage.nav", scope: "heritage:read" }],  // scope optional
//       homeCards: [{ id: "heritage", component: HeritageCard, scope: "heritage:read" }], // home page (scope optional)
//       datasetSections: [{ id: "heritage-conflicts", component: ConflictsSection }], // props { dataset, revision }
//       city: [{ id: "heritage", setup(context) { … return () => { /* teardown */ } } }], // see city/extensions.js
//   }                               (a panel beside a picked feature's properties: registerPanel from city/panels.js)
// Components shown on shared pages: wrap them in defineAsyncComponent(() => import("./Card.vue")), so a domain's code
// loads only when its card, section or page shows.
//   portal/src/<domain>/locales/zh-CN.json, en.json   message catalogues, one top-level key per domain (catalogues.js)
import { markRaw } from "vue";

const found = import.meta.glob("./*/module.js", { eager: true, import: "default" });
export const modules = Object.entries(found)
  .map(([path, module]) => ({ name: path.split("/")[1], order: 100, ...module }))
  .sort((a, b) => a.order - b.order || a.name.localeCompare(b.name));

const raw = (items) => items.map((item) => (item.component ? { ...item, component: markRaw(item.component) } : item));

export const moduleRoutes = modules.flatMap((m) => m.routes || []);
export const navEntries = modules.flatMap((m) => m.nav || []);
export const homeCards = raw(modules.flatMap((m) => m.homeCards || []));
export const datasetSections = raw(modules.flatMap((m) => m.datasetSections || []));
export const cityExtensions = modules.flatMap((m) => m.city || []);
