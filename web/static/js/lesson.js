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
// For tests it exposes window.classroom: {ready, hash(), state, board,
// send(kind, data), videoStats(), errors, studentsLink}.

import { LessonConnection } from "./connection.js";
import { connectionPath } from "./path.js";
import { remember, claims, tokenExpiry } from "./mine.js";
import { LessonState } from "./state.js";
import { Board, shortcuts } from "./board.js";
import { NIL, $, el, toast, banner, nameOf, slideInfo, renderPeople, chatItem, appendChat, showChat, boardView, pageURL } from "./views.js";

const COLORS = ["#111827", "#dc2626", "#ea580c", "#16a34a", "#2563eb", "#7c3aed", "#ffffff"];
const TOOLS = [
  ["pen", "✎", "Pen (P)"], ["highlighter", "▮", "Highlighter (H)"], ["line", "╱", "Line (L)"],
  ["arrow", "↗", "Arrow (A)"], ["rectangle", "▭", "Rectangle (R)"], ["ellipse", "◯", "Ellipse (O)"],
  ["text", "T", "Text (T)"], ["eraser", "⌫", "Eraser (E)"], ["laser", "✦", "Laser pointer (K)"],
];

/** describe turns a refused command's code into words for people. */
function describe(err) {
  const msg = err && err.message ? err.message : String(err);
  switch (err && err.code) {
    case "forbidden": return `Not allowed: ${msg}`;
    case "rate_limited": return "Slow down: too many actions at once.";
    case "conflict": return msg;
    default: return msg;
  }
}

/** Media owns the camera, the microphone, the screen share and the remote videos. */
class Media {
  constructor(app) {
    this.app = app;
    this.local = null; // MediaStream from the camera and microphone
    this.screen = null; // MediaStreamTrack of a screen share
    this.senders = new Map(); // track id → RTCRtpSender on the current connection
    this.remote = new Map(); // participant → {stream, videos: [track…]}
    this.camOn = true;
    this.micOn = true;
  }

