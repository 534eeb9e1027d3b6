// Settings → Integrations: the list, the Add wizard and one integration's page (actions, credentials,
// validation, usage, syncs, field mapping, imports, deliveries).
import { html, nothing, render } from "./vendor/lit-html.js";
import { call, Problem, tenantPath } from "./api.js";
import { t } from "./i18n.js";
import { describe, read, renderFields, resolve } from "./schema-form.js";
import { fail, go, show } from "./app.js";
import { barChart } from "./charts.js";

let specCache = null;
async function spec() { return (specCache ||= await call("GET", "/api/openapi.json")); }

export function badge(status) { return html`<span class="badge ${status}">${t(`status.${status}`)}</span>`; }

function conditionBadges(doc) {
  // needs re-auth and degraded (the API's conditions), failing (the current config's validation failed)
  const kinds = (doc.conditions || []).map((c) => c.type);
  if (doc.last_validation && !doc.last_validation.passed) kinds.push("failing");
  return kinds.map((k) => html` <span class="badge ${k === "degraded" ? "failing" : k}">${t(`status.${k}`)}</span>`);
}

const FAMILIES = ["accounting", "payment_gateway", "calendar", "social_media", "streaming", "mapping", "wada_adams",
  "insurance", "gov_sports_registry", "crm", "lms", "messaging", "data_collection"];

export async function list(filters = {}) {
  const page = await call("GET", tenantPath("/integrations"), { query: { ...filters, limit: 100 } });
  const change = (e) => { const f = e.target.form; list({ family: f.family.value, provider: f.provider.value, status: f.status.value }); };
  show(html`<h1>${t("integrations.title")}</h1>
    <p><a href="#/integrations/new" class="button" id="add">${t("integrations.add")}</a></p>
    <form class="filters" @change=${change}>
      <label for="family">${t("integrations.family")}</label>
      <select id="family" name="family"><option value="">${t("all")}</option>${FAMILIES.map((f) => html`<option value="${f}" ?selected=${filters.family === f}>${t(`family.${f}`)}</option>`)}</select>
      <label for="provider">${t("integrations.provider")}</label><input id="provider" name="provider" .value=${filters.provider || ""}>
      <label for="status">${t("integrations.status")}</label>
      <select id="status" name="status"><option value="">${t("all")}</option>${["draft", "active", "paused", "decommissioned"].map((s) => html`<option value="${s}" ?selected=${filters.status === s}>${t(`status.${s}`)}</option>`)}</select>
    </form>
    <table><caption class="hint">${t("integrations.count", { n: page.items.length })}</caption>
      <thead><tr><th scope="col">${t("integrations.name")}</th><th scope="col">${t("integrations.family")}</th><th scope="col">${t("integrations.provider")}</th><th scope="col">${t("integrations.status")}</th></tr></thead>
      <tbody>${page.items.map((d) => html`<tr><td><a href="#/integrations/${d.id}">${d.display_name}</a></td><td>${t(`family.${d.family}`)}</td><td>${d.provider}</td><td>${badge(d.status)}${conditionBadges(d)}</td></tr>`)}</tbody>
    </table>`);
}

// --- the Add wizard ------------------------------------------------------------------------------------------

