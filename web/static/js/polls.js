// polls.js: polls and quizzes on the lesson page. The teacher asks a
// question (choices, one per line, a leading "*" marking a correct one; no
// choices for a free-text question), a quick "yes / no / not sure" or
// "thumbs", or one prepared earlier (kept in this browser), sees the count
// per choice live and who answered what unless the poll is anonymous,
// closes it and shows the results. A student answers from the panel and may
// change the answer until the poll closes, and sees the results once shown.
// Every step is a command (docs/protocol.md, section 5) the server checks;
// the panel shows what the folded state says. The panel is the side's Poll
// tab: a student's page opens it when a poll is asked, and its badge marks
// an open poll the student has not answered yet.

import { $, el } from "./views.js";
import { t, lang } from "./i18n.js";

const PREPARED = "classroom:polls";

export class Polls {
  constructor(app) {
    this.app = app;
  }

  /** wire connects the teacher's form. */
  wire() {
    const ask = (q) => this.app.send("poll.asked", { poll: crypto.randomUUID(), ...q }).catch(() => {});
    $("poll-ask").onclick = () => { const q = this.form(); if (q) ask(q); };
    $("poll-yesno").onclick = () => ask({ question: $("poll-question").value.trim() || t("Yes, no or not sure?"), choices: [t("Yes"), t("No"), t("Not sure")] });
    $("poll-thumbs").onclick = () => ask({ question: $("poll-question").value.trim() || t("Thumbs up or down?"), choices: ["👍", "👎"] });
    $("poll-save").onclick = () => {
      const q = this.form();
      if (!q) return;
      localStorage.setItem(PREPARED, JSON.stringify([...this.prepared(), q].slice(-20)));
      this.render();
    };
  }

  /** form reads the teacher's question, or null when it has none. */
  form() {
    const question = $("poll-question").value.trim();
    if (!question) return null;
    const q = { question };
    const lines = $("poll-choices").value.split("\n").map((l) => l.trim()).filter((l) => l !== "");
    if (lines.length > 0) {
      q.choices = lines.map((l) => l.replace(/^\*\s*/, ""));
      const correct = lines.flatMap((l, i) => (l.startsWith("*") ? [i] : []));
      if (correct.length > 0) q.correct = correct;
      if ($("poll-multiple").checked) q.multiple = true;
    }
    if ($("poll-anonymous").checked) q.anonymous = true;
    return q;
  }

  prepared() {
    try {
      return JSON.parse(localStorage.getItem(PREPARED) || "[]");
    } catch {
      return [];
    }
  }

  /** render shows the latest poll as the state has it. */
  render() {
    const s = this.app.state;
    if (!s) return;
    const teacher = this.app.role === "teacher";
    if (teacher) {
      $("poll-prepared").replaceChildren(...this.prepared().map((q) => el("li", {},
        el("button", { type: "button", class: "small", onclick: () => this.app.send("poll.asked", { poll: crypto.randomUUID(), ...q }).catch(() => {}) }, t("Ask")),
        " ", q.question)));
    }
    const q = s.polls && s.polls.length > 0 ? s.polls[s.polls.length - 1] : null;
    this.notice(q, teacher);
    const box = $("poll");
    // Rebuild only when what the panel shows (or its language) changed, so
    // that a student's choices not yet sent survive other events.
    const key = !q ? "" : [lang, q.id, q.open, q.shown, teacher ? q.answers.map((a) => a.seq).join(",") + "|" + q.answers.map((a) => this.app.nameOf(a.participant)).join(",")
      : (q.answers.find((a) => a.participant === this.app.me) || { seq: 0 }).seq].join("|");
    if (key === this.shownKey) return;
    this.shownKey = key;
    if (!q || (!teacher && !q.open && !q.shown)) {
      box.replaceChildren();
      box.hidden = true;
      return;
    }
    box.hidden = false;
    box.dataset.poll = q.id;
    box.dataset.open = q.open ? "true" : "false";
    const parts = [el("p", { class: "question" }, q.question, q.anonymous ? t(" (anonymous)") : "")];
    if (teacher) parts.push(...this.teacherView(s, q));
    else parts.push(...this.studentView(s, q));
    box.replaceChildren(...parts);
  }

