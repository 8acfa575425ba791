// lesson.js: the lesson page, one page for the teacher and the students.
//
// It joins with the token in the link's fragment (#token=…), keeps the
// lesson as a fold of its events (state.js), shows the board of the current
// slide (board.js), the teacher's and the floor holder's video, the hands,
// the people and the chat, and shows each participant only what their role
// may do. A dropped connection is resumed with the resume token and the last
// sequence held; commands not yet answered are sent again with the same ids,
// which the server stores once.
//
// Its other jobs are modules of their own: media.js (camera, microphone,
// screen and the video tiles), toolbar.js (the board's tools, page turning,
// deck upload) and links.js (the links it hands out). A server that does not
// serve the page's protocol version makes it reload once (incompatible).
//
// For tests it exposes window.classroom: {ready, hash(), state, board,
// send(kind, data), videoStats(), errors, studentsLink}.

import { LessonConnection } from "./connection.js";
import { connectionPath } from "./path.js";
import { remember, claims, tokenExpiry } from "./mine.js";
import { invite, keptToken, showReplay, exportLesson } from "./links.js";
import { openStreamKeys } from "./streamkeys.js";
import { LessonState } from "./state.js";
import { MAX_CHAT_RUNES, MAX_NAME_RUNES } from "./limits.js";
import { Media } from "./media.js";
import { Toolbar } from "./toolbar.js";
import { tabs } from "./tabs.js";
import { t, onLanguage } from "./i18n.js";
import { Controls } from "./controls.js";
import { Polls } from "./polls.js";
import { Groups, groupOf, shownBoard } from "./groups.js";
import { NIL, $, el, toast, banner, nameOf, slideInfo, renderPeople, chatItem, appendChat, showChat, boardView, describeBoard, sendText } from "./views.js";

// RELOADED_FOR (in sessionStorage) is the server's protocol version the
// page last reloaded for; it reloads for that version once only.
const RELOADED_FOR = "classroom:reloaded-for";

/** describe turns a refused command's code into words for people. */
function describe(err) {
  const msg = err && err.message ? err.message : String(err);
  switch (err && err.code) {
    case "forbidden": return t("Not allowed: {reason}", { reason: msg });
    case "rate_limited": return t("Slow down: too many actions at once.");
    case "conflict": return msg;
    default: return msg;
  }
}

// MESSAGE_TOO_BIG is the WebSocket close code of a message over the
// receiver's limit (RFC 6455, section 7.4.1).
const MESSAGE_TOO_BIG = 1009;

class App {
  constructor() {
    const m = location.pathname.match(/^\/lessons\/([0-9a-f-]{36})\/?$/);
    this.lesson = m ? m[1] : "";
    const hash = new URLSearchParams(location.hash.slice(1));
    this.linkToken = hash.get("token") || "";
    this.saved = this.load();
    this.token = this.saved.resume || this.linkToken;
    this.name = localStorage.getItem("classroom:name") || "";
    this.state = null;
    this.seq = 0;
    this.conn = null;
    this.me = "";
    this.role = "";
    this.slideKey = "";
    this.pending = new Map(); // command id → {kind, data, resolve, reject}
    this.live = false;
    this.ending = false; // leaving for good, or replaced: no reconnect
    this.retry = 0;
    this.errors = []; // refused commands, for people and for tests
    this.media = new Media(this);
    this.toolbar = new Toolbar(this);
    this.controls = new Controls(this);
    this.polls = new Polls(this);
    this.groups = new Groups(this);
    this.dirty = new Set();
    this.frame = 0;
  }

  load() {
    try { return JSON.parse(sessionStorage.getItem(`classroom:${this.lesson}`)) || {}; } catch { return {}; }
  }

  save() {
    sessionStorage.setItem(`classroom:${this.lesson}`, JSON.stringify({ resume: this.token, participant: this.me }));
  }

  async start() {
    if (!this.lesson) return banner(t("This is not a lesson link."), "error");
    if (!this.token) return banner(t("This link has no join token. Ask your teacher for the lesson's link."), "error");
    // Coming back (a reload, or one for another protocol version), the
    // page joins at once under the name it had; a link that names its
    // holder (a launch from a learning platform) joins at once under it.
    const named = claims(this.linkToken).name;
    if (named) this.name = named;
    if (this.saved.resume || named || (sessionStorage.getItem(RELOADED_FOR) && this.name)) {
      await this.media.start();
      return this.connect();
    }
    const d = $("join-dialog");
    $("join-name").value = this.name;
    // Told before the camera and microphone are used.
    const info = await fetch(`/api/lessons/${this.lesson}`).then((r) => (r.ok ? r.json() : {})).catch(() => ({}));
    $("join-recording").hidden = !info.recording;
    d.showModal();
    await new Promise((resolve) => $("join-form").addEventListener("submit", resolve, { once: true }));
    this.name = $("join-name").value.trim();
    localStorage.setItem("classroom:name", this.name);
    await this.media.start();
    return this.connect();
  }

