// 3D-data coverage against the plan's target (issue 12): the dashboard page and the home-page card.
import { defineAsyncComponent } from "vue";

export default {
  order: 30,
  routes: [{ path: "/coverage", name: "coverage", component: () => import("./CoveragePage.vue") }],
  nav: [{ id: "coverage", to: "/coverage", label: "coverage.nav" }],
  homeCards: [{ id: "coverage", component: defineAsyncComponent(() => import("./CoverageCard.vue")) }],
};
