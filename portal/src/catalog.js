// Small shared lookups: dataset kinds, organisations the caller can name, labels for known values.
import { ref } from "vue";
import { api, can, session } from "./api.js";

export const KINDS = ["ifc", "pointcloud", "mesh", "footprints", "terrain", "imagery", "tileset", "oblique", "pipelines"];
export const SUFFIX_KINDS = [
  [".city.json", "footprints"], [".ifczip", "ifc"], [".ifc", "ifc"], [".las", "pointcloud"], [".laz", "pointcloud"],
  [".obj", "mesh"], [".ply", "mesh"], [".gltf", "mesh"], [".glb", "mesh"], [".geojson", "footprints"],
  [".json", "footprints"],
];
// suffixes several kinds share (a DEM or an orthophoto .tif, a zipped tileset, OSGB delivery or Shapefile …):
// the platform looks inside the file (converters/api.py SHARED_SUFFIXES)
export const SHARED_SUFFIXES = [".tif", ".tiff", ".zip", ".gpkg", ".csv", ".xlsx"];

export function recognisedByContent(filename) {
  const name = (filename || "").toLowerCase();
  return SHARED_SUFFIXES.some((suffix) => name.endsWith(suffix));
}

export function detectKind(filename) {
  const name = (filename || "").toLowerCase();
  const hit = SUFFIX_KINDS.find(([suffix]) => name.endsWith(suffix));
  return hit ? hit[1] : null;
}

export const organizations = ref([]);

/** admins list every organisation; others know their own */
export async function loadOrganizations() {
  if (can("admin")) {
    try { organizations.value = await api("/api/v1/organizations"); return organizations.value; } catch { /* fall through */ }
  }
  const user = session.user;
  organizations.value = user?.organization_id ? [{ id: user.organization_id, name: user.organization_name || user.organization_id }] : [];
  return organizations.value;
}

export function organizationName(id) {
  return organizations.value.find((o) => o.id === id)?.name || "";
}

/** the dataset id a job works on (from its links) */
export function jobDatasetId(job) {
  const link = job.links?.dataset || "";
  return link.split("/datasets/")[1]?.split("/")[0] || null;
}