  wsURL() {
    return `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/api/lessons/${this.lesson}/ws`;
  }

  /** showLive says the connection is up, then which way its media goes. */
  showLive() {
    status("live");
    const conn = this.conn;
    connectionPath(conn.pc).then((p) => {
      if (this.conn === conn && this.live && p.text) status("live", { text: p.text, candidate: p.candidate, protocol: (p.relayProtocol || "?").toUpperCase() });
    }).catch(() => {});
  }

  /** connect joins, or resumes after a drop, and wires the new connection. */
  async connect() {
    this.live = false;
    window.classroom.ready = false;
    status("connecting");
    const conn = new LessonConnection({ url: this.wsURL(), token: this.token, name: this.name || t("Guest"), lastSeq: this.seq });
    this.conn = conn;
    const mine = (f) => (e) => { if (this.conn === conn) f(e.detail); };
    conn.addEventListener("snapshot", mine(({ seq, state }) => {
      this.state = LessonState.fromSnapshot(state);
      this.seq = seq;
      this.dirtyAll();
    }));
    conn.addEventListener("events", mine((events) => this.onEvents(events)));
    conn.addEventListener("waiting", mine(() => {
      status("waiting");
      this.controls.waiting();
    }));
    conn.addEventListener("live", mine(() => {
      this.controls.entered();
      this.live = true;
      this.retry = 0;
      this.showLive();
      for (const [id, c] of this.pending) this.transmit(id, c);
      window.classroom.ready = true;
    }));
    conn.addEventListener("ephemeral", mine((msg) => { if (this.board && msg.actor !== this.me) this.board.ephemeral(msg); }));
    conn.addEventListener("track", mine((t) => this.media.track(t)));
    conn.addEventListener("media", mine((m) => this.media.unsupported(m, conn.pc)));
    conn.addEventListener("state", mine((s) => {
      if (s === "failed") this.drop(conn, "the connection failed"); // not user-facing
      else if (s === "disconnected") status("reconnecting");
      else if (s === "connected" && this.live) this.showLive();
    }));
    conn.addEventListener("bye", mine((bye) => this.onBye(conn, bye)));
    conn.addEventListener("closed", mine(({ code }) => {
      if (code === MESSAGE_TOO_BIG) return this.tooBig();
      this.drop(conn, "the server closed the connection"); // not user-facing
    }));
    conn.addEventListener("problem", mine(({ code, reason, message }) => {
      if (code !== "negotiation") this.refused({ code, reason, message });
    }));
    let welcome;
    try {
      welcome = await conn.join();
    } catch (err) {
      if (this.conn !== conn) return;
      if (err.closeCode === MESSAGE_TOO_BIG) return this.tooBig();
      if (err.reason === "incompatible") return this.incompatible(err.version);
      if (err.code === "unauthorized" && this.token !== this.linkToken && this.linkToken) {
        // The resume token expired: join again with the link.
        this.token = this.linkToken;
        this.seq = 0;
        this.state = null;
        return this.connect();
      }
      if (err.reason === "removed") return this.fatal(t("The teacher removed you from this lesson."));
      if (err.reason === "locked") return this.fatal(t("The teacher has locked this lesson: no one new may join."));
      if (err.reason === "link_replaced") return this.fatal(t("This link has been replaced by a newer one. Ask your teacher for it."));
      if (err.code === "unauthorized") return this.fatal(t("This link has expired or is not valid. Ask your teacher for a new one."));
      if (err.code === "not_found") return this.fatal(t("There is no such lesson."));
      if (err.code === "invalid") return this.fatal(t("The server refused to join: {reason}", { reason: err.message }));
      return this.drop(conn, err.message);
    }
    sessionStorage.removeItem(RELOADED_FOR);
    this.me = welcome.participant;
    this.role = welcome.role;
    this.token = conn.token; // the resume token from now on
    this.save();
    document.body.dataset.role = this.role;
    if (this.role === "teacher") $("attendance").href = `/lessons/${this.lesson}/attendance#token=${encodeURIComponent(this.token)}`;
    if (!this.board) this.toolbar.makeBoard();
    this.media.attach(conn);
    this.dirtyAll();
  }

