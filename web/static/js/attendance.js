// attendance.js: the teacher's attendance page for one lesson. It reads the
// report the server folds from the lesson's log (the attendance.json export,
// docs/protocol.md section 1) with the teacher's token from the link's
// fragment, and shows it as a table sorted by any column, each row with a
// bar of the time the participant was present across the lesson. The CSV
// and JSON are the same report, downloaded.

import { t, locale, dateTime } from "./i18n.js";
import { clock } from "./clock.js";

const $ = (id) => document.getElementById(id);

const m = location.pathname.match(/^\/lessons\/([0-9a-f-]{36})\/attendance\/?$/);
const lesson = m ? m[1] : "";
const token = new URLSearchParams(location.hash.slice(1)).get("token") || "";

function exportURL(format) {
  return `/api/lessons/${lesson}/export?format=${format}&access_token=${encodeURIComponent(token)}`;
}

// hms shows a duration of the report, in milliseconds, as h:mm:ss.
const hms = (ms) => clock(ms / 1000, { hours: true });

function when(at) {
  return at ? new Date(at).toLocaleTimeString(locale(), { hour: "2-digit", minute: "2-digit", second: "2-digit" }) : t("present");
}

let report = null;
let sortKey = "first_join";
let ascending = true;

function bar(p) {
  const start = Date.parse(report.start);
  const span = Math.max(1, Date.parse(report.until) - start);
  const b = document.createElement("div");
  b.className = "presence";
  b.setAttribute("role", "img");
  b.setAttribute("aria-label", t("present {time} of {span}", { time: hms(p.present_ms), span: hms(span) }));
  for (const iv of p.presence) {
    const seg = document.createElement("span");
    seg.style.left = `${((Date.parse(iv.from) - start) / span) * 100}%`;
    seg.style.width = `${Math.max(0.5, ((Date.parse(iv.to) - Date.parse(iv.from)) / span) * 100)}%`;
    b.append(seg);
  }
  return b;
}

function cell(text) {
  const td = document.createElement("td");
  td.textContent = text;
  return td;
}

function render() {
  const rows = [...report.participants].sort((a, b) => {
    const x = a[sortKey] ?? "", y = b[sortKey] ?? "";
    const c = typeof x === "number" ? x - y : String(x).localeCompare(String(y));
    return ascending ? c : -c;
  });
  $("rows").replaceChildren(...rows.map((p) => {
    const tr = document.createElement("tr");
    tr.dataset.participant = p.id;
    const name = cell(p.removed ? t("{name} (removed)", { name: p.name }) : p.name);
    const presence = document.createElement("td");
    presence.append(bar(p));
    tr.append(name, cell(p.role === "teacher" ? t("teacher") : p.role === "student" ? t("student") : p.role), cell(p.absent ? t("never came") : when(p.first_join)), cell(p.absent ? "" : when(p.last_leave)), cell(hms(p.present_ms)), presence,
      cell(String(p.hands)), cell(String(p.floor)), cell(hms(p.floor_ms)), cell(String(p.strokes)), cell(String(p.objects)),
      cell(String(p.chat)), cell(String(p.answers)), cell(p.quizzes > 0 ? `${p.quiz_right} / ${p.quizzes}` : ""));
    return tr;
  }));
  for (const th of document.querySelectorAll("th[data-key]")) {
    th.setAttribute("aria-sort", th.dataset.key === sortKey ? (ascending ? "ascending" : "descending") : "none");
  }
}

async function load() {
  if (!lesson || !token) {
    $("problem").textContent = t("This is not an attendance link: open it from your lesson.");
    return;
  }
  $("csv").href = exportURL("attendance.csv");
  $("json").href = exportURL("attendance.json");
  $("polls-csv").href = exportURL("polls.csv");
  const r = await fetch(exportURL("attendance.json"));
  const body = await r.json().catch(() => ({}));
  if (!r.ok) {
    $("problem").textContent = body.error ? body.error.message : `${r.status} ${r.statusText}`;
    return;
  }
  report = body;
  $("title").textContent = t("Attendance · {title}", { title: report.title });
  document.title = t("Attendance · {title} · classroom", { title: report.title });
  $("span").textContent = t("From {start} to {until}, {n} participants. Times present are folded from the lesson's log: the same now, after the lesson and in its replay.",
    { start: dateTime(report.start), until: dateTime(report.until), n: report.participants.length });
  render();
  window.attendance = { ready: true, report };
}

for (const th of document.querySelectorAll("th[data-key]")) {
  th.querySelector("button").addEventListener("click", () => {
    if (sortKey === th.dataset.key) ascending = !ascending;
    else { sortKey = th.dataset.key; ascending = true; }
    render();
  });
}
window.attendance = { ready: false };
load().catch((err) => { $("problem").textContent = String(err); });