export async function wizard(state = { step: 1 }, errors = {}, problem = null) {
  const api = await spec();
  if (state.step === 1) {
    return show(html`<h1>${t("wizard.title")}</h1><p>${t("wizard.family")}</p>
      <ul class="choices">${FAMILIES.map((f) => html`<li><button class="secondary" @click=${() => wizard({ step: 2, family: f })}>${t(`family.${f}`)}</button></li>`)}</ul>`);
  }
  if (state.step === 2) {
    const providers = await call("GET", "/api/v1/providers", { query: { family: state.family } });
    return show(html`<h1>${t("wizard.title")}</h1><p>${t("wizard.provider", { family: t(`family.${state.family}`) })}</p>
      <ul class="choices">${providers.map((p) => html`<li><button class="secondary" @click=${() => wizard({ ...state, step: 3, provider: p })}>${p.display_name}</button></li>`)}</ul>
      <button class="secondary" @click=${() => wizard()}>${t("back")}</button>`);
  }
  const name = Object.keys(api.components.schemas).find((n) => n.endsWith("IntegrationCreate") &&
    resolve(api.components.schemas[n].properties.family, api).const === state.family ||
    (resolve(api.components.schemas[n].properties?.family || {}, api).enum || []).includes(state.family));
  state.fields ||= describe(api.components.schemas[name], api).filter((f) => f.name !== "oauth_client_id" || state.provider.auth.kind === "oauth2_code");
  const addRow = (field) => { capture(field); field.rows.push(["", ""]); wizard(state, errors, problem); };
  const capture = (field) => {
    const fieldset = document.querySelector(`fieldset.map[data-pointer="${field.pointer}"]`);
    field.rows = fieldset ? [...fieldset.querySelectorAll(".kv")].map((r) => [r.querySelector(".map-key").value, r.querySelector(".map-value").value]) : (field.rows || [["", ""]]);
  };
  const submit = async (event) => {
    event.preventDefault();
    const body = { ...read(event.target), family: state.family, provider: state.provider.id };
    try {
      const created = await call("POST", tenantPath("/integrations"), { body });
      go(`#/integrations/${created.id}`);
    } catch (e) {
      if (!(e instanceof Problem)) throw e;
      const walk = (fs) => fs.forEach((f) => (f.kind === "map" ? capture(f) : f.children && walk(f.children)));
      walk(state.fields);
      wizard(state, e.byPointer(), e);
      keepValues(event.target, body);
    }
  };
  show(html`<h1>${t("wizard.title")}: ${state.provider.display_name}</h1>
    ${problem ? html`<div class="banner" role="alert">${problem.message}</div>` : nothing}
    <form id="wizard" @submit=${submit} novalidate>
      ${renderFields(state.fields, errors, addRow)}
      <p><button type="submit">${t("wizard.create")}</button><button type="button" class="secondary" @click=${() => wizard({ step: 2, family: state.family })}>${t("back")}</button></p>
    </form>`);
}

function keepValues(form, body) {
  for (const input of document.querySelectorAll("#wizard [data-pointer][data-kind]")) {
    const value = input.dataset.pointer.split("/").slice(1).reduce((node, k) => (node == null ? node : node[k]), body);
    if (value === undefined || value === null) continue;
    if (input.dataset.kind === "checkbox") input.checked = Boolean(value); else input.value = Array.isArray(value) ? value.join(", ") : String(value);
  }
}

// --- one integration --------------------------------------------------------------------------------------

function confirmDialog(message, danger) {
  const dialog = document.getElementById("confirm");
  return new Promise((resolveChoice) => {
    const answer = (yes) => { dialog.close(); resolveChoice(yes); };
    render(html`<h2 id="confirm-title">${message}</h2>
      <p><button class="${danger ? "danger" : ""}" id="confirm-yes" @click=${() => answer(true)}>${t("confirm.yes")}</button>
      <button class="secondary" id="confirm-no" @click=${() => answer(false)}>${t("confirm.no")}</button></p>`, dialog);
    dialog.showModal();
    dialog.querySelector("#confirm-no").focus();
  });
}

