// The public API, and nothing else: every screen goes through `call`, with the signed-in credential.
// The credential lives in sessionStorage only (gone with the tab), never in localStorage or a cookie.

const KEY = "hub.session";

export function session() {
  try { return JSON.parse(sessionStorage.getItem(KEY)) || null; } catch { return null; }
}
export function saveSession(value) { sessionStorage.setItem(KEY, JSON.stringify(value)); }
export function endSession() { sessionStorage.removeItem(KEY); }

export class Problem extends Error {
  constructor(status, body) {
    super((body && (body.detail || body.title)) || `HTTP ${status}`);
    this.status = status;
    this.body = body || {};
    this.errors = (body && body.errors) || [];
  }
  // Field errors by JSON pointer, for rendering next to each field.
  byPointer() {
    const out = {};
    for (const e of this.errors) (out[e.pointer] ||= []).push(e.message);
    return out;
  }
}

export function tenantPath(rest = "") {
  const s = session();
  return `/api/v1/tenants/${encodeURIComponent(s.tenant)}${rest}`;
}

export async function call(method, path, { body, form, raw, query } = {}) {
  const s = session();
  const headers = { Accept: "application/json" };
  if (s && s.token) headers.Authorization = `Bearer ${s.token}`;
  let payload;
  if (form) payload = form;
  else if (body !== undefined) { headers["Content-Type"] = "application/json"; payload = JSON.stringify(body); }
  const url = new URL(path, location.origin);
  for (const [k, v] of Object.entries(query || {})) if (v !== undefined && v !== null && v !== "") url.searchParams.set(k, v);
  const response = await fetch(url, { method, headers, body: payload, credentials: "same-origin" });
  if (raw) {
    if (!response.ok) throw new Problem(response.status, await response.json().catch(() => null));
    return response;
  }
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) throw new Problem(response.status, data);
  return data;
}
