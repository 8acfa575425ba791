// board.js: the shared whiteboard over a lesson's slide.
//
// A Board draws one slide's board (docs/protocol.md section 6) in a fixed
// logical space of WIDTH × HEIGHT board units, letterboxed into its container
// and scaled to it, and turns the local user's pointer input into commands
// (section 5) and ephemeral messages (section 8). It never folds events
// itself: the page folds committed events into the lesson state and hands the
// shown slide's board to update(). The only state the Board keeps of its own
// is what the local user has drawn but the page has not yet folded.
//
// This file keeps the committed objects as the page hands them over and what
// the local user changed of them, and wires the parts that do the rest:
//
//   board/input.js    pointer gestures, the tools (board/tools.js), keys
//   board/raster.js   the cache of committed objects, its rebuilds, the frame loop
//   board/overlay.js  what is drawn on top: objects in progress, previews,
//                     cursors, lasers
//   board/shapes.js   the registry of object kinds: bounds, hit test, drawing
//                     (docs/shapes.md)

import { Input, TOOLS, shortcuts } from "./board/input.js";
import { Raster, WIDTH, HEIGHT } from "./board/raster.js";
import { Overlay } from "./board/overlay.js";
import { boundsOf, strokePad, translucent } from "./board/shapes.js";
import { extendBounds } from "./board/geometry.js";
import { sameSlide } from "./board/tools.js";

export { WIDTH, HEIGHT, TOOLS, shortcuts };
export { drawObject, drawStroke } from "./board/shapes.js";

const LIVE_QUIET_MS = 300; // a growing translucent stroke joins the cache after this long without a part

export class Board {
  /**
   * Builds the board's canvas inside container, which must be a positioned
   * element; the board fills it, letterboxed to WIDTH:HEIGHT.
   *
   * @param {HTMLElement} container
   * @param {object} o
   * @param {(kind: string, data: object) => Promise<any>} o.send commits a
   *   command; the promise rejects with {code, message} when it is refused.
   * @param {(msg: object) => void} [o.sendEphemeral] sends on the ephemeral
   *   channel, fire and forget.
   * @param {string} o.me the local participant's id (the owner of what they draw).
   * @param {boolean} [o.isTeacher] the teacher erases anyone's objects,
   *   clears the board and has the laser pointer.
   * @param {(err: {code: string, message: string}) => void} [o.onerror]
   *   hears about refused commands; their local objects are already gone.
   * @param {(tool: string) => void} [o.ontool] hears about tool changes made
   *   with the keyboard.
   * @param {boolean} [o.shareCursor] send the pointer's position (not only
   *   the laser's) ~10 times a second.
   */
  constructor(container, { send, sendEphemeral = () => {}, me, isTeacher = false, onerror = () => {},
    ontool = () => {}, shareCursor = false } = {}) {
    this.container = container;
    this.send = send;
    this.sendEphemeral = sendEphemeral;
    this.me = me;
    this.isTeacher = isTeacher;
    this.onerror = onerror;
    this.ontool = ontool;
    this.shareCursor = shareCursor;
    this.probe = document.createElement("canvas").getContext("2d"); // colours and text metrics

    this.slide = null;
    this.items = []; // committed objects in drawing order: {obj, index, bounds, drawn, hidden, known}
    this.byId = new Map(); // id → item
    this.history = null; // the local user's undo/redo stacks on this board
    this.local = new Map(); // id → local entry: drawn by me, not yet folded into the cache
    this.pendingHide = new Set(); // ids I erased or cleared, until the events say so
    this.erasing = new Set(); // ids under the eraser of the gesture in progress
    this.live = new Map(); // item → time: growing translucent strokes, drawn on top until then

    this.overlay = new Overlay(this);
    this.raster = new Raster(this, container);
    this.canvas = this.raster.canvas;
    this.input = new Input(this, this.canvas);
    this.input.updateCursor();
  }

  /** The tool selected (see TOOLS). */
  get tool() {
    return this.input.tool;
  }

  /** The layer of committed objects shown: {canvas, ctx}. */
  get cache() {
    return this.raster.cache;
  }

  /** Removes the board from its container and stops listening. */
  destroy() {
    this.input.destroy();
    this.raster.destroy();
  }

  // ---- Showing and updating ----

  /**
   * Shows a slide's board: slide is {deck, page}, board the state's board of
   * that slide (or null when nothing was drawn), background an image URL
   * drawn letterboxed under the drawing, or null for a blank page. Whatever
   * was in progress on the previous slide is dropped.
   */
  show(slide, board, background = null) {
    this.input.cancelGesture();
    this.input.closeText(true);
    this.slide = { deck: slide.deck, page: slide.page };
    this.items = [];
    this.byId.clear();
    this.local.clear();
    this.pendingHide.clear();
    this.live.clear();
    this.overlay.clear();
    for (const obj of board?.objects ?? []) this.addItem(obj, false);
    this.history = board?.history?.[this.me] ?? null;
    this.raster.setBackground(background);
    this.raster.restart();
  }

