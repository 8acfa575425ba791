// shapes.js: the registry of board object kinds (docs/protocol.md, section 6;
// docs/shapes.md says what else a new kind touches). Each kind has one entry
// that knows its geometry and looks, and nothing of the board that shows it:
//
//   bounds(o, measure)   its bounding box in board units, padded by its width
//                        (measure: a 2D context for text metrics)
//   hits(o, x, y, r)     whether a circle of radius r at (x, y) touches its
//                        ink (called once (x, y) is within r of its bounds)
//   draw(ctx, o, from)   draws it in board units on ctx, whose transform maps
//                        board units to pixels; from is the first point of a
//                        stroke not drawn yet (0: all of it)
//
// A stroke and a text are kinds of their own; a shape (kind "shape") is
// dragged from one corner, from, to the other, to, and each of its shapes
// (line, rectangle, …) has an entry in SHAPES whose key is also the name of
// the tool that draws it, with its keyboard shortcut, and which adds path
// (its outline on ctx), hits, and optionally reach (how far its ink goes past
// its corners besides half its width) and fillable.

import { clamp, noBounds, extendBounds, segmentDistance } from "./geometry.js";
import { MAX_STROKE_WIDTH } from "../limits.js";

export const HIGHLIGHT_ALPHA = 0.35;
export const LINE_HEIGHT = 1.25; // of a text's size
export const FONT = "system-ui, sans-serif"; // not user-facing

// ---- Strokes ----

function pressureFactor(p) {
  return 0.4 + 1.2 * p; // 0.5 → 1, from 0.4 to 1.6
}

/** strokePad is how far a stroke's ink goes from its points. */
export function strokePad(o) {
  return (o.tool === "highlighter" ? o.width : o.width * pressureFactor(1)) / 2 + 1;
}

