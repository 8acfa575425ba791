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
// Rendering: committed objects are rasterised into a cache canvas the size of
// the shown board in device pixels. A committed stroke (or a new part of one)
// is drawn onto the cache at once, costing O(its points); erasing, undoing and
// clearing repaint only the cache region the changed objects cover. A whole
// new cache (a new slide, a new size once resizing pauses) is rasterised a
// slice of RASTER_BUDGET_MS a frame, never blocking the page: meanwhile the
// old cache is shown scaled, or a new slide fills in. Each animation frame
// in which something changed copies the cache to the visible canvas and
// draws on top what is still moving: the local user's objects in progress,
// growing translucent strokes, remote stroke previews, cursors and lasers.

/** The logical board size in board units; points are in this space. */
export const WIDTH = 1600;
export const HEIGHT = 900;

const COMMIT_INTERVAL_MS = 33; // stroke parts: at most ~30 commits a second
const PREVIEW_INTERVAL_MS = 33; // previews: at most ~30 a second
const CURSOR_INTERVAL_MS = 33; // laser: ~30 cursor messages a second
const SHARED_CURSOR_INTERVAL_MS = 100; // a plain cursor: ~10 a second
const MAX_PART_POINTS = 1000; // domain.MaxStrokePoints
const MAX_STROKE_POINTS = 20000; // domain.MaxObjectPoints
const MAX_PREVIEW_POINTS = 200; // protocol.MaxPreviewPoints
const MAX_ERASE_OBJECTS = 1000; // domain.MaxEraseObjects
const MAX_WIDTH = 200; // domain.MaxStrokeWidth
const MIN_POINT_DISTANCE = 0.3; // board units between kept samples
const HIGHLIGHT_ALPHA = 0.35;
const HIGHLIGHT_ALPHA_HEX = "59"; // HIGHLIGHT_ALPHA as a colour's alpha byte
const HIGHLIGHTER_WIDTH_SCALE = 4;
const LASER_FADE_MS = 1000;
const CURSOR_FADE_MS = 3000;
const PREVIEW_IDLE_MS = 2000; // a preview with no news for this long is dropped
const ERASER_RADIUS = 8; // board units
const RESIZE_SETTLE_MS = 120; // re-rasterise the cache once resizing pauses
const RASTER_BUDGET_MS = 8; // of a frame, for re-rasterising the cache
const LIVE_QUIET_MS = 300; // a growing translucent stroke joins the cache after this long without a part
const LINE_HEIGHT = 1.25;
const FONT = "system-ui, sans-serif";
const BLANK = "#ffffff";

/** Tools, by name, as setTool takes them. */
export const TOOLS = ["pen", "highlighter", "line", "rectangle", "ellipse", "arrow", "text", "eraser", "laser"];
const SHAPES = new Set(["line", "rectangle", "ellipse", "arrow"]);

/** Keyboard shortcuts the board answers to, for the page to show. */
export const shortcuts = [
  { keys: "P", action: "pen" },
  { keys: "H", action: "highlighter" },
  { keys: "L", action: "line" },
  { keys: "R", action: "rectangle" },
  { keys: "O", action: "ellipse" },
  { keys: "A", action: "arrow" },
  { keys: "T", action: "text" },
  { keys: "E", action: "eraser" },
  { keys: "K", action: "laser (teacher)" },
  { keys: "Ctrl/Cmd+Z", action: "undo" },
  { keys: "Ctrl/Cmd+Shift+Z, Ctrl+Y", action: "redo" },
];
const TOOL_KEYS = { p: "pen", h: "highlighter", l: "line", r: "rectangle", o: "ellipse", a: "arrow", t: "text", e: "eraser", k: "laser" };

