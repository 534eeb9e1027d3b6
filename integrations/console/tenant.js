// The tenant's own screens: the quota dashboard, API keys, the audit trail.
import { html, nothing } from "./vendor/lit-html.js";
import { call, tenantPath } from "./api.js";
import { t } from "./i18n.js";
import { fail, show } from "./app.js";
import { lineChart } from "./charts.js";

export async function quota(note = null) {
  const [report, history] = await Promise.all([call("GET", tenantPath("/quota")), call("GET", tenantPath("/quota/history"))]);
  const save = async (event) => {
    event.preventDefault();
    try {
      await call("PUT", tenantPath("/settings/alerts"), { body: { threshold_pct: Number(event.target.threshold.value) } });
      quota(html`<div class="banner info" role="status">${t("quota.saved")}</div>`);
    } catch (e) { quota(fail(e)); }
  };
  const rows = (obj) => Object.entries(obj || {});
  show(html`<h1>${t("quota.title")}</h1>${note || nothing}
    <div class="cards">
      <div class="card">${t("quota.today")}<strong>${report.day.used} / ${report.day.limit}</strong><meter min="0" max="100" high="${report.alert_threshold_pct}" value="${report.day.pct}" aria-label="${t("quota.today")}"></meter></div>
      <div class="card">${t("quota.month")}<strong>${report.month.used} / ${report.month.limit}</strong><meter min="0" max="100" high="${report.alert_threshold_pct}" value="${report.month.pct}" aria-label="${t("quota.month")}"></meter></div>
      <div class="card">${t("quota.plan")}<strong>${report.plan}</strong></div>
    </div>
    <form @submit=${save}><label for="threshold">${t("quota.threshold")}</label>
      <input id="threshold" name="threshold" type="number" min="1" max="100" .value=${String(report.alert_threshold_pct)}>
      <button type="submit">${t("quota.save")}</button></form>
    <h2>${t("quota.by_client")}</h2>
    <table><thead><tr><th scope="col">${t("quota.client")}</th><th scope="col">${t("quota.requests")}</th></tr></thead>
      <tbody>${rows(report.by_client).map(([k, v]) => html`<tr><td>${k}</td><td>${typeof v === "object" ? JSON.stringify(v) : v}</td></tr>`)}</tbody></table>
    <h2>${t("quota.by_class")}</h2>
    <table><thead><tr><th scope="col">${t("quota.class")}</th><th scope="col">${t("quota.requests")}</th></tr></thead>
      <tbody>${rows(report.by_endpoint_class).map(([k, v]) => html`<tr><td>${k}</td><td>${typeof v === "object" ? JSON.stringify(v) : v}</td></tr>`)}</tbody></table>
    <h2>${t("quota.history")}</h2><div id="quota-chart" class="chart" role="img" aria-label="${t("quota.history")}"></div>
    <p class="hint">${t("quota.as_of", { at: new Date(report.as_of).toLocaleString() })}</p>`);
  lineChart(document.getElementById("quota-chart"), history.days.map((d) => [Date.parse(`${d.day}T00:00:00Z`) / 1000, d.requests]), t("quota.requests"));
}

const SCOPES = ["integrations:read", "integrations:write", "integrations:admin", "syncs:run", "usage:read", "audit:read",
  "clients:admin", "payments:write", "members:read", "members:write", "licences:write"];

export async function keys(note = null) {
  const listed = await call("GET", tenantPath("/api-keys"));
  const shown = (secret) => keys(html`<div class="banner info" role="status"><p>${t("keys.once")}</p><p class="secret" id="new-secret">${secret}</p></div>`);
  const issue = async (event) => {
    event.preventDefault();
    const f = event.target;
    const scopes = [...f.querySelectorAll("input[name=scope]:checked")].map((i) => i.value);
    const body = { name: f.name.value, scopes, ...(f.rotation.value ? { rotation_days: Number(f.rotation.value) } : {}) };
    try { shown((await call("POST", tenantPath("/api-keys"), { body })).api_key); } catch (e) { keys(fail(e)); }
  };
  const rotate = async (id) => { try { shown((await call("POST", tenantPath(`/api-keys/${id}:rotate`), { body: { overlap_seconds: 86400 } })).api_key); } catch (e) { keys(fail(e)); } };
  const revoke = async (id) => { try { await call("DELETE", tenantPath(`/api-keys/${id}`)); keys(); } catch (e) { keys(fail(e)); } };
  show(html`<h1>${t("keys.title")}</h1>${note || nothing}
    <table><thead><tr><th scope="col">${t("keys.name")}</th><th scope="col">${t("keys.scopes")}</th><th scope="col">${t("keys.version")}</th><th scope="col">${t("keys.state")}</th><th scope="col"><span class="hint">${t("keys.actions")}</span></th></tr></thead>
      <tbody>${listed.map((k) => html`<tr><td>${k.name}</td><td>${k.scopes.join(" ")}</td><td>${k.api_version}</td>
        <td>${k.revoked_at ? t("keys.revoked") : k.rotated_to ? t("keys.rotated") : t("keys.live")}</td>
        <td>${k.manageable && !k.revoked_at ? html`<button class="secondary" @click=${() => rotate(k.key_id)}>${t("keys.rotate")}</button><button class="danger" @click=${() => revoke(k.key_id)}>${t("keys.revoke")}</button>` : nothing}</td></tr>`)}</tbody></table>
    <h2>${t("keys.issue")}</h2>
    <form @submit=${issue}><label for="kname">${t("keys.name")}</label><input id="kname" name="name" required>
      <fieldset><legend>${t("keys.scopes")}</legend>${SCOPES.map((s) => html`<label><input type="checkbox" name="scope" value="${s}"> ${s}</label>`)}</fieldset>
      <label for="rotation">${t("keys.rotation")}</label><input id="rotation" name="rotation" type="number" min="1" max="365">
      <p><button type="submit">${t("keys.issue")}</button></p></form>`);
}

