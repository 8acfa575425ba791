// govalues.js: values of the lesson's JSON as the server's Go code decodes,
// orders and prints them, for the fold (state.js) and its encoder
// (snapshot.js) to agree with the server byte for byte: UUIDs in canonical
// form, times as RFC 3339 strings as Go marshals a decoded time.Time, numbers
// (a missing one is 0), strings compared by their UTF-8 bytes, integers
// printed as int64.

/** The nil UUID: the deck id of the blank whiteboard. */
export const NIL_UUID = "00000000-0000-0000-0000-000000000000";

/** Go's zero time.Time, as encoding/json writes it. */
export const ZERO_TIME = "0001-01-01T00:00:00Z";

/**
 * compareUTF8 orders strings as Go compares them, by their UTF-8 bytes, that
 * is by code point: UTF-16 code units order the same except that surrogates
 * (code points above U+FFFF) come after U+E000–U+FFFF.
 */
export function compareUTF8(a, b) {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800) x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
    if (y >= 0xd800) y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    return x - y;
  }
  return a.length - b.length;
}

/** slideKey is Go's Slide.Key of a normalised slide. */
export function slideKey(s) {
  return s.deck + "/" + jsonInt(s.page);
}

export function slideOf(s) {
  if (s == null) return { deck: NIL_UUID, page: 0 };
  return { deck: uuidOf(s.deck), page: num(s.page) };
}

export function pointOf(p) {
  // t is an int64 of Go: a whole number of milliseconds.
  return [num(p[0]), num(p[1]), Math.trunc(num(p[2])), num(p[3])];
}

export function pairOf(v) {
  return v == null ? [0, 0] : [num(v[0]), num(v[1])];
}

export function str(v) {
  return v == null ? "" : String(v);
}

export function num(v) {
  return typeof v === "number" ? v : 0;
}

const CANONICAL_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** uuidOf returns a UUID in Go's canonical form (lower case, dashed) from any form uuid.Parse takes. */
export function uuidOf(v) {
  if (v == null || v === "") return NIL_UUID;
  let s = String(v);
  if (CANONICAL_UUID.test(s)) return s;
  s = s.toLowerCase();
  if (s.startsWith("urn:uuid:")) s = s.slice(9);
  if (s.startsWith("{") && s.endsWith("}")) s = s.slice(1, -1);
  const hex = s.replaceAll("-", "");
  if (!/^[0-9a-f]{32}$/.test(hex)) throw new Error(`malformed uuid ${JSON.stringify(v)}`);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const CANONICAL_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d*[1-9])?Z$/;
const RFC3339 = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d+))?(?:Z|([+-])(\d\d):(\d\d))$/;

/**
 * timeOf returns an RFC 3339 time as Go marshals the time.Time it decodes
 * from it (RFC3339Nano: the fraction's trailing zeros dropped, "Z" for a zero
 * offset). Go converts an event's time to UTC (utc) but keeps the offset of a
 * time in a snapshot.
 */
export function timeOf(v, utc) {
  if (v == null) return ZERO_TIME;
  const s = String(v);
  if (CANONICAL_TIME.test(s)) return s;
  const m = RFC3339.exec(s);
  if (!m) throw new Error(`malformed time ${JSON.stringify(s)}`);
  const frac = (m[7] || "").slice(0, 9).replace(/0+$/, "");
  const fraction = frac ? "." + frac : "";
  const zero = !m[8] || (m[9] === "00" && m[10] === "00");
  if (!utc || zero) {
    const zone = zero ? "Z" : `${m[8]}${m[9]}:${m[10]}`;
    return `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}${fraction}${zone}`;
  }
  const d = new Date(0);
  d.setUTCFullYear(+m[1], +m[2] - 1, +m[3]);
  d.setUTCHours(+m[4], +m[5], +m[6], 0);
  const offset = (+m[9] * 60 + +m[10]) * 60000;
  d.setTime(d.getTime() + (m[8] === "+" ? -offset : offset));
  const pad = (n, w = 2) => String(n).padStart(w, "0");
  return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}${fraction}Z`;
}

/** jsonInt formats an integer as Go formats an int64 (never "-0", never an exponent). */
export function jsonInt(n) {
  if (Number.isSafeInteger(n)) return n === 0 ? "0" : String(n);
  return BigInt(Math.trunc(n)).toString();
}
