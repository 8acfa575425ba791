// state.js: the browser's copy of a lesson's state, a fold over the lesson's
// committed events exactly as the server's domain.State.Apply folds them, and
// its snapshot JSON byte for byte as Go's encoding/json writes domain.State
// (docs/protocol.md, section 6), so that its hash proves a page's lesson equals
// the server's.
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
//   st.snapshotJSON()             the snapshot exactly as the server encodes it;
//                                 O(size of the state), but board objects,
//                                 actions and chat messages are encoded once
//                                 and re-encoded only when they change
//   await st.hash()               lower-case hex SHA-256 of snapshotJSON(), the
//                                 server's State.Hash (needs a secure context)
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
//
// The encoding is Go's, which JSON.stringify's is not: map keys sorted by
// their UTF-8 bytes (not UTF-16 units); <, >, & and U+2028/U+2029 escaped as
// \u003c etc., \b \f \n \r \t as such and other control characters as \u00XX;
// a lone surrogate written as U+FFFD (what Go holds after decoding one;
// invalid UTF-8 can reach neither a browser's string nor the server's state);
// floats in their shortest form, fixed for 1e-6 ≤ |x| < 1e21 and exponent
// form (1e+21, 1e-7) outside, -0 written "-0"; times in RFC 3339 UTC with the
// fraction's trailing zeros dropped. The exported jsonFloat, jsonInt,
// jsonString and compareUTF8 apply these rules.

/** The deck id of the blank whiteboard. */
export const NIL_UUID = "00000000-0000-0000-0000-000000000000";

// Limits of the Go fold (domain/payload.go).
export const MAX_UNDO_DEPTH = 200;
export const MAX_CHAT_MESSAGES_KEPT = 10000;
export const MAX_OBJECT_POINTS = 20000;
export const MAX_OBJECTS_PER_SLIDE = 20000;
export const MAX_DECKS = 100;
export const MAX_PARTICIPANTS_KNOWN = 10000;

const ZERO_TIME = "0001-01-01T00:00:00Z";

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
    s.chat = obj.chat == null ? null : obj.chat.map((m) => ({ seq: num(m.seq), actor: str(m.actor), time: timeOf(m.time, false), text: str(m.text) }));
    s.recording = !!obj.recording;
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
        return;
      case "participant.joined": {
        const pt = this.participants.get(actor);
        if (pt) {
          pt.name = str(p.name);
          pt.present = true;
        } else if (!this.participants.has(actor) && this.participants.size < MAX_PARTICIPANTS_KNOWN) {
          this.participants.set(actor, { id: actor, name: str(p.name), role: str(e.role), present: true, drawing: null });
        }
        return;
      }
      case "participant.left": {
        const pt = this.participants.get(actor);
        if (pt) pt.present = false;
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
            const c = encoded.get(o);
            if (more > 0) {
              if (o.points === null) o.points = [];
              const added = points.map(pointOf);
              for (const pt of added) o.points.push(pt);
              if (c) c.points += (c.points === "" ? "" : ",") + pointsJSON(added);
            }
            o.parts++;
            if (c) c.tail = null;
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
    }
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

  /** snapshotJSON returns the state encoded exactly as the server's MarshalSnapshot. */
  snapshotJSON() {
    const out = [];
    out.push('{"lesson":', jsonString(this.lesson), ',"seq":', jsonInt(this.seq), ',"title":', jsonString(this.title),
      ',"status":', jsonString(this.status), ',"created":', jsonString(this.created), ',"participants":');
    writeMap(out, this.participants, (p) => {
      if (p === null) return out.push("null");
      out.push('{"id":', jsonString(p.id), ',"name":', jsonString(p.name), ',"role":', jsonString(p.role),
        ',"present":', p.present ? "true" : "false");
      if (p.drawing !== null) out.push(',"drawing":', p.drawing ? "true" : "false");
      out.push("}");
    });
    out.push(',"drawing_allowed":', this.drawingAllowed ? "true" : "false", ',"decks":');
    writeList(out, this.decks, (d) => out.push('{"id":', jsonString(d.id), ',"name":', jsonString(d.name), ',"pages":', jsonInt(d.pages), "}"));
    out.push(',"slide":{"deck":', jsonString(this.slide.deck), ',"page":', jsonInt(this.slide.page), '},"boards":');
    writeMap(out, this.boards, (b) => writeBoard(out, b));
    out.push(',"hands":');
    writeList(out, this.hands, (h) => out.push(jsonString(h)));
    out.push(',"floor":', jsonString(this.floor), ',"chat":');
    writeList(out, this.chat, (m) => out.push(cached(m, () => '{"seq":' + jsonInt(m.seq) + ',"actor":' +
      jsonString(m.actor) + ',"time":' + jsonString(m.time) + ',"text":' + jsonString(m.text) + "}")));
    out.push(',"recording":', this.recording ? "true" : "false", "}");
    return out.join("");
  }

  /** hash resolves to the lower-case hex SHA-256 of snapshotJSON(), the server's State.Hash. */
  async hash() {
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(this.snapshotJSON()));
    let hex = "";
    for (const b of new Uint8Array(digest)) hex += b.toString(16).padStart(2, "0");
    return hex;
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
]);

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