export async function audit(filters = {}) {
  const page = await call("GET", tenantPath("/audit"), { query: { ...filters, limit: 50 } });
  const change = (e) => { e.preventDefault(); const f = e.target.form || e.target; audit({ action: f.action.value, integration_id: f.integration.value }); };
  show(html`<h1>${t("audit.title")}</h1>
    <form @change=${change} @submit=${change}><label for="action">${t("audit.action")}</label><input id="action" name="action" .value=${filters.action || ""}>
      <label for="integration">${t("audit.integration")}</label><input id="integration" name="integration" .value=${filters.integration_id || ""}></form>
    <table><thead><tr><th scope="col">${t("audit.at")}</th><th scope="col">${t("audit.actor")}</th><th scope="col">${t("audit.action")}</th><th scope="col">${t("audit.outcome")}</th><th scope="col">${t("audit.target")}</th></tr></thead>
      <tbody>${page.items.map((e) => html`<tr><td>${new Date(e.at).toLocaleString()}</td><td>${e.actor}</td><td>${e.action}</td><td>${e.outcome}</td><td>${JSON.stringify(e.target)}</td></tr>`)}</tbody></table>`);
}

export async function events(note = null, open = null) {
  const listed = (await call("GET", tenantPath("/event-endpoints"))).items;
  const log = open ? (await call("GET", tenantPath(`/event-endpoints/${open}/deliveries`))).items : [];
  const add = async (event) => {
    event.preventDefault();
    const f = event.target;
    const body = { url: f.url.value, event_types: f.types.value.split(",").map((v) => v.trim()).filter(Boolean) };
    try {
      const created = await call("POST", tenantPath("/event-endpoints"), { body });
      events(html`<div class="banner info" role="status"><p>${t("events.secret_once")}</p><p class="secret">${created.secret}</p></div>`);
    } catch (e) { events(fail(e)); }
  };
  const replay = async (endpoint, message) => {
    try { await call("POST", tenantPath(`/event-endpoints/${endpoint}/deliveries/${message}:replay`)); events(html`<div class="banner info" role="status">${t("deliveries.replayed")}</div>`, endpoint); }
    catch (e) { events(fail(e), endpoint); }
  };
  show(html`<h1>${t("events.title")}</h1>${note || nothing}
    <table><thead><tr><th scope="col">URL</th><th scope="col">${t("events.types")}</th><th scope="col">${t("syncs.status")}</th><th scope="col"><span class="hint">${t("keys.actions")}</span></th></tr></thead>
      <tbody>${listed.map((e) => html`<tr><td>${e.url}</td><td>${e.event_types.join(", ")}</td><td>${e.status}</td>
        <td><button class="secondary" @click=${() => events(null, e.id)}>${t("events.log")}</button></td></tr>`)}</tbody></table>
    ${open ? html`<h2>${t("events.log")}</h2><table><thead><tr><th scope="col">${t("events.type")}</th><th scope="col">${t("syncs.status")}</th><th scope="col">${t("events.attempts")}</th><th scope="col"><span class="hint">${t("keys.actions")}</span></th></tr></thead>
      <tbody>${log.map((d) => html`<tr><td>${d.event_type}</td><td>${d.state}</td><td>${d.attempts.length}</td>
        <td><button class="secondary" @click=${() => replay(open, d.message_id)}>${t("deliveries.replay")}</button></td></tr>`)}</tbody></table>` : nothing}
    <h2>${t("events.add")}</h2>
    <form @submit=${add}><label for="url">URL<span class="hint">${t("events.url_hint")}</span></label><input id="url" name="url" type="url" required>
      <label for="types">${t("events.types")}<span class="hint">${t("events.types_hint")}</span></label><input id="types" name="types" placeholder="payment.*">
      <p><button type="submit">${t("events.add")}</button></p></form>`);
}
