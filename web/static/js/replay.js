// replay.js: the playback page of a past lesson, /lessons/{id}/replay#token=…
// (the teacher's token or a student's: everyone who took part may play it back).
//
// The lesson is its event log: the page keeps the lesson state of the
// playback position as a fold (state.js), applying events as the clock
// passes their time. Seeking asks the server for the state at that moment,
// which it builds from the nearest stored snapshot, then reads the events
// that follow in pages. Recorded media plays in step (replaymedia.js). The
// page follows the main room, or any breakout group the lesson had: then
// it shows the group's board as it was at the position.
//
// For tests it exposes window.replay: {ready, position, duration, state,
// board, hash(), seek(seconds), play(), pause(), setRate(r), follow(group),
// and how many seeks fetched the state (stateFetches), folded the log
// forward (localSeeks) or back from the state last fetched
// (checkpointSeeks)}.

import { LessonState } from "./state.js";
import { Board } from "./board.js";
import { followVideo } from "./videofile.js";
import { clock } from "./clock.js";
import { RecordedMedia } from "./replaymedia.js";
import { showPoll } from "./polls.js";
import { shownBoard } from "./groups.js";
import { t, dateTime } from "./i18n.js";
import { claims } from "./mine.js";
import { exportLesson } from "./links.js";
import { $, el, banner, nameOf, renderPeople, chatItem, appendChat, showChat, boardView, describeBoard } from "./views.js";

const PAGE = 2000; // events read per request
// A seek forward over at most this many events folds them here, from the
// log's pages, instead of fetching the whole state (tens of megabytes in a
// long lesson) from the server.
const LOCAL_SEEK = 2000;
const RETRY_MS = 3000; // a failed read of the log is tried again after this long
const READ_TIMEOUT_MS = 30000; // a read of the log that takes longer has failed

/** refusedLink says why the server refused the page's token (a 401 or 403). */
function refusedLink(err) {
  if (err.reason === "link_replaced") return t("This replay link has been replaced by a newer one: ask the teacher for it.");
  return t("This replay link has expired or is not this lesson's: ask the teacher for a new one.");
}

class Player {
  constructor() {
    const m = location.pathname.match(/^\/lessons\/([0-9a-f-]{36})\/replay\/?$/);
    this.lesson = m ? m[1] : "";
    this.token = new URLSearchParams(location.hash.slice(1)).get("token") || "";
    this.start = 0; // ms, the event clock's time of position 0
    this.duration = 0; // seconds
    this.position = 0; // seconds
    this.playing = false;
    this.rate = 1;
    this.state = null;
    this.queue = []; // events after the state, in order, not yet applied
    this.more = false; // whether the log has events after the queue
    this.fetching = null;
    this.generation = 0; // bumped by each seek; stale answers are dropped
    this.folded = -Infinity; // the wall time (ms) up to which the state holds the log
    this.failedAt = -Infinity; // when a read of the log last failed (performance.now); Infinity: not to be tried again
    this.readFailure = ""; // the banner that failure put up, taken down by the next read that succeeds
    this.waiting = false; // playing, the clock waits for events being read (tick)
    this.checkpoint = null; // {text, folded, seq}: the state last fetched, to seek back to cheaply
    this.redraw = false; // the state was replaced: the view shows another one
    this.stateFetches = 0; // seeks answered by the server's state, for tests
    this.localSeeks = 0; // seeks folded here from the log
    this.checkpointSeeks = 0; // seeks back from the state last fetched
    this.media = new RecordedMedia();
    this.slideKey = "";
    this.last = 0;
  }

  /**
   * api GETs a path of the lesson's API with the page's token: its JSON, or
   * its text. It throws an Error with the server's code and status, or the
   * fetch's (a TimeoutError after `timeout` ms, when given).
   */
  async api(path, text = false, timeout = 0) {
    const r = await fetch(`/api/lessons/${this.lesson}${path}`, { headers: { Authorization: `Bearer ${this.token}` },
      signal: timeout ? AbortSignal.timeout(timeout) : undefined });
    if (text && r.ok) return r.text();
    const body = await r.json().catch(() => ({}));
    if (!r.ok) throw Object.assign(new Error(body.error ? body.error.message : r.statusText), { code: body.error && body.error.code, reason: body.error && body.error.reason, status: r.status });
    return body;
  }

