// What a domain module may do in the 3D city (module.js: `city: [{ id, setup, component, order }]`).
//
// `setup(context)` runs once the city's tilesets are loaded and may return a teardown function. `component`, when
// given, is shown in the city's tool panel with the prop { context }. The context:
//   Cesium, viewer             the CesiumJS module and viewer
//   tilesets                   Map dataset id → Cesium3DTileset (the datasets on show)
//   layers                     the layer list (reactive: { id, name, kind, district, show, … })
//   route, router              the page's route (query parameters such as ?dataset=…&highlight=…)
//   redraw()                   ask for a frame (the city renders on change only)
//   onPick(callback)           callback({ datasetId, properties, feature }) after each click on a feature
//   setUnderground(on)         the globe made translucent to look at what is below ground
import { markRaw } from "vue";

/** Colour the features of one dataset by a property's value, e.g. GlobalId → "#d33" (CSS colours); every other
 * feature gets `otherwise` (a CSS colour, or null to keep the default white). Returns a function that undoes it. */
export function colourByProperty(context, datasetId, property, colours, otherwise = null) {
  const { Cesium } = context;
  const tileset = context.tilesets.get(datasetId);
  if (!tileset) return () => {};
  const previous = tileset.style;
  const quote = (value) => JSON.stringify(String(value)).replace(/'/g, "\\'");
  const conditions = Object.entries(colours).map(([value, colour]) => [`\${${property}} === ${quote(value)}`, `color(${quote(colour)})`]);
  conditions.push(["true", otherwise ? `color(${quote(otherwise)})` : "color('white')"]);
  tileset.style = new Cesium.Cesium3DTileStyle({ color: { conditions } });
  context.redraw();
  return () => { tileset.style = previous; context.redraw(); };
}

export function makeContext(fields) {
  return markRaw({ ...fields });
}