  /**
   * Takes the shown slide's board after the page folded a committed event
   * into it. event, when given, lets the common case (a stroke part, a shape
   * or a text added at the end) cost O(its points); without it, or when the
   * board does not match what the event says, the objects are diffed by id,
   * hidden flag and point count, which costs O(objects) comparisons and
   * repaints only what changed.
   */
  update(board, event = null) {
    if (!this.slide) return;
    const objects = board?.objects ?? [];
    this.history = board?.history?.[this.me] ?? null;
    if (!this.appendFast(objects, event)) this.diff(objects);
    this.requestFrame();
  }

  appendFast(objects, event) {
    const kind = event?.kind;
    if (kind !== "stroke.drawn" && kind !== "shape.added" && kind !== "text.added") return false;
    const id = event.data?.object;
    const item = this.byId.get(id);
    if (item) {
      if (objects.length !== this.items.length || objects[item.index]?.id !== id) return false;
      this.applyObject(item, objects[item.index]);
      return true;
    }
    if (objects.length !== this.items.length + 1 || objects[objects.length - 1]?.id !== id) return false;
    this.addItem(objects[objects.length - 1], true);
    return true;
  }

  diff(objects) {
    const same = objects.length >= this.items.length &&
      this.items.every((item, i) => objects[i].id === item.obj.id);
    if (!same) { // objects went away or changed places: start again
      this.items = [];
      this.byId.clear();
      this.live.clear();
      for (const obj of objects) this.addItem(obj, false);
      this.raster.markAll();
      return;
    }
    const known = this.items.length;
    for (let i = 0; i < known; i++) this.applyObject(this.items[i], objects[i]);
    for (let i = known; i < objects.length; i++) this.addItem(objects[i], true);
  }

  /** addItem appends a committed object; draw rasterises it into the cache now. */
  addItem(obj, draw) {
    // The page's fold may change objects in place: the item keeps what was
    // seen of them (hidden, point count) to tell what changed.
    const item = { obj, index: this.items.length, bounds: boundsOf(obj, this.probe), drawn: 0,
      hidden: !!obj.hidden, known: pointCount(obj) };
    this.items.push(item);
    this.byId.set(obj.id, item);
    if (obj.hidden) this.pendingHide.delete(obj.id);
    if (this.local.has(obj.id)) this.settle(obj.id);
    else if (draw && translucent(obj)) this.goLive(item);
    else if (draw) this.raster.rasterize(item, 0);
    this.overlay.dropCoveredPreview(item);
  }

  /** applyObject takes the new version of a known object. */
  applyObject(item, obj) {
    const wasShown = this.shown(item);
    const before = item.known;
    item.obj = obj;
    item.hidden = !!obj.hidden;
    item.known = pointCount(obj);
    if (obj.hidden) this.pendingHide.delete(obj.id);
    if (item.known > before) extendBounds(item.bounds, obj.points, before, strokePad(obj));
    if (this.shown(item) !== wasShown) this.raster.markDirty(item.bounds);
    else if (item.known > before && !this.local.has(obj.id)) this.grow(item);
    if (this.local.has(obj.id)) this.settle(obj.id);
    this.overlay.dropCoveredPreview(item);
  }

  /**
   * grow draws the new points of a committed stroke. An opaque stroke
   * continues on the cache, O(new points). A translucent one cannot (its
   * parts would overlap and darken where they meet): it is drawn on top
   * while it grows, and rasterised whole once it has been quiet.
   */
  grow(item) {
    if (this.live.has(item) || (translucent(item.obj) && item.drawn === 0)) this.goLive(item);
    else if (translucent(item.obj)) this.raster.markDirty(item.bounds);
    else if (item.drawn > 0) this.raster.rasterize(item, item.drawn);
  }

  goLive(item) {
    this.live.set(item, performance.now() + LIVE_QUIET_MS);
    this.requestFrame();
  }

  /** settleLive rasterises the growing translucent strokes that have been quiet. */
  settleLive(now) {
    for (const [item, until] of this.live) {
      if (now < until) continue;
      this.live.delete(item);
      this.raster.rasterize(item, 0);
    }
  }

  /** shown: the object is visible, as committed and as erased locally. */
  shown(item) {
    return !item.hidden && !this.pendingHide.has(item.obj.id);
  }

  /** drawable: the object belongs in the cache now (not hidden, not drawn on top). */
  drawable(item) {
    return this.shown(item) && !this.local.has(item.obj.id) && !this.live.has(item);
  }