const CURSORS = { text: "text", eraser: "cell", laser: "crosshair" };

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

    this.canvas = document.createElement("canvas");
    this.canvas.className = "board-canvas";
    Object.assign(this.canvas.style, { position: "absolute", touchAction: "none", userSelect: "none" });
    container.append(this.canvas);
    this.ctx = this.canvas.getContext("2d");
    this.cache = { canvas: document.createElement("canvas"), ctx: null }; // the layer shown
    this.cache.canvas.width = this.cache.canvas.height = 0;
    this.job = null; // a full re-rasterisation in progress: {layer, next}
    this.probe = document.createElement("canvas").getContext("2d"); // colours and text metrics

    this.slide = null;
    this.items = []; // committed objects in drawing order: {obj, bounds, drawn}
    this.byId = new Map(); // id → item
    this.history = null; // the local user's undo/redo stacks on this board
    this.local = new Map(); // id → local entry: drawn by me, not yet folded into the cache
    this.pendingHide = new Set(); // ids I erased or cleared, until the events say so
    this.erasing = new Set(); // ids under the eraser of the gesture in progress
    this.live = new Map(); // item → time: growing translucent strokes, drawn on top until then
    this.previews = new Map(); // object id → remote stroke preview
    this.cursors = new Map(); // actor → {x, y, at}
    this.lasers = new Map(); // actor → [{x, y, at}], the last LASER_FADE_MS
    this.background = null; // {url, img, ready}

    this.tool = "pen";
    this.color = "#1e293b";
    this.width = 3;
    this.canDraw = true;
    this.gesture = null;
    this.textBox = null;
    this.lastCursorSent = -Infinity;

    this.dirty = null; // logical rect of the cache to repaint, or ALL
    this.rebuildDue = 0; // when to re-rasterise the cache at the canvas's size (resizing)
    this.raf = 0;
    this.timer = 0;
    this.lastFrameMs = 0;
    this.frames = 0;
    this.frameMsTotal = 0;
    this.rasterized = 0; // objects drawn into the cache, ever
    this.rebuilds = 0; // whole-cache repaints, ever

    this.frame = this.frame.bind(this);
    this.listeners = [
      [this.canvas, "pointerdown", (e) => this.onDown(e)],
      [this.canvas, "pointermove", (e) => this.onMove(e)],
      [this.canvas, "pointerup", (e) => this.onUp(e)],
      [this.canvas, "pointercancel", (e) => this.onCancel(e)],
      [this.canvas, "lostpointercapture", (e) => this.onCancel(e)],
      [this.canvas, "contextmenu", (e) => e.preventDefault()],
      [window, "keydown", (e) => this.onKey(e)],
    ];
    for (const [target, type, fn] of this.listeners) target.addEventListener(type, fn);
    this.resizeObserver = new ResizeObserver(() => this.resize());
    this.resizeObserver.observe(container);
    this.resize();
    this.updateCursor();
  }

  /** Removes the board from its container and stops listening. */
  destroy() {
    this.cancelGesture();
    this.closeText(false);
    for (const [target, type, fn] of this.listeners) target.removeEventListener(type, fn);
    this.resizeObserver.disconnect();
    cancelAnimationFrame(this.raf);
    clearTimeout(this.timer);
    this.canvas.remove();
  }

  // ---- Showing and updating ----

  /**
   * Shows a slide's board: slide is {deck, page}, board the state's board of
   * that slide (or null when nothing was drawn), background an image URL
   * drawn letterboxed under the drawing, or null for a blank page. Whatever
   * was in progress on the previous slide is dropped.
   */
  show(slide, board, background = null) {
    this.cancelGesture();
    this.closeText(true);
    this.slide = { deck: slide.deck, page: slide.page };
    this.items = [];
    this.byId.clear();
    this.local.clear();
    this.pendingHide.clear();
    this.live.clear();
    this.previews.clear();
    this.cursors.clear();
    this.lasers.clear();
    for (const obj of board?.objects ?? []) this.addItem(obj, false);
    this.history = board?.history?.[this.me] ?? null;
    this.setBackground(background);
    this.dirty = null;
    this.startRebuild(true);
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
      this.dirty = ALL;
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
    else if (draw) this.rasterize(item, 0);
    this.dropCoveredPreview(item);
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
    if (this.shown(item) !== wasShown) this.markDirty(item.bounds);
    else if (item.known > before && !this.local.has(obj.id)) this.grow(item);
    if (this.local.has(obj.id)) this.settle(obj.id);
    this.dropCoveredPreview(item);
  }

  /**
   * grow draws the new points of a committed stroke. An opaque stroke
   * continues on the cache, O(new points). A translucent one cannot (its
   * parts would overlap and darken where they meet): it is drawn on top
   * while it grows, and rasterised whole once it has been quiet.
   */
  grow(item) {
    if (this.live.has(item) || (translucent(item.obj) && item.drawn === 0)) this.goLive(item);
    else if (translucent(item.obj)) this.markDirty(item.bounds);
    else if (item.drawn > 0) this.rasterize(item, item.drawn);
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
      this.rasterize(item, 0);
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
   * rasterize draws an object into the cache from its point from (strokes),
   * and into the cache being rebuilt if the rebuild has passed it already.
   */
  rasterize(item, from) {
    if (!this.drawable(item)) return;
    const job = this.job;
    const passed = !job || item.index < job.next;
    if (this.cache.canvas.width && (passed || job.layer !== this.cache)) drawObject(this.cache.ctx, item.obj, from);
    if (job && passed && job.layer !== this.cache) drawObject(job.layer.ctx, item.obj, from);
    item.drawn = item.obj.kind === "stroke" ? pointCount(item.obj) : 1;
    this.rasterized++;
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
    this.rasterize(item, 0);
    this.requestFrame();
  }

  markDirty(bounds) {
    if (this.dirty === ALL) return;
    this.dirty = this.dirty ? union(this.dirty, bounds) : { ...bounds };
    this.requestFrame();
  }

  setBackground(url) {
    if (!url) {
      this.background = null;
      return;
    }
    if (this.background?.url === url) return;
    const bg = { url, img: new Image(), ready: false };
    bg.img.onload = () => {
      bg.ready = true;
      if (this.background === bg) {
        this.dirty = ALL;
        this.requestFrame();
      }
    };
    bg.img.onerror = () => this.onerror({ code: "not_found", message: `the slide image ${url} did not load` });
    bg.img.src = url;
    this.background = bg;
  }

  // ---- Ephemeral messages ----

  /**
   * Takes a relayed ephemeral message (protocol section 8): a remote cursor
   * or laser, or a preview of a stroke being drawn, which is drawn until the
   * committed stroke covers it. Messages for other slides are ignored.
   */
  ephemeral(msg) {
    if (!msg || !sameSlide(msg.slide, this.slide) || msg.actor === this.me) return;
    const now = performance.now();
    if (msg.type === "cursor") {
      if (msg.laser) pushTrail(this.lasers, msg.actor, msg.x, msg.y, now);
      else this.cursors.set(msg.actor, { x: msg.x, y: msg.y, at: now });
    } else if (msg.type === "preview" && Array.isArray(msg.points)) {
      this.takePreview(msg, now);
    }
    this.requestFrame();
  }

  takePreview(msg, now) {
    let pv = this.previews.get(msg.object);
    if (!pv) {
      pv = { id: msg.object, actor: msg.actor, points: [] };
      this.previews.set(msg.object, pv);
    }
    Object.assign(pv, { color: msg.color, width: msg.width, at: now });
    // Messages may come out of order: keep only points after the last one.
    for (const p of msg.points) {
      const last = pv.points[pv.points.length - 1];
      if (last && (p[2] < last[2] || (p[2] === last[2] && p[0] === last[0] && p[1] === last[1]))) continue;
      pv.points.push(p);
    }
    const item = this.byId.get(msg.object);
    if (item) this.dropCoveredPreview(item);
  }

  /** dropCoveredPreview forgets a preview once its stroke is committed as far. */
  dropCoveredPreview(item) {
    const pv = this.previews.get(item.obj.id);
    if (pv && lastT(item.obj.points) >= lastT(pv.points)) this.previews.delete(item.obj.id);
  }

  // ---- Tools and commands ----

  /** Selects a tool by name (see TOOLS); a text box being typed is committed. */
  setTool(name) {
    if (!TOOLS.includes(name)) throw new TypeError(`unknown tool ${name}`);
    this.cancelGesture();
    this.closeText(true);
    this.tool = name;
    this.updateCursor();
  }

  /** Sets the colour of what is drawn next: any CSS colour. */
  setColor(css) {
    this.color = cssToHex(css, this.probe);
  }

  /** Sets the width of strokes and shapes (board units, 0 < n ≤ 200); text is 8× as large. */
  setWidth(n) {
    if (!(n > 0)) throw new RangeError(`width ${n} is not above 0`);
    this.width = Math.min(MAX_WIDTH, n);
  }

  /** Allows or stops drawing; a gesture in progress is abandoned. The laser is unaffected. */
  setCanDraw(allowed) {
    this.canDraw = !!allowed;
    if (!this.canDraw) {
      if (this.gesture && this.gesture.kind !== "laser") this.cancelGesture();
      this.closeText(false);
    }
    this.updateCursor();
  }

  /** Undoes the local user's last action on this slide, if there is one. */
  undo() {
    if (this.canDraw && this.slide && this.history?.undo?.length) this.commit("board.undone", { slide: this.slide });
  }

  /** Redoes the local user's last undone action on this slide, if there is one. */
  redo() {
    if (this.canDraw && this.slide && this.history?.redo?.length) this.commit("board.redone", { slide: this.slide });
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
      this.markDirty(item.bounds);
    }
  }

  unhideLocally(ids) {
    for (const id of ids) {
      const item = this.byId.get(id);
      if (item && this.pendingHide.delete(id)) this.markDirty(item.bounds);
    }
  }

  updateCursor() {
    const blocked = this.tool === "laser" ? !this.isTeacher : !this.canDraw;
    this.canvas.style.cursor = blocked ? "not-allowed" : CURSORS[this.tool] ?? "crosshair";
  }

  // ---- Pointer input ----

  onDown(e) {
    if (this.gesture || (e.pointerType === "mouse" && e.button !== 0) || !this.slide) return;
    const tool = this.tool;
    if (tool === "laser" ? !this.isTeacher : !this.canDraw) return;
    e.preventDefault();
    try {
      this.canvas.setPointerCapture(e.pointerId);
    } catch { /* a synthetic pointer cannot be captured */ }
    this.rect = this.canvas.getBoundingClientRect();
    const [x, y] = this.toBoard(e);
    const g = { kind: tool, pointerId: e.pointerId, x, y };
    this.gesture = g;
    if (tool === "pen" || tool === "highlighter") this.beginStroke(g, e);
    else if (SHAPES.has(tool)) this.beginShape(g);
    else if (tool === "eraser") this.eraseAlong(x, y, x, y);
    else if (tool === "laser") this.laserAt(x, y);
  }

  onMove(e) {
    const g = this.gesture;
    if (!g) {
      this.hover(e);
      return;
    }
    if (e.pointerId !== g.pointerId) return;
    if (g.kind === "pen" || g.kind === "highlighter") {
      this.addPoints(g.stroke, e);
      return;
    }
    const [x, y] = this.toBoard(e);
    if (g.shape) g.shape.to = [x, y];
    else if (g.kind === "eraser") this.eraseAlong(g.x, g.y, x, y);
    else if (g.kind === "laser") this.laserAt(x, y);
    g.x = x;
    g.y = y;
    this.requestFrame();
  }

  onUp(e) {
    const g = this.gesture;
    if (!g || e.pointerId !== g.pointerId) return;
    this.gesture = null;
    if (g.stroke) {
      this.addPoints(g.stroke, e);
      this.endStroke(g.stroke);
    } else if (g.shape) {
      this.endShape(g.shape);
    } else if (g.kind === "eraser") {
      this.endErase();
    } else if (g.kind === "text") {
      const [x, y] = this.toBoard(e);
      setTimeout(() => this.openText(x, y)); // after the click's own focus change
    }
    this.requestFrame();
  }

  onCancel(e) {
    if (this.gesture && e.pointerId === this.gesture.pointerId) {
      if (this.gesture.stroke) this.onUp(e); // keep what was drawn
      else this.cancelGesture();
    }
  }

  /** hover: the pointer moves with no gesture: the teacher's laser, a shared cursor. */
  hover(e) {
    if (!this.slide) return;
    if (this.tool === "laser" && this.isTeacher) {
      this.rect = this.canvas.getBoundingClientRect();
      const [x, y] = this.toBoard(e);
      this.laserAt(x, y);
    } else if (this.shareCursor) {
      const now = performance.now();
      if (now - this.lastCursorSent < SHARED_CURSOR_INTERVAL_MS) return;
      this.lastCursorSent = now;
      this.rect = this.canvas.getBoundingClientRect();
      const [x, y] = this.toBoard(e);
      this.sendEphemeral({ type: "cursor", slide: this.slide, x, y, laser: false });
    }
  }

  /** cancelGesture abandons the gesture in progress; a stroke keeps what was committed. */
  cancelGesture() {
    const g = this.gesture;
    if (!g) return;
    this.gesture = null;
    try {
      this.canvas.releasePointerCapture(g.pointerId);
    } catch { /* not captured */ }
    if (g.stroke) {
      clearTimeout(g.stroke.timer);
      g.stroke.done = true;
      g.stroke.failed = true; // nothing more is sent
      this.local.delete(g.stroke.id);
      const item = this.byId.get(g.stroke.id);
      if (item) this.rasterize(item, 0);
    }
    if (g.shape) this.local.delete(g.shape.id);
    this.erasing.clear();
    this.requestFrame();
  }

  /** toBoard maps a pointer event to board units, clamped to the board. */
  toBoard(e) {
    const r = this.rect;
    const x = ((e.clientX - r.left) / r.width) * WIDTH;
    const y = ((e.clientY - r.top) / r.height) * HEIGHT;
    return [round1(clamp(x, 0, WIDTH)), round1(clamp(y, 0, HEIGHT))];
  }

  // ---- Strokes ----

  beginStroke(g, e) {
    const highlighter = g.kind === "highlighter";
    const width = highlighter ? Math.min(MAX_WIDTH, this.width * HIGHLIGHTER_WIDTH_SCALE) : this.width;
    const obj = { id: newId(), kind: "stroke", owner: this.me, tool: g.kind, color: this.color, width, points: [] };
    g.stroke = {
      id: obj.id, obj, slide: this.slide, t0: e.timeStamp,
      sent: 0, part: 0, previewed: 0, lastCommit: -Infinity, lastPreview: -Infinity,
      timer: 0, done: false, failed: false, reported: false,
    };
    this.local.set(obj.id, g.stroke);
    this.addPoints(g.stroke, e);
  }

  /** addPoints samples a pointer event (and the events coalesced into it) into the stroke. */
  addPoints(s, e) {
    if (s.failed) return;
    const pts = s.obj.points;
    const coalesced = e.getCoalescedEvents?.() ?? [];
    for (const ev of coalesced.length ? coalesced : [e]) {
      if (pts.length >= MAX_STROKE_POINTS) break;
      const [x, y] = this.toBoard(ev);
      const last = pts[pts.length - 1];
      if (last && Math.abs(last[0] - x) < MIN_POINT_DISTANCE && Math.abs(last[1] - y) < MIN_POINT_DISTANCE) continue;
      const t = Math.max(last ? last[2] : 0, Math.round(ev.timeStamp - s.t0));
      pts.push([x, y, t, pressureOf(ev)]);
    }
    this.requestFrame();
    this.scheduleFlush(s);
  }

  scheduleFlush(s) {
    if (s.timer || s.failed || s.sent >= s.obj.points.length) return;
    const wait = Math.max(0, s.lastCommit + COMMIT_INTERVAL_MS - performance.now());
    s.timer = setTimeout(() => {
      s.timer = 0;
      this.flushStroke(s, false);
    }, wait);
  }

  /**
   * flushStroke commits the stroke's unsent points as the next parts (part 0
   * carrying the style, each at most MAX_PART_POINTS) and, while the stroke
   * is still being drawn, previews them.
   */
  flushStroke(s, final) {
    const pts = s.obj.points;
    const now = performance.now();
    s.lastCommit = now;
    while (!s.failed && s.sent < pts.length) {
      const data = { object: s.id, slide: s.slide, part: s.part };
      if (s.part === 0) Object.assign(data, { tool: s.obj.tool, color: s.obj.color, width: s.obj.width });
      data.points = pts.slice(s.sent, s.sent + MAX_PART_POINTS);
      s.part++;
      s.sent += data.points.length;
      this.commit("stroke.drawn", data, () => this.strokeRefused(s));
    }
    if (!final && s.previewed < pts.length && now - s.lastPreview >= PREVIEW_INTERVAL_MS) {
      s.lastPreview = now;
      const from = Math.max(s.previewed, pts.length - MAX_PREVIEW_POINTS);
      s.previewed = pts.length;
      this.sendEphemeral({ type: "preview", slide: s.slide, object: s.id, color: previewColor(s.obj),
        width: s.obj.width, points: pts.slice(from) });
    }
  }

  endStroke(s) {
    clearTimeout(s.timer);
    s.timer = 0;
    this.flushStroke(s, true);
    s.done = true;
    this.settle(s.id);
  }

  /**
   * strokeRefused drops the local stroke; what was committed of it stays.
   * Only the first refused part of a stroke is reported.
   */
  strokeRefused(s) {
    if (s.reported) return false;
    s.reported = true;
    s.failed = true;
    clearTimeout(s.timer);
    if (this.gesture?.stroke === s) this.gesture = null;
    this.local.delete(s.id);
    const item = this.byId.get(s.id);
    if (item) this.rasterize(item, 0);
    this.requestFrame();
  }

  // ---- Shapes and text ----

  beginShape(g) {
    g.shape = { id: newId(), kind: "shape", owner: this.me, shape: g.kind, from: [g.x, g.y], to: [g.x, g.y],
      color: this.color, width: this.width };
    this.local.set(g.shape.id, { obj: g.shape });
  }

  endShape(shape) {
    const [x0, y0] = shape.from;
    const [x1, y1] = shape.to;
    if (Math.hypot(x1 - x0, y1 - y0) < 2) {
      this.local.delete(shape.id);
      return;
    }
    const data = { object: shape.id, slide: this.slide, shape: shape.shape, from: shape.from, to: shape.to,
      color: shape.color, width: shape.width };
    this.commit("shape.added", data, () => this.localRefused(shape.id));
    this.settle(shape.id);
  }

  localRefused(id) {
    this.local.delete(id);
    this.requestFrame();
  }

  /** openText places a text box at a board point; Enter commits it, Escape drops it. */
  openText(x, y) {
    if (!this.canDraw || !this.slide) return;
    this.closeText(true);
    const size = textSize(this.width);
    const scale = this.canvas.clientWidth / WIDTH;
    const input = document.createElement("input");
    input.type = "text";
    input.className = "board-text";
    input.maxLength = 2000;
    Object.assign(input.style, {
      position: "absolute", left: `${this.canvas.offsetLeft + x * scale}px`,
      top: `${this.canvas.offsetTop + y * scale}px`, font: `${size * scale}px ${FONT}`, color: this.color,
      background: "transparent", border: "1px dashed #94a3b8", outline: "none", padding: "0", margin: "0",
      lineHeight: `${LINE_HEIGHT}`, minWidth: "4em",
    });
    const box = { input, x, y, size, color: this.color, slide: this.slide };
    input.addEventListener("keydown", (e) => {
      e.stopPropagation();
      if (e.key === "Enter") this.closeText(true);
      else if (e.key === "Escape") this.closeText(false);
    });
    input.addEventListener("blur", () => this.closeText(true));
    this.textBox = box;
    this.container.append(input);
    input.focus();
  }

  /** closeText removes the text box, committing its text when commit is set. */
  closeText(commit) {
    const box = this.textBox;
    if (!box) return;
    this.textBox = null;
    box.input.remove();
    const text = box.input.value.trim();
    if (!commit || !text || !sameSlide(box.slide, this.slide)) return;
    const obj = { id: newId(), kind: "text", owner: this.me, at: [box.x, box.y], text, color: box.color, size: box.size };
    this.local.set(obj.id, { obj });
    this.commit("text.added", { object: obj.id, slide: box.slide, at: obj.at, text, color: obj.color, size: obj.size },
      () => this.localRefused(obj.id));
    this.settle(obj.id);
    this.requestFrame();
  }

  // ---- Eraser and laser ----

  /**
   * eraseAlong marks the objects the eraser touches between two points: any
   * object for the teacher, only the local user's own for a student.
   */
  eraseAlong(x0, y0, x1, y1) {
    const steps = Math.max(1, Math.ceil(Math.hypot(x1 - x0, y1 - y0) / ERASER_RADIUS));
    for (let i = 0; i <= steps; i++) {
      const x = x0 + ((x1 - x0) * i) / steps;
      const y = y0 + ((y1 - y0) * i) / steps;
      for (const item of this.items) {
        const o = item.obj;
        if (!this.shown(item) || this.erasing.has(o.id) || this.local.has(o.id)) continue;
        if (!this.isTeacher && o.owner !== this.me) continue;
        if (hits(o, item.bounds, x, y, ERASER_RADIUS)) this.erasing.add(o.id);
      }
    }
  }

  /** endErase hides the marked objects at once and commits their erasure. */
  endErase() {
    const ids = [...this.erasing];
    this.erasing.clear();
    if (ids.length === 0) return;
    this.hideLocally(ids);
    for (let i = 0; i < ids.length; i += MAX_ERASE_OBJECTS) {
      const chunk = ids.slice(i, i + MAX_ERASE_OBJECTS);
      this.commit("objects.erased", { slide: this.slide, objects: chunk }, () => this.unhideLocally(chunk));
    }
  }

  laserAt(x, y) {
    const now = performance.now();
    pushTrail(this.lasers, this.me, x, y, now);
    if (now - this.lastCursorSent >= CURSOR_INTERVAL_MS) {
      this.lastCursorSent = now;
      this.sendEphemeral({ type: "cursor", slide: this.slide, x, y, laser: true });
    }
    this.requestFrame();
  }

  // ---- Keyboard ----

  onKey(e) {
    if (isTyping(e.target) || e.altKey || e.repeat && !(e.ctrlKey || e.metaKey)) return;
    const key = e.key.toLowerCase();
    if ((e.ctrlKey || e.metaKey) && key === "z") {
      e.preventDefault();
      if (e.shiftKey) this.redo();
      else this.undo();
    } else if (e.ctrlKey && key === "y") {
      e.preventDefault();
      this.redo();
    } else if (!e.ctrlKey && !e.metaKey && !e.shiftKey && TOOL_KEYS[key]) {
      this.setTool(TOOL_KEYS[key]);
      this.ontool(this.tool);
    }
  }

  // ---- Rendering ----

  /** resize fits the canvas to the container; the cache is re-rasterised once resizing pauses. */
  resize() {
    const cw = this.container.clientWidth;
    const ch = this.container.clientHeight;
    if (!cw || !ch) return;
    const scale = Math.min(cw / WIDTH, ch / HEIGHT);
    const cssW = WIDTH * scale;
    const cssH = HEIGHT * scale;
    Object.assign(this.canvas.style, { left: `${(cw - cssW) / 2}px`, top: `${(ch - cssH) / 2}px`,
      width: `${cssW}px`, height: `${cssH}px` });
    const dpr = window.devicePixelRatio || 1;
    const w = Math.max(1, Math.round(cssW * dpr));
    const h = Math.max(1, Math.round(cssH * dpr));
    if (w === this.canvas.width && h === this.canvas.height) return;
    this.canvas.width = w;
    this.canvas.height = h;
    this.rebuildDue = performance.now() + (this.cache.canvas.width ? RESIZE_SETTLE_MS : 0);
    this.requestFrame();
  }

  requestFrame() {
    if (!this.raf) this.raf = requestAnimationFrame(this.frame);
  }

  /**
   * frame brings the cache up to date (the regions that changed, and a slice
   * of a full re-rasterisation in progress), then composes: the cache, and on
   * top the local objects in progress, previews, cursors and lasers. It asks
   * for another frame only while something fades or a rebuild goes on.
   */
  frame() {
    this.raf = 0;
    const start = performance.now();
    const { width: w, height: h } = this.canvas;
    const fits = (layer) => layer.canvas.width === w && layer.canvas.height === h;
    const stale = !fits(this.cache);
    if (this.dirty === ALL) {
      this.dirty = null;
      this.startRebuild(!this.cache.canvas.width || this.job?.layer === this.cache);
    } else if (stale && !(this.job && fits(this.job.layer)) && start >= this.rebuildDue) {
      this.startRebuild(!this.cache.canvas.width);
    }
    if (this.dirty) {
      const job = this.job;
      this.repaint(this.cache, this.dirty, job?.layer === this.cache ? job.next : Infinity);
      if (job && job.layer !== this.cache) this.repaint(job.layer, this.dirty, job.next);
      this.dirty = null;
    }
    if (this.job) this.continueRebuild(start + RASTER_BUDGET_MS);
    this.settleLive(start);
    const animating = this.compose(start);
    this.frames++;
    this.lastFrameMs = performance.now() - start;
    this.frameMsTotal += this.lastFrameMs;
    if (animating || this.job) this.requestFrame();
    if (stale && !this.job && start < this.rebuildDue) { // meanwhile the old cache is shown scaled
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.requestFrame(), this.rebuildDue - start);
    }
  }

  /**
   * startRebuild begins re-rasterising every object into a new cache the
   * canvas's size, a slice a frame. The old cache is shown (scaled) until it
   * is done, unless progressive: then the new one is shown as it fills (a
   * new slide, whose old cache is no use).
   */
  startRebuild(progressive) {
    const canvas = document.createElement("canvas");
    canvas.width = this.canvas.width;
    canvas.height = this.canvas.height;
    const ctx = canvas.getContext("2d");
    ctx.setTransform(canvas.width / WIDTH, 0, 0, canvas.height / HEIGHT, 0, 0);
    ctx.fillStyle = BLANK;
    ctx.fillRect(0, 0, WIDTH, HEIGHT);
    this.drawBackground(ctx);
    this.job = { layer: { canvas, ctx }, next: 0 };
    if (progressive) this.cache = this.job.layer;
    this.requestFrame();
  }

  /** continueRebuild rasterises objects into the new cache until the deadline. */
  continueRebuild(deadline) {
    const job = this.job;
    while (job.next < this.items.length) {
      const item = this.items[job.next++];
      if (this.drawable(item)) {
        drawObject(job.layer.ctx, item.obj, 0);
        item.drawn = item.obj.kind === "stroke" ? pointCount(item.obj) : 1;
      }
      if (job.next % 16 === 0 && performance.now() > deadline) return;
    }
    this.cache = job.layer;
    this.job = null;
    this.rebuilds++;
  }

  /**
   * repaint redraws a layer within a logical rect, with the objects before
   * index limit (those a rebuild in progress has passed).
   */
  repaint(layer, rect, limit) {
    const c = layer.ctx;
    if (!layer.canvas.width) return;
    const sx = layer.canvas.width / WIDTH;
    const sy = layer.canvas.height / HEIGHT;
    // Clip to whole device pixels around the rect, so no seam is left.
    rect = {
      x0: (Math.floor(rect.x0 * sx) - 1) / sx, y0: (Math.floor(rect.y0 * sy) - 1) / sy,
      x1: (Math.ceil(rect.x1 * sx) + 1) / sx, y1: (Math.ceil(rect.y1 * sy) + 1) / sy,
    };
    c.save();
    c.beginPath();
    c.rect(rect.x0, rect.y0, rect.x1 - rect.x0, rect.y1 - rect.y0);
    c.clip();
    c.globalAlpha = 1;
    c.fillStyle = BLANK;
    c.fillRect(0, 0, WIDTH, HEIGHT);
    this.drawBackground(c);
    const n = Math.min(limit, this.items.length);
    for (let i = 0; i < n; i++) {
      const item = this.items[i];
      if (!this.drawable(item) || !intersects(item.bounds, rect)) continue;
      drawObject(c, item.obj, 0);
      item.drawn = item.obj.kind === "stroke" ? pointCount(item.obj) : 1;
    }
    c.restore();
  }

  drawBackground(c) {
    const bg = this.background;
    if (!bg?.ready || !bg.img.naturalWidth) return;
    const { naturalWidth: iw, naturalHeight: ih } = bg.img;
    const s = Math.min(WIDTH / iw, HEIGHT / ih);
    c.globalAlpha = 1;
    c.drawImage(bg.img, (WIDTH - iw * s) / 2, (HEIGHT - ih * s) / 2, iw * s, ih * s);
  }

  /** compose draws the frame and answers whether something is still fading. */
  compose(now) {
    const ctx = this.ctx;
    const { width: w, height: h } = this.canvas;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.globalAlpha = 1;
    if (this.cache.canvas.width) ctx.drawImage(this.cache.canvas, 0, 0, w, h);
    else {
      ctx.fillStyle = BLANK;
      ctx.fillRect(0, 0, w, h);
    }
    ctx.setTransform(w / WIDTH, 0, 0, h / HEIGHT, 0, 0);
    for (const id of this.erasing) {
      const item = this.byId.get(id);
      if (item) drawObject(ctx, fadedCopy(item.obj), 0);
    }
    for (const item of this.live.keys()) if (this.shown(item)) drawObject(ctx, item.obj, 0);
    for (const entry of this.local.values()) drawObject(ctx, entry.obj, 0);
    let animating = this.live.size > 0;
    animating = this.drawPreviews(ctx, now) || animating;
    animating = this.drawCursors(ctx, now) || animating;
    animating = this.drawLasers(ctx, now) || animating;
    return animating;
  }

  drawPreviews(ctx, now) {
    for (const [id, pv] of this.previews) {
      if (now - pv.at > PREVIEW_IDLE_MS) {
        this.previews.delete(id);
        continue;
      }
      // Draw only what the committed stroke does not have yet.
      const committed = this.byId.get(id)?.obj.points ?? [];
      const after = lastT(committed);
      let pts = pv.points.filter((p) => p[2] > after);
      if (committed.length && pts.length) pts = [committed[committed.length - 1], ...pts];
      const { color, alpha } = splitAlpha(pv.color);
      drawStroke(ctx, pts, color, pv.width, alpha, alpha < 1, 0);
    }
    return this.previews.size > 0;
  }

  drawCursors(ctx, now) {
    ctx.font = `14px ${FONT}`;
    ctx.textBaseline = "top";
    for (const [actor, c] of this.cursors) {
      const age = now - c.at;
      if (age > CURSOR_FADE_MS) {
        this.cursors.delete(actor);
        continue;
      }
      ctx.globalAlpha = 1 - age / CURSOR_FADE_MS;
      ctx.fillStyle = actorColor(actor);
      ctx.beginPath();
      ctx.arc(c.x, c.y, 5, 0, 2 * Math.PI);
      ctx.fill();
      ctx.fillText(actor, c.x + 8, c.y + 8);
    }
    ctx.globalAlpha = 1;
    return this.cursors.size > 0;
  }

  drawLasers(ctx, now) {
    ctx.lineCap = ctx.lineJoin = "round";
    for (const [actor, trail] of this.lasers) {
      while (trail.length && now - trail[0].at > LASER_FADE_MS) trail.shift();
      if (trail.length === 0) {
        this.lasers.delete(actor);
        continue;
      }
      for (let i = 1; i < trail.length; i++) {
        ctx.globalAlpha = Math.max(0, 1 - (now - trail[i].at) / LASER_FADE_MS) * 0.8;
        ctx.strokeStyle = "#ef4444";
        ctx.lineWidth = 6;
        ctx.beginPath();
        ctx.moveTo(trail[i - 1].x, trail[i - 1].y);
        ctx.lineTo(trail[i].x, trail[i].y);
        ctx.stroke();
      }
      const head = trail[trail.length - 1];
      ctx.globalAlpha = Math.max(0, 1 - (now - head.at) / LASER_FADE_MS);
      ctx.fillStyle = "#dc2626";
      ctx.beginPath();
      ctx.arc(head.x, head.y, 7, 0, 2 * Math.PI);
      ctx.fill();
    }
    ctx.globalAlpha = 1;
    return this.lasers.size > 0;
  }

  // ---- Test hooks ----

  /** stats reports counts for tests and benchmarks. */
  stats() {
    let visible = 0;
    for (const item of this.items) if (this.shown(item)) visible++;
    return {
      objects: this.items.length, visible, lastFrameMs: this.lastFrameMs, frames: this.frames,
      frameMsTotal: this.frameMsTotal, rasterized: this.rasterized, rebuilds: this.rebuilds,
      rebuilding: !!this.job, previews: this.previews.size, local: this.local.size,
    };
  }

  /**
   * pixel returns [r, g, b, a] of the composed canvas at a board point,
   * drawing a pending frame and finishing a rebuild first. It throws when a
   * cross-origin background tainted the canvas.
   */
  pixel(x, y) {
    if (this.raf || this.job) {
      cancelAnimationFrame(this.raf);
      this.frame();
      if (this.job) {
        this.continueRebuild(Infinity);
        this.frame();
      }
    }
    const px = Math.min(this.canvas.width - 1, Math.floor((x / WIDTH) * this.canvas.width));
    const py = Math.min(this.canvas.height - 1, Math.floor((y / HEIGHT) * this.canvas.height));
    return Array.from(this.ctx.getImageData(px, py, 1, 1).data);
  }
}