function writeBoard(out, b) {
  out.push('{"objects":');
  writeList(out, b.objects, (o) => writeObject(out, o));
  out.push(',"history":');
  writeMap(out, b.history, (h) => {
    if (h === null) return out.push("null");
    out.push('{"undo":');
    writeList(out, h.undo, (a) => writeAction(out, a));
    out.push(',"redo":');
    writeList(out, h.redo, (a) => writeAction(out, a));
    out.push("}");
  });
  out.push("}");
}

function writeAction(out, a) {
  out.push(cached(a, () => '{"op":' + jsonString(a.op) + ',"objects":' +
    (a.objects === null ? "null" : "[" + a.objects.map(jsonString).join(",") + "]") + "}"));
}

// encoded caches the JSON of board objects, actions and chat messages, so that
// a snapshot re-encodes only what changed since the last one. Actions and
// messages never change; an object's head (id, kind, owner, seq) never
// changes, hidden is written when the snapshot is, and apply keeps the encoded
// points up to date as a stroke grows and drops the tail it invalidates.
const encoded = new WeakMap();

// writeObject follows the field order and omitempty/omitzero rules of domain.Object.
function writeObject(out, o) {
  let c = encoded.get(o);
  if (c === undefined) {
    c = {
      head: '{"id":' + jsonString(o.id) + ',"kind":' + jsonString(o.kind) + ',"owner":' + jsonString(o.owner) +
        ',"seq":' + jsonInt(o.seq),
      points: o.points ? pointsJSON(o.points) : "",
      tail: null,
    };
    encoded.set(o, c);
  }
  if (c.tail === null) c.tail = objectTail(o, c.points);
  out.push(c.head, o.hidden ? ',"hidden":true' : "", c.tail);
}

// objectTail encodes an object's fields after hidden, its points given encoded.
function objectTail(o, points) {
  let s = "";
  if (o.tool !== "") s += ',"tool":' + jsonString(o.tool);
  if (o.shape !== "") s += ',"shape":' + jsonString(o.shape);
  s += ',"color":' + jsonString(o.color);
  if (o.fill !== "") s += ',"fill":' + jsonString(o.fill);
  if (o.width !== 0) s += ',"width":' + jsonFloat(o.width);
  if (points !== "") s += ',"points":[' + points + "]";
  if (o.parts !== 0) s += ',"parts":' + jsonInt(o.parts);
  s += pairJSON(',"from":', o.from) + pairJSON(',"to":', o.to) + pairJSON(',"at":', o.at);
  if (o.text !== "") s += ',"text":' + jsonString(o.text);
  if (o.size !== 0) s += ',"size":' + jsonFloat(o.size);
  return s + "}";
}

// pointsJSON encodes points as [x,y,t,pressure],… without the brackets around them.
function pointsJSON(points) {
  let s = "";
  for (let i = 0; i < points.length; i++) {
    const p = points[i];
    if (i > 0) s += ",";
    s += "[" + jsonFloat(p[0]) + "," + jsonFloat(p[1]) + "," + jsonInt(p[2]) + "," + jsonFloat(p[3]) + "]";
  }
  return s;
}

