// raster.js: the board's pixels. Committed objects are rasterised into a
// cache canvas the size of the shown board in device pixels. A committed
// stroke (or a new part of one) is drawn onto the cache at once, costing O(its
// points); erasing, undoing and clearing repaint only the cache region the
// changed objects cover (markDirty). A whole new cache (a new slide, a new
// size once resizing pauses) is rasterised a slice of RASTER_BUDGET_MS a
// frame, never blocking the page: meanwhile the old cache is shown scaled, or
// a new slide fills in. Each animation frame in which something changed
// copies the cache to the visible canvas and has the overlay draw on top what
// is still moving.
//
// The Raster reads the board's objects (items, in drawing order) and asks the
// board which of them belong in the cache (drawable); it never changes them
// but for the mark of how much of each it has drawn (item.drawn).

import { drawObject } from "./shapes.js";
import { union, intersects } from "./geometry.js";

/** The logical board size in board units; points are in this space. */
export const WIDTH = 1600;
export const HEIGHT = 900;

const RESIZE_SETTLE_MS = 120; // re-rasterise the cache once resizing pauses
const RASTER_BUDGET_MS = 8; // of a frame, for re-rasterising the cache
const BLANK = "#ffffff";
const ALL = Object.freeze({ all: true });

export class Raster {
  /**
   * Builds the visible canvas inside container, letterboxed to WIDTH:HEIGHT,
   * and follows the container's size.
   *
   * @param {import("../board.js").Board} board whose objects it draws
   * @param {HTMLElement} container a positioned element
   */
  constructor(board, container) {
    this.board = board;
    this.container = container;
    this.canvas = document.createElement("canvas");
    this.canvas.className = "board-canvas";
    // One finger draws; two pinch-zoom the page, as everywhere else on it
    // (the browser cancels the stroke the first finger began).
    Object.assign(this.canvas.style, { position: "absolute", touchAction: "pinch-zoom", userSelect: "none" });
    container.append(this.canvas);
    this.ctx = this.canvas.getContext("2d");
    this.cache = { canvas: document.createElement("canvas"), ctx: null }; // the layer shown
    this.cache.canvas.width = this.cache.canvas.height = 0;
    this.job = null; // a full re-rasterisation in progress: {layer, next}
    this.background = null; // {url, img, ready}

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
    this.resizeObserver = new ResizeObserver(() => this.resize());
    this.resizeObserver.observe(container);
    this.resize();
  }

  /** destroy stops drawing and removes the canvas. */
  destroy() {
    this.resizeObserver.disconnect();
    cancelAnimationFrame(this.raf);
    clearTimeout(this.timer);
    this.canvas.remove();
  }

  /** restart rasterises a new cache from scratch, shown as it fills (a new slide). */
  restart() {
    this.dirty = null;
    this.startRebuild(true);
  }

  /** markAll has the next frame rasterise a new cache (objects went away or moved). */
  markAll() {
    this.dirty = ALL;
  }

  /** markDirty has the next frame repaint the cache within a logical rect. */
  markDirty(bounds) {
    if (this.dirty === ALL) return;
    this.dirty = this.dirty ? union(this.dirty, bounds) : { ...bounds };
    this.requestFrame();
  }

  /**
   * rasterize draws an object into the cache from its point from (strokes),
   * and into the cache being rebuilt if the rebuild has passed it already.
   */
  rasterize(item, from) {
    if (!this.board.drawable(item)) return;
    const job = this.job;
    const passed = !job || item.index < job.next;
    if (this.cache.canvas.width && (passed || job.layer !== this.cache)) drawObject(this.cache.ctx, item.obj, from);
    if (job && passed && job.layer !== this.cache) drawObject(job.layer.ctx, item.obj, from);
    markDrawn(item);
    this.rasterized++;
  }

  /** setBackground draws an image URL letterboxed under the objects, or none. */
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
    bg.img.onerror = () => this.board.onerror({ code: "not_found", message: `the slide image ${url} did not load` }); // not user-facing
    bg.img.src = url;
    this.background = bg;
  }

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
   * top the overlay. It asks for another frame only while something moves or
   * a rebuild goes on.
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
    this.board.settleLive(start);
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
    const items = this.board.items;
    while (job.next < items.length) {
      const item = items[job.next++];
      if (this.board.drawable(item)) {
        drawObject(job.layer.ctx, item.obj, 0);
        markDrawn(item);
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
    const items = this.board.items;
    const n = Math.min(limit, items.length);
    for (let i = 0; i < n; i++) {
      const item = items[i];
      if (!this.board.drawable(item) || !intersects(item.bounds, rect)) continue;
      drawObject(c, item.obj, 0);
      markDrawn(item);
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

  /** compose draws the frame and answers whether something is still moving. */
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
    return this.board.overlay.draw(ctx, now);
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

/** markDrawn notes that all of an object is in the cache. */
function markDrawn(item) {
  item.drawn = item.obj.kind === "stroke" ? item.obj.points?.length ?? 0 : 1;
}
