// Conditional writes of the heritage API (If-Match): the core api() sends no extra headers, so the heritage pages
// use this small wrapper with the same session cookie, CSRF header and error shape (ApiError).
import { ApiError, session } from "../api.js";

/** fetch JSON with extra headers; returns { data, status, etag } */
export async function send(path, { method = "GET", json, headers = {} } = {}) {
  const all = { Accept: "application/json", ...headers };
  if (json !== undefined) all["Content-Type"] = "application/json";
  if (method !== "GET" && session.csrf) all["X-CSRF-Token"] = session.csrf;
  let response;
  try {
    response = await fetch(new URL(path, window.location.origin), {
      method, headers: all, credentials: "same-origin", body: json === undefined ? undefined : JSON.stringify(json),
    });
  } catch {
    throw new ApiError(0, {});
  }
  let data = null;
  try { data = response.status === 204 ? null : await response.json(); } catch { data = {}; }
  if (!response.ok) {
    if (response.status === 401 && session.user) session.user = null;
    throw new ApiError(response.status, data || {});
  }
  return { data, status: response.status, etag: response.headers.get("ETag") };
}

/** the ETag of a record as the API builds it (for rows of a list, which carry no header) */
export function etagOf(building) {
  return `"${building.id}.${building.version}"`;
}
