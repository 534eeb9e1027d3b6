// The console's shell: sign-in, navigation, the language switch and a hash router (each screen is a URL).
import { html, render } from "./vendor/lit-html.js";
import { call, endSession, Problem, saveSession, session } from "./api.js";
import { load, t, language } from "./i18n.js";
import * as integrations from "./integrations.js";
import * as tenant from "./tenant.js";

let config = { entra: null, languages: ["en"] };
const main = () => document.getElementById("main");

const ROUTES = [
  [/^#\/integrations\/new$/, () => integrations.wizard()],
  [/^#\/integrations\/(int_[0-9a-f]{24})$/, (m) => integrations.detail(m[1])],
  [/^#\/integrations\/(int_[0-9a-f]{24})\/mapping$/, (m) => integrations.mapping(m[1])],
  [/^#\/integrations$/, () => integrations.list()],
  [/^#\/quota$/, () => tenant.quota()],
  [/^#\/keys$/, () => tenant.keys()],
  [/^#\/audit$/, () => tenant.audit()],
  [/^#\/events$/, () => tenant.events()],
];

export function go(hash) { if (location.hash === hash) route(); else location.hash = hash; }

export function show(template) { render(template, main()); }

export function fail(error) {
  const detail = error instanceof Problem ? error.message : String(error);
  return html`<div class="banner" role="alert">${detail}</div>`;
}

function shell() {
  const s = session();
  const here = location.hash.split("/").slice(0, 2).join("/");
  const link = (hash, key) => html`<a href="${hash}" aria-current="${here === hash ? "page" : "false"}">${t(key)}</a>`;
  render(html`<strong>${t("app.title")}</strong>
    ${s ? html`<nav aria-label="${t("nav.label")}">${link("#/integrations", "nav.integrations")}${link("#/quota", "nav.quota")}${link("#/keys", "nav.keys")}${link("#/events", "nav.events")}${link("#/audit", "nav.audit")}</nav>` : ""}
    <div class="who">
      <label for="lang" class="inline">${t("nav.language")}</label>
      <select id="lang" @change=${async (e) => { await load(e.target.value); sessionStorage.setItem("hub.lang", e.target.value); shell(); route(); }}>
        ${config.languages.map((l) => html`<option value="${l}" ?selected=${l === language}>${t(`lang.${l}`)}</option>`)}
      </select>
      ${s ? html`<span>${s.tenant}</span><button class="secondary" @click=${signOut}>${t("nav.signout")}</button>` : ""}
    </div>`, document.getElementById("top"));
}

function signOut() { endSession(); shell(); signIn(); }

function signIn(error) {
  location.hash = "";
  const submit = async (event) => {
    event.preventDefault();
    const form = event.target;
    saveSession({ tenant: form.tenant.value.trim(), token: form.key.value.trim(), kind: "api_key" });
    try {
      await call("GET", `/api/v1/tenants/${encodeURIComponent(form.tenant.value.trim())}/integrations`, { query: { limit: 1 } });
    } catch (e) { endSession(); return signIn(e); }
    shell(); go("#/integrations");
  };
  show(html`<h1>${t("signin.title")}</h1>
    ${error ? fail(error) : ""}
    <form @submit=${submit}>
      <label for="tenant">${t("signin.tenant")}</label><input id="tenant" name="tenant" required autocomplete="off">
      <label for="key">${t("signin.key")}<span class="hint">${t("signin.key_hint")}</span></label>
      <input id="key" name="key" type="password" required autocomplete="off">
      <p><button type="submit">${t("signin.submit")}</button></p>
    </form>
    ${config.entra ? html`<p><button class="secondary" @click=${entraSignIn}>${t("signin.entra")}</button></p>` : ""}`);
}

// Entra ID: authorization code + PKCE through MSAL.js (a popup), the access token kept in memory/session only.
async function entraSignIn() {
  const app = new window.msal.PublicClientApplication({
    auth: { clientId: config.entra.client_id, authority: config.entra.authority, redirectUri: `${location.origin}/console/` },
    cache: { cacheLocation: "sessionStorage" },
  });
  await app.initialize();
  const result = await app.loginPopup({ scopes: config.entra.scopes });
  saveSession({ tenant: "", token: result.accessToken, kind: "entra" });
  const me = await call("GET", "/api/v1/me");  // the user's directory maps to one tenant (HUB_ENTRA_TENANTS)
  saveSession({ tenant: me.tenant_id, token: result.accessToken, kind: "entra" });
  shell(); go("#/integrations");
}

export async function route() {
  if (!session()) return signIn();
  shell();
  for (const [pattern, screen] of ROUTES) {
    const match = location.hash.match(pattern);
    if (match) {
      try { await screen(match); } catch (e) { if (e instanceof Problem && e.status === 401) return signOut(); show(fail(e)); }
      main().focus();
      return;
    }
  }
  go("#/integrations");
}

async function start() {
  config = await (await fetch("/console/config.json")).json();
  const wanted = sessionStorage.getItem("hub.lang") || (navigator.language || "en").slice(0, 2);
  await load(config.languages.includes(wanted) ? wanted : "en");
  window.addEventListener("hashchange", route);
  route();
}

start();