const ALL = Object.freeze({ all: true });

// ---- Drawing ----

/**
 * drawObject draws a board object (section 6 of the protocol) in board units
 * on ctx, whose transform maps board units to its pixels; for a stroke, from
 * is the first point not drawn yet (0: all of it).
 */
export function drawObject(ctx, o, from = 0) {
  if (o.kind === "stroke") {
    const highlighter = o.tool === "highlighter";
    drawStroke(ctx, o.points, o.color, o.width, highlighter ? HIGHLIGHT_ALPHA : 1, highlighter, from);
  } else if (o.kind === "shape") drawShape(ctx, o);
  else if (o.kind === "text") drawText(ctx, o);
}

/**
 * drawStroke draws points [x, y, t, pressure] as a smoothed path: quadratic
 * curves through the midpoints between samples. Its width follows the
 * pressure (width at 0.5) unless flat; consecutive segments of the same
 * rounded width share one path. Drawing from point from continues a stroke
 * already drawn up to it.
 */
export function drawStroke(ctx, pts, color, width, alpha, flat, from = 0) {
  const n = pts?.length ?? 0;
  if (n === 0 || from >= n) return;
  ctx.globalAlpha = alpha;
  ctx.strokeStyle = ctx.fillStyle = color;
  ctx.lineCap = ctx.lineJoin = "round";
  const widthAt = (p) => (flat ? width : Math.max(0.25, Math.round(width * pressureFactor(p[3]) * 4) / 4));
  if (n === 1) {
    ctx.beginPath();
    ctx.arc(pts[0][0], pts[0][1], widthAt(pts[0]) / 2, 0, 2 * Math.PI);
    ctx.fill();
    return;
  }
  const k0 = Math.max(1, from - 1);
  let x = k0 === 1 ? pts[0][0] : (pts[k0 - 1][0] + pts[k0][0]) / 2;
  let y = k0 === 1 ? pts[0][1] : (pts[k0 - 1][1] + pts[k0][1]) / 2;
  let w = widthAt(pts[k0]);
  ctx.lineWidth = w;
  ctx.beginPath();
  ctx.moveTo(x, y);
  for (let k = k0; k <= n - 2; k++) {
    const p = pts[k];
    const q = pts[k + 1];
    const wk = widthAt(p);
    if (wk !== w) {
      ctx.stroke();
      ctx.lineWidth = w = wk;
      ctx.beginPath();
      ctx.moveTo(x, y);
    }
    x = (p[0] + q[0]) / 2;
    y = (p[1] + q[1]) / 2;
    ctx.quadraticCurveTo(p[0], p[1], x, y);
  }
  ctx.lineTo(pts[n - 1][0], pts[n - 1][1]);
  ctx.stroke();
}

