// color.js: colours as commands carry them (#rrggbb or #rrggbbaa) and as the
// board shows them.

import { clamp } from "./geometry.js";

/** splitAlpha splits #rrggbbaa into #rrggbb and an alpha from 0 to 1. */
export function splitAlpha(c) {
  if (typeof c === "string" && c.length === 9) return { color: c.slice(0, 7), alpha: parseInt(c.slice(7), 16) / 255 };
  return { color: c || "#000000", alpha: 1 };
}

/** hexByte writes a fraction from 0 to 1 as two hex digits. */
export function hexByte(f) {
  return Math.round(clamp(f, 0, 1) * 255).toString(16).padStart(2, "0");
}

/** cssToHex turns a CSS colour into #rrggbb or #rrggbbaa, as commands carry colours. */
export function cssToHex(css, probe) {
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

/** actorColor is a participant's colour for their cursor. */
export function actorColor(actor) {
  let h = 0;
  for (const ch of actor) h = (h * 31 + ch.codePointAt(0)) % 360;
  return `hsl(${h} 70% 45%)`;
}
