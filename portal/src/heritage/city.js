// The 3D city: a feature picked in a dataset that an archive item of a historic building became (a survey's point
// cloud, mesh or BIM model, filed with convert) shows that building's record beside its properties.
import { defineAsyncComponent, reactive } from "vue";
import { api, hasScope } from "../api.js";
import { panels, registerPanel } from "../city/panels.js";
import { BASE } from "./labels.js";

/** dataset id → the records whose archive items became it (reactive: the panel shows once they are known) */
export const linked = reactive(new Map());

export function setupCity(context) {
  if (!hasScope("heritage:read")) return () => {};
  let live = true;
  registerPanel({ id: "heritage", title: "heritage.panelTitle", component: defineAsyncComponent(() => import("./CityPanel.vue")), order: 10,
    matches: ({ datasetId }) => linked.has(datasetId) });
  Promise.all(context.layers.map(async (layer) => {
    try {
      const found = await api(`${BASE}/buildings`, { query: { dataset: layer.id, limit: 20 } });
      if (live && found.buildings.length) linked.set(layer.id, found.buildings);
    } catch { /* a layer we cannot ask about: no panel for it */ }
  }));
  return () => {
    live = false;
    const index = panels.findIndex((p) => p.id === "heritage");
    if (index >= 0) panels.splice(index, 1);
  };
}