  /** drop handles a lost connection: resume after a pause that grows. */
  drop(conn, why) {
    if (this.conn !== conn || this.ending) return;
    this.conn = null;
    conn.close();
    this.live = false;
    status("reconnecting");
    const wait = Math.min(10000, 500 * 2 ** this.retry++);
    console.info(`connection lost (${why}); again in ${wait} ms`);
    setTimeout(() => { if (!this.ending) this.connect(); }, wait);
  }

  /** onBye handles the end of a session the server chose: stop for good, or resume. */
  onBye(conn, { code, reason, message }) {
    if (reason === "removed") {
      this.controls.entered();
      return this.fatal(t("The teacher removed you from this lesson."));
    }
    if (reason === "denied") {
      this.controls.entered();
      return this.fatal(t("The teacher did not let you in. Ask them, then open the link again."));
    }
    if (reason === "locked") return this.fatal(t("The teacher has locked this lesson: no one new may join."));
    if (reason === "joined_elsewhere") return this.fatal(t("You opened this lesson somewhere else; this page has stopped."));
    if (reason === "lesson_ended") {
      showReplay(this);
      return this.fatal(t("This lesson has ended. Watch it again with the replay link."), "info");
    }
    if (code === "conflict") return this.fatal(message);
    if (code === "unauthorized") return this.fatal(t("This link has expired. Ask your teacher for a new one."));
    this.drop(conn, message || code);
  }

  /**
   * tooBig answers a session the server ended because a signal of this page
   * was over its limit (close code 1009, docs/protocol.md, section 2): an
   * offer or answer grows with every track the page receives, and the page
   * would send it again, as large, after every reconnect. It stops instead
   * of reconnecting into the same limit for ever, and says so.
   */
  tooBig() {
    this.fatal(t("This page's connection grew larger than the server accepts (too many video streams at once), so it has stopped. Reload the page to join again."));
  }

  /** fatal stops the page for good, saying why. */
  fatal(message, kind = "error") {
    this.ending = true;
    status("stopped");
    banner(message, kind);
    this.media.end();
    if (this.conn) this.conn.close();
    this.conn = null;
  }

  /**
   * incompatible answers a server that does not serve this page's protocol
   * version (docs/protocol.md, section 2.4): the page reloads once, to
   * fetch the server's own; refused again by a server of the same version,
   * it says so instead of reloading without end.
   */
  incompatible(version) {
    if (sessionStorage.getItem(RELOADED_FOR) === String(version)) {
      return this.fatal(t("This page and the server speak different versions of the lesson protocol, and reloading did not help. Try again later."));
    }
    sessionStorage.setItem(RELOADED_FOR, String(version));
    this.ending = true;
    this.conn = null;
    status("reloading");
    banner(t("This page is out of date: loading the server's own…"), "info");
    location.reload();
  }

  /**
   * send commits a command and resolves with its sequence number; it is
   * sent again, with the same id, after a reconnect.
   */
  send(kind, data = {}) {
    const id = crypto.randomUUID();
    return new Promise((resolve, reject) => {
      const c = { kind, data, resolve, reject };
      this.pending.set(id, c);
      if (this.live) this.transmit(id, c);
    }).catch((err) => {
      this.refused(err, kind);
      throw err;
    });
  }

  transmit(id, c) {
    const conn = this.conn;
    conn.send(c.kind, c.data, id).then((seq) => {
      this.pending.delete(id);
      c.resolve(seq);
    }, (err) => {
      if (err.ended || this.conn !== conn) return; // resent on the next session
      this.pending.delete(id);
      c.reject(err);
    });
  }

  refused(err, kind = "") {
    this.errors.push({ kind, code: err.code || "", reason: err.reason || "", message: err.message || String(err) });
    toast(describe(err), "error");
  }

  sendEphemeral(msg) {
    if (this.conn && this.live) this.conn.sendEphemeral(msg);
  }

  onEvents(events) {
    if (!this.state) return;
    for (const e of events) {
      if (e.seq <= this.seq) continue;
      this.state.apply(e);
      this.seq = e.seq;
      this.after(e);
    }
  }

