// state.js: the browser's copy of a lesson's state, a fold over the lesson's
// committed events exactly as the server's domain.State.Apply folds them
// (docs/protocol.md, section 6). Its snapshot JSON, byte for byte as Go's
// encoding/json writes domain.State, is snapshot.js's job, loaded only when a
// hash is asked for: the hash proves a page's lesson equals the server's.
// Values are read as Go decodes them (govalues.js), limits are the server's
// (limits.js).
//
// API
//
//   new LessonState()             a lesson with no events yet (domain.NewState)
//   LessonState.fromSnapshot(obj) the state of a parsed snapshot (the "snapshot"
//                                 detail's state of connection.js), as Go's
//                                 RestoreSnapshot reads it
//   st.apply(event)               folds one committed event, as it arrives in an
//                                 "events" message ({v, id, lesson, seq, kind,
//                                 actor?, role, time, data}). Total and
//                                 deterministic like the Go fold: an event that
//                                 makes no sense changes nothing but seq. Throws
//                                 only on an unknown kind. Costs O(size of the
//                                 event) (a board.cleared O(objects of the board)).
//   await st.hash()               lower-case hex SHA-256 of the snapshot JSON
//                                 (snapshot.js), the server's State.Hash (needs
//                                 a secure context)
//   st.board(slide)               the slide's Board, or an empty one
//   st.visible(slide)             the slide's objects not erased, in drawing order
//   st.slideKey(slide)            "<deck>/<page>", the key of boards
//   st.present()                  participants present, teachers first, then by name
//   st.canDraw(participant)       whether the participant may draw now (State.CanDraw)
//   st.isTeacher(participant)     whether the participant joined as teacher
//
// Fields, to read and never to change (the fold and the encoder's caches rely
// on it): lesson, seq, title, status, created (RFC 3339 string), participants
// (Map id → {id, name, role, present, drawing (null or a boolean)}),
// drawingAllowed, decks (null or [{id, name, pages}]), slide ({deck, page}),
// boards (Map key → Board), hands (null or [id]), floor, chat (null or [{seq,
// actor, time, text}]), recording. A Board has objects (null or, in drawing
// order, {id, kind, owner, seq, hidden, tool, shape, color, fill, width,
// points (null or [[x, y, t, pressure], …]), parts, from, to, at, text, size},
// every field present, "" or 0 when unused), history (null or Map participant
// → {undo, redo}, each null or [{op, objects}]) and the methods object(id),
// visible(), canUndo(participant) and canRedo(participant). null and [] are
// kept apart because Go's encoding tells nil from empty.

import { MAX_UNDO_DEPTH, MAX_CHAT_MESSAGES_KEPT, MAX_OBJECT_POINTS, MAX_OBJECTS_PER_SLIDE, MAX_DECKS,
  MAX_PARTICIPANTS_KNOWN, MAX_WAITING, MAX_POLLS, MAX_GROUP_MEMBERS } from "./limits.js";
import { NIL_UUID, ZERO_TIME, compareUTF8, slideKey, slideOf, pointOf, pairOf, str, num, uuidOf, timeOf } from "./govalues.js";

/** The deck id of the blank whiteboard. */

/** Board is the drawing on one slide with each participant's undo history. */
export class Board {
  /** objects by id; not part of the state's JSON */
  #index = new Map();

  /**
   * @param {Array<object>|null} objects in drawing order
   * @param {Map<string, object|null>|null} history by participant
   */
  constructor(objects = null, history = new Map()) {
    this.objects = objects;
    this.history = history;
    // As Go's reindex: the last of two objects with one id wins.
    if (objects) for (const o of objects) this.#index.set(o.id, o);
  }

  /** object returns the object of that id, or undefined. */
  object(id) {
    return this.#index.get(id);
  }

  /** visible returns the objects not erased, in drawing order. */
  visible() {
    return this.objects ? this.objects.filter((o) => !o.hidden) : [];
  }

  /** canUndo and canRedo say whether the participant has something to undo or redo here. */
  canUndo(participant) {
    const h = this.history && this.history.get(participant);
    return !!(h && h.undo && h.undo.length);
  }

  canRedo(participant) {
    const h = this.history && this.history.get(participant);
    return !!(h && h.redo && h.redo.length);
  }

