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

// A tileset's look is its colouring by a property (set by a domain) with the layer's opacity (the layer list's
// slider) applied on top, so that neither undoes the other.
const colourings = new WeakMap(); // tileset → { property, colours, otherwise }
const opacities = new WeakMap(); // tileset → 0…1

function restyle(Cesium, tileset) {
  const alpha = opacities.has(tileset) ? opacities.get(tileset) : 1;
  const colouring = colourings.get(tileset);
  if (!colouring) {
    tileset.style = alpha === 1 ? undefined : new Cesium.Cesium3DTileStyle({ color: `color('white', ${alpha})` });
    return;
  }
  const { property, colours, otherwise } = colouring;
  tileset.style = new Cesium.Cesium3DTileStyle({ color: colourConditions(property, colours, otherwise || "white", alpha) });
}

const quote = (value) => JSON.stringify(String(value)).replace(/'/g, "\\'");

/** A style expression string testing a property's value, e.g. `${GlobalId} === "…"`. */
export const propertyIs = (property, value) => `\${${property}} === ${quote(value)}`;

/** The `color` of a Cesium3DTileStyle: features whose `property` is a key of `colours` get that CSS colour, the
 * others `otherwise`, all with opacity `alpha`. */
export function colourConditions(property, colours, otherwise, alpha = 1) {
  const colour = (css) => `color(${quote(css)}, ${alpha})`;
  return { conditions: [...Object.entries(colours).map(([value, css]) => [propertyIs(property, value), colour(css)]),
    ["true", colour(otherwise)]] };
}

/** The opacity (0…1) of a tileset, kept with any colouring by property. */
export function setTilesetOpacity(Cesium, tileset, opacity) {
  opacities.set(tileset, opacity);
  restyle(Cesium, tileset);
}

/** Colour the features of one dataset by a property's value, e.g. GlobalId → "#d33" (CSS colours); every other
 * feature gets `otherwise` (a CSS colour, or null to keep the default white). The layer's opacity still applies.
 * Returns a function that undoes it. */
export function colourByProperty(context, datasetId, property, colours, otherwise = null) {
  const { Cesium } = context;
  const tileset = context.tilesets.get(datasetId);
  if (!tileset) return () => {};
  const colouring = { property, colours, otherwise };
  colourings.set(tileset, colouring);
  restyle(Cesium, tileset);
  context.redraw();
  return () => {
    if (colourings.get(tileset) === colouring) colourings.delete(tileset);
    restyle(Cesium, tileset);
    context.redraw();
  };
}

export function makeContext(fields) {
  return markRaw({ ...fields });
}
