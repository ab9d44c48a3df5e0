// Underground pipelines (issue 15): the registry with its map, clearance violations, the smart-monitoring rate
// against its target (a home card next to coverage), and in the 3D city a panel for a picked pipe or manhole with
// its attributes and latest readings, and a tool that looks at the network from below the ground.
import { defineAsyncComponent } from "vue";
import { registerPanel } from "../city/panels.js";

const isPipeline = ({ properties }) => properties && (properties.kind === "segment" || properties.kind === "point")
  && "category_zh" in properties;

registerPanel({
  id: "pipelines",
  title: "pipelines.panelTitle",
  component: defineAsyncComponent(() => import("./PipelinePanel.vue")),
  matches: isPipeline,
  order: 20,
});

export default {
  order: 60,
  routes: [{ path: "/pipelines", name: "pipelines", component: () => import("./PipelinesPage.vue"),
             meta: { scope: "pipelines:read" } }],
  nav: [{ id: "pipelines", to: "/pipelines", label: "pipelines.nav", scope: "pipelines:read" }],
  homeCards: [{ id: "pipelines-monitoring", component: defineAsyncComponent(() => import("./MonitoringCard.vue")) }],
  city: [{ id: "pipelines", component: defineAsyncComponent(() => import("./UndergroundTool.vue")), order: 60 }],
};