  async init() {
    if (!this.lesson) {
      banner(t("This is not a lesson's replay link. Open the replay from the lesson's page or from the home page."), "error");
      return;
    }
    if (!this.token) {
      banner(t("This replay link is incomplete: open it from the lesson's page once the lesson has ended, or from the home page, where a teacher's lessons keep their links."), "error");
      return;
    }
    let info;
    try {
      info = await fetch(`/api/lessons/${this.lesson}`).then((r) => r.ok ? r.json() : Promise.reject(new Error(t("there is no such lesson"))));
      this.start = Date.parse(info.created);
      const first = await this.api("/events?after=0&limit=1");
      if (!first.events.length) throw new Error(t("the lesson has no events"));
      const last = info.last_seq > 1 ? (await this.api(`/events?after=${info.last_seq - 1}&limit=1`)).events[0] : first.events[0];
      this.duration = Math.max(0, (Date.parse(last.time) - this.start) / 1000);
    } catch (err) {
      banner(err.code === "unauthorized" ? refusedLink(err) : t("Cannot replay this lesson: {reason}", { reason: err.message }), "error");
      return;
    }
    document.title = t("{title} · replay", { title: info.title });
    $("title").textContent = info.title;
    $("when").textContent = dateTime(info.created);
    await this.media.load((path) => this.api(path), this.token, $("audio"));
    $("rec").hidden = this.media.list.length === 0;
    if (this.media.list.length) followVideo($("video"), this.lesson, this.token);
    this.board = new Board($("board"), { send: () => Promise.reject(new Error("a replay is read-only")), sendEphemeral: () => {}, me: "", isTeacher: false });
    this.board.setCanDraw(false);
    $("scrubber").max = String(this.duration);
    this.wire();
    await this.seek(0);
    this.marks();
    window.replay.ready = true;
    requestAnimationFrame((t) => this.tick(t));
  }

  /**
   * marks puts a tick on the scrubber at every slide change, and a band
   * under it where media was recorded: the gaps between bands are the
   * recording's pauses.
   */
  async marks() {
    const ticks = [], bands = [];
    let after = 0, from = -1;
    const at = (e) => (Date.parse(e.time) - this.start) / 1000;
    for (;;) {
      const page = await this.api(`/events?after=${after}&limit=5000`);
      for (const e of page.events) {
        if (e.kind === "slide.changed") ticks.push(at(e));
        else if (e.kind === "recording.started") from = at(e);
        else if ((e.kind === "recording.stopped" || e.kind === "lesson.ended") && from >= 0) {
          bands.push([from, at(e)]);
          from = -1;
        }
        after = e.seq;
      }
      if (!page.more) break;
    }
    if (from >= 0) bands.push([from, this.duration]);
    this.slideChanges = ticks;
    this.recorded = bands;
    const pct = (t) => (this.duration ? (100 * t) / this.duration : 0);
    $("marks").replaceChildren(
      ...bands.map(([a, b]) => el("span", { class: "recorded", style: `inset-inline-start:${pct(a)}%;width:${pct(b) - pct(a)}%`, title: t("recorded {from}–{to}", { from: clock(a), to: clock(b) }) })),
      // A mark is a target for the mouse and the finger; the keyboard seeks with the scrubber.
      ...ticks.map((at) => el("button", { type: "button", class: "slide", tabindex: "-1", style: `inset-inline-start:${pct(at)}%`,
        title: t("slide change at {time}", { time: clock(at) }), "aria-label": t("slide change at {time}", { time: clock(at) }),
        onclick: () => this.seek(at) })));
  }

  /**
   * seek shows the lesson as it was at `seconds` from its start. When the
   * server cannot be read, it says so and shows what the page holds.
   */
  async seek(seconds) {
    const gen = this.generation + 1;
    try {
      await this.seekTo(seconds);
    } catch (err) {
      if (gen !== this.generation) return; // a newer seek shows its own
      banner(t("Seeking failed: {reason}", { reason: err.message }), "error");
      this.pause();
      if (!this.state) return; // nothing loaded yet
      this.position = Math.max(0, Math.min(this.duration, (this.folded - this.start) / 1000));
      this.land(this.folded);
    }
  }