/** translucent: a stroke whose overlapping parts would show (a highlighter, a colour with alpha). */
export function translucent(o) {
  return o.kind === "stroke" && (o.tool === "highlighter" || (o.color?.length === 9 && !/ff$/i.test(o.color)));
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

const stroke = {
  bounds(o) {
    const b = noBounds();
    extendBounds(b, o.points ?? [], 0, strokePad(o));
    return b;
  },
  hits(o, x, y, r) {
    const pts = o.points;
    const tol = r + strokePad(o);
    if (pts.length === 1) return Math.hypot(pts[0][0] - x, pts[0][1] - y) <= tol;
    for (let i = 1; i < pts.length; i++) {
      if (segmentDistance(x, y, pts[i - 1], pts[i]) <= tol) return true;
    }
    return false;
  },
  draw(ctx, o, from) {
    const highlighter = o.tool === "highlighter";
    drawStroke(ctx, o.points, o.color, o.width, highlighter ? HIGHLIGHT_ALPHA : 1, highlighter, from);
  },
};

// ---- Text ----

/** textSize is the size of text written with a tool of this width. */
export function textSize(width) {
  return clamp(width * 8, 12, MAX_STROKE_WIDTH);
}

const text = {
  bounds(o, measure) {
    const lines = (o.text ?? "").split("\n");
    measure.font = `${o.size}px ${FONT}`;
    const w = Math.max(...lines.map((l) => measure.measureText(l).width));
    return { x0: o.at[0] - 1, y0: o.at[1] - 1, x1: o.at[0] + w + 1, y1: o.at[1] + lines.length * o.size * LINE_HEIGHT + 1 };
  },
  hits: () => true,
  /** draw puts the first line's top-left corner at o.at. */
  draw(ctx, o) {
    ctx.globalAlpha = 1;
    ctx.fillStyle = o.color;
    ctx.font = `${o.size}px ${FONT}`;
    ctx.textBaseline = "top";
    o.text.split("\n").forEach((line, i) => ctx.fillText(line, o.at[0], o.at[1] + i * o.size * LINE_HEIGHT));
  },
};

// ---- Shapes ----

function arrowHead(width) {
  return Math.max(12, width * 4);
}

/** SHAPES are the shapes of kind "shape", by name, in the order of their tools. */
export const SHAPES = {
  line: {
    key: "l",
    path(ctx, [x0, y0], [x1, y1]) {
      ctx.moveTo(x0, y0);
      ctx.lineTo(x1, y1);
    },
    hits: (o, x, y, tol) => segmentDistance(x, y, o.from, o.to) <= tol,
  },
  rectangle: {
    key: "r",
    fillable: true,
    path(ctx, [x0, y0], [x1, y1]) {
      ctx.rect(Math.min(x0, x1), Math.min(y0, y1), Math.abs(x1 - x0), Math.abs(y1 - y0));
    },
    hits(o, x, y, tol) {
      const [x0, y0] = o.from;
      const [x1, y1] = o.to;
      if (o.fill && x >= Math.min(x0, x1) && x <= Math.max(x0, x1) && y >= Math.min(y0, y1) && y <= Math.max(y0, y1)) return true;
      const c = [[x0, y0], [x1, y0], [x1, y1], [x0, y1]];
      return c.some((p, i) => segmentDistance(x, y, p, c[(i + 1) % 4]) <= tol);
    },
  },
  ellipse: {
    key: "o",
    fillable: true,
    path(ctx, [x0, y0], [x1, y1]) {
      ctx.ellipse((x0 + x1) / 2, (y0 + y1) / 2, Math.abs(x1 - x0) / 2, Math.abs(y1 - y0) / 2, 0, 0, 2 * Math.PI);
    },
    hits(o, x, y, tol) {
      const [x0, y0] = o.from;
      const [x1, y1] = o.to;
      const cx = (x0 + x1) / 2, cy = (y0 + y1) / 2, rx = Math.abs(x1 - x0) / 2, ry = Math.abs(y1 - y0) / 2;
      if (o.fill && rx > 0 && ry > 0 && ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 <= 1) return true;
      const ring = [];
      for (let i = 0; i <= 48; i++) {
        const a = (i / 48) * 2 * Math.PI;
        ring.push([cx + rx * Math.cos(a), cy + ry * Math.sin(a)]);
      }
      return ring.some((p, i) => i > 0 && segmentDistance(x, y, ring[i - 1], p) <= tol);
    },
  },
  arrow: {
    key: "a",
    reach: (o) => arrowHead(o.width),
    path(ctx, [x0, y0], [x1, y1], o) {
      ctx.moveTo(x0, y0);
      ctx.lineTo(x1, y1);
      const a = Math.atan2(y1 - y0, x1 - x0);
      const len = arrowHead(o.width);
      for (const side of [-1, 1]) {
        ctx.moveTo(x1, y1);
        ctx.lineTo(x1 - len * Math.cos(a + side * 0.45), y1 - len * Math.sin(a + side * 0.45));
      }
    },
    hits: (o, x, y, tol) => segmentDistance(x, y, o.from, o.to) <= tol,
  },
};

/** shape is the kind "shape": it hands each shape to its entry in SHAPES. */
const shape = {
  bounds(o) {
    const pad = o.width / 2 + (SHAPES[o.shape]?.reach?.(o) ?? 0) + 1;
    return { x0: Math.min(o.from[0], o.to[0]) - pad, y0: Math.min(o.from[1], o.to[1]) - pad,
      x1: Math.max(o.from[0], o.to[0]) + pad, y1: Math.max(o.from[1], o.to[1]) + pad };
  },
  hits: (o, x, y, r) => (SHAPES[o.shape] ?? SHAPES.line).hits(o, x, y, r + o.width / 2),
  draw(ctx, o) {
    const entry = SHAPES[o.shape] ?? SHAPES.line;
    ctx.globalAlpha = 1;
    ctx.strokeStyle = o.color;
    ctx.lineWidth = o.width;
    ctx.lineCap = ctx.lineJoin = "round";
    ctx.beginPath();
    entry.path(ctx, o.from, o.to, o);
    if (o.fill && entry.fillable) {
      ctx.fillStyle = o.fill;
      ctx.fill();
    }
    ctx.stroke();
  },
};

/** KINDS are the board's object kinds, by the kind field of an object. */
export const KINDS = { stroke, shape, text };

/** drawObject draws a board object (see draw above); an unknown kind draws nothing. */
export function drawObject(ctx, o, from = 0) {
  KINDS[o.kind]?.draw(ctx, o, from);
}

/** boundsOf returns an object's bounding box in board units, padded by its width. */
export function boundsOf(o, measure) {
  return (KINDS[o.kind] ?? text).bounds(o, measure);
}

/** hits tells whether a circle of radius r at (x, y) touches the object's ink; b is its bounds. */
export function hits(o, b, x, y, r) {
  if (x < b.x0 - r || x > b.x1 + r || y < b.y0 - r || y > b.y1 + r) return false;
  return (KINDS[o.kind] ?? text).hits(o, x, y, r);
}
