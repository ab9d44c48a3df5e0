// Conditional writes of the heritage API (If-Match) go through the core's send() (api.js).
export { send } from "../api.js";

/** the ETag of a record as the API builds it (for rows of a list, which carry no header) */
export function etagOf(building) {
  return `"${building.id}.${building.version}"`;
}
