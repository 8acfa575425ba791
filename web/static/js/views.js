// views.js: the parts of a lesson the live page and the replay page show
// alike: people, hands and the floor, chat, the slide's label. Each takes
// the lesson state (state.js) and fills elements by id; none keeps state.

import { MAX_WHITEBOARD_PAGES } from "./limits.js";
import { t, locale } from "./i18n.js";

export const NIL = "00000000-0000-0000-0000-000000000000";

export const $ = (id) => document.getElementById(id);

/** el makes an element with attributes ("on…" ones are listeners) and children. */
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (v !== false && v !== undefined) e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children) e.append(c);
  return e;
}

/** toast shows a short message; kind is "error" or "info". */
export function toast(message, kind = "info") {
  const t = el("div", { class: `toast ${kind}`, role: kind === "error" ? "alert" : "status" }, message);
  $("toasts").append(t);
  setTimeout(() => t.remove(), kind === "error" ? 8000 : 4000);
}

/** banner shows a lasting message above the room, or hides it with "". */
export function banner(message, kind = "info") {
  const b = $("banner");
  b.hidden = !message;
  b.textContent = message || "";
  b.dataset.kind = kind;
}

/** nameOf is a participant's display name, or their id. */
export function nameOf(state, id) {
  const p = state && state.participants.get(id);
  return p && p.name ? p.name : id;
}

/** slideInfo describes the current slide: its deck (null for the whiteboard), pages and label. */
export function slideInfo(state) {
  const sl = state.slide || { deck: NIL, page: 0 };
  const deck = sl.deck === NIL ? null : (state.decks || []).find((x) => x.id === sl.deck) || null;
  const pages = deck ? deck.pages : MAX_WHITEBOARD_PAGES;
  const label = deck ? t("{deck} · page {page} of {pages}", { deck: deck.name, page: sl.page + 1, pages })
    : t("Whiteboard · page {page}", { page: sl.page + 1 });
  return { slide: sl, deck, pages, label };
}

/**
 * renderPeople fills #people, #queue, #floor-line and the counts. With
 * teacher actions ({grant, lower, revoke, permit}) it adds their buttons.
 */
export function renderPeople(state, { me = "", actions = null } = {}) {
  const people = state.present();
  const hands = state.hands || [];
  // Several present under one name (a class link opened in many tabs) are
  // numbered in the order they first joined, to tell them apart.
  const byName = new Map();
  for (const p of state.participants.values()) {
    if (p && p.present) byName.set(p.name, [...(byName.get(p.name) || []), p.id]);
  }
  const shownName = (p) => {
    const same = byName.get(p.name) || [];
    const name = p.name || p.id;
    return same.length > 1 ? t("{name} ({n})", { name, n: same.indexOf(p.id) + 1 }) : name;
  };
  $("people-count").textContent = String(people.length);
  $("people").replaceChildren(...people.map((p) => {
    const li = el("li", { "data-participant": p.id, class: p.role },
      el("span", { class: "name" }, p.id === me ? t("{name} (you)", { name: shownName(p) }) : shownName(p)),
      el("span", { class: "role" }, p.role === "teacher" ? t("teacher") : t("student")));
    if (hands.includes(p.id)) li.append(el("span", { class: "badge hand" }, t("hand up")));
    if (state.floor === p.id) li.append(el("span", { class: "badge floor" }, t("on the floor")));
    if (actions && p.role === "student") {
      const allowed = state.canDraw(p.id);
      const shown = allowed ? t("✎ may draw") : t("✎ may not draw");
      const action = allowed ? t("Stop {name} drawing", { name: p.name }) : t("Let {name} draw", { name: p.name });
      li.append(el("button", {
        type: "button", class: "small", title: action, "aria-label": `${shown}: ${action}`,
        onclick: () => actions.permit(p.id, !allowed),
      }, shown));
    }
    return li;
  }));
  $("hand-count").textContent = hands.length ? String(hands.length) : "";
  // The hands stay in sight above the tabs, and take no room while there are none.
  $("queue").closest("section").hidden = hands.length === 0 && !state.floor;
  $("queue").replaceChildren(...hands.map((id) => {
    const li = el("li", { "data-participant": id }, el("span", { class: "name" }, nameOf(state, id)));
    if (actions) {
      li.append(el("button", { type: "button", class: "small grant", onclick: () => actions.grant(id) }, t("Give the floor")));
      li.append(el("button", { type: "button", class: "small", onclick: () => actions.lower(id) }, t("Lower")));
    }
    return li;
  }));
  const fl = $("floor-line");
  fl.replaceChildren();
  if (state.floor) {
    fl.append(state.floor === me ? t("You have the floor.") : t("{name} has the floor.", { name: nameOf(state, state.floor) }));
    if (actions) fl.append(" ", el("button", { type: "button", class: "small revoke", onclick: () => actions.revoke(state.floor) }, t("Take it back")));
  }
}

