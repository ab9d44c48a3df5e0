// The 3D city with ?bim=<revision id>&bimShow=failures|diff&dataset=<dataset id>: the IDS failures (red) of that
// revision coloured by GlobalId, or what changed (&bimDiff=<diff id>&bimSide=new|old, diff_city.js: added, changed,
// deleted as ghosts, a switch between the two revisions); a click on an element of the dataset opens a form to
// create a BCF topic on it, its viewpoint being the current camera.
import { api, hasScope } from "../api.js";
import { defineAsyncComponent, ref } from "vue";
import { colourByProperty } from "../city/extensions.js";
import { registerPanel } from "../city/panels.js";
import { changeOf, diffView, showDiff } from "./diff_city.js";

/** The element of the reviewed model last clicked in the city, with the camera at that moment (TopicTool reads it). */
export const pickedElement = ref(null);

export const COLOURS = { failure: "#e53935", changed: "#fb8c00", added: "#43a047" };

registerPanel({ id: "bim-change", title: "bim.cityDiff.panelTitle", order: 60,
  component: defineAsyncComponent(() => import("./ChangePanel.vue")), matches: (feature) => changeOf(feature) !== null });

async function coloursFor(query) {
  const failing = await api(`/api/v1/bim/revisions/${query.bim}/failing-elements`);
  return Object.fromEntries(failing.global_ids.map((id) => [id, COLOURS.failure]));
}

export function cameraOf(context) {
  const camera = context.viewer.camera;
  const xyz = (c) => [c.x, c.y, c.z];
  const frustum = camera.frustum;
  return {
    position: xyz(camera.positionWC),
    direction: xyz(camera.directionWC),
    up: xyz(camera.upWC),
    field_of_view: Math.min(179, Math.max(1, ((frustum.fovy || frustum.fov || 1.0) * 180) / Math.PI)),
    aspect_ratio: frustum.aspectRatio || 1.0,
  };
}

export const bimCity = {
  id: "bim-review",
  order: 60,
  component: defineAsyncComponent(() => import("./CityTools.vue")),
  setup(context) {
    const query = context.route.query;
    if (!query.bim || !query.dataset || !hasScope("bim:read")) return null;
    let undo = () => {};
    const state = (window.cimBimState = { coloured: 0, picked: null });
    let left = false;
    if (query.bimShow === "diff" && query.bimDiff) {
      state.diff = { ready: false, side: null, ghost: [], old: { tilesLoaded: 0 }, new: { tilesLoaded: 0 } };
      showDiff(context, query, state.diff)
        .then((teardown) => { if (left) teardown(); else undo = teardown; })
        .catch((caught) => { state.error = String(caught); diffView.error = caught; });
    } else {
      coloursFor(query)
        .then((colours) => {
          undo = colourByProperty(context, String(query.dataset), "GlobalId", colours);
          state.coloured = Object.keys(colours).length;
        })
        .catch((caught) => { state.error = String(caught); });
    }
    pickedElement.value = null;
    context.onPick(({ datasetId, properties, feature }) => {
      // the old revision's elements (ghosts of deleted ones, or the old side) belong to no topic of this revision
      if (datasetId !== query.dataset || !properties.GlobalId || feature?.tileset?.cimBimOld) return;
      pickedElement.value = { globalId: properties.GlobalId, name: properties.Name || properties.IfcClass || "", camera: cameraOf(context) };
      state.picked = pickedElement.value.globalId;
    });
    return () => { left = true; undo(); };
  },
};
