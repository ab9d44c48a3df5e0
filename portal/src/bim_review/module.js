// BIM review (issue 16): IDS checks, BCF topics and differences of IFC models.
import { defineAsyncComponent } from "vue";
import { bimCity } from "./city.js";

export default {
  order: 60,
  routes: [
    { path: "/bim/ids", name: "bim-ids", component: () => import("./IdsPage.vue"), meta: { scope: "bim:read" } },
  ],
  nav: [{ id: "bim-ids", to: "/bim/ids", label: "bim.nav", scope: "bim:read" }],
  datasetSections: [{ id: "bim-review", component: defineAsyncComponent(() => import("./BimSection.vue")) }],
  city: [bimCity],
};
