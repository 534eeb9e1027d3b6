// Translations are JSON files in /console/i18n/ (one per language, same keys): adding a language is adding a
// file; /console/config.json lists what is there. `t("key", {n: 3})` fills {n}.

let strings = {};
let fallback = {};
export let language = "en";

export async function load(lang) {
  const get = async (l) => (await fetch(`/console/i18n/${l}.json`)).json();
  fallback = await get("en");
  strings = lang === "en" ? fallback : await get(lang);
  language = lang;
  document.documentElement.lang = lang;
}

export function t(key, vars = {}) {
  const text = strings[key] ?? fallback[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in vars ? String(vars[name]) : `{${name}}`));
}