/**
 * describeBoard puts the text of the board shown (its label and its text
 * objects, in drawing order) in #board-text, which screen readers read in
 * place of the canvas. shown is {slide, label}, the current slide's when
 * not given.
 */
export function describeBoard(state, shown = slideInfo(state)) {
  const list = $("board-text");
  if (!list) return;
  const { slide, label } = shown;
  const texts = state.visible(slide).filter((o) => o.kind === "text" && o.text).map((o) => el("li", {}, o.text));
  list.replaceChildren(el("li", {}, label), ...texts);
}

/**
 * sendText wires a form of one text input: on submit its trimmed text, when
 * there is some, goes to send(text), a promise; the input is emptied, and
 * given the text back when send refuses it.
 */
export function sendText(form, input, send) {
  form.onsubmit = (e) => {
    e.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    send(text).catch(() => { input.value = text; });
  };
}

/** chatItem is one chat message as a list item. */
export function chatItem(state, { actor, time, text }, me = "") {
  return el("li", { class: actor === me ? "mine" : "" },
    el("div", { class: "head" },
      el("span", { class: "who" }, nameOf(state, actor)),
      el("time", { datetime: time }, clock.format(new Date(time)))),
    el("p", {}, text));
}

// One formatter for every message: toLocaleTimeString makes one a call,
// which costs more than the rest of a message's rendering.
const clock = new Intl.DateTimeFormat(locale(), { hour: "2-digit", minute: "2-digit" });

/** CHAT_SHOWN is how many of the latest messages #messages holds. */
export const CHAT_SHOWN = 500;

/** appendChat adds messages to #messages, keeping the view at the end when it was there. */
export function appendChat(items) {
  const list = $("messages");
  const atEnd = list.scrollTop + list.clientHeight >= list.scrollHeight - 8;
  list.append(...items.slice(-CHAT_SHOWN));
  while (list.children.length > CHAT_SHOWN) list.firstChild.remove();
  if (atEnd) list.scrollTop = list.scrollHeight;
}

/**
 * showChat fills #messages with the latest CHAT_SHOWN messages at once (a
 * long lesson has thousands), scrolled to the end: the state's chat, or
 * the messages given (a breakout group's).
 */
export function showChat(state, me = "", messages = state.chat) {
  const list = $("messages");
  list.replaceChildren(...(messages || []).slice(-CHAT_SHOWN).map((m) => chatItem(state, m, me)));
  list.scrollTop = list.scrollHeight;
}

/**
 * boardView is a slide's board as board.js takes it: the objects, and the
 * history of the local participant only (state.js keeps histories in a Map).
 */
export function boardView(board, me) {
  if (!board) return null;
  const h = board.history ? board.history.get(me) : null;
  return { objects: board.objects, history: h ? { [me]: h } : null };
}

/** pageURL is where a deck's page image is served (see web/decks.go). */
export function pageURL(lesson, deck, page) {
  return `/api/lessons/${lesson}/decks/${deck}/pages/${page}`;
}