  /**
   * settle moves a local object into the cache once the committed board has
   * all of it: a shape or text when it arrives, a stroke when the gesture is
   * over and every point sent is committed. It lands on top of the cache,
   * which may differ from the drawing order until the next repaint.
   */
  settle(id) {
    const entry = this.local.get(id);
    const item = this.byId.get(id);
    if (!entry || !item) return;
    if (entry.obj.kind === "stroke" && !(entry.done && pointCount(item.obj) >= entry.sent)) return;
    this.local.delete(id);
    this.raster.rasterize(item, 0);
    this.requestFrame();
  }

  /** localRefused drops a local object whose command was refused. */
  localRefused(id) {
    this.local.delete(id);
    this.requestFrame();
  }

  requestFrame() {
    this.raster.requestFrame();
  }

  // ---- Ephemeral messages ----

  /**
   * Takes a relayed ephemeral message (protocol section 8): a remote cursor
   * or laser, or a preview of a stroke being drawn, which is drawn until the
   * committed stroke covers it. Messages for other slides are ignored.
   */
  ephemeral(msg) {
    if (!msg || !sameSlide(msg.slide, this.slide) || msg.actor === this.me) return;
    this.overlay.take(msg, performance.now());
    this.requestFrame();
  }

  // ---- Tools and commands ----

  /** Selects a tool by name (see TOOLS); a text box being typed is committed. */
  setTool(name) {
    this.input.setTool(name);
  }

  /** Sets the colour of what is drawn next: any CSS colour. */
  setColor(css) {
    this.input.setColor(css);
  }

  /** Sets the width of strokes and shapes (board units, 0 < n ≤ 200); text is 8× as large. */
  setWidth(n) {
    this.input.setWidth(n);
  }

  /** Sets the size of text written next (board units, 0 < n ≤ 200); until set, it follows the width. */
  setTextSize(n) {
    this.input.setTextSize(n);
  }

  /** Allows or stops drawing; a gesture in progress is abandoned. The laser is unaffected. */
  setCanDraw(allowed) {
    this.input.setCanDraw(allowed);
  }

  /** Undoes the local user's last action on this slide, if there is one. */
  undo() {
    if (this.input.canDraw && this.slide && this.history?.undo?.length) this.commit("board.undone", { slide: this.slide });
  }

  /** Redoes the local user's last undone action on this slide, if there is one. */
  redo() {
    if (this.input.canDraw && this.slide && this.history?.redo?.length) this.commit("board.redone", { slide: this.slide });
  }

  /** Erases every object of the slide (the teacher only); shown at once. */
  clear() {
    if (!this.isTeacher || !this.slide) return;
    const ids = this.items.filter((item) => this.shown(item)).map((item) => item.obj.id);
    if (ids.length === 0) return;
    this.hideLocally(ids);
    this.commit("board.cleared", { slide: this.slide }, () => this.unhideLocally(ids));
  }

  /**
   * commit sends a command; when it is refused, undo runs and onerror hears
   * of it unless undo returns false (a refusal already reported). A send
   * that throws counts as refused.
   */
  commit(kind, data, undo = () => {}) {
    let p;
    try {
      p = this.send(kind, data);
    } catch (err) {
      p = Promise.reject(err);
    }
    Promise.resolve(p).catch((err) => {
      if (undo() !== false) this.onerror(normalError(err));
    });
  }

  hideLocally(ids) {
    for (const id of ids) {
      const item = this.byId.get(id);
      if (!item) continue;
      this.pendingHide.add(id);
      this.raster.markDirty(item.bounds);
    }
  }

  unhideLocally(ids) {
    for (const id of ids) {
      const item = this.byId.get(id);
      if (item && this.pendingHide.delete(id)) this.raster.markDirty(item.bounds);
    }
  }

  // ---- Test hooks ----

  /** stats reports counts for tests and benchmarks. */
  stats() {
    let visible = 0;
    for (const item of this.items) if (this.shown(item)) visible++;
    const r = this.raster;
    return {
      objects: this.items.length, visible, lastFrameMs: r.lastFrameMs, frames: r.frames,
      frameMsTotal: r.frameMsTotal, rasterized: r.rasterized, rebuilds: r.rebuilds,
      rebuilding: !!r.job, previews: this.overlay.previews.size, local: this.local.size,
    };
  }

  /**
   * pixel returns [r, g, b, a] of the composed canvas at a board point,
   * drawing a pending frame and finishing a rebuild first. It throws when a
   * cross-origin background tainted the canvas.
   */
  pixel(x, y) {
    return this.raster.pixel(x, y);
  }
}

function pointCount(o) {
  return o.points?.length ?? 0;
}

function normalError(err) {
  if (err && typeof err === "object" && err.code) return { code: err.code, message: err.message ?? "" };
  return { code: "internal", message: String(err?.message ?? err) };
}