function drawShape(ctx, o) {
  const [x0, y0] = o.from;
  const [x1, y1] = o.to;
  ctx.globalAlpha = 1;
  ctx.strokeStyle = o.color;
  ctx.lineWidth = o.width;
  ctx.lineCap = ctx.lineJoin = "round";
  ctx.beginPath();
  if (o.shape === "rectangle") ctx.rect(Math.min(x0, x1), Math.min(y0, y1), Math.abs(x1 - x0), Math.abs(y1 - y0));
  else if (o.shape === "ellipse") {
    ctx.ellipse((x0 + x1) / 2, (y0 + y1) / 2, Math.abs(x1 - x0) / 2, Math.abs(y1 - y0) / 2, 0, 0, 2 * Math.PI);
  } else {
    ctx.moveTo(x0, y0);
    ctx.lineTo(x1, y1);
    if (o.shape === "arrow") {
      const a = Math.atan2(y1 - y0, x1 - x0);
      const len = arrowHead(o.width);
      for (const side of [-1, 1]) {
        ctx.moveTo(x1, y1);
        ctx.lineTo(x1 - len * Math.cos(a + side * 0.45), y1 - len * Math.sin(a + side * 0.45));
      }
    }
  }
  if (o.fill && (o.shape === "rectangle" || o.shape === "ellipse")) {
    ctx.fillStyle = o.fill;
    ctx.fill();
  }
  ctx.stroke();
}

