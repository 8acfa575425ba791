// geometry.js: rectangles and distances in board units, for the board's
// modules. A rectangle is {x0, y0, x1, y1}.

export function clamp(v, lo, hi) {
  return v < lo ? lo : v > hi ? hi : v;
}

/** round1 rounds to a tenth of a board unit, as points are sent. */
export function round1(v) {
  return Math.round(v * 10) / 10;
}

/** noBounds is the rectangle of nothing, which extendBounds grows. */
export function noBounds() {
  return { x0: Infinity, y0: Infinity, x1: -Infinity, y1: -Infinity };
}

/** extendBounds grows b to hold the points from index from on, padded by pad. */
export function extendBounds(b, pts, from, pad) {
  for (let i = from; i < pts.length; i++) {
    const [x, y] = pts[i];
    if (x - pad < b.x0) b.x0 = x - pad;
    if (y - pad < b.y0) b.y0 = y - pad;
    if (x + pad > b.x1) b.x1 = x + pad;
    if (y + pad > b.y1) b.y1 = y + pad;
  }
}

export function union(a, b) {
  return { x0: Math.min(a.x0, b.x0), y0: Math.min(a.y0, b.y0), x1: Math.max(a.x1, b.x1), y1: Math.max(a.y1, b.y1) };
}

export function intersects(a, b) {
  return a.x0 <= b.x1 && b.x0 <= a.x1 && a.y0 <= b.y1 && b.y0 <= a.y1;
}

/** segmentDistance is the distance from (x, y) to the segment from a to b. */
export function segmentDistance(x, y, a, b) {
  const dx = b[0] - a[0];
  const dy = b[1] - a[1];
  const len2 = dx * dx + dy * dy;
  const t = len2 ? clamp(((x - a[0]) * dx + (y - a[1]) * dy) / len2, 0, 1) : 0;
  return Math.hypot(x - (a[0] + t * dx), y - (a[1] + t * dy));
}