  async seekTo(seconds) {
    seconds = Math.min(Math.max(0, seconds), this.duration);
    const gen = ++this.generation;
    this.position = seconds;
    const until = this.start + seconds * 1000;
    // Forward of what the state holds (not of the clock, which an earlier
    // seek still fetching its state has moved already), and not far: fold
    // the log here.
    if (this.state && until >= this.folded) {
      const near = await this.reach(until, gen);
      if (gen !== this.generation) return;
      if (near) {
        this.localSeeks++;
        this.land(until);
        return;
      }
    }
    // Back, but not before the state last fetched: start from it again
    // (kept as the server's text: restoring it is a fraction of fetching
    // it), only when the state holds at most LOCAL_SEEK events past it, so
    // that the step from it surely is short: a seek that installed it and
    // then had to fetch anyway would cost more than fetching.
    const cp = this.checkpoint;
    if (cp && until >= cp.folded && until < this.folded && this.state.seq - cp.seq <= LOCAL_SEEK) {
      this.install(cp.text, cp.folded);
      const near = await this.reach(until, gen);
      if (gen !== this.generation) return;
      if (near) {
        this.checkpointSeeks++;
        this.land(until);
        return;
      }
    }
    this.stateFetches++;
    // Whole milliseconds, rounded down: the state must not hold an event
    // past `until`, which folded claims.
    const at = (Math.floor(seconds * 1000) / 1000).toFixed(3);
    const text = await this.api(`/state?at=${at}`, true);
    if (gen !== this.generation) return;
    this.checkpoint = { text, folded: until, seq: this.install(text, until) };
    await this.fill();
    if (gen !== this.generation) return;
    this.land(until);
  }

  /**
   * install replaces the state with a snapshot of the server's (the text of
   * a GET …/state), which holds the log up to the wall time `folded`, and
   * empties the queue to read on after it. The view is redrawn when a seek
   * lands.
   */
  install(text, folded) {
    const { seq, state } = JSON.parse(text);
    this.state = LessonState.fromSnapshot(state);
    this.folded = folded;
    this.queue = [];
    this.more = true;
    this.after = seq;
    this.fetching = null; // a read from the old queue's end is dropped when it comes
    this.redraw = true;
    return seq;
  }

  /** land applies the queued events up to `until` (ms) and shows the result. */
  land(until) {
    this.advance(until);
    if (this.redraw) {
      this.redraw = false;
      this.renderAll();
    }
    this.syncMedia(true);
  }

  /**
   * reach reads pages of the log until the queue holds the events up to the
   * wall time `until` (ms), and says whether they are few enough (LOCAL_SEEK)
   * to fold here. False when a read fails or a newer seek begins.
   */
  async reach(until, gen) {
    // Far beyond what is queued, at the pace of what is, it is not worth
    // reading the pages between only to find out.
    const q = this.queue;
    if (q.length >= 2 && this.more) {
      const first = Date.parse(q[0].time), last = Date.parse(q[q.length - 1].time);
      if (last > first && until > last && q.length + (until - last) * q.length / (last - first) > 2 * LOCAL_SEEK) return false;
    }
    for (let reads = 0; reads <= LOCAL_SEEK / PAGE + 1; reads++) {
      const past = this.queue.findIndex((e) => Date.parse(e.time) > until);
      if (past >= 0) return past <= LOCAL_SEEK;
      if (this.queue.length > LOCAL_SEEK) return false;
      if (!this.more) return true; // the rest of the lesson is queued
      const before = this.after;
      await this.fill();
      if (gen !== this.generation || this.after === before) return false;
    }
    return false;
  }

  /**
   * fill reads the next page of events after those queued. A page is kept
   * only if no seek replaced the queue while it was read (a seek that
   * fetches a state forgets the read in flight); a seek that folds the log
   * here keeps the queue, and the page.
   */
  fill() {
    if (!this.more || this.fetching) return this.fetching;
    const fetching = this.api(`/events?after=${this.after}&limit=${PAGE}`, false, READ_TIMEOUT_MS).then((page) => {
      if (this.fetching !== fetching) return; // the queue it was for is gone
      this.fetching = null;
      this.failedAt = -Infinity;
      if (this.readFailure) {
        if ($("banner").textContent === this.readFailure) banner("");
        this.readFailure = "";
      }
      for (const e of page.events) this.queue.push(e);
      if (page.events.length) this.after = page.events[page.events.length - 1].seq;
      this.more = page.more;
    }, (err) => {
      if (this.fetching !== fetching) return;
      this.fetching = null;
      if (err.status === 401 || err.status === 403) {
        // The link expired (or never was this lesson's): trying again
        // will not help; only a seek reads again.
        this.failedAt = Infinity;
        this.readFailure = refusedLink(err);
        banner(this.readFailure, "error");
        return;
      }
      this.failedAt = performance.now();
      // Playing, the clock waits at the last event queued (see tick)
      // until a read tried again brings more, and plays on.
      this.readFailure = t("Reading the lesson failed: {reason}. Trying again…", { reason: err.message });
      banner(this.readFailure, "error");
    });
    this.fetching = fetching;
    return fetching;
  }