  add(actor, o) {
    if (this.#index.has(o.id) || (this.objects ? this.objects.length : 0) >= MAX_OBJECTS_PER_SLIDE) return;
    this.#index.set(o.id, o);
    if (this.objects === null) this.objects = [];
    this.objects.push(o);
    this.record(actor, { op: "add", objects: [o.id] });
  }

  /** setHidden sets the hidden flag of the named objects and returns the ids it changed. */
  setHidden(ids, hidden) {
    const changed = [];
    if (!ids) return changed;
    for (const id of ids) {
      const o = this.#index.get(id);
      if (o && o.hidden !== hidden) {
        o.hidden = hidden;
        changed.push(id);
      }
    }
    return changed;
  }

  record(actor, action) {
    if (action.objects.length === 0) return;
    if (this.history === null) this.history = new Map();
    let h = this.history.get(actor);
    if (!h) {
      h = { undo: null, redo: null };
      this.history.set(actor, h);
    }
    h.undo = pushBounded(h.undo, action);
    h.redo = null;
  }

  undo(actor) {
    const h = this.history && this.history.get(actor);
    if (!h || !h.undo || h.undo.length === 0) return;
    const a = h.undo.pop();
    this.setHidden(a.objects, a.op === "add");
    h.redo = pushBounded(h.redo, a);
  }

  redo(actor) {
    const h = this.history && this.history.get(actor);
    if (!h || !h.redo || h.redo.length === 0) return;
    const a = h.redo.pop();
    this.setHidden(a.objects, a.op !== "add");
    h.undo = pushBounded(h.undo, a);
  }
}

function pushBounded(stack, a) {
  if (stack === null) return [a];
  if (stack.length >= MAX_UNDO_DEPTH) stack.splice(0, stack.length - MAX_UNDO_DEPTH + 1);
  stack.push(a);
  return stack;
}

/** remove takes s out of list as Go's remove does: null stays null, a list may become []. */
function remove(list, s) {
  if (list === null) return null;
  const i = list.indexOf(s);
  if (i >= 0) list.splice(i, 1);
  return list;
}

/** LessonState is a lesson as its log describes it after the event of sequence seq. */
export class LessonState {
  constructor() {
    this.lesson = NIL_UUID;
    this.seq = 0;
    this.title = "";
    this.status = "";
    this.created = ZERO_TIME;
    this.participants = new Map();
    this.drawingAllowed = false;
    this.decks = null;
    this.slide = { deck: NIL_UUID, page: 0 };
    this.boards = new Map();
    this.hands = null;
    this.floor = "";
    this.chat = null;
    this.recording = false;
    this.lobby = false;
    this.locked = false;
    this.waiting = null;
    this.admitted = null;
    this.removed = null;
    this.chatClosed = false;
    this.polls = null;
    this.breakout = null;
  }

