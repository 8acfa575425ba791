// i18n.js: the pages' words in the reader's language. Every string a page
// shows goes through t(), whose argument is the English text (a literal,
// so that web/i18n_test.go finds it); the other languages' catalogues,
// static/i18n/<lang>.json, map that English text to theirs. HTML marks its
// words with data-i18n (the element's text) and data-i18n-attr (a list of
// its attributes: title, aria-label, placeholder), which translatePage()
// translates. docs/architecture.md says how to add a string or a language.
//
// The language is the one chosen with the page's switch (kept in
// localStorage), else the browser's first that has a catalogue, else
// English. ar-XB, a pseudo-locale, shows the English text right to left,
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

export const lang = pick();

const catalogue = lang === "en" || lang === "ar-XB" ? {} :
  await fetch(`/static/i18n/${lang}.json`).then((r) => r.ok ? r.json() : {}).catch(() => ({}));

/**
 * t translates an English text and fills its {placeholders} from params.
 * A text the catalogue lacks stays English.
 */
export function t(english, params = {}) {
  let s = catalogue[english] || english;
  if (lang === "ar-XB") s = `\u202e${s}\u202c`;
  return s.replace(/\{(\w+)\}/g, (m, k) => (k in params ? String(params[k]) : m));
}

/** dir is the page's writing direction. */
export const dir = RTL.has(lang.split("-")[0]) ? "rtl" : "ltr";

/** setLanguage keeps the reader's choice and reloads the page in it. */
export function setLanguage(l) {
  localStorage.setItem(CHOSEN, l);
  keepForServer(l);
  location.reload();
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

/**
 * translatePage translates the document's marked elements and attributes,
 * sets its language and direction, and fills a language switch
 * (#language, a select) when the page has one.
 */
export function translatePage(root = document) {
  document.documentElement.lang = lang;
  document.documentElement.dir = dir;
  for (const e of root.querySelectorAll("[data-i18n]")) e.textContent = t(e.textContent.trim());
  for (const e of root.querySelectorAll("[data-i18n-attr]")) {
    for (const a of e.dataset.i18nAttr.split(/\s+/)) if (e.hasAttribute(a)) e.setAttribute(a, t(e.getAttribute(a)));
  }
  const sw = root.getElementById ? root.getElementById("language") : null;
  if (sw) {
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
