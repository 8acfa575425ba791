// i18n.js: the pages' words in the reader's language. Every string a page
// shows goes through t(), whose argument is the English text (a literal,
// so that web/i18n_test.go finds it); the other languages' catalogues,
// static/i18n/<lang>.json, map that English text to theirs. HTML marks its
// words with data-i18n (the element's text) and data-i18n-attr (a list of
// its attributes: title, aria-label, placeholder), which translatePage()
// translates. docs/architecture.md says how to add a string or a language.
//
// The language is the one chosen with the page's switch (kept in
// localStorage, and in a cookie for the server's own pages), else the
// browser's first that has a catalogue, else English. A page that can show
// its words again (onLanguage: the lesson page) switches in place, without
// a reload that would drop its connection and media; another reloads. ar-XB, a pseudo-locale, shows the English text right to left,
// to check the right-to-left layout.

/** LANGUAGES are the languages with a catalogue, by their own names. */
// Each language's name is in that language: it is not translated.
export const LANGUAGES = { en: "English", de: "Deutsch", es: "Español" }; // not user-facing

const CHOSEN = "classroom:language";
const RTL = new Set(["ar", "he", "fa", "ur"]);

/** pick is the page's language: the chosen one, else the browser's first known one, else English. */
function pick() {
  const chosen = localStorage.getItem(CHOSEN);
  const wanted = chosen ? [chosen] : [...(navigator.languages || []), navigator.language || ""];
  for (const l of wanted) {
    if (l === "ar-XB") return l;
    const base = String(l).toLowerCase().split("-")[0];
    if (LANGUAGES[base]) return base;
  }
  return "en";
}

/** load fetches a language's catalogue; English, and the pseudo-locale, need none. */
function load(l) {
  return l === "en" || l === "ar-XB" ? Promise.resolve({}) :
    fetch(`/static/i18n/${l}.json`).then((r) => r.ok ? r.json() : {}).catch(() => ({}));
}

/** lang is the page's language (it changes with setLanguage). */
export let lang = pick();
if (localStorage.getItem(CHOSEN)) keepForServer(lang); // a choice made before the server was told

let catalogue = await load(lang);

/**
 * t translates an English text and fills its {placeholders} from params.
 * A text the catalogue lacks stays English.
 */
export function t(english, params = {}) {
  let s = catalogue[english] || english;
  if (lang === "ar-XB") s = `\u202e${s}\u202c`;
  return s.replace(/\{(\w+)\}/g, (m, k) => (k in params ? String(params[k]) : m));
}

const dirOf = (l) => (RTL.has(l.split("-")[0]) ? "rtl" : "ltr");

/** dir is the page's writing direction. */
export let dir = dirOf(lang);

const relabels = [];

/**
 * onLanguage registers f, which shows the page's words again (each through
 * t()) after the language changed; translatePage has done the marked ones.
 */
export function onLanguage(f) { relabels.push(f); }

/**
 * setLanguage keeps the reader's choice and shows the page in it: in place
 * when the page registered onLanguage, else by reloading.
 */
export async function setLanguage(l) {
  localStorage.setItem(CHOSEN, l);
  keepForServer(l);
  if (!relabels.length) {
    location.reload();
    return;
  }
  catalogue = await load(l);
  lang = l;
  dir = dirOf(l);
  translatePage();
  for (const f of relabels) f();
}

/** keepForServer tells the server's own pages (sign-in, web/i18n) the chosen language, in a cookie. */
function keepForServer(l) {
  document.cookie = `classroom_language=${encodeURIComponent(l)}; path=/; max-age=31536000; SameSite=Lax`; // not user-facing
}

/** dateTime formats a time as a date and time in the page's language. */
export function dateTime(t) {
  return new Date(t).toLocaleString(locale(), { dateStyle: "medium", timeStyle: "short" });
}

/** locale is the language to format dates, times and numbers in. */
export function locale() { return lang === "ar-XB" ? "en" : lang; }

// english keeps the English of each marked element as the page first had
// it: {text, attrs: {name: text}}, to translate again from.
const english = new WeakMap();

function englishOf(e) {
  let o = english.get(e);
  if (!o) english.set(e, (o = { text: e.textContent.trim(), attrs: {} }));
  return o;
}

/**
 * translatePage translates the document's marked elements and attributes
 * (from their first, English, words), sets its language and direction, and
 * fills its language switches (#language, and any select[data-language]).
 */
export function translatePage(root = document) {
  document.documentElement.lang = lang;
  document.documentElement.dir = dir;
  for (const e of root.querySelectorAll("[data-i18n]")) e.textContent = t(englishOf(e).text);
  for (const e of root.querySelectorAll("[data-i18n-attr]")) {
    const o = englishOf(e);
    for (const a of e.dataset.i18nAttr.split(/\s+/)) {
      if (!(a in o.attrs) && e.hasAttribute(a)) o.attrs[a] = e.getAttribute(a);
      if (a in o.attrs) e.setAttribute(a, t(o.attrs[a]));
    }
  }
  for (const sw of root.querySelectorAll("#language, select[data-language]")) {
    sw.replaceChildren(...Object.entries(LANGUAGES).map(([code, name]) => {
      const o = document.createElement("option");
      o.value = code;
      o.lang = code;
      o.textContent = name;
      return o;
    }));
    sw.value = LANGUAGES[lang] ? lang : "en";
    sw.onchange = () => setLanguage(sw.value);
  }
}

translatePage();
