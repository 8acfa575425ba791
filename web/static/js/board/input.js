// input.js: the local user's hands on the board. Input listens to the
// canvas's pointer events and the window's keys, keeps the tool and its
// settings (colour, width, whether the user may draw), and hands each pointer
// gesture to its tool (tools.js). With no gesture, a moving pointer is the
// teacher's laser or, when shared, a plain cursor.

import { TOOL_OF, closeText, laserAt } from "./tools.js";
import { SHAPES } from "./shapes.js";
import { cssToHex } from "./color.js";
import { clamp, round1 } from "./geometry.js";
import { WIDTH, HEIGHT } from "./raster.js";
import { MAX_STROKE_WIDTH } from "../limits.js";

const SHARED_CURSOR_INTERVAL_MS = 100; // a plain cursor: ~10 a second

/** Tools, by name, as setTool takes them. */
export const TOOLS = Object.keys(TOOL_OF);

// The keys that pick a tool: the shapes' own, and these.
const TOOL_KEYS = {
  p: "pen", h: "highlighter",
  ...Object.fromEntries(Object.entries(SHAPES).map(([name, s]) => [s.key, name])),
  t: "text", e: "eraser", k: "laser",
};

/** Keyboard shortcuts the board answers to, for the page to show. */
export const shortcuts = [
  ...Object.entries(TOOL_KEYS).map(([key, tool]) => ({ keys: key.toUpperCase(), action: tool === "laser" ? "laser (teacher)" : tool })),
  { keys: "Ctrl/Cmd+Z", action: "undo" },
  { keys: "Ctrl/Cmd+Shift+Z, Ctrl+Y", action: "redo" }, // not user-facing
];

const CURSORS = { text: "text", eraser: "cell", laser: "crosshair" };

export class Input {
  /**
   * @param {import("../board.js").Board} board that the gestures draw on
   * @param {HTMLCanvasElement} canvas that the pointer events come from
   */
  constructor(board, canvas) {
    this.board = board;
    this.canvas = canvas;
    this.tool = "pen";
    this.color = "#1e293b";
    this.width = 3;
    this.canDraw = true;
    this.gesture = null;
    this.textBox = null;
    this.lastCursorSent = -Infinity;
    this.rect = null; // the canvas's client rect when the gesture began

    this.listeners = [
      [canvas, "pointerdown", (e) => this.onDown(e)],
      [canvas, "pointermove", (e) => this.onMove(e)],
      [canvas, "pointerup", (e) => this.onUp(e)],
      [canvas, "pointercancel", (e) => this.onCancel(e)],
      [canvas, "lostpointercapture", (e) => this.onCancel(e)],
      [canvas, "contextmenu", (e) => e.preventDefault()],
      [window, "keydown", (e) => this.onKey(e)],
    ];
    for (const [target, type, fn] of this.listeners) target.addEventListener(type, fn);
  }

  /** destroy drops what is in progress and stops listening. */
  destroy() {
    this.cancelGesture();
    this.closeText(false);
    for (const [target, type, fn] of this.listeners) target.removeEventListener(type, fn);
  }

  /** Selects a tool by name (see TOOLS); a text box being typed is committed. */
  setTool(name) {
    if (!TOOLS.includes(name)) throw new TypeError(`unknown tool ${name}`);
    this.cancelGesture();
    this.closeText(true);
    this.tool = name;
    this.updateCursor();
  }

  setColor(css) {
    this.color = cssToHex(css, this.board.probe);
  }

  setWidth(n) {
    if (!(n > 0)) throw new RangeError(`width ${n} is not above 0`);
    this.width = Math.min(MAX_STROKE_WIDTH, n);
  }

  setTextSize(n) {
    if (!(n > 0)) throw new RangeError(`text size ${n} is not above 0`);
    this.textSize = Math.min(MAX_STROKE_WIDTH, n);
  }

  setCanDraw(allowed) {
    this.canDraw = !!allowed;
    if (!this.canDraw) {
      if (this.gesture && this.gesture.kind !== "laser") this.cancelGesture();
      this.closeText(false);
    }
    this.updateCursor();
  }