export async function detail(id, note = null) {
  const path = tenantPath(`/integrations/${id}`);
  const [doc, status] = await Promise.all([call("GET", path), call("GET", `${path}/status`)]);
  const providerSpec = await call("GET", `/api/v1/providers/${doc.provider}`);
  const usage = await call("GET", `${path}/usage`, { query: { from: daysAgo(29) } }).catch(() => null);
  const today = await call("GET", `${path}/usage`, { query: { from: daysAgo(0) } }).catch(() => null);
  const runs = await call("GET", `${path}/syncs`, { query: { limit: 10 } }).catch(() => ({ items: [] }));
  const [hooks, dead, jobs] = await Promise.all([
    call("GET", `${path}/webhook-deliveries`, { query: { limit: 20 } }).then((p) => p.items).catch(() => []),
    call("GET", `${path}/syncs/dead-letters`).then((p) => p.items).catch(() => []),
    call("GET", `${path}/imports`).then((p) => p.items).catch(() => []),
  ]);
  const transition = async (action) => {
    const danger = action === "decommission";
    if (!(await confirmDialog(t(`confirm.${action}`, { name: doc.display_name }), danger))) return;
    try {
      if (action === "decommission") await call("DELETE", path); else await call("POST", `${path}:${action}`);
      detail(id, html`<div class="banner info" role="status">${t(`done.${action}`)}</div>`);
    } catch (e) { detail(id, fail(e)); }
  };
  const validate = async () => {
    try {
      const result = await call("POST", `${path}:validate`);
      detail(id, checks(result.result));
    } catch (e) { detail(id, fail(e)); }
  };
  const connect = async () => {
    try {
      const start = await call("POST", `${path}/oauth:start`);  // sets the binding cookie for the callback
      const popup = window.open(start.authorize_url, "hub-oauth", "width=600,height=700");
      for (let i = 0; i < 120; i++) {
        await new Promise((r) => setTimeout(r, 500));
        const now = await call("GET", path);
        if (now.credentials.oauth_refresh_token_ref) { if (popup) popup.close(); return detail(id, html`<div class="banner info" role="status">${t("done.connect")}</div>`); }
      }
      detail(id, html`<div class="banner" role="alert">${t("connect.timeout")}</div>`);
    } catch (e) { detail(id, fail(e)); }
  };
  const oauth = providerSpec.auth.kind === "oauth2_code";
  show(html`<p><a href="#/integrations">← ${t("integrations.title")}</a></p>
    <h1>${doc.display_name} ${badge(doc.status)}${conditionBadges(doc)}</h1>
    <p>${t(`family.${doc.family}`)} · ${providerSpec.display_name}${doc.sandbox ? html` · ${t("integration.sandbox")}` : nothing}</p>
    <div id="note" aria-live="polite">${note || nothing}</div>
    <section aria-labelledby="h-actions"><h2 id="h-actions">${t("integration.actions")}</h2>
      ${oauth && doc.status !== "decommissioned" ? html`<button class="secondary" id="connect" @click=${connect}>${doc.credentials.oauth_refresh_token_ref ? t("action.reconnect") : t("action.connect")}</button>` : nothing}
      ${doc.status !== "decommissioned" ? html`<button class="secondary" id="validate" @click=${validate}>${t("action.validate")}</button>` : nothing}
      ${status.allowed_transitions.map((a) => html`<button id="${a}" class="${a === "decommission" ? "danger" : ""}" @click=${() => transition(a)}>${t(`action.${a}`)}</button>`)}
      ${doc.last_validation && !note ? checks(doc.last_validation) : nothing}
    </section>
    ${credentials(doc, providerSpec, path, id)}
    ${usagePanel(usage, today)}
    ${syncs(runs, path, id, doc)}
    ${doc.family === "crm" ? html`<section aria-labelledby="h-mapping"><h2 id="h-mapping">${t("mapping.title")}</h2><p><a id="open-mapping" href="#/integrations/${id}/mapping">${t("mapping.open")}</a></p></section>` : nothing}
    ${imports(path, id, jobs)}
    ${deliveries(hooks, dead, path, id)}`);
  if (usage) barChart(document.getElementById("usage-chart"), usage.days, t);
}

function checks(result) {
  return html`<div role="status"><p class="${result.passed ? "ok" : "error"}">${result.passed ? t("validation.passed") : t("validation.failed")}</p>
    <ul class="checks">${result.checks.map((c) => html`<li data-mark="${c.passed ? "✓" : "✗"}" class="${c.passed ? "ok" : "error"}">${c.name}: <span>${c.detail}</span></li>`)}</ul></div>`;
}

