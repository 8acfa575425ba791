// tools.js: the board's tools, each a small state machine over one pointer
// gesture (down, then moves, then up or cancel), turning it into commands
// (docs/protocol.md, section 5) and ephemeral messages (section 8). Input
// (input.js) starts a gesture g = {tool, kind (the tool's name), pointerId,
// x, y} and hands it the events; a tool keeps what it needs in g. A tool has:
//
//   allowed(input)          whether the local user may use it now
//   down(input, g, e)       the gesture starts at (g.x, g.y)
//   sample(input, g, e)     every pointer move, coalesced samples too; or
//   move(input, g, x, y)    the pointer moved to a board point
//   up(input, g, e)         the gesture ends
//   cancel(input, g)        the gesture is abandoned (optional)
//   keepOnCancel            a cancelled gesture ends as if lifted instead
//
// What a tool draws is shown at once as a local object (board.local) until
// the committed board has all of it.

import { SHAPES, HIGHLIGHT_ALPHA, LINE_HEIGHT, FONT, textSize, hits } from "./shapes.js";
import { splitAlpha, hexByte } from "./color.js";
import { clamp } from "./geometry.js";
import { WIDTH } from "./raster.js";
import { MAX_STROKE_POINTS, MAX_OBJECT_POINTS, MAX_PREVIEW_POINTS, MAX_ERASE_OBJECTS, MAX_STROKE_WIDTH,
  MAX_TEXT_RUNES } from "../limits.js";

const COMMIT_INTERVAL_MS = 33; // stroke parts: at most ~30 commits a second
const PREVIEW_INTERVAL_MS = 33; // previews: at most ~30 a second
const CURSOR_INTERVAL_MS = 33; // laser: ~30 cursor messages a second
const MIN_POINT_DISTANCE = 0.3; // board units between kept samples
const HIGHLIGHTER_WIDTH_SCALE = 4;
const ERASER_RADIUS = 8; // board units

const mayDraw = (input) => input.canDraw;

// ---- Strokes: the pen and the highlighter ----

/**
 * A stroke is committed while it is drawn, as parts of its unsent points at
 * most every COMMIT_INTERVAL_MS (part 0 carrying the style, each at most
 * MAX_STROKE_POINTS), and previewed to the others as it grows.
 */
const stroke = {
  allowed: mayDraw,
  keepOnCancel: true,
  down(input, g, e) {
    const board = input.board;
    const highlighter = g.kind === "highlighter";
    const width = highlighter ? Math.min(MAX_STROKE_WIDTH, input.width * HIGHLIGHTER_WIDTH_SCALE) : input.width;
    const obj = { id: newId(), kind: "stroke", owner: board.me, tool: g.kind, color: input.color, width, points: [] };
    g.stroke = {
      id: obj.id, obj, slide: board.slide, t0: e.timeStamp,
      sent: 0, part: 0, previewed: 0, lastCommit: -Infinity, lastPreview: -Infinity,
      timer: 0, done: false, failed: false, reported: false,
    };
    board.local.set(obj.id, g.stroke);
    addPoints(input, g.stroke, e);
  },
  sample(input, g, e) {
    addPoints(input, g.stroke, e);
  },
  up(input, g, e) {
    const s = g.stroke;
    addPoints(input, s, e);
    clearTimeout(s.timer);
    s.timer = 0;
    flushStroke(input, s, true);
    s.done = true;
    input.board.settle(s.id);
  },
  /** cancel keeps what was committed of the stroke and sends nothing more. */
  cancel(input, g) {
    const s = g.stroke;
    clearTimeout(s.timer);
    s.done = true;
    s.failed = true;
    dropLocal(input.board, s.id);
  },
};

/** addPoints samples a pointer event (and the events coalesced into it) into the stroke. */
function addPoints(input, s, e) {
  if (s.failed) return;
  const pts = s.obj.points;
  const coalesced = e.getCoalescedEvents?.() ?? [];
  for (const ev of coalesced.length ? coalesced : [e]) {
    if (pts.length >= MAX_OBJECT_POINTS) break;
    const [x, y] = input.toBoard(ev);
    const last = pts[pts.length - 1];
    if (last && Math.abs(last[0] - x) < MIN_POINT_DISTANCE && Math.abs(last[1] - y) < MIN_POINT_DISTANCE) continue;
    const t = Math.max(last ? last[2] : 0, Math.round(ev.timeStamp - s.t0));
    pts.push([x, y, t, pressureOf(ev)]);
  }
  input.board.requestFrame();
  if (s.timer || s.failed || s.sent >= pts.length) return;
  const wait = Math.max(0, s.lastCommit + COMMIT_INTERVAL_MS - performance.now());
  s.timer = setTimeout(() => {
    s.timer = 0;
    flushStroke(input, s, false);
  }, wait);
}