/** drawText draws text with its first line's top-left corner at o.at. */
function drawText(ctx, o) {
  ctx.globalAlpha = 1;
  ctx.fillStyle = o.color;
  ctx.font = `${o.size}px ${FONT}`;
  ctx.textBaseline = "top";
  o.text.split("\n").forEach((line, i) => ctx.fillText(line, o.at[0], o.at[1] + i * o.size * LINE_HEIGHT));
}

function fadedCopy(o) {
  return { ...o, tool: "pen", color: "#ffffffb3", fill: "" };
}

// ---- Geometry ----

function pressureFactor(p) {
  return 0.4 + 1.2 * p; // 0.5 → 1, from 0.4 to 1.6
}

function strokePad(o) {
  return (o.tool === "highlighter" ? o.width : o.width * pressureFactor(1)) / 2 + 1;
}

function arrowHead(width) {
  return Math.max(12, width * 4);
}

function textSize(width) {
  return clamp(width * 8, 12, MAX_WIDTH);
}

/** boundsOf returns an object's bounding box in board units, padded by its width. */
function boundsOf(o, measure) {
  if (o.kind === "stroke") {
    const b = { x0: Infinity, y0: Infinity, x1: -Infinity, y1: -Infinity };
    extendBounds(b, o.points ?? [], 0, strokePad(o));
    return b;
  }
  if (o.kind === "shape") {
    const pad = o.width / 2 + (o.shape === "arrow" ? arrowHead(o.width) : 0) + 1;
    return { x0: Math.min(o.from[0], o.to[0]) - pad, y0: Math.min(o.from[1], o.to[1]) - pad,
      x1: Math.max(o.from[0], o.to[0]) + pad, y1: Math.max(o.from[1], o.to[1]) + pad };
  }
  const lines = (o.text ?? "").split("\n");
  measure.font = `${o.size}px ${FONT}`;
  const w = Math.max(...lines.map((l) => measure.measureText(l).width));
  return { x0: o.at[0] - 1, y0: o.at[1] - 1, x1: o.at[0] + w + 1, y1: o.at[1] + lines.length * o.size * LINE_HEIGHT + 1 };
}