  /**
   * notice opens a student's Poll tab when a poll is asked, and marks the
   * tab while the latest poll is open and the student has not answered it.
   */
  notice(q, teacher) {
    const waiting = !teacher && q && q.open && !q.answers.some((a) => a.participant === this.app.me);
    $("poll-badge").textContent = waiting ? "1" : ""; // not user-facing
    if (!waiting || q.id === this.noticed) return;
    this.noticed = q.id;
    if (this.app.sideTabs) this.app.sideTabs.select("tab-poll");
  }

  teacherView(s, q) {
    const counts = s.pollCounts(q);
    const out = [countList(q, counts)];
    if (!q.anonymous) {
      out.push(el("ul", { class: "poll-answers" }, ...q.answers.map((a) => el("li", { "data-participant": a.participant },
        this.app.nameOf(a.participant), ": ", a.text !== "" ? a.text : a.choices.map((c) => q.choices[c]).join(", ")))));
    }
    if (q.open) {
      out.push(el("button", { type: "button", id: "poll-close", onclick: () => this.app.send("poll.closed", { poll: q.id }).catch(() => {}) }, t("Close")));
    } else if (!q.shown) {
      out.push(el("button", { type: "button", id: "poll-show", onclick: () => this.app.send("poll.results_shown", { poll: q.id, counts }).catch(() => {}) }, t("Show results to the class")));
    } else {
      out.push(el("p", { class: "note" }, t("Results shown to the class.")));
    }
    return out;
  }

  studentView(s, q) {
    if (q.shown) return [countList(q, q.results)];
    const mine = q.answers.find((a) => a.participant === this.app.me);
    const send = (data) => this.app.send("poll.answered", { poll: q.id, ...data, ...(q.anonymous ? { anonymous: true } : {}) }).catch(() => {});
    if (q.choices.length === 0) {
      const input = el("input", { id: "poll-text", placeholder: t("Your answer"), "aria-label": t("Your answer"), value: mine ? mine.text : "" });
      return [input, el("button", { type: "button", id: "poll-send", onclick: () => input.value.trim() && send({ text: input.value.trim() }) }, mine ? t("Change my answer") : t("Answer"))];
    }
    const picked = new Set(mine ? mine.choices : []);
    const list = el("ul", { class: "poll-choices" }, ...q.choices.map((c, i) => el("li", {},
      el("label", {}, el("input", { type: q.multiple ? "checkbox" : "radio", name: "poll-choice", value: String(i), "data-choice": String(i), ...(picked.has(i) ? { checked: "" } : {}) }), " ", c))));
    const button = el("button", { type: "button", id: "poll-send", onclick: () => {
      const choices = [...list.querySelectorAll("input:checked")].map((i) => Number(i.value)).sort((a, b) => a - b);
      if (choices.length > 0) send({ choices });
    } }, mine ? t("Change my answer") : t("Answer"));
    return [list, button, el("p", { class: "note" }, mine ? t("Answered; you may change it until the teacher closes the poll.") : "")];
  }

}

/**
 * showPoll shows the latest poll of a state read-only in box, as the replay
 * has it at its position: the question, and the count per choice (the
 * results once shown).
 */
export function showPoll(s, box) {
  const q = s.polls && s.polls.length > 0 ? s.polls[s.polls.length - 1] : null;
  box.hidden = !q;
  if (!q) return box.replaceChildren();
  const counts = q.shown ? q.results : s.pollCounts(q);
  box.dataset.poll = q.id;
  box.replaceChildren(el("p", { class: "question" }, q.question, q.open ? t(" (open)") : t(" (closed)")), countList(q, counts));
}

/** countList lists a poll's choices with a count each; a shown quiz marks the correct ones. */
function countList(q, counts) {
  const labels = q.choices.length > 0 ? q.choices : [t("Answered")];
  return el("ol", { class: "poll-counts" }, ...labels.map((c, i) => el("li", { "data-choice": String(i),
    class: q.shown && q.correct.includes(i) ? "correct" : "" }, c, ": ", el("span", { class: "n" }, String(counts[i] || 0)))));
}
