// The 3D city: a feature picked in a dataset that an archive item of a historic building became (a survey's point
// cloud, mesh or BIM model, filed with convert) shows that building's record. Features with properties (BIM models)
// get a panel beside their properties (city/panels.js); scans have no features (the city's own picking ignores them),
// so a click on one is picked here too and the record shows in a small box over the globe.
import { createApp, defineAsyncComponent, reactive } from "vue";
import { api, hasScope } from "../api.js";
import { i18n } from "../i18n.js";
import { panels, registerPanel } from "../city/panels.js";
import CityPick from "./CityPick.vue";
import { BASE } from "./labels.js";

/** dataset id → the records whose archive items became it (reactive: the panel shows once they are known) */
export const linked = reactive(new Map());

function pickedDataset(picked) {
  return picked?.primitive?.cimDataset || picked?.tileset?.cimDataset || picked?.content?.tileset?.cimDataset || null;
}

export function setupCity(context) {
  if (!hasScope("heritage:read")) return () => {};
  let live = true;
  registerPanel({ id: "heritage", title: "heritage.panelTitle", component: defineAsyncComponent(() => import("./CityPanel.vue")),
    order: 10, matches: ({ datasetId }) => linked.has(datasetId) });
  Promise.all(context.layers.map(async (layer) => {
    try {
      const found = await api(`${BASE}/buildings`, { query: { dataset: layer.id, limit: 20 } });
      if (live && found.buildings.length) linked.set(layer.id, found.buildings);
    } catch { /* a layer we cannot ask about: no panel for it */ }
  }));

  const state = reactive({ datasetId: null });
  const box = document.createElement("div");
  context.viewer.container.appendChild(box);
  const app = createApp(CityPick, { state, linked, router: context.router }).use(i18n); // the page's router, not a second install
  app.mount(box);
  const { Cesium, viewer } = context;
  const handler = new Cesium.ScreenSpaceEventHandler(viewer.scene.canvas);
  handler.setInputAction((event) => {
    const picked = viewer.scene.pick(event.position);
    const datasetId = pickedDataset(picked);
    // features with properties have their panel already; a scan's (featureless) content shows here
    state.datasetId = datasetId && !(picked instanceof Cesium.Cesium3DTileFeature) && linked.has(datasetId) ? datasetId : null;
  }, Cesium.ScreenSpaceEventType.LEFT_CLICK);

  return () => {
    live = false;
    handler.destroy();
    app.unmount();
    box.remove();
    const index = panels.findIndex((p) => p.id === "heritage");
    if (index >= 0) panels.splice(index, 1);
  };
}
