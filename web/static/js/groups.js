// groups.js: breakout groups on the lesson page (docs/protocol.md,
// section 5). The teacher splits the present students into groups in the
// Groups tab: at random, by hand (dragging names between groups, or with
// each name's "Move to" list from the keyboard) or letting the students
// choose; over a blank page or the current slide; with an optional timer.
// While they are open the teacher sees each group's members, visits a
// group and leaves it, moves a student, broadcasts a message, calls
// everyone back with a countdown and ends the groups; back in the main
// room, the teacher shows any group's board to the class. A student sees
// the group they are in and the time left above the board, the teacher's
// message, and draws on the group's board; while students choose, the
// Groups tab lists the groups to join. Every step is a command the server
// checks; the page shows what the folded state says.
//
// Of the functions at the end, groupOf is shared with the lesson page,
// groupStage with media.js, and shownBoard with the lesson page and the
// replay page, which follows the main room or any group.

import { $, el, NIL, nameOf, slideInfo, pageURL, chatItem, sendText } from "./views.js";
import { MAX_GROUPS, MAX_GROUP_MEMBERS, MAX_GROUP_SECONDS, MAX_RECALL_SECONDS, MAX_BROADCAST_RUNES } from "./limits.js";
import { t, lang } from "./i18n.js";
import { ZERO_TIME } from "./govalues.js";
import { clock } from "./clock.js";

const quiet = () => {}; // send() has shown a refusal already

export class Groups {
  constructor(app) {
    this.app = app;
    this.plan = null; // the teacher's groups not yet opened: [{id, name, members}]
    this.shownKey = null;
    this.ticker = 0;
    this.over = 0; // the breakout whose call back's countdown this page saw end
  }

  /** wire connects the teacher's form. */
  wire() {
    // The server's limits, not copies of them.
    $("groups-count").max = String(MAX_GROUPS);
    $("groups-minutes").max = String(MAX_GROUP_SECONDS / 60);
    $("groups-recall-seconds").max = String(MAX_RECALL_SECONDS);
    $("groups-message").maxLength = MAX_BROADCAST_RUNES;
    for (const id of ["groups-count", "groups-how"]) $(id).onchange = () => { this.plan = null; this.render(true); };
    $("groups-shuffle").onclick = () => { this.plan = null; this.render(true); };
    $("groups-open").onclick = () => this.open();
    sendText($("groups-message-form"), $("groups-message"), (text) => this.app.send("groups.messaged", { text }));
    $("groups-recall").onclick = () => this.app.send("groups.recalled", { seconds: Math.max(0, Number($("groups-recall-seconds").value) || 0) }).catch(quiet);
    $("groups-end").onclick = () => this.app.send("groups.ended").catch(quiet);
    $("group-leave").onclick = () => this.app.send("group.left").catch(quiet);
  }

  /** students lists the present students, by name. */
  students() {
    return this.app.state.present().filter((p) => p.role === "student").map((p) => p.id);
  }

  /**
   * planned returns the teacher's plan, made afresh when there is none.
   * At random, the present students are shuffled into the groups, and a
   * student who comes later, or comes back after leaving, joins the
   * smallest group; by hand, they wait in "Not in a group" until placed.
   * Students gone since are dropped.
   */
  planned() {
    const n = Math.min(MAX_GROUPS, Math.max(1, Math.floor(Number($("groups-count").value) || 1)));
    const here = this.students();
    if (!this.plan || this.plan.length !== n) {
      this.plan = Array.from({ length: n }, (_, i) => ({ id: crypto.randomUUID(), name: t("Group {n}", { n: i + 1 }), members: [] }));
      this.seen = new Set();
    }
    const fresh = here.filter((id) => !this.seen.has(id));
    this.seen = new Set(here); // one who leaves is fresh again on coming back
    if ($("groups-how").value === "random") {
      for (let i = fresh.length - 1; i > 0; i--) {
        const j = Math.floor(Math.random() * (i + 1));
        [fresh[i], fresh[j]] = [fresh[j], fresh[i]];
      }
      for (const id of fresh) {
        const g = this.plan.reduce((a, x) => (x.members.length < a.members.length ? x : a));
        if (g.members.length < MAX_GROUP_MEMBERS) g.members.push(id);
      }
    }
    for (const g of this.plan) g.members = g.members.filter((id) => here.includes(id));
    return this.plan;
  }