function extendBounds(b, pts, from, pad) {
  for (let i = from; i < pts.length; i++) {
    const [x, y] = pts[i];
    if (x - pad < b.x0) b.x0 = x - pad;
    if (y - pad < b.y0) b.y0 = y - pad;
    if (x + pad > b.x1) b.x1 = x + pad;
    if (y + pad > b.y1) b.y1 = y + pad;
  }
}

function union(a, b) {
  return { x0: Math.min(a.x0, b.x0), y0: Math.min(a.y0, b.y0), x1: Math.max(a.x1, b.x1), y1: Math.max(a.y1, b.y1) };
}

function intersects(a, b) {
  return a.x0 <= b.x1 && b.x0 <= a.x1 && a.y0 <= b.y1 && b.y0 <= a.y1;
}

/** hits tells whether a circle of radius r at (x, y) touches the object's ink. */
function hits(o, b, x, y, r) {
  if (x < b.x0 - r || x > b.x1 + r || y < b.y0 - r || y > b.y1 + r) return false;
  if (o.kind === "text") return true;
  if (o.kind === "stroke") {
    const pts = o.points;
    const tol = r + strokePad(o);
    if (pts.length === 1) return Math.hypot(pts[0][0] - x, pts[0][1] - y) <= tol;
    for (let i = 1; i < pts.length; i++) {
      if (segmentDistance(x, y, pts[i - 1], pts[i]) <= tol) return true;
    }
    return false;
  }
  const tol = r + o.width / 2;
  const [x0, y0] = o.from;
  const [x1, y1] = o.to;
  if (o.shape === "rectangle") {
    if (o.fill && x >= Math.min(x0, x1) && x <= Math.max(x0, x1) && y >= Math.min(y0, y1) && y <= Math.max(y0, y1)) return true;
    const c = [[x0, y0], [x1, y0], [x1, y1], [x0, y1]];
    return c.some((p, i) => segmentDistance(x, y, p, c[(i + 1) % 4]) <= tol);
  }
  if (o.shape === "ellipse") {
    const cx = (x0 + x1) / 2, cy = (y0 + y1) / 2, rx = Math.abs(x1 - x0) / 2, ry = Math.abs(y1 - y0) / 2;
    if (o.fill && rx > 0 && ry > 0 && ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 <= 1) return true;
    const ring = [];
    for (let i = 0; i <= 48; i++) {
      const a = (i / 48) * 2 * Math.PI;
      ring.push([cx + rx * Math.cos(a), cy + ry * Math.sin(a)]);
    }
    return ring.some((p, i) => i > 0 && segmentDistance(x, y, ring[i - 1], p) <= tol);
  }
  return segmentDistance(x, y, o.from, o.to) <= tol; // line, arrow
}

