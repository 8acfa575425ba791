// home.js: the home page. It creates lessons, hands out their two links,
// and lists the lessons this device made or joined (mine.js) with the links
// to come back with. Every lesson of the server, newest first, it lists only
// for the server's operator, who opens the page as /#operator=KEY (the key
// stays in this tab's sessionStorage, out of the address bar).

import { mine, remember, forget } from "./mine.js";
import { MAX_TITLE_RUNES } from "./limits.js";
import { t, dateTime } from "./i18n.js";
import { followVideo } from "./videofile.js";

/** The stops of the renders followed in the list of my lessons, drawn anew by showMine. */
let videoFollowers = [];

const $ = (id) => document.getElementById(id);

function absolute(url) { return new URL(url, location.href).href; }


async function api(path, init) {
  const r = await fetch(path, init);
  const body = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(body.error ? body.error.message : `${r.status} ${r.statusText}`);
  return body;
}

function lessonItem(l, link) {
  const li = document.createElement("li");
  const title = document.createElement("span");
  title.className = "title";
  title.textContent = l.title;
  const at = document.createElement("span");
  at.className = "when";
  at.textContent = l.ended ? t("{when} · ended", { when: dateTime(l.created) }) : dateTime(l.created);
  li.append(title, at);
  if (link) {
    const open = document.createElement("a");
    open.href = link;
    open.textContent = l.ended ? t("Look back") : t("Open");
    // The link opens the replay too, the teacher's or a student's: /lessons/{id}/replay#token=…
    const replay = document.createElement("a");
    replay.href = link.replace("#", "/replay#");
    replay.textContent = t("Replay");
    li.append(open, replay);
  }
  return li;
}

function tokenOf(url) {
  return new URLSearchParams(url.split("#")[1] || "").get("token") || "";
}

/**
 * teacherTools adds to a lesson the teacher made on this device how many
 * attended (from the attendance report the server folds from its log), a
 * link to the attendance page, and, once it has ended, a Delete that asks
 * first.
 */
async function teacherTools(li, l) {
  const tok = tokenOf(l.url);
  const count = document.createElement("span");
  count.className = "attended note";
  li.append(count);
  const r = await fetch(`/api/lessons/${l.id}/export?format=attendance.json&access_token=${encodeURIComponent(tok)}`);
  if (!r.ok) return;
  const report = await r.json();
  const students = report.participants.filter((p) => p.role === "student").length;
  count.textContent = students === 1 ? t("1 student attended") : t("{n} students attended", { n: students });
  const att = document.createElement("a");
  att.href = `/lessons/${l.id}/attendance#token=${encodeURIComponent(tok)}`;
  att.textContent = t("Attendance");
  li.append(att);
  const info = await api(`/api/lessons/${l.id}`).catch(() => null);
  if (!info || !info.ended) return;
  const del = document.createElement("button");
  del.type = "button";
  del.className = "delete";
  del.textContent = t("Delete");
  del.onclick = async () => {
    if (!confirm(t("Delete \"{title}\" for good: its log, slides, board and recordings? This cannot be undone.", { title: l.title }))) return;
    try {
      await api(`/api/lessons/${l.id}`, { method: "DELETE", headers: { Authorization: `Bearer ${tok}` } });
      forget(l.id);
      showMine();
      before = "";
      more();
    } catch (err) {
      count.textContent = t("Could not delete: {reason}", { reason: err.message });
    }
  };
  li.append(del);
}

/** videoBox adds to a lesson of mine the state of its video, once it has ended. */
function videoBox(li, l) {
  const token = tokenOf(l.url);
  if (!token) return li;
  const box = Object.assign(document.createElement("span"), { className: "videofile", hidden: true });
  li.append(box);
  videoFollowers.push(followVideo(box, l.id, token));
  return li;
}

function showMine() {
  for (const stop of videoFollowers) stop();
  videoFollowers = [];
  const list = mine();
  $("mine-section").hidden = list.length === 0;
  $("mine").replaceChildren(...list.map((l) => {
    const live = new Date(l.expires) > new Date();
    const li = lessonItem(l, live ? l.url : null);
    li.dataset.lesson = l.id;
    if (live && l.role === "teacher") teacherTools(li, l).catch(() => {});
    return live ? videoBox(li, l) : li;
  }));
}

// OPERATOR (in sessionStorage) is the operator's key this tab was opened with.
const OPERATOR = "classroom:operator";
const hash = new URLSearchParams(location.hash.slice(1));
if (hash.get("operator")) {
  sessionStorage.setItem(OPERATOR, hash.get("operator"));
  history.replaceState(null, "", location.pathname);
}
const operator = sessionStorage.getItem(OPERATOR) || "";

let before = "";
async function more() {
  if (!operator) return;
  try {
    const q = new URLSearchParams({ limit: "50" });
    if (before) q.set("before", before);
    const list = await api(`/api/lessons?${q}`, { headers: { Authorization: `Bearer ${operator}` } });
    const lessons = Array.isArray(list) ? list : list.lessons || [];
    const ul = $("lessons");
    if (!before) ul.replaceChildren();
    const known = new Map(mine().map((l) => [l.id, l]));
    for (const l of lessons) ul.append(lessonItem(l, known.has(l.id) ? known.get(l.id).url : null));
    if (!before && lessons.length === 0) ul.replaceChildren(Object.assign(document.createElement("li"), { className: "note", textContent: t("No lessons yet.") }));
    before = lessons.length ? lessons[lessons.length - 1].created : before;
    $("more").hidden = lessons.length < 50;
  } catch (err) {
    $("lessons").replaceChildren(Object.assign(document.createElement("li"), { className: "note", textContent: t("Could not list lessons: {reason}", { reason: err.message }) }));
  }
}

$("create").addEventListener("submit", async (e) => {
  e.preventDefault();
  $("create-error").textContent = "";
  try {
    const l = await api("/api/lessons", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ title: $("lesson-title").value.trim(), lobby: $("lesson-lobby").checked }),
    });
    remember({ id: l.id, title: l.title, created: l.created, url: l.teacher.url, expires: l.teacher.expires, role: "teacher" });
    $("teacher-link").value = absolute(l.teacher.url);
    $("students-link").value = absolute(l.students.url);
    $("open-teacher").href = l.teacher.url;
    $("expires").textContent = t("The links work until {when}; from the lesson page you can make a new students' link at any time.", { when: dateTime(l.teacher.expires) });
    $("created").hidden = false;
    showMine();
    before = "";
    more();
  } catch (err) {
    $("create-error").textContent = t("Could not create the lesson: {reason}", { reason: err.message });
  }
});

document.addEventListener("click", async (e) => {
  const id = e.target.dataset && e.target.dataset.copy;
  if (!id) return;
  const input = $(id);
  input.select();
  try {
    await navigator.clipboard.writeText(input.value);
    e.target.textContent = t("Copied");
    setTimeout(() => { e.target.textContent = t("Copy"); }, 1500);
  } catch {
    document.execCommand("copy");
  }
});

$("lesson-title").maxLength = MAX_TITLE_RUNES;
$("past-section").hidden = !operator;
$("more").addEventListener("click", more);
showMine();
more();