  /** move puts a student into a planned group, or out of every one with null. */
  move(student, group) {
    for (const g of this.plan) g.members = g.members.filter((id) => id !== student);
    const g = this.plan.find((x) => x.id === group);
    if (g && g.members.length < MAX_GROUP_MEMBERS) g.members.push(student);
    this.render(true);
  }

  /** open sends the plan: the groups open for everyone. */
  open() {
    const choose = $("groups-how").value === "choose";
    const plan = this.planned();
    const groups = plan.filter((g) => choose || g.members.length > 0).map((g) => ({ id: g.id, name: g.name, ...(choose ? {} : { members: g.members }) }));
    if (groups.length === 0) return;
    const data = { groups };
    if (choose) data.choose = true;
    if ($("groups-blank").checked) data.blank = true;
    const minutes = Number($("groups-minutes").value) || 0;
    if (minutes > 0) data.seconds = Math.round(minutes * 60);
    this.app.send("groups.formed", data).then(() => { this.plan = null; }, quiet);
  }

  /** render shows the groups as the state has them; force rebuilds the teacher's plan. */
  render(force = false) {
    const s = this.app.state;
    if (!s) return;
    const b = s.breakout;
    const teacher = this.app.role === "teacher";
    const mine = groupOf(s, this.app.me);
    document.body.classList.toggle("in-group", !!mine);
    this.renderBar(b, mine, teacher);
    this.tick();
    const key = JSON.stringify([lang, b, teacher && !(b && b.open) ? this.students().map((id) => nameOf(s, id)) : null, s.status]);
    if (key === this.shownKey && !force) return;
    this.shownKey = key;
    $("groups-badge").textContent = b && b.open ? String((b.groups || []).length) : ""; // not user-facing
    $("groups-new").hidden = !teacher || (b && b.open);
    $("groups-live").hidden = !teacher || !(b && b.open);
    if (teacher && !(b && b.open)) this.renderPlan();
    $("groups-list").replaceChildren(...(b && b.groups ? b.groups.map((g) => this.groupItem(s, b, g, teacher, mine)) : []));
    $("groups-none").hidden = !!(b && b.groups);
  }

  /** renderPlan shows the teacher's groups to open, each name draggable and movable from a list. */
  renderPlan() {
    const how = $("groups-how").value;
    $("groups-shuffle").hidden = how !== "random";
    const box = $("groups-plan");
    if (how === "choose") {
      box.replaceChildren(el("p", { class: "note" }, t("Students pick their group once the groups are open.")));
      return;
    }
    const plan = this.planned();
    const placed = new Set(plan.flatMap((g) => g.members));
    const rest = { id: "", name: t("Not in a group"), members: this.students().filter((id) => !placed.has(id)) };
    const targets = [rest, ...plan];
    box.replaceChildren(...targets.map((g) => {
      const list = el("ul", { class: "group-members", "data-group": g.id }, ...g.members.map((id) => this.planMember(id, g, targets)));
      const zone = el("div", { class: "group-plan", "data-group": g.id,
        ondragover: (e) => { e.preventDefault(); zone.classList.add("over"); },
        ondragleave: () => zone.classList.remove("over"),
        ondrop: (e) => { e.preventDefault(); zone.classList.remove("over"); this.move(e.dataTransfer.getData("text/plain"), g.id || null); },
      }, el("h3", {}, g.name, " ", el("span", { class: "count" }, String(g.members.length))), list);
      return zone;
    }));
  }

  /** planMember is a student in the plan: dragged with the mouse or a finger, moved with its list from the keyboard. */
  planMember(id, g, targets) {
    const name = nameOf(this.app.state, id);
    const move = el("select", { class: "small", "aria-label": t("Move {name} to", { name }),
      onchange: (e) => this.move(id, e.target.value || null) },
    ...targets.map((x) => el("option", { value: x.id, ...(x.id === g.id ? { selected: "" } : {}) }, x.name)));
    return el("li", { draggable: "true", "data-participant": id,
      ondragstart: (e) => { e.dataTransfer.setData("text/plain", id); e.dataTransfer.effectAllowed = "move"; },
    }, el("span", { class: "name" }, name), move);
  }