  /** after notes what an applied event changed on the page. */
  after(e) {
    const d = e.data || {};
    switch (e.kind) {
      case "stroke.drawn": case "shape.added": case "text.added": case "objects.erased":
      case "board.undone": case "board.redone": case "board.cleared":
        if (this.board && d.slide && this.state.slideKey(d.slide) === this.slideKey) {
          this.board.update(boardView(this.state.board(d.slide), this.me), e);
          this.mark("board");
        }
        return;
      case "slide.changed": case "deck.added":
        this.mark("slide");
        return;
      case "chat.posted":
        if (!this.chatShown) this.addMessage(e);
        return;
      case "group.chat.posted":
        if (d.group === this.chatShown) this.addMessage(e);
        this.mark("people");
        return;
      case "floor.granted": case "floor.revoked":
        this.media.sync();
        this.mark("people", "media");
        return;
      case "participant.joined": case "participant.left":
        this.mark("people", "media", "draw");
        return;
      case "drawing.permitted":
        this.mark("people", "draw");
        return;
      case "recording.started":
        if (this.live) toast(t("Recording has started: what the teacher and the student with the floor say and show is recorded."));
        this.mark("lesson", "people", "media");
        return;
      case "lesson.started": case "lesson.ended": case "recording.stopped": case "lesson.created":
        this.mark("lesson", "people", "media");
        return;
      case "groups.formed": case "group.joined": case "group.left": case "groups.ended": case "group.board.shown":
        this.media.sync();
        this.mark("slide", "people", "media", "draw");
        return;
      default:
        this.mark("people");
    }
  }

  mark(...what) {
    for (const w of what) this.dirty.add(w);
    if (!this.frame) this.frame = requestAnimationFrame(() => this.render());
  }

  /**
   * relabel shows every word of the page again after the language changed
   * (the marked ones translatePage has done): the lesson is not left, and
   * the connection, media and board stay as they are.
   */
  relabel() {
    status(...shown);
    this.media.labelButtons();
    this.toolbar.relabel();
    if (this.state) this.renderChat();
    this.mark("lesson", "slide", "people", "media", "draw");
  }

  dirtyAll() {
    if (this.state) this.renderChat();
    else $("messages").replaceChildren();
    this.slideKey = "";
    this.mark("lesson", "slide", "people", "media", "draw");
  }

  render() {
    this.frame = 0;
    if (!this.state) return;
    const d = this.dirty;
    this.dirty = new Set();
    if (d.has("lesson")) this.renderLesson();
    if (d.has("slide")) this.renderSlide();
    if (d.has("people")) {
      const g = groupOf(this.state, this.me);
      if ((g ? g.id : "") !== this.chatShown) this.renderChat();
      this.renderPeople();
      this.controls.render();
      this.polls.render();
      this.groups.render();
    }
    if (d.has("draw")) this.renderDraw();
    if (d.has("media")) this.media.render();
    if (d.has("slide") || d.has("board")) describeBoard(this.state, this.shown());
    if (this.state.status === "ended") this.showEnded();
  }

  nameOf(id) { return nameOf(this.state, id); }

  renderLesson() {
    const s = this.state;
    document.title = `${s.title} · classroom`;
    if (s.title !== this.remembered && this.linkToken) {
      // The home page lists it under "Your lessons", with the token to
      // come back with.
      this.remembered = s.title;
      const kept = keptToken(this);
      remember({ id: this.lesson, title: s.title, created: s.created, url: `/lessons/${this.lesson}#token=${encodeURIComponent(kept)}`,
        expires: tokenExpiry(kept), role: claims(kept).role || "" });
    }
    $("title").textContent = s.title;
    $("rec").hidden = !s.recording;
    $("record").textContent = s.recording ? t("Stop recording") : t("Start recording");
    $("record").disabled = s.status === "ended";
    const life = $("lifecycle");
    life.textContent = s.status === "created" ? t("Start lesson") : t("End lesson");
    life.disabled = s.status === "ended";
    if (s.status === "ended") {
      showReplay(this);
      banner(t("This lesson has ended. Everything on this page stays as it was at the end; watch it again with the replay link."), "info");
    }
  }

  /**
   * showEnded makes the page look ended: camera, microphone and screen off,
   * and every control that would change the lesson disabled; the board,
   * the people and the chat stay to be read.
   */
  showEnded() {
    document.body.classList.add("ended");
    if (!this.media.ended) this.media.end();
    if (this.board) this.board.setCanDraw(false);
    for (const c of document.querySelectorAll(".stage button, .stage select, .stage input, .side button, .side input, #invite, #reinvite")) {
      if (c.id !== "keys") c.disabled = true;
    }
  }