function credentials(doc, providerSpec, path, id) {
  const slots = [...new Set([...(providerSpec.required_credentials || []), ...Object.keys(doc.credentials || {}).filter((k) => doc.credentials[k])])]
    .filter((s) => s !== "oauth_refresh_token_ref");
  if (!slots.length) return nothing;
  const save = async (event, slot) => {
    event.preventDefault();
    const input = event.target.elements.value;
    try {
      await call("PUT", `${path}/credentials/${slot}`, { body: { value: input.value } });
      input.value = "";  // write-only: never shown again
      detail(id, html`<div class="banner info" role="status">${t("credentials.saved", { slot })}</div>`);
    } catch (e) { detail(id, fail(e)); }
  };
  return html`<section aria-labelledby="h-cred"><h2 id="h-cred">${t("credentials.title")}</h2><p class="hint">${t("credentials.hint")}</p>
    ${slots.map((slot) => html`<form @submit=${(e) => save(e, slot)}>
      <label for="cred-${slot}">${slot} — ${doc.credentials[slot] ? t("credentials.set") : t("credentials.unset")}</label>
      <input id="cred-${slot}" name="value" type="password" autocomplete="off" required>
      <button type="submit" aria-label="${t("credentials.save")} ${slot}">${t("credentials.save")}</button></form>`)}</section>`;
}

function daysAgo(n) { const d = new Date(); d.setUTCDate(d.getUTCDate() - n); return d.toISOString().slice(0, 10); }

function usagePanel(usage, todayReport) {
  if (!usage || !todayReport) return nothing;
  const today = todayReport.totals;
  const ops = Object.entries(todayReport.by_operation || {});
  return html`<section aria-labelledby="h-usage"><h2 id="h-usage">${t("usage.title")}</h2>
    <div class="cards">
      <div class="card" id="usage-requests">${t("usage.requests_today")}<strong>${today.requests}</strong></div>
      <div class="card" id="usage-errors">${t("usage.errors_today")}<strong>${today.errors}</strong></div>
      <div class="card" id="usage-burn"><label for="burn">${t("usage.burn_today")}</label>
        <strong>${(today.quota_burn_pct ?? 0).toFixed(1)} %</strong>
        <meter id="burn" min="0" max="100" low="60" high="80" optimum="0" value="${today.quota_burn_pct ?? 0}">${today.quota_burn_pct ?? 0} %</meter></div>
    </div>
    <div class="chart" id="usage-chart" role="img" aria-label="${t("usage.chart")}"></div>
    <table id="usage-operations"><caption>${t("usage.by_operation")}</caption><thead><tr><th scope="col">${t("usage.operation")}</th><th scope="col">${t("usage.requests")}</th><th scope="col">${t("usage.errors")}</th><th scope="col">${t("usage.burn")}</th></tr></thead>
      <tbody>${ops.map(([op, u]) => html`<tr><td>${op}</td><td>${u.requests}</td><td>${u.errors}</td><td>${u.quota_burn_pct ?? "—"} %</td></tr>`)}</tbody></table>
    <p class="hint">${t("usage.quota_source", { source: usage.daily_quota_source, quota: usage.daily_quota ?? "—" })}</p></section>`;
}

function syncs(runs, path, id, doc) {
  const trigger = async (event) => {
    event.preventDefault();
    try { await call("POST", `${path}/syncs`, { body: { operation: event.target.operation.value } }); detail(id, html`<div class="banner info" role="status">${t("syncs.started")}</div>`); }
    catch (e) { detail(id, fail(e)); }
  };
  const schedule = async (event) => {
    event.preventDefault();
    const f = event.target;
    try {
      const s = await call("PUT", `${path}/syncs/schedules/${f.operation.value}`, { body: { cron: f.cron.value, time_zone: f.tz.value } });
      detail(id, html`<div class="banner info" role="status">${t("syncs.scheduled", { next: new Date(s.next_run_at).toLocaleString(undefined, { timeZone: f.tz.value }) })}</div>`);
    } catch (e) { detail(id, fail(e)); }
  };
  return html`<section aria-labelledby="h-syncs"><h2 id="h-syncs">${t("syncs.title")}</h2>
    <form @submit=${trigger} class="inline"><label for="op">${t("syncs.operation")}</label><input id="op" name="operation" required placeholder="push_invoices">
      <button type="submit" id="sync-now">${t("syncs.now")}</button></form>
    <form @submit=${schedule}><label for="sop">${t("syncs.operation")}</label><input id="sop" name="operation" required placeholder="push_invoices">
      <label for="cron">${t("syncs.cron")}<span class="hint">${t("syncs.cron_hint")}</span></label><input id="cron" name="cron" required placeholder="0 2 * * *">
      <label for="tz">${t("syncs.tz")}</label><input id="tz" name="tz" required value="Europe/Stockholm">
      <button type="button" class="secondary" id="preview" @click=${(e) => preview(e.target.form, path)}>${t("syncs.preview")}</button>
      <button type="submit">${t("syncs.schedule")}</button>
      <div id="cron-preview" aria-live="polite"></div></form>
    <table><caption>${t("syncs.runs")}</caption><thead><tr><th scope="col">${t("syncs.operation")}</th><th scope="col">${t("syncs.status")}</th><th scope="col">${t("syncs.created")}</th><th scope="col">${t("syncs.failed")}</th><th scope="col">${t("syncs.reason")}</th></tr></thead>
      <tbody>${runs.items.map((r) => html`<tr><td>${r.operation}</td><td>${r.status}</td><td>${r.created}</td><td>${r.failed}</td><td>${r.reason}</td></tr>`)}</tbody></table></section>`;
}