function segmentDistance(x, y, a, b) {
  const dx = b[0] - a[0];
  const dy = b[1] - a[1];
  const len2 = dx * dx + dy * dy;
  const t = len2 ? clamp(((x - a[0]) * dx + (y - a[1]) * dy) / len2, 0, 1) : 0;
  return Math.hypot(x - (a[0] + t * dx), y - (a[1] + t * dy));
}

// ---- Small helpers ----

function clamp(v, lo, hi) {
  return v < lo ? lo : v > hi ? hi : v;
}

function round1(v) {
  return Math.round(v * 10) / 10;
}

/** translucent: a stroke whose overlapping parts would show (a highlighter, a colour with alpha). */
function translucent(o) {
  return o.kind === "stroke" && (o.tool === "highlighter" || (o.color?.length === 9 && !/ff$/i.test(o.color)));
}

function pointCount(o) {
  return o.points?.length ?? 0;
}

function lastT(pts) {
  return pts?.length ? pts[pts.length - 1][2] : -1;
}

/** pressureOf is the event's pressure, 0.5 for a mouse (which reports 0 or 0.5). */
function pressureOf(e) {
  const p = e.pressure;
  if (e.pointerType === "mouse" || !(p > 0)) return 0.5;
  return Math.round(clamp(p, 0, 1) * 100) / 100;
}