  /** shown is the board this page shows: the group's while in one, else the main room's (shownBoard). */
  shown() {
    return shownBoard(this.state, this.lesson, groupOf(this.state, this.me));
  }

  renderSlide() {
    const s = this.state;
    const { slide: sl, pages } = slideInfo(s);
    const shown = this.shown();
    $("slide-label").textContent = shown.label;
    // Page turning moves the main room: not while this page shows a group's board.
    $("prev").disabled = sl.page <= 0 || !!shown.group;
    $("next").disabled = sl.page + 1 >= pages || !!shown.group;
    const sel = $("deck");
    sel.replaceChildren(el("option", { value: NIL }, t("Whiteboard")),
      ...(s.decks || []).map((x) => el("option", { value: x.id }, x.name)));
    sel.value = sl.deck;
    sel.disabled = !!shown.group;
    const key = s.slideKey(shown.slide);
    if (this.board && key !== this.slideKey) {
      this.slideKey = key;
      this.board.show(shown.slide, boardView(s.board(shown.slide), this.me), shown.background);
    }
  }

  renderPeople() {
    const s = this.state;
    const quiet = () => {}; // send() has shown a refusal already
    renderPeople(s, {
      me: this.me,
      actions: this.role !== "teacher" || s.status === "ended" ? null : {
        grant: (id) => this.send("floor.granted", { participant: id }).catch(quiet),
        lower: (id) => this.send("hand.lowered", { participant: id }).catch(quiet),
        revoke: (id) => this.send("floor.revoked", { participant: id }).catch(quiet),
        permit: (id, allowed) => this.send("drawing.permitted", { participant: id, allowed }).catch(quiet),
      },
    });
    const hb = $("hand");
    hb.textContent = (s.hands || []).includes(this.me) ? t("Lower hand") : t("Raise hand");
    hb.disabled = s.floor === this.me || s.status === "ended";
    $("class-draw").checked = !!s.drawingAllowed;
    $("class-draw").disabled = s.status === "ended";
  }

  renderDraw() {
    if (!this.board) return;
    // A group's board: its members draw while the groups are open, and the
    // teacher always; the class does not draw on one the teacher shows it.
    const { group } = this.shown();
    const can = this.state.status !== "ended" && (group ? this.role === "teacher" || groupOf(this.state, this.me) === group && (group.members || []).includes(this.me)
      : this.state.canDraw(this.me));
    this.board.setCanDraw(can);
    $("draw-note").textContent = can ? "" : group ? t("Only the group's members draw on its board.") : t("The teacher has not turned on drawing for you.");
    document.body.classList.toggle("can-draw", can);
  }

  /**
   * renderChat fills the Chat tab with the class's chat or, while this
   * participant is in a breakout group, the group's, which only its
   * members and the teachers read.
   */
  renderChat() {
    const g = groupOf(this.state, this.me);
    this.chatShown = g ? g.id : "";
    showChat(this.state, this.me, g ? g.chat : this.state.chat);
    const where = $("chat-where");
    where.hidden = !g;
    where.textContent = g ? t("{group}'s chat: its members and the teachers read it.", { group: g.name }) : "";
    const input = $("chat-input");
    input.placeholder = g ? t("Message {group}", { group: g.name }) : t("Message the class");
    input.setAttribute("aria-label", input.placeholder);
  }

  addMessage(e) {
    appendChat([chatItem(this.state, { actor: e.actor, time: e.time, text: e.data.text }, this.me)]);
    if ($("chat-panel").hidden && e.actor !== this.me) $("chat-unread").textContent = String(++this.unread);
  }