async function preview(form, path) {
  const target = form.querySelector("#cron-preview");
  try {
    const p = await call("POST", `${path}/syncs/schedules:preview`, { body: { cron: form.cron.value, time_zone: form.tz.value } });
    const shown = new Intl.DateTimeFormat(undefined, { dateStyle: "full", timeStyle: "short", timeZone: form.tz.value });
    render(html`<p>${t("syncs.next_runs", { tz: form.tz.value })}</p><ol>${p.next_runs.map((r) => html`<li>${shown.format(new Date(r))}</li>`)}</ol>`, target);
  } catch (e) {
    render(html`<span class="field-error" role="alert">${e instanceof Problem ? e.errors.map((x) => x.message).join("; ") || e.message : String(e)}</span>`, target);
  }
}

async function download(url, name) {
  const response = await call("GET", url, { raw: true });
  const link = document.createElement("a");
  link.href = URL.createObjectURL(await response.blob());
  link.download = name;
  link.click();
  URL.revokeObjectURL(link.href);
}

function deliveries(hooks, dead, path, id) {
  const replay = async (url) => {
    try { await call("POST", url); detail(id, html`<div class="banner info" role="status">${t("deliveries.replayed")}</div>`); }
    catch (e) { detail(id, fail(e)); }
  };
  return html`<section aria-labelledby="h-deliveries"><h2 id="h-deliveries">${t("deliveries.title")}</h2>
    <table><caption>${t("deliveries.webhooks")}</caption><thead><tr><th scope="col">${t("deliveries.received")}</th><th scope="col">${t("deliveries.status")}</th><th scope="col">${t("deliveries.error")}</th><th scope="col"><span class="hint">${t("keys.actions")}</span></th></tr></thead>
      <tbody>${hooks.map((d) => html`<tr><td>${new Date(d.received_at).toLocaleString()}</td><td>${d.status}</td><td>${d.last_error || ""}</td>
        <td>${d.status === "failed" || d.status === "dead" ? html`<button class="secondary" @click=${() => replay(`${path}/webhook-deliveries/${d.id}:replay`)}>${t("deliveries.replay")}</button>` : nothing}</td></tr>`)}</tbody></table>
    <table><caption>${t("deliveries.dead_letters")}</caption><thead><tr><th scope="col">${t("deliveries.kind")}</th><th scope="col">${t("deliveries.status")}</th><th scope="col">${t("deliveries.error")}</th><th scope="col"><span class="hint">${t("keys.actions")}</span></th></tr></thead>
      <tbody>${dead.map((d) => html`<tr><td>${d.kind}</td><td>${d.status}</td><td>${d.message || ""}</td>
        <td>${d.replayed_at ? nothing : html`<button class="secondary" @click=${() => replay(`${path}/syncs/dead-letters/${d.id}:replay`)}>${t("deliveries.replay")}</button>`}</td></tr>`)}</tbody></table></section>`;
}

