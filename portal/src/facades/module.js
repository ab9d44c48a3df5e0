// Facade renovation and showcase streets (issue 11): streets on a map, projects with a live colour check,
// photos, the yearly targets dashboard, a home card, the IFC colour check on the dataset page and in the 3D city.
import { defineAsyncComponent } from "vue";
import { facadeCheckInCity } from "./city.js";

export default {
  order: 50,
  routes: [
    { path: "/facades", name: "facades-streets", component: () => import("./StreetsPage.vue"), meta: { scope: "facades:read" } },
    { path: "/facades/streets/:id", name: "facades-street", component: () => import("./StreetPage.vue"), props: true, meta: { scope: "facades:read" } },
    { path: "/facades/projects/new", name: "facades-project-new", component: () => import("./ProjectForm.vue"), meta: { scope: "facades:write" } },
    { path: "/facades/projects/:id", name: "facades-project", component: () => import("./ProjectPage.vue"), props: true, meta: { scope: "facades:read" } },
    { path: "/facades/projects/:id/edit", name: "facades-project-edit", component: () => import("./ProjectForm.vue"), props: true, meta: { scope: "facades:write" } },
    { path: "/facades/targets", name: "facades-targets", component: () => import("./TargetsPage.vue"), meta: { scope: "facades:read" } },
  ],
  nav: [
    { id: "facades", to: "/facades", label: "facades.nav", scope: "facades:read" },
    { id: "facades-targets", to: "/facades/targets", label: "facades.navTargets", scope: "facades:read" },
  ],
  homeCards: [{ id: "facades", component: defineAsyncComponent(() => import("./HomeCard.vue")) }],
  datasetSections: [{ id: "facades-model-check", component: defineAsyncComponent(() => import("./ModelCheckSection.vue")) }],
  city: [{ id: "facades-check", setup: facadeCheckInCity }],
};
