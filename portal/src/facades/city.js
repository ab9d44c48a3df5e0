// The IFC colour check in the 3D city: /city?dataset=<id>&facadeCheck=<revision id> colours the model's failing
// exterior elements red and the ones that pass grey-green; the rest of the model stays as it is.
import { api } from "../api.js";
import { colourByProperty } from "../city/extensions.js";

export const FAILING = "#e0201b";
export const PASSING = "#8fbf8f";

/** window.cimFacadeCheck tells tests and the curious what was coloured: { revision, dataset, failing, passing } */
export function facadeCheckInCity(context) {
  const revision = context.route.query.facadeCheck;
  if (!revision) return null;
  let undo = null;
  let gone = false;
  api(`/api/v1/facades/model-checks/${encodeURIComponent(revision)}`).then((check) => {
    if (gone) return;
    const colours = {};
    for (const element of check.elements) colours[element.global_id] = element.fails ? FAILING : PASSING;
    undo = colourByProperty(context, check.dataset_id, "GlobalId", colours, null);
    lookAt(context, check.dataset_id);
    window.cimFacadeCheck = { revision, dataset: check.dataset_id, outcome: check.outcome,
      failing: check.failing_elements, passing: check.elements.filter((e) => !e.fails).map((e) => e.global_id) };
  }).catch((caught) => {
    window.cimFacadeCheck = { revision, error: caught.code || String(caught) };
  });
  return () => { gone = true; if (undo) undo(); window.cimFacadeCheck = null; };
}

/** bring the checked model into view (the city frames every layer when the model is not the one asked for) */
function lookAt(context, datasetId) {
  const { Cesium, viewer } = context;
  const tileset = context.tilesets.get(datasetId);
  if (!tileset) return;
  const range = Math.max(60, tileset.boundingSphere.radius * 3);
  viewer.camera.flyToBoundingSphere(tileset.boundingSphere,
    { duration: 0, offset: new Cesium.HeadingPitchRange(0, Cesium.Math.toRadians(-30), range) });
  context.redraw();
}