  /** closeText removes the text box, committing its text when commit is set. */
  closeText(commit) {
    closeText(this, commit);
  }

  updateCursor() {
    const blocked = !TOOL_OF[this.tool].allowed(this);
    this.canvas.style.cursor = blocked ? "not-allowed" : CURSORS[this.tool] ?? "crosshair";
  }

  // ---- Pointer input ----

  onDown(e) {
    if (this.gesture || (e.pointerType === "mouse" && e.button !== 0) || !this.board.slide) return;
    const tool = TOOL_OF[this.tool];
    if (!tool.allowed(this)) return;
    e.preventDefault();
    try {
      this.canvas.setPointerCapture(e.pointerId);
    } catch { /* a synthetic pointer cannot be captured */ }
    this.rect = this.canvas.getBoundingClientRect();
    const [x, y] = this.toBoard(e);
    const g = { tool, kind: this.tool, pointerId: e.pointerId, x, y };
    this.gesture = g;
    tool.down(this, g, e);
  }

  onMove(e) {
    const g = this.gesture;
    if (!g) {
      this.hover(e);
      return;
    }
    if (e.pointerId !== g.pointerId) return;
    if (g.tool.sample) {
      g.tool.sample(this, g, e);
      return;
    }
    const [x, y] = this.toBoard(e);
    g.tool.move?.(this, g, x, y);
    g.x = x;
    g.y = y;
    this.board.requestFrame();
  }

  onUp(e) {
    const g = this.gesture;
    if (!g || e.pointerId !== g.pointerId) return;
    this.gesture = null;
    g.tool.up(this, g, e);
    this.board.requestFrame();
  }

  onCancel(e) {
    if (this.gesture && e.pointerId === this.gesture.pointerId) {
      if (this.gesture.tool.keepOnCancel) this.onUp(e); // keep what was drawn
      else this.cancelGesture();
    }
  }

  /** hover: the pointer moves with no gesture: the teacher's laser, a shared cursor. */
  hover(e) {
    const board = this.board;
    if (!board.slide) return;
    if (this.tool === "laser" && board.isTeacher) {
      this.rect = this.canvas.getBoundingClientRect();
      const [x, y] = this.toBoard(e);
      laserAt(this, x, y);
    } else if (board.shareCursor) {
      const now = performance.now();
      if (now - this.lastCursorSent < SHARED_CURSOR_INTERVAL_MS) return;
      this.lastCursorSent = now;
      this.rect = this.canvas.getBoundingClientRect();
      const [x, y] = this.toBoard(e);
      board.sendEphemeral({ type: "cursor", slide: board.slide, x, y, laser: false });
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
    g.tool.cancel?.(this, g);
    this.board.erasing.clear();
    this.board.requestFrame();
  }

  /** toBoard maps a pointer event to board units, clamped to the board. */
  toBoard(e) {
    const r = this.rect;
    const x = ((e.clientX - r.left) / r.width) * WIDTH;
    const y = ((e.clientY - r.top) / r.height) * HEIGHT;
    return [round1(clamp(x, 0, WIDTH)), round1(clamp(y, 0, HEIGHT))];
  }

  // ---- Keyboard ----

  onKey(e) {
    if (isTyping(e.target) || e.altKey || e.repeat && !(e.ctrlKey || e.metaKey)) return;
    const key = e.key.toLowerCase();
    if ((e.ctrlKey || e.metaKey) && key === "z") {
      e.preventDefault();
      if (e.shiftKey) this.board.redo();
      else this.board.undo();
    } else if (e.ctrlKey && key === "y") {
      e.preventDefault();
      this.board.redo();
    } else if (!e.ctrlKey && !e.metaKey && !e.shiftKey && TOOL_KEYS[key]) {
      this.setTool(TOOL_KEYS[key]);
      this.board.ontool(this.tool);
    }
  }
}

function isTyping(t) {
  return t instanceof HTMLElement && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));
}