  /** advance applies the queued events up to the wall time `until` (ms). */
  advance(until) {
    let changed = false, slide = false, chat = [];
    let i = 0;
    this.folded = Math.max(this.folded, until);
    for (; i < this.queue.length; i++) {
      const e = this.queue[i];
      if (Date.parse(e.time) > until) break;
      this.state.apply(e);
      changed = true;
      const d = e.data || {};
      if (e.kind === "slide.changed" || e.kind === "deck.added" || (e.kind.startsWith("group") && e.kind !== "group.chat.posted")) slide = true;
      else if (e.kind === (this.chatShown ? "group.chat.posted" : "chat.posted") && (d.group || "") === this.chatShown) chat.push(chatItem(this.state, { actor: e.actor, time: e.time, text: d.text }));
      else if (d.slide && this.state.slideKey(d.slide) === this.slideKey) this.board.update(boardView(this.state.board(d.slide), ""), e);
    }
    if (i) this.queue.splice(0, i);
    if (chat.length) appendChat(chat);
    if (slide && this.followed() !== this.chatShown) this.renderAll(); // the group followed came or went
    else if (slide) this.renderSlide();
    if (changed) describeBoard(this.state, this.shown());
    if (changed) {
      this.renderPeople();
      this.renderVideos();
    }
  }

  tick(now) {
    const dt = this.last ? (now - this.last) / 1000 : 0;
    this.last = now;
    if (this.playing) {
      // With no events queued while more are on their way, the clock
      // waits for them, the recordings with it, instead of running past
      // them; and it runs no further than the last event queued.
      const waiting = this.more && this.queue.length === 0;
      if (waiting !== this.waiting) {
        this.waiting = waiting;
        this.syncMedia(true);
      }
      if (!waiting) {
        let to = Math.min(this.duration, this.position + dt * this.rate);
        if (this.more) to = Math.min(to, (Date.parse(this.queue[this.queue.length - 1].time) - this.start) / 1000);
        this.position = Math.max(this.position, to);
        this.advance(this.start + this.position * 1000);
        if (this.position >= this.duration && !this.more && this.queue.length === 0) this.pause();
        else this.syncMedia(false); // paused, seek, play and pause sync it themselves
      }
    }
    // Read on before the queue runs dry, playing or paused; after a failed
    // read, every RETRY_MS, so that play resumes once the server answers.
    if (this.more && !this.fetching && this.queue.length < PAGE / 2 && now - this.failedAt > RETRY_MS) this.fill();
    this.renderClock();
    requestAnimationFrame((t) => this.tick(t));
  }

  /** syncMedia plays the recordings of the stage followed that cover the position, at its offset. */
  syncMedia(force) {
    const stage = this.state ? this.followed() : "";
    if (stage !== this.media.group) {
      this.media.group = stage;
      force = true;
    }
    this.media.sync(this.start + this.position * 1000, this.rate, this.playing && !this.waiting, force);
    this.renderVideos();
  }

  /** current is the recording of a participant's video that plays now, newest first. */
  current(participant) {
    return this.media.current(participant, this.start + this.position * 1000);
  }

  renderVideos() {
    if (!this.state) return;
    const teacher = this.state.present().find((p) => p.role === "teacher");
    const show = (tile, rec, label) => {
      const slot = tile.querySelector("video");
      const want = rec ? rec.media : null;
      if (want && slot !== want) {
        want.className = "";
        slot.replaceWith(want);
      } else if (!want && slot.src) {
        slot.replaceWith(el("video", { playsinline: true }));
      }
      tile.classList.toggle("empty", !want);
      // Outside what was recorded there is no picture to have: say so.
      tile.dataset.empty = this.recordedAt(this.position) ? t("No video") : t("Not recorded");
      tile.querySelector(".label").textContent = label;
    };
    show($("tile-teacher"), teacher ? this.current(teacher.id) : null, teacher ? nameOf(this.state, teacher.id) : t("Teacher"));
    // Following a group: a tile for each of its members, the floor's in the main room.
    const g = this.state.group(this.followed());
    const grid = $("group-tiles");
    grid.hidden = !g;
    const members = g ? (g.members || []) : [];
    const tiles = new Map([...grid.children].map((c) => [c.dataset.participant, c]));
    grid.replaceChildren(...members.map((id) => tiles.get(id) || el("div", { class: "tile empty", "data-participant": id },
      el("video", { playsinline: true }), el("span", { class: "label" }))));
    for (const tile of grid.children) show(tile, this.current(tile.dataset.participant), nameOf(this.state, tile.dataset.participant));
    const floor = g ? "" : this.state.floor;
    $("tile-floor").hidden = !floor;
    if (floor) show($("tile-floor"), this.current(floor), t("{name} (has the floor)", { name: nameOf(this.state, floor) }));
  }