function pushTrail(lasers, actor, x, y, at) {
  let trail = lasers.get(actor);
  if (!trail) lasers.set(actor, (trail = []));
  trail.push({ x, y, at });
}

function sameSlide(a, b) {
  return !!a && !!b && a.deck === b.deck && a.page === b.page;
}

function isTyping(t) {
  return t instanceof HTMLElement && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));
}

/** previewColor is the stroke's colour as a preview carries it: a highlighter's with its translucency. */
function previewColor(o) {
  if (o.tool !== "highlighter") return o.color;
  const { color, alpha } = splitAlpha(o.color);
  return color + hexByte(alpha * HIGHLIGHT_ALPHA);
}

/** splitAlpha splits #rrggbbaa into #rrggbb and an alpha from 0 to 1. */
function splitAlpha(c) {
  if (typeof c === "string" && c.length === 9) return { color: c.slice(0, 7), alpha: parseInt(c.slice(7), 16) / 255 };
  return { color: c || "#000000", alpha: 1 };
}

function hexByte(f) {
  return Math.round(clamp(f, 0, 1) * 255).toString(16).padStart(2, "0");
}

/** cssToHex turns a CSS colour into #rrggbb or #rrggbbaa, as commands carry colours. */
function cssToHex(css, probe) {
  const sentinel = "#010203";
  probe.fillStyle = sentinel;
  probe.fillStyle = css;
  const s = probe.fillStyle;
  if (s === sentinel && css.trim().toLowerCase() !== sentinel) throw new TypeError(`not a colour: ${css}`);
  if (s.startsWith("#")) return s;
  const [r, g, b, a = 1] = s.slice(s.indexOf("(") + 1, -1).split(",").map(Number);
  const hex = [r, g, b].map((v) => v.toString(16).padStart(2, "0")).join("");
  return `#${hex}${a < 1 ? hexByte(a) : ""}`;
}

function actorColor(actor) {
  let h = 0;
  for (const ch of actor) h = (h * 31 + ch.codePointAt(0)) % 360;
  return `hsl(${h} 70% 45%)`;
}

function normalError(err) {
  if (err && typeof err === "object" && err.code) return { code: err.code, message: err.message ?? "" };
  return { code: "internal", message: String(err?.message ?? err) };
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
