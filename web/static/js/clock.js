// clock.js: a duration as a clock shows it, for the pages' countdowns,
// positions and estimates.

/**
 * clock formats a number of seconds, whole seconds (rounded down; a caller
 * that wants them rounded otherwise rounds first), never negative, as m:ss,
 * or h:mm:ss from an hour on; with hours set, always as h:mm:ss (a column
 * of durations, whose digits line up).
 */
export function clock(seconds, { hours = false } = {}) {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), ss = String(s % 60).padStart(2, "0");
  return h || hours ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}