  /** groupItem is an open (or past) group in the Groups tab, with what this participant may do there. */
  groupItem(s, b, g, teacher, mine) {
    const members = g.members || [];
    const li = el("li", { class: "group", "data-group": g.id },
      el("h3", {}, g.name, " ", el("span", { class: "count" }, t("{n} of {max}", { n: members.length, max: MAX_GROUP_MEMBERS }))));
    const who = el("ul", { class: "group-members" }, ...members.map((id) => {
      const item = el("li", { "data-participant": id }, el("span", { class: "name" }, id === this.app.me ? t("{name} (you)", { name: nameOf(s, id) }) : nameOf(s, id)));
      if (teacher && b.open) {
        item.append(el("select", { class: "small", "aria-label": t("Move {name} to", { name: nameOf(s, id) }),
          onchange: (e) => this.app.send("group.joined", { group: e.target.value, participant: id }).catch(() => this.render(true)) },
        ...b.groups.map((x) => el("option", { value: x.id, ...(x.id === g.id ? { selected: "" } : {}) }, x.name))));
      }
      return item;
    }), ...(g.visitors || []).map((id) => el("li", { class: "visitor", "data-participant": id }, t("{name} (visiting)", { name: nameOf(s, id) }))));
    li.append(who);
    if (teacher && g.chat && g.chat.length > 0) {
      // The teacher reads every group's chat; a student, only their own group's, in the Chat tab.
      li.append(el("details", { class: "group-chat" }, el("summary", {}, t("Chat ({n})", { n: g.chat.length })),
        el("ol", { class: "messages" }, ...g.chat.slice(-50).map((m) => chatItem(s, m, this.app.me)))));
    }
    if (b.open && teacher) {
      const here = mine && mine.id === g.id;
      li.append(el("button", { type: "button", class: "small", "data-visit": g.id,
        onclick: () => this.app.send(here ? "group.left" : "group.joined", here ? {} : { group: g.id }).catch(quiet) },
      here ? t("Leave {group}", { group: g.name }) : t("Visit {group}", { group: g.name })));
      if (b.choose) {
        const waiting = this.students().filter((id) => !b.groups.some((x) => (x.members || []).includes(id)));
        if (waiting.length && g === b.groups[0]) li.before(el("p", { class: "note" }, t("Not in a group yet: {names}", { names: waiting.map((id) => nameOf(s, id)).join(", ") })));
      }
    } else if (b.open && b.choose && !teacher && s.status !== "ended") {
      const here = mine && mine.id === g.id;
      li.append(el("button", { type: "button", class: "small", "data-join": g.id, disabled: here || members.length >= MAX_GROUP_MEMBERS,
        onclick: () => this.app.send("group.joined", { group: g.id }).catch(quiet) },
      here ? t("You are in {group}", { group: g.name }) : t("Join {group}", { group: g.name })));
    } else if (!b.open && teacher && s.status !== "ended") {
      const shown = b.shown === g.id;
      li.append(el("button", { type: "button", class: "small", "data-show": g.id, "aria-pressed": String(shown),
        onclick: () => this.app.send("group.board.shown", { group: shown ? NIL : g.id }).catch(quiet) },
      shown ? t("Stop showing this group's board") : t("Show this group's board to the class")));
    }
    return li;
  }

  /**
   * renderBar fills the bar above the board: the group this participant is
   * in and the teacher's message, or, in the main room while groups are
   * open, that they are; a group's board shown to the class says whose.
   */
  renderBar(b, mine, teacher) {
    const bar = $("group-bar");
    const open = !!(b && b.open);
    bar.hidden = !open && !(b && b.shown !== NIL);
    $("group-leave").hidden = !(teacher && mine);
    const msg = $("group-message");
    msg.hidden = !(open && b.message);
    msg.textContent = open && b.message ? t("From the teacher: {text}", { text: b.message }) : "";
    const where = $("group-where");
    if (!open) {
      const g = b && b.shown !== NIL ? b.groups.find((x) => x.id === b.shown) : null;
      where.textContent = g ? t("The class sees {group}'s board.", { group: g.name }) : "";
    } else if (mine) {
      where.textContent = teacher ? t("You are visiting {group}.", { group: mine.name }) : t("You are in {group}.", { group: mine.name });
    } else if (teacher) {
      where.textContent = t("The groups are open; you are in the main room.");
    } else {
      where.textContent = b.choose ? t("Choose your group in the Groups tab.") : t("The groups are open; you are in the main room.");
      if (b.choose && this.app.sideTabs && this.noticed !== b.seq) {
        this.noticed = b.seq;
        this.app.sideTabs.select("tab-groups");
      }
    }
  }

