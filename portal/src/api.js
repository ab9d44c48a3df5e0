// The portal's only way to the platform: its public JSON API, with the session cookie and CSRF header.
import { reactive } from "vue";

export const session = reactive({ user: null, csrf: null, checked: false });

export class ApiError extends Error {
  constructor(status, body) {
    super(body.detail || `HTTP ${status}`);
    this.status = status;
    this.code = body.error || (status === 0 ? "network" : `http_${status}`);
    this.detail = body.detail || "";
    this.params = body.params || {};
  }
}

function url(path, query) {
  const target = new URL(path, window.location.origin);
  for (const [key, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null && value !== "") target.searchParams.set(key, value);
  }
  return target;
}

function headers(method, extra) {
  const all = { Accept: "application/json", ...extra };
  if (method !== "GET" && method !== "HEAD" && session.csrf) all["X-CSRF-Token"] = session.csrf;
  return all;
}

async function failure(response) {
  let body = {};
  try { body = await response.json(); } catch { /* not JSON */ }
  if (response.status === 401 && session.user && !String(response.url).endsWith("/api/v1/session")) {
    session.user = null;  // the session ended on the server: back to sign-in
  }
  return new ApiError(response.status, body);
}

/** fetch JSON; returns { data, response } when whole is true; `headers` adds request headers (e.g. If-Match) */
export async function api(path, { method = "GET", json, body, query, whole = false, headers: more = {} } = {}) {
  const extra = { ...more };
  if (json !== undefined) { extra["Content-Type"] = "application/json"; body = JSON.stringify(json); }
  const attempt = () => fetch(url(path, query), { method, body, headers: headers(method, extra), credentials: "same-origin" });
  let response;
  for (let tries = 1; ; tries += 1) {
    try {
      response = await attempt();
    } catch {
      response = null;
    }
    // a read that met a dropped connection or a busy database (503) is tried once more after a short pause
    const transient = response === null || response.status === 503;
    if (!transient || tries > 1 || (method !== "GET" && method !== "HEAD")) break;
    await new Promise((resolve) => setTimeout(resolve, 800));
  }
  if (response === null) throw new ApiError(0, {});
  if (!response.ok) throw await failure(response);
  const data = response.status === 204 ? null : await response.json();
  return whole ? { data, response } : data;
}

/** a request whose answer's ETag matters (conditional writes with If-Match); answers { data, status, etag } */
export async function send(path, { method = "GET", json, query, headers = {} } = {}) {
  const { data, response } = await api(path, { method, json, query, headers, whole: true });
  return { data, status: response.status, etag: response.headers.get("ETag") };
}

/** multipart upload with progress (fetch has no upload progress) */
export function uploadForm(path, form, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", url(path));
    for (const [key, value] of Object.entries(headers("POST", {}))) xhr.setRequestHeader(key, value);
    xhr.upload.onprogress = (event) => event.lengthComputable && onProgress(event.loaded / event.total);
    xhr.onerror = () => reject(new ApiError(0, {}));
    xhr.onload = () => {
      let body = {};
      try { body = JSON.parse(xhr.responseText); } catch { /* not JSON */ }
      if (xhr.status >= 200 && xhr.status < 300) resolve(body);
      else reject(new ApiError(xhr.status, body));
    };
    xhr.send(form);
  });
}

export async function loadSession() {
  try {
    const body = await api("/api/v1/session");
    session.user = body.user;
    session.csrf = body.csrf_token;
  } catch {
    session.user = null;
    session.csrf = null;
  }
  session.checked = true;
  return session.user;
}

export async function signIn(username, password) {
  const body = await api("/api/v1/session", { method: "POST", json: { username, password } });
  session.user = body.user;
  session.csrf = body.csrf_token;
  return body.user;
}

export async function signOut() {
  try { await api("/api/v1/session", { method: "DELETE" }); } finally {
    session.user = null;
    session.csrf = null;
  }
}

// What each role may do (the API enforces it; the portal only hides what cannot work).
const ABILITIES = {
  admin: ["upload", "manage", "admin", "jobs"],
  uploader: ["upload", "manage", "jobs"],
  surveyor: ["upload", "manage", "jobs"],
  official: ["jobs"],
  viewer: [],
};
/** a scope the API grants the signed-in user (GET /api/v1/session lists them), e.g. "heritage:review" */
export function hasScope(scope) {
  return Boolean(session.user && (session.user.scopes || []).includes(scope));
}

export function can(ability) {
  return Boolean(session.user && (ABILITIES[session.user.role] || []).includes(ability));
}