  /** start asks for the camera and microphone; the lesson goes on without them. */
  async start() {
    try {
      this.local = await navigator.mediaDevices.getUserMedia({
        audio: { echoCancellation: true, noiseSuppression: true },
        video: { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30 } },
      });
    } catch (err) {
      const why = err && err.name === "NotAllowedError"
        ? "Camera and microphone are blocked for this site: allow them in the browser's site settings and reload."
        : `No camera or microphone: ${err && err.message ? err.message : err}.`;
      banner(`${why} You can still follow the lesson, draw and chat.`, "warn");
      $("cam").disabled = true;
      $("mic").disabled = true;
      return;
    }
    $("tile-self").querySelector("video").srcObject = this.local;
  }

  /** mayPublish reports whether this participant's camera goes to the others now. */
  mayPublish() {
    const a = this.app;
    return a.role === "teacher" || (a.state && a.state.floor === a.me);
  }

  /** attach starts sending on a new connection (after a join or a resume). */
  attach(conn) {
    this.senders.clear();
    this.sync(conn);
    if (this.screen && this.app.role === "teacher") {
      this.senders.set(this.screen.id, conn.publish(this.screen, new MediaStream([this.screen])));
    }
  }

  /**
   * sync sends the camera and microphone while the participant may publish
   * and stops sending them otherwise. A student's senders stay on the
   * connection with no track between two turns on the floor, so taking the
   * floor again needs no renegotiation.
   */
  sync(conn = this.app.conn) {
    if (!this.local || !conn || !conn.pc) return;
    const on = this.mayPublish();
    for (const track of this.local.getTracks()) {
      const sender = this.senders.get(track.id);
      // Simulcast for the teacher's camera only (watched all lesson, over every link); a student's uplink pays for one encoding.
      if (on && !sender) this.senders.set(track.id, conn.publish(track, this.local, { simulcast: this.app.role === "teacher" }));
      else if (sender && (sender.track === null) === on) sender.replaceTrack(on ? track : null).catch(() => {});
    }
  }

  toggle(kind) {
    if (!this.local) return;
    const on = kind === "video" ? (this.camOn = !this.camOn) : (this.micOn = !this.micOn);
    for (const t of this.local.getTracks()) if (t.kind === kind) t.enabled = on;
    const b = kind === "video" ? $("cam") : $("mic");
    b.textContent = `${kind === "video" ? "Camera" : "Mic"} ${on ? "on" : "off"}`;
    b.setAttribute("aria-pressed", String(on));
  }

  async shareScreen() {
    const conn = this.app.conn;
    if (this.screen) {
      this.stopScreen();
      return;
    }
    try {
      const s = await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: { ideal: 15 } }, audio: false });
      this.screen = s.getVideoTracks()[0];
    } catch (err) {
      if (err && err.name !== "NotAllowedError") toast(`Screen share failed: ${err.message || err}`, "error");
      return;
    }
    this.screen.addEventListener("ended", () => this.stopScreen());
    this.senders.set(this.screen.id, conn.publish(this.screen, new MediaStream([this.screen])));
    $("screen").textContent = "Stop sharing";
  }

  stopScreen() {
    const t = this.screen;
    if (!t) return;
    this.screen = null;
    const sender = this.senders.get(t.id);
    this.senders.delete(t.id);
    t.stop();
    if (sender && this.app.conn) {
      try { this.app.conn.unpublish(sender); } catch { /* the connection is gone */ }
    }
    $("screen").textContent = "Share screen";
  }

  /** track records a forwarded track; the stream id is its publisher. */
  track({ track, stream, participant }) {
    let r = this.remote.get(participant);
    if (!r || r.stream !== stream) {
      r = { stream, videos: [] };
      this.remote.set(participant, r);
      stream.addEventListener("removetrack", () => this.render());
      stream.addEventListener("addtrack", () => this.render());
    }
    if (track.kind === "video" && !r.videos.includes(track)) r.videos.push(track);
    track.addEventListener("mute", () => this.render());
    track.addEventListener("unmute", () => this.render());
    track.addEventListener("ended", () => this.render());
    this.render();
  }

  /** live lists a participant's forwarded tracks that still flow. */
  live(participant) {
    const r = this.remote.get(participant);
    if (!r) return { videos: [], audios: [] };
    const inStream = new Set(r.stream.getTracks());
    const ok = (t) => inStream.has(t) && t.readyState === "live";
    return { videos: r.videos.filter(ok), audios: r.stream.getAudioTracks().filter(ok) };
  }

  /** render puts the teacher and the floor holder in their tiles. */
  render() {
    const a = this.app;
    if (!a.state) return;
    const teacher = a.role === "teacher" ? null : this.teacherID();
    const tile = $("tile-teacher");
    if (teacher) {
      // The teacher's newest video is the screen share when there is one.
      const { videos, audios } = this.live(teacher);
      const main = videos[videos.length - 1];
      setStream(tile.querySelector("video"), main ? [main, ...audios] : audios);
      tile.querySelector(".label").textContent = a.nameOf(teacher);
      tile.classList.toggle("empty", !main);
    } else if (a.role === "teacher") {
      // The teacher sees what the class sees: the screen when shared,
      // else their own camera (muted: it is their own voice).
      const mine = this.screen ? [this.screen] : this.local ? this.local.getVideoTracks() : [];
      const v = tile.querySelector("video");
      v.muted = true;
      setStream(v, mine);
      tile.querySelector(".label").textContent = this.screen ? "Your screen (the class sees it)" : "You (the class sees you)";
      tile.classList.toggle("empty", mine.length === 0);
      $("tile-self").hidden = !this.screen;
    }
    const floor = a.state.floor;
    const ft = $("tile-floor");
    ft.hidden = !floor;
    if (floor && floor !== a.me) {
      const { videos, audios } = this.live(floor);
      const v = ft.querySelector("video");
      v.muted = false; // it may have shown this participant's own camera before
      setStream(v, videos.length ? [videos[0], ...audios] : audios);
      ft.querySelector(".label").textContent = `${a.nameOf(floor)} (has the floor)`;
      ft.classList.toggle("empty", !videos.length);
    } else if (floor === a.me) {
      // What everyone sees of you; muted, it is your own voice.
      const mine = this.local ? this.local.getVideoTracks() : [];
      const v = ft.querySelector("video");
      v.muted = true;
      setStream(v, mine);
      ft.querySelector(".label").textContent = "You have the floor: everyone sees and hears you";
      ft.classList.toggle("empty", mine.length === 0);
    }
  }

  teacherID() {
    for (const p of this.app.state.present()) if (p.role === "teacher") return p.id;
    return "teacher";
  }

  /** stats reports, per participant, the video frames decoded and the picture size shown. */
  async stats() {
    const out = {};
    const pc = this.app.conn && this.app.conn.pc;
    if (!pc) return out;
    for (const rec of pc.getReceivers()) {
      if (!rec.track || rec.track.kind !== "video") continue;
      let who = null;
      for (const [p, r] of this.remote) if (r.videos.includes(rec.track)) who = p;
      if (!who) continue;
      let frames = 0;
      (await rec.getStats()).forEach((s) => { if (s.type === "inbound-rtp") frames += s.framesDecoded || 0; });
      const o = out[who] || (out[who] = { framesDecoded: 0, width: 0 });
      o.framesDecoded += frames;
    }
    for (const id of ["tile-teacher", "tile-floor"]) {
      const v = $(id).querySelector("video");
      const s = v.srcObject;
      if (!s) continue;
      for (const [p, r] of this.remote) {
        if (s.getVideoTracks().some((t) => r.videos.includes(t)) && out[p]) out[p].width = Math.max(out[p].width, v.videoWidth);
      }
    }
    return out;
  }
}