// pairJSON encodes an omitzero [2]float64: nothing when both are zero (-0 too).
function pairJSON(key, v) {
  if (v[0] === 0 && v[1] === 0) return "";
  return key + "[" + jsonFloat(v[0]) + "," + jsonFloat(v[1]) + "]";
}

// cached returns the JSON of an immutable value, encoding it the first time.
function cached(v, encode) {
  let s = encoded.get(v);
  if (s === undefined) {
    s = encode(v);
    encoded.set(v, s);
  }
  return s;
}

function writeList(out, list, each) {
  if (list === null) return out.push("null");
  out.push("[");
  for (let i = 0; i < list.length; i++) {
    if (i > 0) out.push(",");
    each(list[i]);
  }
  out.push("]");
}

// writeMap writes a Go map: null when nil, else its keys sorted by their UTF-8 bytes.
function writeMap(out, map, each) {
  if (map === null) return out.push("null");
  const keys = [...map.keys()].sort(compareUTF8);
  out.push("{");
  for (let i = 0; i < keys.length; i++) {
    if (i > 0) out.push(",");
    out.push(jsonString(keys[i]), ":");
    each(map.get(keys[i]));
  }
  out.push("}");
}

/**
 * compareUTF8 orders strings as Go compares them, by their UTF-8 bytes, that
 * is by code point: UTF-16 code units order the same except that surrogates
 * (code points above U+FFFF) come after U+E000–U+FFFF.
 */
export function compareUTF8(a, b) {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800) x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
    if (y >= 0xd800) y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    return x - y;
  }
  return a.length - b.length;
}

/** slideKey is Go's Slide.Key of a normalised slide. */
function slideKey(s) {
  return s.deck + "/" + jsonInt(s.page);
}

function slideOf(s) {
  if (s == null) return { deck: NIL_UUID, page: 0 };
  return { deck: uuidOf(s.deck), page: num(s.page) };
}

function pointOf(p) {
  // t is an int64 of Go: a whole number of milliseconds.
  return [num(p[0]), num(p[1]), Math.trunc(num(p[2])), num(p[3])];
}

function pairOf(v) {
  return v == null ? [0, 0] : [num(v[0]), num(v[1])];
}

function str(v) {
  return v == null ? "" : String(v);
}

function num(v) {
  return typeof v === "number" ? v : 0;
}

const CANONICAL_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** uuidOf returns a UUID in Go's canonical form (lower case, dashed) from any form uuid.Parse takes. */
function uuidOf(v) {
  if (v == null || v === "") return NIL_UUID;
  let s = String(v);
  if (CANONICAL_UUID.test(s)) return s;
  s = s.toLowerCase();
  if (s.startsWith("urn:uuid:")) s = s.slice(9);
  if (s.startsWith("{") && s.endsWith("}")) s = s.slice(1, -1);
  const hex = s.replaceAll("-", "");
  if (!/^[0-9a-f]{32}$/.test(hex)) throw new Error(`malformed uuid ${JSON.stringify(v)}`);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const CANONICAL_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d*[1-9])?Z$/;
const RFC3339 = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d+))?(?:Z|([+-])(\d\d):(\d\d))$/;

/**
 * timeOf returns an RFC 3339 time as Go marshals the time.Time it decodes
 * from it (RFC3339Nano: the fraction's trailing zeros dropped, "Z" for a zero
 * offset). Go converts an event's time to UTC (utc) but keeps the offset of a
 * time in a snapshot.
 */