/** flushStroke commits the stroke's unsent points and, while it is still drawn, previews them. */
function flushStroke(input, s, final) {
  const board = input.board;
  const pts = s.obj.points;
  const now = performance.now();
  s.lastCommit = now;
  while (!s.failed && s.sent < pts.length) {
    const data = { object: s.id, slide: s.slide, part: s.part };
    if (s.part === 0) Object.assign(data, { tool: s.obj.tool, color: s.obj.color, width: s.obj.width });
    data.points = pts.slice(s.sent, s.sent + MAX_STROKE_POINTS);
    s.part++;
    s.sent += data.points.length;
    board.commit("stroke.drawn", data, () => strokeRefused(input, s));
  }
  if (!final && s.previewed < pts.length && now - s.lastPreview >= PREVIEW_INTERVAL_MS) {
    s.lastPreview = now;
    const from = Math.max(s.previewed, pts.length - MAX_PREVIEW_POINTS);
    s.previewed = pts.length;
    board.sendEphemeral({ type: "preview", slide: s.slide, object: s.id, color: previewColor(s.obj),
      width: s.obj.width, points: pts.slice(from) });
  }
}

/**
 * strokeRefused drops the local stroke; what was committed of it stays.
 * Only the first refused part of a stroke is reported.
 */
function strokeRefused(input, s) {
  if (s.reported) return false;
  s.reported = true;
  s.failed = true;
  clearTimeout(s.timer);
  if (input.gesture?.stroke === s) input.gesture = null;
  dropLocal(input.board, s.id);
  input.board.requestFrame();
}

/** dropLocal forgets a local stroke and draws what was committed of it. */
function dropLocal(board, id) {
  board.local.delete(id);
  const item = board.byId.get(id);
  if (item) board.raster.rasterize(item, 0);
}

/** previewColor is the stroke's colour as a preview carries it: a highlighter's with its translucency. */
function previewColor(o) {
  if (o.tool !== "highlighter") return o.color;
  const { color, alpha } = splitAlpha(o.color);
  return color + hexByte(alpha * HIGHLIGHT_ALPHA);
}

/** pressureOf is the event's pressure, 0.5 for a mouse (which reports 0 or 0.5). */
function pressureOf(e) {
  const p = e.pressure;
  if (e.pointerType === "mouse" || !(p > 0)) return 0.5;
  return Math.round(clamp(p, 0, 1) * 100) / 100;
}

// ---- Shapes: dragged from corner to corner ----

const shape = {
  allowed: mayDraw,
  down(input, g) {
    g.shape = { id: newId(), kind: "shape", owner: input.board.me, shape: g.kind, from: [g.x, g.y], to: [g.x, g.y],
      color: input.color, width: input.width };
    input.board.local.set(g.shape.id, { obj: g.shape });
  },
  move(input, g, x, y) {
    g.shape.to = [x, y];
  },
  up(input, g) {
    const board = input.board;
    const s = g.shape;
    const [x0, y0] = s.from;
    const [x1, y1] = s.to;
    if (Math.hypot(x1 - x0, y1 - y0) < 2) {
      board.local.delete(s.id);
      return;
    }
    const data = { object: s.id, slide: board.slide, shape: s.shape, from: s.from, to: s.to, color: s.color, width: s.width };
    board.commit("shape.added", data, () => board.localRefused(s.id));
    board.settle(s.id);
  },
  cancel(input, g) {
    input.board.local.delete(g.shape.id);
  },
};

// ---- Text: a box typed in where the pointer was lifted ----

const text = {
  allowed: mayDraw,
  down() {},
  up(input, g, e) {
    const [x, y] = input.toBoard(e);
    setTimeout(() => openText(input, x, y)); // after the click's own focus change
  },
};