/** setStream shows tracks in a video element, keeping it when they did not change. */
function setStream(video, tracks) {
  const cur = video.srcObject ? video.srcObject.getTracks() : [];
  if (cur.length === tracks.length && cur.every((t, i) => t === tracks[i])) return;
  video.srcObject = tracks.length ? new MediaStream(tracks) : null;
  if (tracks.length) {
    video.play().catch((err) => {
      // Only the browser's autoplay rule is worth a word; an interrupted
      // play() (the tracks changed again) is not.
      if (!err || err.name !== "NotAllowedError") return;
      banner("Click anywhere to hear the lesson.", "info");
      document.addEventListener("click", () => { video.play().catch(() => {}); banner(""); }, { once: true });
    });
  }
}

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
    if (!this.lesson) return banner("This is not a lesson link.", "error");
    if (!this.token) return banner("This link has no join token. Ask your teacher for the lesson's link.", "error");
    if (this.saved.resume) {
      await this.media.start();
      return this.connect();
    }
    const d = $("join-dialog");
    $("join-name").value = this.name;
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
      if (this.conn === conn && this.live && p.text) status("live", p.text);
    }).catch(() => {});
  }

  /** connect joins, or resumes after a drop, and wires the new connection. */
  async connect() {
    this.live = false;
    window.classroom.ready = false;
    status("connecting");
    const conn = new LessonConnection({ url: this.wsURL(), token: this.token, name: this.name || "Guest", lastSeq: this.seq });
    this.conn = conn;
    const mine = (f) => (e) => { if (this.conn === conn) f(e.detail); };
    conn.addEventListener("snapshot", mine(({ seq, state }) => {
      this.state = LessonState.fromSnapshot(state);
      this.seq = seq;
      this.dirtyAll();
    }));
    conn.addEventListener("events", mine((events) => this.onEvents(events)));
    conn.addEventListener("live", mine(() => {
      this.live = true;
      this.retry = 0;
      this.showLive();
      for (const [id, c] of this.pending) this.transmit(id, c);
      window.classroom.ready = true;
    }));
    conn.addEventListener("ephemeral", mine((msg) => { if (this.board && msg.actor !== this.me) this.board.ephemeral(msg); }));
    conn.addEventListener("track", mine((t) => this.media.track(t)));
    conn.addEventListener("state", mine((s) => {
      if (s === "failed") this.drop(conn, "the connection failed");
      else if (s === "disconnected") status("reconnecting");
      else if (s === "connected" && this.live) this.showLive();
    }));
    conn.addEventListener("bye", mine(({ code, message }) => this.onBye(conn, code, message)));
    conn.addEventListener("closed", mine(() => this.drop(conn, "the server closed the connection")));
    conn.addEventListener("problem", mine(({ code, message }) => {
      if (code !== "negotiation") this.refused({ code, message });
    }));
    let welcome;
    try {
      welcome = await conn.join();
    } catch (err) {
      if (this.conn !== conn) return;
      if (err.code === "unauthorized" && this.token !== this.linkToken && this.linkToken) {
        // The resume token expired: join again with the link.
        this.token = this.linkToken;
        this.seq = 0;
        this.state = null;
        return this.connect();
      }
      if (err.code === "unauthorized" && /replaced/.test(err.message)) return this.fatal("This link has been replaced by a newer one. Ask your teacher for it.");
      if (err.code === "unauthorized") return this.fatal("This link has expired or is not valid. Ask your teacher for a new one.");
      if (err.code === "not_found") return this.fatal("There is no such lesson.");
      if (err.code === "invalid") return this.fatal(`The server refused to join: ${err.message}`);
      return this.drop(conn, err.message);
    }
    this.me = welcome.participant;
    this.role = welcome.role;
    this.token = conn.token; // the resume token from now on
    this.save();
    document.body.dataset.role = this.role;
    if (!this.board) this.makeBoard();
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

  onBye(conn, code, message) {
    if (code === "conflict") {
      this.ending = true;
      return this.fatal("You opened this lesson somewhere else; this page has stopped.");
    }
    if (code === "unauthorized") return this.fatal("This link has expired. Ask your teacher for a new one.");
    this.drop(conn, message || code);
  }

  fatal(message) {
    this.ending = true;
    status("stopped");
    banner(message, "error");
    if (this.conn) this.conn.close();
    this.conn = null;
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
    this.errors.push({ kind, code: err.code || "", message: err.message || String(err) });
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
        }
        return;
      case "slide.changed": case "deck.added":
        this.mark("slide");
        return;
      case "chat.posted":
        this.addMessage(e);
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
      case "lesson.started": case "lesson.ended": case "recording.started": case "recording.stopped": case "lesson.created":
        this.mark("lesson", "people", "media");
        return;
      default:
        this.mark("people");
    }
  }

  mark(...what) {
    for (const w of what) this.dirty.add(w);
    if (!this.frame) this.frame = requestAnimationFrame(() => this.render());
  }

  dirtyAll() {
    if (this.state) showChat(this.state, this.me);
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
    if (d.has("people")) this.renderPeople();
    if (d.has("draw")) this.renderDraw();
    if (d.has("media")) this.media.render();
  }

  /**
   * invite puts a students' link on the clipboard: the current one, or with
   * `replace` a new one, which stops the earlier ones admitting.
   */
  async invite(replace) {
    try {
      const r = await fetch(`/api/lessons/${this.lesson}/invitations`, { method: "POST",
        headers: { Authorization: `Bearer ${this.linkToken || this.token}`, "Content-Type": "application/json" },
        body: JSON.stringify({ replace }) });
      const body = await r.json();
      if (!r.ok) throw new Error(body.error ? body.error.message : r.statusText);
      this.studentsLink = new URL(body.url, location.href).href;
      const what = replace ? "A new students' link (the old one no longer admits anyone)" : "The students' link";
      try {
        await navigator.clipboard.writeText(this.studentsLink);
        toast(`${what} is on your clipboard.`);
      } catch {
        // No clipboard here (plain http, or refused): the link itself,
        // selected, to copy by hand.
        prompt(`${what}: copy it from here.`, this.studentsLink);
      }
    } catch (err) {
      toast(`Could not make a link: ${err.message || err}`, "error");
    }
  }

  nameOf(id) { return nameOf(this.state, id); }

  /**
   * keptToken is the token to come back with later (the home page's list,
   * the replay): this participant's own, once the server gave it, unless the
   * link's lasts longer. A student's own still admits after the teacher has
   * replaced the class's link, and brings them back as the same participant.
   */
  keptToken() {
    const own = this.token && this.token !== this.linkToken && claims(this.token).sub ? this.token : "";
    if (!own || !this.linkToken) return own || this.linkToken;
    return (claims(own).exp || 0) >= (claims(this.linkToken).exp || 0) ? own : this.linkToken;
  }

  renderLesson() {
    const s = this.state;
    document.title = `${s.title} · classroom`;
    if (s.title !== this.remembered && this.linkToken) {
      // The home page lists it under "Your lessons", with the token to
      // come back with.
      this.remembered = s.title;
      const kept = this.keptToken();
      remember({ id: this.lesson, title: s.title, created: s.created, url: `/lessons/${this.lesson}#token=${encodeURIComponent(kept)}`,
        expires: tokenExpiry(kept), role: claims(kept).role || "" });
    }
    $("title").textContent = s.title;
    $("rec").hidden = !s.recording;
    $("record").textContent = s.recording ? "Stop recording" : "Start recording";
    $("record").disabled = s.status === "ended";
    const life = $("lifecycle");
    life.textContent = s.status === "created" ? "Start lesson" : "End lesson";
    life.disabled = s.status === "ended";
    if (s.status === "ended") {
      // Everyone who took part may play it back, with the token they keep.
      const replay = $("replay");
      replay.href = `/lessons/${this.lesson}/replay#token=${encodeURIComponent(this.keptToken())}`;
      replay.hidden = false;
      banner("This lesson has ended. Everything on this page stays as it was at the end; watch it again with the replay link.", "info");
      document.body.classList.add("ended");
      if (this.board) this.board.setCanDraw(false);
    }
  }

  renderSlide() {
    const s = this.state;
    const { slide: sl, deck, pages, label } = slideInfo(s);
    $("slide-label").textContent = label;
    $("prev").disabled = sl.page <= 0;
    $("next").disabled = sl.page + 1 >= pages;
    const sel = $("deck");
    sel.replaceChildren(el("option", { value: NIL }, "Whiteboard"),
      ...(s.decks || []).map((x) => el("option", { value: x.id }, x.name)));
    sel.value = sl.deck;
    const key = s.slideKey(sl);
    if (this.board && key !== this.slideKey) {
      this.slideKey = key;
      this.board.show(sl, boardView(s.board(sl), this.me), deck ? pageURL(this.lesson, sl.deck, sl.page) : null);
    }
  }

  renderPeople() {
    const s = this.state;
    const quiet = () => {}; // send() has shown a refusal already
    renderPeople(s, {
      me: this.me,
      actions: this.role !== "teacher" ? null : {
        grant: (id) => this.send("floor.granted", { participant: id }).catch(quiet),
        lower: (id) => this.send("hand.lowered", { participant: id }).catch(quiet),
        revoke: (id) => this.send("floor.revoked", { participant: id }).catch(quiet),
        permit: (id, allowed) => this.send("drawing.permitted", { participant: id, allowed }).catch(quiet),
      },
    });
    const hb = $("hand");
    hb.textContent = (s.hands || []).includes(this.me) ? "Lower hand" : "Raise hand";
    hb.disabled = s.floor === this.me || s.status === "ended";
    $("class-draw").checked = !!s.drawingAllowed;
  }

  renderDraw() {
    if (!this.board) return;
    const can = this.state.status !== "ended" && this.state.canDraw(this.me);
    this.board.setCanDraw(can);
    $("draw-note").textContent = can ? "" : "The teacher has not turned on drawing for you.";
    document.body.classList.toggle("can-draw", can);
  }

  addMessage(e) {
    appendChat([chatItem(this.state, { actor: e.actor, time: e.time, text: e.data.text }, this.me)]);
  }

  makeBoard() {
    this.board = new Board($("board"), {
      send: (kind, data) => this.send(kind, data),
      sendEphemeral: (msg) => this.sendEphemeral(msg),
      me: this.me,
      isTeacher: this.role === "teacher",
      onerror: () => {}, // send() already showed it
      ontool: (t) => this.tool(t),
    });
    window.classroom.board = this.board;
    const tools = $("tools");
    tools.replaceChildren(...TOOLS.filter(([t]) => t !== "laser" || this.role === "teacher").map(([tool, icon, title]) =>
      el("button", { type: "button", "data-tool": tool, title, "aria-label": title, onclick: () => this.tool(tool) }, icon)));
    $("colors").replaceChildren(...COLORS.map((c) =>
      el("button", { type: "button", class: "swatch", "data-color": c, title: c, style: `background:${c}`, onclick: () => this.color(c) })));
    this.tool("pen");
    this.color(COLORS[4]);
    this.board.setWidth(Number($("width").value));
  }

  tool(t) {
    this.board.setTool(t);
    for (const b of $("tools").children) b.setAttribute("aria-pressed", String(b.dataset.tool === t));
  }

  color(c) {
    this.board.setColor(c);
    for (const b of $("colors").children) b.setAttribute("aria-pressed", String(b.dataset.color === c));
  }

  /** go moves the class to another page (teacher). */
  go(delta) {
    const sl = this.state.slide;
    this.send("slide.changed", { slide: { deck: sl.deck, page: sl.page + delta } }).catch(() => {});
  }

  async upload(files) {
    if (!files.length) return;
    const p = $("upload-progress");
    let d;
    try {
      // pdf.js is large: it is loaded when a teacher first uploads.
      const { uploadDeck } = await import("./slides.js");
      d = await uploadDeck(files, {
        lessonId: this.lesson, token: this.linkToken || this.token,
        onProgress: (done, total, phase) => { p.textContent = `${phase === "render" ? "Reading" : "Uploading"} page ${done} of ${total}…`; },
      });
    } catch (err) {
      p.textContent = "";
      toast(`Upload failed: ${err.message || err}`, "error");
      return;
    }
    p.textContent = "";
    try {
      await this.send("deck.added", { deck: d.deck, name: d.name, pages: d.pages });
      await this.send("slide.changed", { slide: { deck: d.deck, page: 0 } });
    } catch {
      // send() has shown the refusal
    }
  }

  wire() {
    $("keys").onclick = () => toast([...shortcuts, { keys: "PageUp/PageDown", action: "previous/next page (teacher)" }]
      .map((k) => `${k.keys}: ${k.action}`).join(" · "));
    $("cam").onclick = () => this.media.toggle("video");
    $("mic").onclick = () => this.media.toggle("audio");
    $("screen").onclick = () => this.media.shareScreen();
    $("hand").onclick = () => {
      const raised = (this.state.hands || []).includes(this.me);
      this.send(raised ? "hand.lowered" : "hand.raised", raised ? { participant: this.me } : {}).catch(() => {});
    };
    $("class-draw").onchange = (e) => this.send("drawing.permitted", { allowed: e.target.checked }).catch(() => this.mark("people"));
    $("chat-form").onsubmit = (e) => {
      e.preventDefault();
      const input = $("chat-input");
      const text = input.value.trim();
      if (!text) return;
      input.value = "";
      this.send("chat.posted", { text }).catch(() => { input.value = text; });
    };
    $("prev").onclick = () => this.go(-1);
    $("next").onclick = () => this.go(1);
    $("deck").onchange = (e) => this.send("slide.changed", { slide: { deck: e.target.value, page: 0 } }).catch(() => this.mark("slide"));
    $("upload").onchange = (e) => { this.upload([...e.target.files]); e.target.value = ""; };
    $("undo").onclick = () => this.board && this.board.undo();
    $("redo").onclick = () => this.board && this.board.redo();
    $("clear").onclick = () => { if (this.board && confirm("Clear this page for everyone?")) this.board.clear(); };
    $("width").oninput = (e) => this.board && this.board.setWidth(Number(e.target.value));
    $("record").onclick = () => this.send(this.state.recording ? "recording.stopped" : "recording.started").catch(() => {});
    $("lifecycle").onclick = () => {
      if (this.state.status === "created") this.send("lesson.started").catch(() => {});
      else if (confirm("End the lesson for everyone?")) this.send("lesson.ended").catch(() => {});
    };
    $("invite").onclick = () => this.invite(false);
    $("reinvite").onclick = () => {
      if (confirm("Make a new students' link? The current one will stop admitting anyone. Everyone who has joined stays, whoever they are.")) this.invite(true);
    };
    $("leave").onclick = () => {
      this.ending = true;
      if (this.conn) this.conn.leave();
      sessionStorage.removeItem(`classroom:${this.lesson}`);
      status("left");
      banner("You left the lesson. Open the link again to come back.", "info");
    };
    document.addEventListener("keydown", (e) => {
      if (e.target.closest && e.target.closest("input, textarea, select, [contenteditable]")) return;
      if (this.role === "teacher" && this.state) {
        if (e.key === "PageDown") { e.preventDefault(); this.go(1); }
        if (e.key === "PageUp") { e.preventDefault(); this.go(-1); }
      }
    });
    window.addEventListener("pagehide", () => { if (this.conn) this.conn.close(); });
  }
}

function status(s, path = "") {
  const p = $("status");
  p.dataset.state = s;
  p.textContent = { connecting: "connecting…", live: "connected", reconnecting: "reconnecting…", stopped: "stopped", left: "left" }[s] || s;
  if (path) {
    // A relayed path is the one a strict school network leaves; saying so
    // helps whoever looks into a slow or failing connection.
    p.textContent += ` (${path})`;
    p.title = path === "direct" ? "Media goes straight to the server" : `Media goes through the server's relay, ${path.replace("relayed ", "")}`;
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
app.start();