function timeOf(v, utc) {
  if (v == null) return ZERO_TIME;
  const s = String(v);
  if (CANONICAL_TIME.test(s)) return s;
  const m = RFC3339.exec(s);
  if (!m) throw new Error(`malformed time ${JSON.stringify(s)}`);
  const frac = (m[7] || "").slice(0, 9).replace(/0+$/, "");
  const fraction = frac ? "." + frac : "";
  const zero = !m[8] || (m[9] === "00" && m[10] === "00");
  if (!utc || zero) {
    const zone = zero ? "Z" : `${m[8]}${m[9]}:${m[10]}`;
    return `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}${fraction}${zone}`;
  }
  const d = new Date(0);
  d.setUTCFullYear(+m[1], +m[2] - 1, +m[3]);
  d.setUTCHours(+m[4], +m[5], +m[6], 0);
  const offset = (+m[9] * 60 + +m[10]) * 60000;
  d.setTime(d.getTime() + (m[8] === "+" ? -offset : offset));
  const pad = (n, w = 2) => String(n).padStart(w, "0");
  return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}${fraction}Z`;
}

/** jsonInt formats an integer as Go formats an int64 (never "-0", never an exponent). */
export function jsonInt(n) {
  if (Number.isSafeInteger(n)) return n === 0 ? "0" : String(n);
  return BigInt(Math.trunc(n)).toString();
}

/**
 * jsonFloat formats a float64 exactly as Go's encoding/json does (and
 * domain's appendFloat): the shortest digits that round-trip, in 'f' form
 * when 1e-6 ≤ |x| < 1e21 or x is 0, otherwise in 'e' form with the
 * exponent's leading zero dropped (1e-7, 1.5e+21); -0 is "-0". NaN and
 * infinities, which validation refuses, are "0" as in appendFloat.
 */
export function jsonFloat(x) {
  if (x === 0) return Object.is(x, -0) ? "-0" : "0";
  if (!Number.isFinite(x)) return "0";
  const abs = x < 0 ? -x : x;
  if (abs >= 1e-6 && abs < 1e21) {
    // ECMAScript's Number::toString is the shortest round-trip in fixed
    // notation for exactly this range (its exponent n is in (-6, 21]).
    return String(x);
  }
  // toExponential() without digits gives the same shortest digits as
  // "d.ddde±n"; strconv's 'e' writes the exponent in at least two digits
  // and encoding/json then drops the leading zero of a negative one, which
  // leaves the exponent without padding either way.
  const [mant, exp] = x.toExponential().split("e");
  const sign = exp[0];
  let digits = exp.slice(1);
  if (digits.length < 2) digits = "0" + digits;
  if (sign === "-" && digits[0] === "0") digits = digits.slice(1);
  return mant + "e" + sign + digits;
}

const NEEDS_ESCAPE = /[\u0000-\u001f"\\<>&\u2028\u2029\ud800-\udfff]/;

/**
 * jsonString quotes a string exactly as Go's encoding/json does: HTML-safe
 * (<, >, & as \u003c, \u003e, \u0026), U+2028 and U+2029 escaped, \b \f \n \r
 * \t and other control characters as \u00XX; a lone surrogate becomes U+FFFD.
 */
export function jsonString(s) {
  if (!NEEDS_ESCAPE.test(s)) return '"' + s + '"';
  let out = '"';
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let esc;
    if (c < 0x20) {
      switch (c) {
        case 0x08: esc = "\\b"; break;
        case 0x0c: esc = "\\f"; break;
        case 0x0a: esc = "\\n"; break;
        case 0x0d: esc = "\\r"; break;
        case 0x09: esc = "\\t"; break;
        default: esc = "\\u00" + HEX[c >> 4] + HEX[c & 0xf];
      }
    } else if (c === 0x22) esc = '\\"';
    else if (c === 0x5c) esc = "\\\\";
    else if (c === 0x3c) esc = "\\u003c";
    else if (c === 0x3e) esc = "\\u003e";
    else if (c === 0x26) esc = "\\u0026";
    else if (c === 0x2028) esc = "\\u2028";
    else if (c === 0x2029) esc = "\\u2029";
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        i++; // a well-formed pair: copied as it is
        continue;
      }
      esc = "\ufffd";
    } else if (c >= 0xd800 && c <= 0xdfff) esc = "\ufffd";
    else continue;
    out += s.slice(start, i) + esc;
    start = i + 1;
  }
  return out + s.slice(start) + '"';
}

const HEX = "0123456789abcdef";