  /**
   * fromSnapshot returns the state a parsed snapshot describes, read as Go's
   * RestoreSnapshot reads it: absent fields are zero, null maps become empty.
   */
  static fromSnapshot(obj) {
    if (obj === null || typeof obj !== "object" || Array.isArray(obj)) throw new Error("malformed lesson snapshot");
    const s = new LessonState();
    s.lesson = uuidOf(obj.lesson);
    s.seq = num(obj.seq);
    s.title = str(obj.title);
    s.status = str(obj.status);
    s.created = timeOf(obj.created, false);
    for (const [k, p] of Object.entries(obj.participants || {})) {
      s.participants.set(k, p === null ? null : {
        id: str(p.id), name: str(p.name), role: str(p.role), present: !!p.present,
        drawing: p.drawing == null ? null : !!p.drawing,
        audioMuted: !!p.audio_muted, videoMuted: !!p.video_muted, unmuteAsked: !!p.unmute_asked,
      });
    }
    s.drawingAllowed = !!obj.drawing_allowed;
    s.decks = obj.decks == null ? null : obj.decks.map((d) => ({ id: uuidOf(d.id), name: str(d.name), pages: num(d.pages) }));
    s.slide = slideOf(obj.slide);
    for (const [k, b] of Object.entries(obj.boards || {})) {
      if (b === null) throw new Error(`malformed lesson snapshot: board ${k} is null`);
      s.boards.set(k, boardOf(b));
    }
    s.hands = obj.hands == null ? null : obj.hands.map(str);
    s.floor = str(obj.floor);
    s.chat = obj.chat == null ? null : obj.chat.map(chatOf);
    s.recording = !!obj.recording;
    s.lobby = !!obj.lobby;
    s.locked = !!obj.locked;
    s.waiting = obj.waiting == null ? null : obj.waiting.map((w) => ({ id: str(w.id), name: str(w.name) }));
    s.admitted = obj.admitted == null ? null : obj.admitted.map(str);
    s.removed = obj.removed == null ? null : obj.removed.map(str);
    s.chatClosed = !!obj.chat_closed;
    s.polls = obj.polls == null ? null : obj.polls.map((q) => ({
      id: uuidOf(q.id), seq: num(q.seq), question: str(q.question), choices: (q.choices || []).map(str),
      multiple: !!q.multiple, correct: (q.correct || []).map(num), anonymous: !!q.anonymous, open: !!q.open,
      answers: (q.answers || []).map((a) => ({ participant: str(a.participant), seq: num(a.seq),
        choices: (a.choices || []).map(num), text: str(a.text) })),
      shown: !!q.shown, results: (q.results || []).map(num),
    }));
    const b = obj.breakout;
    s.breakout = b == null ? null : {
      seq: num(b.seq), started: timeOf(b.started, false), seconds: num(b.seconds), choose: !!b.choose, open: !!b.open,
      groups: b.groups == null ? null : b.groups.map((g) => ({
        id: uuidOf(g.id), name: str(g.name), members: g.members == null ? null : g.members.map(str),
        visitors: g.visitors == null ? null : g.visitors.map(str), slide: slideOf(g.slide),
        chat: g.chat == null ? null : g.chat.map(chatOf),
      })),
      message: str(b.message), recalled: timeOf(b.recalled, false), recall: num(b.recall), shown: uuidOf(b.shown),
    };
    return s;
  }

