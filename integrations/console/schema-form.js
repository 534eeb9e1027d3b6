// A form made from a JSON Schema (the family's `…IntegrationCreate` in /api/openapi.json): every field with
// its label, description and type; objects as fieldsets, maps (chart of accounts) as key/value rows. Values
// are read back by JSON pointer, and the API's 422 errors are shown beside the field their pointer names.
import { html, nothing } from "./vendor/lit-html.js";

export function resolve(schema, spec) {
  let s = schema || {};
  while (s.$ref) s = { ...spec.components.schemas[s.$ref.split("/").pop()], ...Object.fromEntries(Object.entries(s).filter(([k]) => k !== "$ref")) };
  if (s.anyOf) {
    const real = s.anyOf.filter((o) => o.type !== "null");
    if (real.length === 1) return { ...resolve(real[0], spec), nullable: true, description: s.description, title: s.title, default: s.default };
  }
  return s;
}

const SKIP = new Set(["family", "provider", "credentials"]);  // chosen in earlier steps; secrets go in write-only

export function describe(schema, spec, pointer = "", required = []) {
  const s = resolve(schema, spec);
  const out = [];
  for (const [name, raw] of Object.entries(s.properties || {})) {
    if (pointer === "" && SKIP.has(name)) continue;
    const p = resolve(raw, spec);
    const pretty = name.replace(/_/g, " ").replace(/\b\w/g, (c) => c.toUpperCase());
    const field = { name, pointer: `${pointer}/${name}`, label: raw.title || pretty, description: raw.description || p.description || "",
                    required: (s.required || []).includes(name), schema: p, example: (raw.examples || p.examples || [])[0] };
    if (p.properties) field.kind = "group", field.children = describe(p, spec, field.pointer);
    else if (p.type === "object" || p.patternProperties || p.additionalProperties) field.kind = "map";
    else if (p.type === "boolean") field.kind = "checkbox";
    else if (p.enum) field.kind = "select";
    else if (p.type === "integer" || p.type === "number") field.kind = "number";
    else if (p.type === "array") field.kind = "list";
    else field.kind = "text";
    out.push(field);
  }
  return out;
}

const id = (pointer) => `f${pointer.replace(/[^A-Za-z0-9]/g, "_")}`;

function errorsFor(errors, pointer) {
  const mine = errors[pointer] || [];
  return mine.length ? html`<span class="field-error" id="${id(pointer)}-err" role="alert">${mine.join("; ")}</span>` : nothing;
}

export function renderFields(fields, errors, onAddRow) {
  return fields.map((f) => {
    const err = errorsFor(errors, f.pointer);
    const described = `${id(f.pointer)}-hint ${errors[f.pointer] ? id(f.pointer) + "-err" : ""}`;
    const hint = f.description ? html`<span class="hint" id="${id(f.pointer)}-hint">${f.description}</span>` : nothing;
    const req = f.required ? html` <span aria-hidden="true">*</span>` : nothing;
    if (f.kind === "group") {
      return html`<fieldset><legend>${f.label}${req}</legend>${hint}${err}${renderFields(f.children, errors, onAddRow)}</fieldset>`;
    }
    if (f.kind === "map") {
      const rows = f.rows || [["", ""]];
      return html`<fieldset class="map" data-pointer="${f.pointer}"><legend>${f.label}${req}</legend>${hint}${err}
        ${rows.map(([k, v], i) => html`<div class="kv">
          <input aria-label="${f.label} key ${i + 1}" class="map-key" .value=${k}>
          <input aria-label="${f.label} value ${i + 1}" class="map-value" .value=${v}>
          ${errorsFor(errors, `${f.pointer}/${k}`)}</div>`)}
        <button type="button" class="secondary" @click=${() => onAddRow(f)}>+</button></fieldset>`;
    }
    if (f.kind === "checkbox") {
      return html`<label for="${id(f.pointer)}"><input type="checkbox" id="${id(f.pointer)}" data-pointer="${f.pointer}" data-kind="checkbox"
        ?checked=${f.schema.default === true} aria-describedby="${described}"> ${f.label}</label>${hint}${err}`;
    }
    if (f.kind === "select") {
      return html`<label for="${id(f.pointer)}">${f.label}${req}</label>${hint}
        <select id="${id(f.pointer)}" data-pointer="${f.pointer}" data-kind="text" aria-describedby="${described}">
          ${f.required ? nothing : html`<option value=""></option>`}
          ${f.schema.enum.map((v) => html`<option value="${v}" ?selected=${v === f.schema.default}>${v}</option>`)}
        </select>${err}`;
    }
    const type = f.kind === "number" ? "number" : "text";
    const placeholder = f.example !== undefined && typeof f.example !== "object" ? String(f.example) : "";
    return html`<label for="${id(f.pointer)}">${f.label}${req}</label>${hint}
      <input type="${type}" id="${id(f.pointer)}" data-pointer="${f.pointer}" data-kind="${f.kind}" placeholder="${placeholder}"
        aria-invalid="${errors[f.pointer] ? "true" : "false"}" aria-describedby="${described}"
        .value=${f.schema.default !== undefined && f.schema.default !== null && typeof f.schema.default !== "object" ? String(f.schema.default) : ""}>${err}`;
  });
}

function put(target, pointer, value) {
  const parts = pointer.split("/").slice(1);
  let node = target;
  for (const part of parts.slice(0, -1)) node = node[part] ||= {};
  node[parts.at(-1)] = value;
}

// The values in the form, as the body the API takes (empty optional fields left out).
export function read(form) {
  const body = {};
  for (const input of form.querySelectorAll("[data-pointer][data-kind]")) {
    const kind = input.dataset.kind;
    if (kind === "checkbox") { put(body, input.dataset.pointer, input.checked); continue; }
    const value = input.value.trim();
    if (value === "") continue;
    if (kind === "number") put(body, input.dataset.pointer, Number(value));
    else if (kind === "list") put(body, input.dataset.pointer, value.split(",").map((v) => v.trim()).filter(Boolean));
    else put(body, input.dataset.pointer, value);
  }
  for (const map of form.querySelectorAll("fieldset.map")) {
    const entries = [...map.querySelectorAll(".kv")].map((row) => [row.querySelector(".map-key").value.trim(), row.querySelector(".map-value").value.trim()]).filter(([k]) => k);
    if (entries.length) put(body, map.dataset.pointer, Object.fromEntries(entries));
  }
  return body;
}
