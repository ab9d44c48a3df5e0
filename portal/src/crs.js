// Coordinate systems of Ordos that an upload may declare, to show where an origin lands before converting.
import proj4 from "proj4";

const GK = (lon0, x0) => `+proj=tmerc +lat_0=0 +lon_0=${lon0} +k=1 +x_0=${x0} +y_0=0 +ellps=GRS80 +units=m +no_defs`;
const DEFS = {
  "EPSG:4545": GK(108, 500000),
  "EPSG:4546": GK(111, 500000),
  "EPSG:4522": GK(108, 36500000),
  "EPSG:4523": GK(111, 37500000),
  "EPSG:4490": "+proj=longlat +ellps=GRS80 +no_defs",
  "EPSG:4326": "+proj=longlat +datum=WGS84 +no_defs",
};
export const CRS_CHOICES = ["EPSG:4546+5737", "EPSG:4545+5737", "EPSG:4546", "EPSG:4545", "EPSG:4523", "EPSG:4522", "EPSG:4490", "EPSG:4326"];

/** [lon, lat] of an origin E,N in the given CRS (a compound CRS uses its horizontal part), or null */
export function originLonLat(crs, east, north) {
  const horizontal = (crs || "").split("+")[0].toUpperCase();
  const definition = DEFS[horizontal];
  if (!definition || !Number.isFinite(east) || !Number.isFinite(north)) return null;
  const [lon, lat] = proj4(definition, DEFS["EPSG:4326"], [east, north]);
  return Number.isFinite(lon) && Number.isFinite(lat) && Math.abs(lat) <= 90 ? [lon, lat] : null;
}
