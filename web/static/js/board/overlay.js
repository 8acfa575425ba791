// overlay.js: what the board draws each frame on top of its cache, because
// it is still moving: the objects under the eraser (faded), growing
// translucent strokes, the local user's objects in progress, and what others
// do right now as ephemeral messages tell it (docs/protocol.md, section 8):
// previews of strokes being drawn, drawn until the committed stroke covers
// them, cursors and laser trails, which fade.

import { drawObject, drawStroke, FONT } from "./shapes.js";
import { splitAlpha, actorColor } from "./color.js";

const LASER_FADE_MS = 1000;
const CURSOR_FADE_MS = 3000;
const PREVIEW_IDLE_MS = 2000; // a preview with no news for this long is dropped

export class Overlay {
  /** @param {import("../board.js").Board} board whose objects it draws on top */
  constructor(board) {
    this.board = board;
    this.previews = new Map(); // object id → remote stroke preview
    this.cursors = new Map(); // actor → {x, y, at}
    this.lasers = new Map(); // actor → [{x, y, at}], the last LASER_FADE_MS
  }

  /** clear forgets every preview, cursor and laser (another slide is shown). */
  clear() {
    this.previews.clear();
    this.cursors.clear();
    this.lasers.clear();
  }

  /** take holds a relayed cursor, laser or preview of the shown slide, received at now. */
  take(msg, now) {
    if (msg.type === "cursor") {
      if (msg.laser) this.laserAt(msg.actor, msg.x, msg.y, now);
      else this.cursors.set(msg.actor, { x: msg.x, y: msg.y, at: now });
    } else if (msg.type === "preview" && Array.isArray(msg.points)) {
      this.takePreview(msg, now);
    }
  }

  /** laserAt adds a point to an actor's laser trail. */
  laserAt(actor, x, y, at) {
    let trail = this.lasers.get(actor);
    if (!trail) this.lasers.set(actor, (trail = []));
    trail.push({ x, y, at });
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
    const item = this.board.byId.get(msg.object);
    if (item) this.dropCoveredPreview(item);
  }

  /** dropCoveredPreview forgets a preview once its stroke is committed as far. */
  dropCoveredPreview(item) {
    const pv = this.previews.get(item.obj.id);
    if (pv && lastT(item.obj.points) >= lastT(pv.points)) this.previews.delete(item.obj.id);
  }

  /** draw draws on ctx (in board units) and answers whether something is still moving. */
  draw(ctx, now) {
    const board = this.board;
    for (const id of board.erasing) {
      const item = board.byId.get(id);
      if (item) drawObject(ctx, fadedCopy(item.obj), 0);
    }
    for (const item of board.live.keys()) if (board.shown(item)) drawObject(ctx, item.obj, 0);
    for (const entry of board.local.values()) drawObject(ctx, entry.obj, 0);
    let animating = board.live.size > 0;
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
      const committed = this.board.byId.get(id)?.obj.points ?? [];
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
}

/** lastT is the time of a stroke's last point, -1 when it has none. */
function lastT(pts) {
  return pts?.length ? pts[pts.length - 1][2] : -1;
}

/** fadedCopy is an object as it looks under the eraser. */
function fadedCopy(o) {
  return { ...o, tool: "pen", color: "#ffffffb3", fill: "" };
}
