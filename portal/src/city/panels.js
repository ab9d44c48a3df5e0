// The extension point of the 3D city: later domains (heritage records, facade projects, pipelines) register a
// panel shown next to a picked feature's properties.
//
//   import { registerPanel } from "../city/panels.js";
//   registerPanel({ id: "heritage", title: "heritage.panelTitle", component: HeritagePanel,
//                   matches: ({ datasetId, properties }) => "GlobalId" in properties });
//
// `title` is a message key; `component` receives the props { feature: { datasetId, properties } }.
import { markRaw, shallowReactive } from "vue";

export const panels = shallowReactive([]);

export function registerPanel({ id, title, component, matches = () => true, order = 100 }) {
  const existing = panels.findIndex((p) => p.id === id);
  if (existing >= 0) panels.splice(existing, 1);
  panels.push({ id, title, component: markRaw(component), matches, order });
  panels.sort((a, b) => a.order - b.order);
}

export function panelsFor(feature) {
  return panels.filter((p) => {
    try { return p.matches(feature); } catch { return false; }
  });
}