  /**
   * apply folds one committed event into the state, exactly as Go's
   * State.apply does.
   */
  apply(e) {
    const kind = e.kind;
    if (!KINDS.has(kind)) throw new Error(`unknown event kind ${JSON.stringify(kind)}`);
    const seq = num(e.seq);
    if (seq > this.seq) this.seq = seq;
    // Nothing happens in a lesson that does not exist, and nothing but
    // leaving after it has ended.
    if (kind !== "lesson.created" && this.status === "") return;
    if (kind !== "participant.left" && this.status === "ended") return;
    const actor = str(e.actor);
    const p = e.data || {};
    switch (kind) {
      case "lesson.created":
        if (this.status === "") {
          this.lesson = uuidOf(e.lesson);
          this.title = str(p.title);
          this.status = "created";
          this.created = timeOf(e.time, true);
          this.lobby = !!p.lobby;
        }
        return;
      case "lesson.started":
        if (this.status === "created") this.status = "live";
        return;
      case "lesson.ended":
        this.status = "ended";
        this.floor = "";
        this.hands = null;
        this.recording = false;
        this.waiting = null;
        return;
      case "participant.joined": {
        const pt = this.participants.get(actor);
        if (pt) {
          pt.name = str(p.name);
          pt.present = true;
        } else if (!this.participants.has(actor) && this.participants.size < MAX_PARTICIPANTS_KNOWN) {
          this.participants.set(actor, newParticipant(actor, str(p.name), str(e.role)));
        }
        this.#unwait(actor);
        this.admitted = remove(this.admitted, actor);
        return;
      }
      case "participant.left": {
        const pt = this.participants.get(actor);
        if (pt) pt.present = false;
        this.#unwait(actor); // left the lobby
        this.hands = remove(this.hands, actor);
        if (this.floor === actor) this.floor = "";
        return;
      }
      case "drawing.permitted": {
        const who = str(p.participant);
        if (who === "") this.drawingAllowed = !!p.allowed;
        else {
          const pt = this.participants.get(who);
          if (pt) pt.drawing = !!p.allowed;
        }
        return;
      }
      case "stroke.drawn": {
        const slide = slideOf(p.slide);
        const id = uuidOf(p.object);
        const part = num(p.part);
        const points = p.points == null ? null : p.points;
        if (part === 0) {
          this.#boardFor(slide).add(actor, newObject(id, "stroke", actor, seq, {
            tool: str(p.tool), color: str(p.color), width: num(p.width),
            points: points === null ? null : points.map(pointOf), parts: 1,
          }));
          return;
        }
        const b = this.boards.get(slideKey(slide));
        const o = b && b.object(id);
        if (o && o.owner === actor && o.kind === "stroke" && o.parts === part) {
          const have = o.points ? o.points.length : 0;
          const more = points ? points.length : 0;
          if (have + more <= MAX_OBJECT_POINTS) {
            if (more > 0) {
              if (o.points === null) o.points = [];
              const added = points.map(pointOf);
              for (const pt of added) o.points.push(pt);
            }
            o.parts++;
          }
        }
        return;
      }
      case "shape.added":
        this.#boardFor(slideOf(p.slide)).add(actor, newObject(uuidOf(p.object), "shape", actor, seq, {
          shape: str(p.shape), color: str(p.color), fill: str(p.fill), width: num(p.width),
          from: pairOf(p.from), to: pairOf(p.to),
        }));
        return;
      case "text.added":
        this.#boardFor(slideOf(p.slide)).add(actor, newObject(uuidOf(p.object), "text", actor, seq, {
          color: str(p.color), at: pairOf(p.at), text: str(p.text), size: num(p.size),
        }));
        return;
      case "objects.erased": {
        const b = this.boards.get(slideKey(slideOf(p.slide)));
        if (b) b.record(actor, { op: "erase", objects: b.setHidden((p.objects || []).map(uuidOf), true) });
        return;
      }
      case "board.cleared": {
        const b = this.boards.get(slideKey(slideOf(p.slide)));
        if (!b) return;
        const visible = b.objects ? b.objects.filter((o) => !o.hidden).map((o) => o.id) : [];
        b.record(actor, { op: "clear", objects: b.setHidden(visible, true) });
        return;
      }
      case "board.undone": {
        const b = this.boards.get(slideKey(slideOf(p.slide)));
        if (b) b.undo(actor);
        return;
      }
      case "board.redone": {
        const b = this.boards.get(slideKey(slideOf(p.slide)));
        if (b) b.redo(actor);
        return;
      }
      case "deck.added": {
        const id = uuidOf(p.deck);
        const decks = this.decks || [];
        if (!decks.some((d) => d.id === id) && decks.length < MAX_DECKS) {
          this.decks = decks;
          decks.push({ id, name: str(p.name), pages: num(p.pages) });
        }
        return;
      }
      case "slide.changed":
        this.slide = slideOf(p.slide);
        return;
      case "hand.raised":
        if (!(this.hands && this.hands.includes(actor)) && this.floor !== actor) {
          if (this.hands === null) this.hands = [];
          this.hands.push(actor);
        }
        return;
      case "hand.lowered":
        this.hands = remove(this.hands, str(p.participant));
        return;
      case "floor.granted":
        this.floor = str(p.participant);
        this.hands = remove(this.hands, this.floor);
        return;
      case "floor.revoked":
        if (this.floor === str(p.participant)) this.floor = "";
        return;
      case "chat.posted":
        if (this.chat === null) this.chat = [];
        this.chat.push({ seq, actor, time: timeOf(e.time, true), text: str(p.text) });
        if (this.chat.length > MAX_CHAT_MESSAGES_KEPT) this.chat.splice(0, this.chat.length - MAX_CHAT_MESSAGES_KEPT);
        return;
      case "recording.started":
        this.recording = true;
        return;
      case "recording.stopped":
        this.recording = false;
        return;
      default:
        this.#applyControl(e, kind, actor, p);
        this.#applyPoll(e, kind, actor, p, seq);
        this.#applyBreakout(e, kind, actor, p, seq);
    }
  }

  /** #applyBreakout folds the events of breakout groups, as Go's State.applyBreakout. */
  #applyBreakout(e, kind, actor, p, seq) {
    if (!kind.startsWith("group")) return;
    const b = this.breakout;
    const open = !!b && b.open;
    if (str(e.role) !== "teacher" && kind !== "group.joined" && kind !== "group.chat.posted") return;
    switch (kind) {
      case "group.chat.posted": {
        const g = this.group(uuidOf(p.group));
        if (!open || !g) return;
        if (g.chat === null) g.chat = [];
        g.chat.push({ seq, actor, time: timeOf(e.time, true), text: str(p.text) });
        if (g.chat.length > MAX_CHAT_MESSAGES_KEPT) g.chat.splice(0, g.chat.length - MAX_CHAT_MESSAGES_KEPT);
        return;
      }
      case "groups.formed": {
        if (open) return;
        this.breakout = {
          seq, started: timeOf(e.time, true), seconds: num(p.seconds || 0), choose: !!p.choose, open: true,
          groups: (p.groups || []).length === 0 ? null : p.groups.map((g) => ({
            id: uuidOf(g.id), name: str(g.name), members: g.members == null ? null : g.members.map(str), visitors: null,
            slide: p.blank ? { deck: NIL_UUID, page: 0 } : { deck: this.slide.deck, page: this.slide.page }, chat: null,
          })),
          message: "", recalled: ZERO_TIME, recall: 0, shown: NIL_UUID,
        };
        return;
      }
      case "group.joined": {
        const who = str(p.participant) || actor;
        const g = this.group(uuidOf(p.group));
        const pt = this.participants.get(who);
        if (!open || !g || !pt) return;
        for (const o of b.groups) {
          o.members = remove(o.members, who);
          o.visitors = remove(o.visitors, who);
        }
        if (pt.role === "student") {
          if ((g.members ? g.members.length : 0) < MAX_GROUP_MEMBERS) {
            if (g.members === null) g.members = [];
            g.members.push(who);
          }
        } else {
          if (g.visitors === null) g.visitors = [];
          g.visitors.push(who);
        }
        return;
      }
      case "group.left":
        if (open) for (const g of b.groups) g.visitors = remove(g.visitors, actor);
        return;
      case "groups.messaged":
        if (open) b.message = str(p.text);
        return;
      case "groups.recalled":
        if (open && b.recalled === ZERO_TIME) {
          b.recalled = timeOf(e.time, true);
          b.recall = num(p.seconds || 0);
        }
        return;
      case "groups.ended":
        if (open) {
          b.open = false;
          for (const g of b.groups) g.visitors = null;
        }
        return;
      case "group.board.shown": {
        const id = p.group == null ? NIL_UUID : uuidOf(p.group);
        if (b && !b.open && (id === NIL_UUID || this.group(id))) b.shown = id;
        return;
      }
    }
  }

  /** group returns the breakout group of the given id, or null. */
  group(id) {
    return (this.breakout && this.breakout.groups && this.breakout.groups.find((g) => g.id === id)) || null;
  }

  /** #applyPoll folds the events of polls, as Go's State.applyPoll. */
  #applyPoll(e, kind, actor, p, seq) {
    switch (kind) {
      case "poll.asked": {
        const id = uuidOf(p.poll);
        if (str(e.role) !== "teacher" || this.poll(id) || (this.polls ? this.polls.length : 0) >= MAX_POLLS) return;
        if (this.polls === null) this.polls = [];
        this.polls.push({
          id, seq, question: str(p.question), choices: (p.choices || []).map(str), multiple: !!p.multiple,
          correct: (p.correct || []).map(num), anonymous: !!p.anonymous, open: true, answers: [], shown: false, results: [],
        });
        return;
      }
      case "poll.answered": {
        const q = this.poll(uuidOf(p.poll));
        const text = str(p.text);
        if (!q || !q.open || str(e.role) !== "student" || (q.choices.length === 0) !== (text !== "")) return;
        const a = { participant: actor, seq, choices: (p.choices || []).map(num), text };
        const i = q.answers.findIndex((x) => x.participant === actor);
        if (i >= 0) q.answers[i] = a;
        else if (q.answers.length < MAX_PARTICIPANTS_KNOWN) q.answers.push(a);
        return;
      }
      case "poll.closed": {
        const q = this.poll(uuidOf(p.poll));
        if (q) q.open = false;
        return;
      }
      case "poll.results_shown": {
        const q = this.poll(uuidOf(p.poll));
        if (q && !q.open && !q.shown) {
          q.shown = true;
          q.results = (p.counts || []).map(num);
        }
        return;
      }
    }
  }

  /** poll returns the poll of the given id, or null. */
  poll(id) {
    return (this.polls && this.polls.find((q) => q.id === id)) || null;
  }

  /** pollCounts returns a poll's answers per choice, or for a free-text question how many answered, as Go's Poll.Counts. */
  pollCounts(q) {
    if (q.choices.length === 0) return [q.answers.length];
    const n = q.choices.map(() => 0);
    for (const a of q.answers) for (const c of a.choices) if (c >= 0 && c < n.length) n[c]++;
    return n;
  }

  /** #applyControl folds the events of the teacher's controls, as Go's State.applyControl. */
  #applyControl(e, kind, actor, p) {
    switch (kind) {
      case "lobby.changed":
        this.lobby = !!p.on;
        return;
      case "lesson.locked":
        this.locked = !!p.locked;
        return;
      case "participant.waiting":
        if (str(e.role) === "student" && !this.isWaiting(actor) && (this.waiting ? this.waiting.length : 0) < MAX_WAITING) {
          if (this.waiting === null) this.waiting = [];
          this.waiting.push({ id: actor, name: str(p.name) });
        }
        return;
      case "participant.admitted": {
        const who = str(p.participant);
        const admit = (id) => {
          if (!(this.admitted && this.admitted.includes(id)) && (this.admitted ? this.admitted.length : 0) < MAX_PARTICIPANTS_KNOWN) {
            if (this.admitted === null) this.admitted = [];
            this.admitted.push(id);
          }
        };
        if (who === "") {
          for (const w of this.waiting || []) admit(w.id);
          this.waiting = null;
        } else if (this.isWaiting(who)) {
          admit(who);
          this.#unwait(who);
        }
        return;
      }
      case "participant.denied":
        this.#unwait(str(p.participant));
        return;
      case "participant.removed": {
        const who = str(p.participant);
        const pt = this.participants.get(who);
        if (!pt || pt.role !== "student" || this.isRemoved(who)) return;
        pt.present = false;
        if (this.removed === null) this.removed = [];
        this.removed.push(who);
        this.admitted = remove(this.admitted, who);
        this.hands = remove(this.hands, who);
        if (this.floor === who) this.floor = "";
        if (!p.keep_open) this.lobby = true;
        return;
      }
      case "media.muted": {
        const who = str(p.participant);
        const audio = !!p.audio, video = !!p.video;
        for (const pt of this.participants.values()) {
          if (pt && pt.role === "student" && (who === pt.id || (who === "" && pt.present)) &&
            ((audio && !pt.audioMuted) || (video && !pt.videoMuted))) {
            pt.audioMuted = pt.audioMuted || audio;
            pt.videoMuted = pt.videoMuted || video;
            pt.unmuteAsked = false;
          }
        }
        return;
      }
      case "media.unmuted": {
        const pt = this.participants.get(actor);
        if (pt) {
          pt.audioMuted = pt.audioMuted && !p.audio;
          pt.videoMuted = pt.videoMuted && !p.video;
          pt.unmuteAsked = false;
        }
        return;
      }
      case "unmute.asked": {
        const pt = this.participants.get(str(p.participant));
        if (pt && (pt.audioMuted || pt.videoMuted)) pt.unmuteAsked = true;
        return;
      }
      case "chat.permitted":
        this.chatClosed = !p.allowed;
        return;
    }
  }

  /** #unwait takes a participant out of the lobby's queue. */
  #unwait(id) {
    if (this.waiting === null) return;
    const i = this.waiting.findIndex((w) => w.id === id);
    if (i >= 0) this.waiting.splice(i, 1);
  }

  /** isWaiting reports whether the participant waits in the lobby. */
  isWaiting(id) {
    return !!this.waiting && this.waiting.some((w) => w.id === id);
  }

  /** isRemoved reports whether the participant was removed from the lesson. */
  isRemoved(id) {
    return !!this.removed && this.removed.includes(id);
  }

  /** mayChat reports whether a participant may post to the chat now, as the server decides it. */
  mayChat(participant) {
    const p = this.participants.get(participant);
    return !!p && (p.role === "teacher" || !this.chatClosed);
  }

  /** #boardFor returns the board of a slide, creating it when it has none yet. */
  #boardFor(slide) {
    const k = slideKey(slide);
    let b = this.boards.get(k);
    if (!b) {
      b = new Board(null, new Map());
      this.boards.set(k, b);
    }
    return b;
  }

  /**
   * hash resolves to the lower-case hex SHA-256 of the state's snapshot JSON,
   * the server's State.Hash; the encoder (snapshot.js) is loaded the first
   * time.
   */
  async hash() {
    const { stateHash } = await import("./snapshot.js");
    return stateHash(this);
  }

  /** board returns the slide's board, or an empty one when nothing was drawn on it. */
  board(slide) {
    return this.boards.get(slideKey(slideOf(slide))) || new Board([], new Map());
  }

  /** visible returns the slide's objects not erased, in drawing order. */
  visible(slide) {
    return this.board(slide).visible();
  }

  /** slideKey returns the key of a slide's board: "<deck>/<page>". */
  slideKey(slide) {
    return slideKey(slideOf(slide));
  }

  /** present returns the participants present, teachers first, then by name (then id). */
  present() {
    const list = [];
    for (const p of this.participants.values()) if (p && p.present) list.push(p);
    return list.sort((a, b) => ((a.role === "teacher" ? 0 : 1) - (b.role === "teacher" ? 0 : 1)) ||
      a.name.localeCompare(b.name) || compareUTF8(a.id, b.id));
  }

  /** canDraw reports whether a participant may draw on the board now, as the server decides it. */
  canDraw(participant) {
    const p = this.participants.get(participant);
    if (!p) return false;
    if (p.role === "teacher") return true;
    if (p.drawing !== null) return p.drawing;
    return this.drawingAllowed;
  }

  /** isTeacher reports whether the participant joined as a teacher. */
  isTeacher(participant) {
    const p = this.participants.get(participant);
    return !!p && p.role === "teacher";
  }
}