/** openText places a text box at a board point; Enter commits it, Escape drops it. */
function openText(input, x, y) {
  const board = input.board;
  if (!input.canDraw || !board.slide) return;
  closeText(input, true);
  const size = input.textSize || textSize(input.width);
  const canvas = board.canvas;
  const scale = canvas.clientWidth / WIDTH;
  const el = document.createElement("input");
  el.type = "text";
  el.className = "board-text";
  el.maxLength = MAX_TEXT_RUNES;
  Object.assign(el.style, {
    position: "absolute", left: `${canvas.offsetLeft + x * scale}px`,
    top: `${canvas.offsetTop + y * scale}px`, font: `${size * scale}px ${FONT}`, color: input.color,
    background: "transparent", border: "1px dashed #94a3b8", outline: "none", padding: "0", margin: "0", // not user-facing
    lineHeight: `${LINE_HEIGHT}`, minWidth: "4em",
  });
  const box = { input: el, x, y, size, color: input.color, slide: board.slide };
  el.addEventListener("keydown", (e) => {
    e.stopPropagation();
    if (e.key === "Enter") closeText(input, true);
    else if (e.key === "Escape") closeText(input, false);
  });
  el.addEventListener("blur", () => closeText(input, true));
  input.textBox = box;
  board.container.append(el);
  el.focus();
}

/** closeText removes the text box, committing its text when commit is set. */
export function closeText(input, commit) {
  const box = input.textBox;
  if (!box) return;
  const board = input.board;
  input.textBox = null;
  box.input.remove();
  const value = box.input.value.trim();
  if (!commit || !value || !sameSlide(box.slide, board.slide)) return;
  const obj = { id: newId(), kind: "text", owner: board.me, at: [box.x, box.y], text: value, color: box.color, size: box.size };
  board.local.set(obj.id, { obj });
  board.commit("text.added", { object: obj.id, slide: box.slide, at: obj.at, text: value, color: obj.color, size: obj.size },
    () => board.localRefused(obj.id));
  board.settle(obj.id);
  board.requestFrame();
}

// ---- The eraser ----

const eraser = {
  allowed: mayDraw,
  down(input, g) {
    eraseAlong(input, g.x, g.y, g.x, g.y);
  },
  move(input, g, x, y) {
    eraseAlong(input, g.x, g.y, x, y);
  },
  /** up hides the marked objects at once and commits their erasure. */
  up(input) {
    const board = input.board;
    const ids = [...board.erasing];
    board.erasing.clear();
    if (ids.length === 0) return;
    board.hideLocally(ids);
    for (let i = 0; i < ids.length; i += MAX_ERASE_OBJECTS) {
      const chunk = ids.slice(i, i + MAX_ERASE_OBJECTS);
      board.commit("objects.erased", { slide: board.slide, objects: chunk }, () => board.unhideLocally(chunk));
    }
  },
};

/**
 * eraseAlong marks the objects the eraser touches between two points: any
 * object for the teacher, only the local user's own for a student.
 */
function eraseAlong(input, x0, y0, x1, y1) {
  const board = input.board;
  const steps = Math.max(1, Math.ceil(Math.hypot(x1 - x0, y1 - y0) / ERASER_RADIUS));
  for (let i = 0; i <= steps; i++) {
    const x = x0 + ((x1 - x0) * i) / steps;
    const y = y0 + ((y1 - y0) * i) / steps;
    for (const item of board.items) {
      const o = item.obj;
      if (!board.shown(item) || board.erasing.has(o.id) || board.local.has(o.id)) continue;
      if (!board.isTeacher && o.owner !== board.me) continue;
      if (hits(o, item.bounds, x, y, ERASER_RADIUS)) board.erasing.add(o.id);
    }
  }
}

// ---- The laser (the teacher's) ----

const laser = {
  allowed: (input) => input.board.isTeacher,
  down(input, g) {
    laserAt(input, g.x, g.y);
  },
  move(input, g, x, y) {
    laserAt(input, x, y);
  },
  up() {},
};

/** laserAt shows the local laser at a board point and tells the others, ~30 times a second. */
export function laserAt(input, x, y) {
  const board = input.board;
  const now = performance.now();
  board.overlay.laserAt(board.me, x, y, now);
  if (now - input.lastCursorSent >= CURSOR_INTERVAL_MS) {
    input.lastCursorSent = now;
    board.sendEphemeral({ type: "cursor", slide: board.slide, x, y, laser: true });
  }
  board.requestFrame();
}

/** TOOL_OF are the tools by name, in the order the page shows them. */
export const TOOL_OF = {
  pen: stroke,
  highlighter: stroke,
  ...Object.fromEntries(Object.keys(SHAPES).map((name) => [name, shape])),
  text,
  eraser,
  laser,
};

// ---- Small helpers ----

export function sameSlide(a, b) {
  return !!a && !!b && a.deck === b.deck && a.page === b.page;
}

/** newId returns a random (version 4) UUID, also outside secure contexts. */
function newId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
