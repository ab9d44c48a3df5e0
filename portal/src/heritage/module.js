// The heritage domain in the portal (issue 10): historic buildings' map and list, records, edits (proposals for listed
// records), the officials' review queue, the completeness report; a home card, the protection conflicts of a dataset
// revision and the record of a picked feature in the 3D city.
import { defineAsyncComponent } from "vue";
import { setupCity } from "./city.js";
import "./style.css";

export default {
  order: 40,
  routes: [
    { path: "/heritage", name: "heritage", component: () => import("./HeritageList.vue"), meta: { scope: "heritage:read" } },
    { path: "/heritage/new", name: "heritage-new", component: () => import("./HeritageEdit.vue"), meta: { scope: "heritage:write" } },
    { path: "/heritage/review", name: "heritage-review", component: () => import("./HeritageReview.vue"), meta: { scope: "heritage:review" } },
    { path: "/heritage/completeness", name: "heritage-completeness", component: () => import("./HeritageCompleteness.vue"), meta: { scope: "heritage:read" } },
    { path: "/heritage/:id", name: "heritage-record", component: () => import("./HeritageRecord.vue"), props: true, meta: { scope: "heritage:read" } },
    { path: "/heritage/:id/edit", name: "heritage-edit", component: () => import("./HeritageEdit.vue"), props: true, meta: { scope: "heritage:read" } },
  ],
  nav: [
    { id: "heritage", to: "/heritage", label: "heritage.nav.list", scope: "heritage:read" },
    { id: "heritage-review", to: "/heritage/review", label: "heritage.nav.review", scope: "heritage:review" },
  ],
  homeCards: [{ id: "heritage", component: defineAsyncComponent(() => import("./HeritageCard.vue")), scope: "heritage:read" }],
  datasetSections: [{ id: "heritage-conflicts", component: defineAsyncComponent(() => import("./ConflictsSection.vue")) }],
  city: [{ id: "heritage", setup: setupCity }],
};