  /**
   * tick shows the time left, once a second while a timer or a call back
   * runs; when a call back's countdown is over, everyone's media goes back
   * to the main stage, and the server ends the groups in the log.
   */
  tick() {
    const s = this.app.state;
    const b = s && s.breakout;
    const left = b && b.open ? timeLeft(b, Date.now()) : null;
    const out = $("group-time");
    out.hidden = !left;
    if (left) {
      out.dataset.kind = left.kind;
      out.textContent = left.kind === "recall" ? t("Back to the main room in {time}", { time: clock(Math.ceil(left.seconds)) })
        : left.seconds > 0 ? t("{time} left", { time: clock(Math.ceil(left.seconds)) }) : t("Time is up");
      if (left.kind === "recall" && left.seconds <= 0 && this.over !== b.seq) {
        // Everyone is back on the main stage: cameras of the groups stop.
        this.over = b.seq;
        this.app.media.sync();
        this.app.mark("media");
      }
    }
    clearTimeout(this.ticker);
    if (left) this.ticker = setTimeout(() => this.tick(), 1000 - (Date.now() % 1000) + 5);
  }
}

/**
 * groupStage returns the group whose media stage a participant is on at
 * `now` (ms): their open group until a call back's countdown is over, when
 * everyone is back on the main stage; null in the main room.
 */
export function groupStage(state, participant, now) {
  const g = groupOf(state, participant);
  if (!g) return null;
  const left = timeLeft(state.breakout, now);
  return left && left.kind === "recall" && left.seconds <= 0 ? null : g;
}

/** groupOf returns the open group a participant is in (as member or visitor), or null in the main room; Go's State.GroupOf. */
export function groupOf(state, participant) {
  const b = state.breakout;
  if (!b || !b.open || !participant) return null;
  return (b.groups || []).find((g) => (g.members || []).includes(participant) || (g.visitors || []).includes(participant)) || null;
}

/**
 * shownBoard says which board a page shows: the board of the group
 * `group` (a participant's own while the groups are open, or the one a
 * replay follows), the group's board the teacher shows the class in the
 * main room, or the current slide's. It returns {slide, background (a page
 * image's URL or null), label, group (or null)}.
 */
export function shownBoard(state, lesson, group = null) {
  const b = state.breakout;
  const g = group || (b && !b.open && b.shown !== NIL ? state.group(b.shown) : null);
  if (!g) {
    const { slide, deck, label } = slideInfo(state);
    return { slide, background: deck ? pageURL(lesson, slide.deck, slide.page) : null, label, group: null };
  }
  const under = g.slide || { deck: NIL, page: 0 };
  const deck = under.deck === NIL ? null : (state.decks || []).find((x) => x.id === under.deck) || null;
  return {
    slide: { deck: g.id, page: 0 },
    background: deck ? pageURL(lesson, under.deck, under.page) : null,
    label: deck ? t("{group}'s board, over {deck} page {page}", { group: g.name, deck: deck.name, page: under.page + 1 }) : t("{group}'s board", { group: g.name }),
    group: g,
  };
}

/**
 * timeLeft returns what the open groups count down to at `now` (ms): the
 * call back's countdown once everyone is called back, else the timer, as
 * {kind: "recall" or "timer", seconds}; or null when neither runs.
 */
function timeLeft(b, now) {
  if (b.recalled !== ZERO_TIME) return { kind: "recall", seconds: (Date.parse(b.recalled) + b.recall * 1000 - now) / 1000 };
  if (b.seconds > 0) return { kind: "timer", seconds: (Date.parse(b.started) + b.seconds * 1000 - now) / 1000 };
  return null;
}