function imports(path, id, jobs = []) {
  const upload = async (event) => {
    event.preventDefault();
    const f = event.target;
    const form = new FormData();
    form.append("file", f.file.files[0]);
    try {
      const job = await call("POST", `${path}/imports`, { form, query: { recipe: f.recipe.value, dry_run: f.dry.checked } });
      detail(id, html`<div class="banner info" role="status">${t("imports.done", { rows: job.rows, accepted: job.accepted, rejected: job.rejected })}</div>`);
    } catch (e) { detail(id, fail(e)); }
  };
  return html`<section aria-labelledby="h-imports"><h2 id="h-imports">${t("imports.title")}</h2>
    <form @submit=${upload}><label for="recipe">${t("imports.recipe")}</label><input id="recipe" name="recipe" required placeholder="ffpjp_members">
      <label for="file">${t("imports.file")}</label><input id="file" name="file" type="file" required>
      <label for="dry"><input id="dry" name="dry" type="checkbox" checked> ${t("imports.dry_run")}</label>
      <p><button type="submit">${t("imports.upload")}</button></p></form>
    <table><caption>${t("imports.recent")}</caption><thead><tr><th scope="col">${t("imports.file")}</th><th scope="col">${t("imports.recipe")}</th><th scope="col">${t("syncs.status")}</th><th scope="col">${t("imports.progress")}</th><th scope="col"><span class="hint">${t("imports.report")}</span></th></tr></thead>
      <tbody>${jobs.map((j) => html`<tr><td>${j.file_name}${j.dry_run ? html` <span class="hint">(${t("imports.dry_run")})</span>` : nothing}</td><td>${j.recipe}</td><td>${j.status}</td>
        <td><progress max="${Math.max(j.rows, 1)}" value="${j.status === "running" ? j.accepted + j.rejected : Math.max(j.rows, 1)}" aria-label="${t("imports.progress")}"></progress>
          ${t("imports.done", { rows: j.rows, accepted: j.accepted, rejected: j.rejected })}</td>
        <td>${j.rejected ? html`<button class="secondary" @click=${() => download(`${path}/imports/${j.id}/errors.csv`, `import-${j.id}-errors.csv`)}>${t("imports.errors_csv")}</button>` : nothing}</td></tr>`)}</tbody></table></section>`;
}

// --- seed 003's field mapping, checked against the live CRM -----------------------------------------------