  /** recordedAt reports whether media was being recorded at a position (seconds). */
  recordedAt(position) {
    return (this.recorded || []).some(([from, to]) => position >= from && position < to);
  }

  /** followed is the id of the group followed while the lesson has it at the position, else "". */
  followed() {
    return this.follow && this.state.group(this.follow) ? this.follow : "";
  }

  renderAll() {
    // Following a group, its chat (a student's replay holds their own group's only).
    this.chatShown = this.followed();
    showChat(this.state, "", this.chatShown ? this.state.group(this.chatShown).chat : this.state.chat);
    this.slideKey = "";
    this.renderSlide();
    this.renderPeople();
    this.renderVideos();
  }

  /**
   * shown is the board the page shows: the followed group's (while the
   * lesson has it at the position), else the main room's.
   */
  shown() {
    return shownBoard(this.state, this.lesson, this.state.group(this.followed()));
  }

  /** renderFollow lists the main room and the lesson's groups at the position to follow. */
  renderFollow() {
    const b = this.state.breakout;
    const groups = (b && b.groups) || [];
    const sel = $("follow");
    const key = JSON.stringify(groups.map((g) => [g.id, g.name]));
    if (key !== this.followKey) {
      this.followKey = key;
      sel.replaceChildren(el("option", { value: "" }, t("Main room")), ...groups.map((g) => el("option", { value: g.id }, g.name)));
    }
    sel.value = this.followed();
    sel.closest("label").hidden = groups.length === 0;
  }

  /** setFollow follows a group (its id) or the main room (""). */
  setFollow(group) {
    this.follow = group;
    this.renderAll();
    this.syncMedia(true);
  }

  renderSlide() {
    this.renderFollow();
    const { slide, background, label } = this.shown();
    $("slide-label").textContent = label;
    describeBoard(this.state, { slide, label });
    const key = this.state.slideKey(slide);
    if (key !== this.slideKey) {
      this.slideKey = key;
      this.board.show(slide, boardView(this.state.board(slide), ""), background);
    }
  }

  renderPeople() {
    renderPeople(this.state);
    showPoll(this.state, $("poll"));
  }

  renderClock() {
    $("clock").textContent = `${clock(this.position)} / ${clock(this.duration)}`;
    const s = $("scrubber");
    if (document.activeElement !== s || !this.scrubbing) s.value = String(this.position);
    $("play").textContent = this.playing ? "❚❚" : "▶";
  }

  play() {
    if (this.position >= this.duration) this.seek(0);
    this.playing = true;
    this.syncMedia(true);
  }

  pause() {
    this.playing = false;
    this.syncMedia(false);
  }

  setRate(r) {
    this.rate = r;
    $("speed").value = String(r);
    this.syncMedia(false);
  }

  wire() {
    $("play").onclick = () => (this.playing ? this.pause() : this.play());
    const s = $("scrubber");
    s.oninput = () => { this.scrubbing = true; $("clock").textContent = `${clock(Number(s.value))} / ${clock(this.duration)}`; };
    s.onchange = () => { this.scrubbing = false; this.seek(Number(s.value)); };
    $("speed").onchange = (e) => this.setRate(Number(e.target.value));
    $("follow").onchange = (e) => this.setFollow(e.target.value);
    if (claims(this.token).role === "teacher") {
      const ex = $("export");
      ex.hidden = false;
      ex.onchange = () => { exportLesson(this.lesson, this.token, ex.value); ex.value = ""; };
    }
    document.addEventListener("keydown", (e) => {
      if (e.target.closest && e.target.closest("input, select, textarea")) return;
      if (e.key === " ") { e.preventDefault(); $("play").click(); }
      // The arrow that points the way time runs seeks forward: right,
      // or left when the page runs right to left (as the scrubber does).
      const later = { ArrowRight: 10, ArrowLeft: -10 }[e.key];
      if (later) this.seek(this.position + (document.documentElement.dir === "rtl" ? -later : later));
    });
  }
}

const player = new Player();
window.replay = {
  ready: false,
  get position() { return player.position; },
  get duration() { return player.duration; },
  get state() { return player.state; },
  get board() { return player.board; },
  get slideChanges() { return player.slideChanges || []; },
  get recorded() { return player.recorded || []; },
  get stateFetches() { return player.stateFetches; },
  get localSeeks() { return player.localSeeks; },
  get checkpointSeeks() { return player.checkpointSeeks; },
  hash: () => player.state.hash(),
  seek: (s) => player.seek(s),
  play: () => player.play(),
  pause: () => player.pause(),
  setRate: (r) => player.setRate(r),
  follow: (group) => player.setFollow(group),
  player,
};
player.init();
