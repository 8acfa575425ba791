// mine.js: the lessons this device took part in, kept in localStorage for
// the home page's "Your lessons": those the teacher made here, and those a
// teacher or student joined here, each with the token to come back with
// (a student's own, once the server gave it).

const MINE = "classroom:my-lessons"; // [{id, title, created, url, expires, role}]
const MAX = 200;

/** mine returns the remembered lessons, most recent first. */
export function mine() {
  try { return JSON.parse(localStorage.getItem(MINE)) || []; } catch { return []; }
}

/**
 * remember puts a lesson first in the list: {id, title, created, url,
 * expires, role}. A teacher's link still valid is not replaced by a
 * student's opened on the same device; its title is brought up to date.
 */
export function remember(lesson) {
  const list = mine();
  const old = list.find((l) => l.id === lesson.id);
  // Entries from before roles were kept are all teachers' (the home page
  // remembered only the lessons it made).
  const oldRole = old ? old.role || "teacher" : "";
  const keepOld = oldRole === "teacher" && lesson.role !== "teacher" && new Date(old.expires) > new Date();
  const entry = keepOld ? { ...old, title: lesson.title || old.title } : lesson;
  const rest = list.filter((l) => l.id !== lesson.id);
  try {
    localStorage.setItem(MINE, JSON.stringify([entry, ...rest].slice(0, MAX)));
  } catch { /* storage full or refused: the list is a convenience */ }
}

/** forget takes a lesson out of the list (it was deleted). */
export function forget(id) {
  try {
    localStorage.setItem(MINE, JSON.stringify(mine().filter((l) => l.id !== id)));
  } catch { /* as remember */ }
}

/** claims reads a link token's claims (a JWT's payload): {exp, role, …}, or {}. */
export function claims(token) {
  try {
    return JSON.parse(atob(token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/"))) || {};
  } catch {
    return {};
  }
}

/** tokenExpiry reads a link token's expiry as an RFC 3339 string, or "". */
export function tokenExpiry(token) {
  const { exp } = claims(token);
  return typeof exp === "number" ? new Date(exp * 1000).toISOString() : "";
}