export async function mapping(id, errors = {}, result = null) {
  const path = tenantPath(`/integrations/${id}`);
  const [current, platform, objects] = await Promise.all([
    call("GET", `${path}/crm/field-mapping`), call("GET", "/api/v1/models/member/fields"), call("GET", `${path}/crm/objects`)]);
  const object = current.member_object;
  const remote = (await call("GET", `${path}/crm/objects/${object}/fields`)).items;
  const orderObject = (result && result.body ? result.body.order_object : current.order_object) || "";
  const orderRemote = orderObject ? (await call("GET", `${path}/crm/objects/${orderObject}/fields`).catch(() => ({ items: [] }))).items : [];
  const orderRows = [...Object.entries((result && result.body ? result.body.order_field_map : current.order_field_map) || {}), ["", ""]];
  const rows = Object.entries(current.member_field_map);
  const readForm = (f) => {
    const map = {};
    for (const row of f.querySelectorAll(".map-row")) {
      const ours = row.querySelector(".ours").value, theirs = row.querySelector(".theirs").value;
      if (ours && theirs) map[ours] = theirs;
    }
    const orders = {};
    for (const row of f.querySelectorAll(".order-row")) {
      const ours = row.querySelector(".ours").value.trim(), theirs = row.querySelector(".theirs").value;
      if (ours && theirs) orders[ours] = theirs;
    }
    return { member_object: f.member_object.value, member_field_map: map, event_tag_field: f.event_tag.value,
      course_tag_field: f.course_tag.value || null, order_object: f.order_object.value || null, order_field_map: orders };
  };
  const save = async (event) => {
    event.preventDefault();
    const body = readForm(event.target);
    try { const r = await call("PUT", `${path}/crm/field-mapping`, { body }); mapping(id, {}, r); }
    catch (e) { if (e instanceof Problem && e.status === 422) mapping(id, e.byPointer(), { problem: e.message, body }); else throw e; }
  };
  const shown = [...(result && result.body ? Object.entries(result.body.member_field_map) : rows), ["", ""]];
  show(html`<p><a href="#/integrations/${id}">← ${t("back")}</a></p><h1>${t("mapping.title")}</h1>
    ${result && result.problem ? html`<div class="banner" role="alert">${result.problem}</div>` : nothing}
    ${result && result.applied ? html`<div class="banner info" role="status">${t("mapping.saved")}${result.warnings.map((w) => html`<br>${w.pointer}: ${w.message}`)}</div>` : nothing}
    <form id="mapping" @submit=${save}>
      <label for="member_object">${t("mapping.member_object")}</label>
      <select id="member_object" name="member_object">${objects.items.map((o) => html`<option value="${o.name}" ?selected=${o.name === object}>${o.label}</option>`)}</select>
      <table><thead><tr><th scope="col">${t("mapping.platform")}</th><th scope="col">${t("mapping.crm")}</th></tr></thead><tbody>
      ${shown.map(([ours, theirs], i) => html`<tr class="map-row"><td>
          <select class="ours" aria-label="${t("mapping.platform")} ${i + 1}"><option value=""></option>${platform.items.filter((p) => p.name !== "member_id").map((p) => html`<option value="${p.name}" ?selected=${p.name === ours}>${p.name}</option>`)}</select></td>
        <td><select class="theirs" aria-label="${t("mapping.crm")} ${i + 1}"><option value=""></option>
          ${[...remote.map((r) => r.name), ...(remote.some((r) => r.name === theirs) ? [] : [theirs])].filter(Boolean).map((n) => html`<option value="${n}" ?selected=${n === theirs}>${n}</option>`)}</select>
          ${(errors[`/member_field_map/${ours}`] || []).map((m) => html`<span class="field-error" role="alert">${m}</span>`)}</td></tr>`)}
      </tbody></table>
      <label for="event_tag">${t("mapping.event_tag")}</label>
      <select id="event_tag" name="event_tag">${remote.map((r) => html`<option value="${r.name}" ?selected=${r.name === current.event_tag_field}>${r.name}</option>`)}</select>
      ${(errors["/event_tag_field"] || []).map((m) => html`<span class="field-error" role="alert">${m}</span>`)}
      <label for="course_tag">${t("mapping.course_tag")}</label>
      <select id="course_tag" name="course_tag"><option value=""></option>${remote.map((r) => html`<option value="${r.name}" ?selected=${r.name === current.course_tag_field}>${r.name}</option>`)}</select>
      <label for="order_object">${t("mapping.order_object")}<span class="hint">${t("mapping.order_hint")}</span></label>
      <select id="order_object" name="order_object" @change=${(e) => mapping(id, {}, { body: readForm(e.target.form) })}><option value=""></option>${objects.items.map((o) => html`<option value="${o.name}" ?selected=${o.name === orderObject}>${o.label}</option>`)}</select>
      ${(errors["/order_object"] || []).map((m) => html`<span class="field-error" role="alert">${m}</span>`)}
      ${orderObject ? html`<table><caption>${t("mapping.order_fields")}</caption><thead><tr><th scope="col">${t("mapping.order_field")}</th><th scope="col">${t("mapping.crm")}</th></tr></thead><tbody>
        ${orderRows.map(([ours, theirs], i) => html`<tr class="order-row"><td><input class="ours" aria-label="${t("mapping.order_field")} ${i + 1}" .value=${ours}></td>
          <td><select class="theirs" aria-label="${t("mapping.crm")} (${t("mapping.order_object")}) ${i + 1}"><option value=""></option>
            ${[...orderRemote.map((r) => r.name), ...(orderRemote.some((r) => r.name === theirs) ? [] : [theirs])].filter(Boolean).map((n) => html`<option value="${n}" ?selected=${n === theirs}>${n}</option>`)}</select>
            ${(errors[`/order_field_map/${ours}`] || []).map((m) => html`<span class="field-error" role="alert">${m}</span>`)}</td></tr>`)}</tbody></table>` : nothing}
      <p><button type="submit" id="save-mapping">${t("mapping.save")}</button></p>
    </form>`);
}