const KINDS = new Set([
  "lesson.created", "lesson.started", "lesson.ended", "participant.joined", "participant.left",
  "drawing.permitted", "stroke.drawn", "shape.added", "text.added", "objects.erased", "board.undone",
  "board.redone", "board.cleared", "deck.added", "slide.changed", "hand.raised", "hand.lowered",
  "floor.granted", "floor.revoked", "chat.posted", "recording.started", "recording.stopped",
  "lobby.changed", "lesson.locked", "participant.waiting", "participant.admitted", "participant.denied",
  "participant.removed", "media.muted", "media.unmuted", "unmute.asked", "chat.permitted",
  "poll.asked", "poll.answered", "poll.closed", "poll.results_shown",
  "groups.formed", "group.joined", "group.left", "groups.messaged", "groups.recalled", "groups.ended", "group.board.shown",
  "group.chat.posted",
]);

/** chatOf reads a chat message of a snapshot: the lesson's or a group's. */
function chatOf(m) {
  return { seq: num(m.seq), actor: str(m.actor), time: timeOf(m.time, false), text: str(m.text) };
}

function newParticipant(id, name, role) {
  return { id, name, role, present: true, drawing: null, audioMuted: false, videoMuted: false, unmuteAsked: false };
}

function newObject(id, kind, owner, seq, f) {
  return {
    id, kind, owner, seq, hidden: false,
    tool: f.tool || "", shape: f.shape || "", color: f.color || "", fill: f.fill || "",
    width: f.width === undefined ? 0 : f.width, points: f.points === undefined ? null : f.points,
    parts: f.parts || 0, from: f.from || [0, 0], to: f.to || [0, 0], at: f.at || [0, 0],
    text: f.text || "", size: f.size === undefined ? 0 : f.size,
  };
}

function boardOf(b) {
  let history = null;
  if (b.history != null) {
    history = new Map();
    for (const [k, h] of Object.entries(b.history)) {
      history.set(k, h === null ? null : { undo: actionsOf(h.undo), redo: actionsOf(h.redo) });
    }
  }
  const objects = b.objects == null ? null : b.objects.map((o) => ({
    id: uuidOf(o.id), kind: str(o.kind), owner: str(o.owner), seq: num(o.seq), hidden: !!o.hidden,
    tool: str(o.tool), shape: str(o.shape), color: str(o.color), fill: str(o.fill), width: num(o.width),
    points: o.points == null ? null : o.points.map(pointOf), parts: num(o.parts),
    from: pairOf(o.from), to: pairOf(o.to), at: pairOf(o.at), text: str(o.text), size: num(o.size),
  }));
  return new Board(objects, history);
}

function actionsOf(list) {
  if (list == null) return null;
  return list.map((a) => ({ op: str(a.op), objects: a.objects == null ? null : a.objects.map(uuidOf) }));
}
