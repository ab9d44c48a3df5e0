// What changed between two IFC revisions, in the 3D city (?bim=<rev>&bimShow=diff&bimDiff=<diff id>&dataset=<id>,
// with &bimSide=new|old). Both revisions are on show through their revision-pinned tilesets:
//   new side: the new revision with its added (green) and changed (orange) elements, and the deleted elements as
//             translucent grey-red ghosts (the old revision's tileset, every other element of it hidden);
//   old side: the old revision alone with its deleted (red) and changed (orange) elements.
// The old revision's features are marked (tileset.cimBimOld) so that a click on them never makes a BCF topic on
// the new revision; the "BIM change" panel says which revision a picked element comes from.
import { reactive } from "vue";
import { api } from "../api.js";
import { colourConditions, propertyIs } from "../city/extensions.js";

export const DIFF_COLOURS = { added: "#43a047", changed: "#fb8c00", deleted: "#e53935", ghost: "#b56b6b" };
export const GHOST_ALPHA = 0.45;
export const SIDES = ["new", "old"];

/** The state of the comparison on show (the tool panel, the picked-element panel and the tests read it). */
export const diffView = reactive({
  active: false, ready: false, side: "new", error: null, datasetId: null,
  counts: { added: 0, deleted: 0, changed: 0 }, oldNumber: null, newNumber: null,
  status: {}, // GlobalId → "added" | "deleted" | "changed"
});


/** A Cesium3DTileStyle: features coloured by GlobalId (`colours`: id → CSS colour), the others `otherwise`;
 * with `only`, just the features whose GlobalId is in it are shown. */
export function styleByGlobalId(Cesium, colours, { otherwise = "white", alpha = 1, only = null } = {}) {
  const style = { color: colourConditions("GlobalId", colours, otherwise, alpha) };
  if (only) style.show = { conditions: [...only.map((id) => [propertyIs("GlobalId", id), "true"]), ["true", "false"]] };
  return new Cesium.Cesium3DTileStyle(style);
}

function coloursOf(diff, side) {
  const colours = {};
  for (const e of diff.changed) colours[e.global_id] = DIFF_COLOURS.changed;
  for (const e of side === "new" ? diff.added : diff.deleted) colours[e.global_id] = DIFF_COLOURS[side === "new" ? "added" : "deleted"];
  return colours;
}

async function pinned(context, url, probe, mark) {
  const tileset = await context.Cesium.Cesium3DTileset.fromUrl(url, { maximumScreenSpaceError: 8 });
  tileset.tileLoad.addEventListener(() => { probe.tilesLoaded += 1; });
  Object.assign(tileset, mark);
  context.viewer.scene.primitives.add(tileset);
  return tileset;
}

/** Show the diff `query.bimDiff` in the city; `probe` (window.cimBimState.diff) records it for tests.
 * Returns a promise of the teardown function. */
export async function showDiff(context, query, probe) {
  const { Cesium, viewer } = context;
  Object.assign(diffView, { active: false, ready: false, error: null });
  const datasetId = String(query.dataset);
  const [diff, dataset, list] = await Promise.all([
    api(`/api/v1/bim/diffs/${query.bimDiff}`),
    api(`/api/v1/datasets/${datasetId}`),
    api(`/api/v1/datasets/${datasetId}/revisions`),
  ]);
  const byId = new Map(list.revisions.map((r) => [r.id, r]));
  const oldRevision = byId.get(diff.old_revision_id);
  const newRevision = byId.get(diff.new_revision_id);
  if (!oldRevision?.tileset_url || !newRevision?.tileset_url) throw new Error("bim-diff-tilesets"); // withdrawn?
  const published = context.tilesets.get(datasetId);
  const added = [];
  const mainShow = published?.show;
  const mainStyle = published?.style;
  let newTileset = published;
  if (!published || dataset.published_revision_id !== newRevision.id) {
    newTileset = await pinned(context, newRevision.tileset_url, probe.new, { cimDataset: datasetId, cimBimRevision: newRevision.id });
    added.push(newTileset);
    if (published) published.show = false;
  }
  let oldTileset;
  try {
    oldTileset = await pinned(context, oldRevision.tileset_url, probe.old,
      { cimDataset: datasetId, cimBimRevision: oldRevision.id, cimBimOld: true });
  } catch (caught) { // leave the city as it was
    for (const tileset of added) viewer.scene.primitives.remove(tileset);
    if (published) published.show = mainShow;
    throw caught;
  }
  added.push(oldTileset);
  probe.old.revision = oldRevision.id;
  probe.new.revision = newRevision.id;

  const deleted = diff.deleted.map((e) => e.global_id);
  const styles = {
    new: styleByGlobalId(Cesium, coloursOf(diff, "new")),
    old: styleByGlobalId(Cesium, coloursOf(diff, "old")),
    ghost: styleByGlobalId(Cesium, {}, { otherwise: DIFF_COLOURS.ghost, alpha: GHOST_ALPHA, only: deleted }),
  };
  const status = {};
  for (const kind of ["added", "deleted", "changed"]) for (const e of diff[kind]) status[e.global_id] = kind;
  Object.assign(diffView, {
    active: true, error: null, status, datasetId, oldNumber: oldRevision.number, newNumber: newRevision.number,
    counts: { added: diff.added.length, deleted: deleted.length, changed: diff.changed.length },
  });

  diffView.apply = (side) => {
    diffView.side = side;
    newTileset.show = side === "new";
    newTileset.style = styles.new;
    oldTileset.show = true;
    oldTileset.style = side === "new" ? styles.ghost : styles.old;
    Object.assign(probe, { side, ghost: side === "new" ? deleted : [] });
    probe.new.show = newTileset.show;
    probe.old.show = oldTileset.show;
    context.redraw();
  };
  diffView.apply(query.bimSide === "old" ? "old" : "new");
  diffView.ready = true;
  probe.ready = true;

  return () => {
    for (const tileset of added) if (!viewer.isDestroyed()) viewer.scene.primitives.remove(tileset);
    if (published) { published.show = mainShow; published.style = mainStyle; }
    Object.assign(diffView, { active: false, ready: false, apply: null, status: {} });
  };
}

/** The switch: show the `side` revision and keep it in the page's address (bimSide=new|old) to share. */
export function chooseSide(context, side) {
  if (!SIDES.includes(side) || !diffView.apply) return;
  diffView.apply(side);
  context.router.replace({ query: { ...context.route.query, bimSide: side } });
}

/** Which revision a picked feature ({ datasetId, properties }) comes from and what became of it; null when no
 * comparison is on show. On the new side only the deleted elements come from the old revision (the ghosts). */
export function changeOf(feature) {
  if (!diffView.active || feature.datasetId !== diffView.datasetId) return null;
  const kind = diffView.status[feature.properties?.GlobalId] || "unchanged";
  const old = diffView.side === "old" || kind === "deleted";
  return { kind, old, number: old ? diffView.oldNumber : diffView.newNumber, ghost: old && diffView.side === "new" };
}
