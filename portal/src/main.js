import { createApp } from "vue";
import { createRouter, createWebHistory } from "vue-router";
import "@fontsource-variable/noto-sans-sc";
import "ol/ol.css";
import "./style.css";
import App from "./App.vue";
import { can, hasScope, loadSession, session } from "./api.js";
import { i18n, setLocale } from "./i18n.js";
import { moduleRoutes } from "./modules.js";

const routes = [
  { path: "/", name: "home", component: () => import("./views/HomePage.vue") },
  { path: "/signin", name: "signin", component: () => import("./views/SignIn.vue"), meta: { public: true } },
  { path: "/datasets", name: "datasets", component: () => import("./views/DatasetsPage.vue") },
  { path: "/datasets/:id", name: "dataset", component: () => import("./views/DatasetPage.vue"), props: true },
  { path: "/upload", name: "upload", component: () => import("./views/UploadPage.vue"), meta: { ability: "upload" } },
  { path: "/jobs", name: "jobs", component: () => import("./views/JobsPage.vue"), meta: { ability: "jobs" } },
  { path: "/jobs/:id", name: "job", component: () => import("./views/JobPage.vue"), props: true, meta: { ability: "jobs" } },
  { path: "/admin", name: "admin", component: () => import("./views/AdminPage.vue"), meta: { ability: "admin" } },
  { path: "/city", name: "city", component: () => import("./views/CityPage.vue") },
  ...moduleRoutes,
  { path: "/:rest(.*)*", name: "missing", component: () => import("./views/MissingPage.vue") },
];

const router = createRouter({ history: createWebHistory(), routes });
router.beforeEach(async (to) => {
  if (!session.checked) {
    await loadSession();
    if (session.user?.locale) setLocale(session.user.locale);
  }
  if (to.meta.public) return true;
  if (!session.user) return { name: "signin", query: { next: to.fullPath } };
  if (to.meta.ability && !can(to.meta.ability)) return { name: "home" };
  if (to.meta.scope && !hasScope(to.meta.scope)) return { name: "home" };
  return true;
});

setLocale(i18n.global.locale.value);
createApp(App).use(router).use(i18n).mount("#app");