  wire() {
    this.unread = 0;
    this.sideTabs = tabs($("side-tabs"), (id) => {
      if (id === "tab-chat") { this.unread = 0; $("chat-unread").textContent = ""; }
    });
    // The server's limits, not copies of them (limits.js is generated).
    $("chat-input").maxLength = MAX_CHAT_RUNES;
    $("join-name").maxLength = MAX_NAME_RUNES;
    $("keys").onclick = () => toast(this.toolbar.shortcuts().join(" · "));
    $("cam").onclick = () => this.media.toggle("video");
    $("mic").onclick = () => this.media.toggle("audio");
    $("screen").onclick = () => this.media.shareScreen();
    $("hand").onclick = () => {
      const raised = (this.state.hands || []).includes(this.me);
      this.send(raised ? "hand.lowered" : "hand.raised", raised ? { participant: this.me } : {}).catch(() => {});
    };
    $("class-draw").onchange = (e) => this.send("drawing.permitted", { allowed: e.target.checked }).catch(() => this.mark("people"));
    sendText($("chat-form"), $("chat-input"), (text) => {
      const group = this.chatShown;
      return this.send(group ? "group.chat.posted" : "chat.posted", group ? { group, text } : { text });
    });
    $("prev").onclick = () => this.toolbar.go(-1);
    $("next").onclick = () => this.toolbar.go(1);
    $("deck").onchange = (e) => this.send("slide.changed", { slide: { deck: e.target.value, page: 0 } }).catch(() => this.mark("slide"));
    $("upload").onchange = (e) => { this.toolbar.upload([...e.target.files]); e.target.value = ""; };
    $("undo").onclick = () => this.board && this.board.undo();
    $("redo").onclick = () => this.board && this.board.redo();
    $("clear").onclick = () => { if (this.board && confirm(t("Clear this page for everyone?"))) this.board.clear(); };
    $("width").oninput = (e) => this.board && this.board.setWidth(Number(e.target.value));
    $("text-size").onchange = (e) => this.board && this.board.setTextSize(Number(e.target.value));
    $("record").onclick = () => this.send(this.state.recording ? "recording.stopped" : "recording.started").catch(() => {});
    $("lifecycle").onclick = () => {
      if (this.state.status === "created") this.send("lesson.started").catch(() => {});
      else if (confirm(t("End the lesson for everyone?"))) this.send("lesson.ended").catch(() => {});
    };
    this.controls.wire();
    this.polls.wire();
    this.groups.wire();
    $("invite").onclick = () => invite(this, false);
    $("export").onchange = (e) => { exportLesson(this.lesson, this.linkToken || this.token, e.target.value); e.target.value = ""; };
    $("streams").onclick = () => { $("more").open = false; openStreamKeys(this); };
    $("reinvite").onclick = () => {
      if (confirm(t("Make a new students' link? The current one will stop admitting anyone. Everyone who has joined stays, whoever they are."))) invite(this, true);
    };
    $("leave").onclick = () => {
      this.ending = true;
      if (this.conn) this.conn.leave();
      sessionStorage.removeItem(`classroom:${this.lesson}`);
      status("left");
      banner(t("You left the lesson. Open the link again to come back."), "info");
    };
    document.addEventListener("keydown", (e) => {
      if (e.target.closest && e.target.closest("input, textarea, select, [contenteditable]")) return;
      if (this.role === "teacher" && this.state) {
        if (e.key === "PageDown") { e.preventDefault(); this.toolbar.go(1); }
        if (e.key === "PageUp") { e.preventDefault(); this.toolbar.go(-1); }
      }
    });
    window.addEventListener("pagehide", () => { if (this.conn) this.conn.close(); });
  }
}

let shown = ["connecting"]; // status's last arguments, to say again in another language

function status(s, path = null) {
  shown = [s, path];
  const p = $("status");
  p.dataset.state = s;
  p.textContent = { connecting: t("connecting…"), live: t("connected"), reconnecting: t("reconnecting…"), reloading: t("reloading…"),
    stopped: t("stopped"), left: t("left"), waiting: t("waiting to be let in") }[s] || s;
  if (path) {
    // A relayed path is the one a strict school network leaves; saying so
    // helps whoever looks into a slow or failing connection.
    p.textContent += ` (${path.text})`;
    p.title = path.candidate === "relay" ? t("Media goes through the server's relay, over {protocol}", { protocol: path.protocol })
      : t("Media goes straight to the server");
  } else {
    p.title = "";
  }
}

const app = new App();
window.classroom = {
  ready: false,
  get state() { return app.state; },
  get seq() { return app.seq; },
  get me() { return app.me; },
  get studentsLink() { return app.studentsLink; }, // the last the teacher was given here
  board: null,
  errors: app.errors,
  hash: () => app.state.hash(),
  send: (kind, data) => app.send(kind, data),
  videoStats: () => app.media.stats(),
  path: () => connectionPath(app.conn && app.conn.pc),
  app,
};
app.wire();
onLanguage(() => app.relabel());
app.start();
