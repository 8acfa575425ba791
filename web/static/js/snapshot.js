// snapshot.js: a lesson state (state.js) encoded byte for byte as Go's
// encoding/json writes domain.State (docs/protocol.md, section 6), and its
// hash, the server's State.Hash, which proves a page's lesson equals the
// server's. Only a hash needs it: the pages load it when first asked for one
// (LessonState.hash imports it), never to show a lesson.
//
//   snapshotJSON(st)  the snapshot exactly as the server's MarshalSnapshot
//                     encodes it; O(size of the state), but board objects,
//                     actions and chat messages are encoded once and
//                     re-encoded only when they change
//   await stateHash(st) lower-case hex SHA-256 of snapshotJSON(st) (needs a
//                     secure context)
//
// The encoding is Go's, which JSON.stringify's is not: map keys sorted by
// their UTF-8 bytes (not UTF-16 units); <, >, & and U+2028/U+2029 escaped as
// \u003c etc., \b \f \n \r \t as such and other control characters as \u00XX;
// a lone surrogate written as U+FFFD (what Go holds after decoding one;
// invalid UTF-8 can reach neither a browser's string nor the server's state);
// floats in their shortest form, fixed for 1e-6 ≤ |x| < 1e21 and exponent
// form (1e+21, 1e-7) outside, -0 written "-0"; times in RFC 3339 UTC with the
// fraction's trailing zeros dropped (the fold keeps them so). The exported
// jsonFloat and jsonString, and govalues.js's jsonInt and compareUTF8,
// apply these rules.

import { compareUTF8, jsonInt } from "./govalues.js";

/** snapshotJSON returns the state encoded exactly as the server's MarshalSnapshot. */
export function snapshotJSON(st) {
  const out = [];
  out.push('{"lesson":', jsonString(st.lesson), ',"seq":', jsonInt(st.seq), ',"title":', jsonString(st.title),
    ',"status":', jsonString(st.status), ',"created":', jsonString(st.created), ',"participants":');
  writeMap(out, st.participants, (p) => {
    if (p === null) return out.push("null");
    out.push('{"id":', jsonString(p.id), ',"name":', jsonString(p.name), ',"role":', jsonString(p.role),
      ',"present":', p.present ? "true" : "false");
    if (p.drawing !== null) out.push(',"drawing":', p.drawing ? "true" : "false");
    if (p.audioMuted) out.push(',"audio_muted":true');
    if (p.videoMuted) out.push(',"video_muted":true');
    if (p.unmuteAsked) out.push(',"unmute_asked":true');
    out.push("}");
  });
  out.push(',"drawing_allowed":', st.drawingAllowed ? "true" : "false", ',"decks":');
  writeList(out, st.decks, (d) => out.push('{"id":', jsonString(d.id), ',"name":', jsonString(d.name), ',"pages":', jsonInt(d.pages), "}"));
  out.push(',"slide":{"deck":', jsonString(st.slide.deck), ',"page":', jsonInt(st.slide.page), '},"boards":');
  writeMap(out, st.boards, (b) => writeBoard(out, b));
  out.push(',"hands":');
  writeList(out, st.hands, (h) => out.push(jsonString(h)));
  out.push(',"floor":', jsonString(st.floor), ',"chat":');
  writeChat(out, st.chat);
  out.push(',"recording":', st.recording ? "true" : "false", ',"lobby":', st.lobby ? "true" : "false",
    ',"locked":', st.locked ? "true" : "false", ',"waiting":');
  writeList(out, st.waiting, (w) => out.push('{"id":', jsonString(w.id), ',"name":', jsonString(w.name), "}"));
  out.push(',"admitted":');
  writeList(out, st.admitted, (id) => out.push(jsonString(id)));
  out.push(',"removed":');
  writeList(out, st.removed, (id) => out.push(jsonString(id)));
  out.push(',"chat_closed":', st.chatClosed ? "true" : "false", ',"polls":');
  writeList(out, st.polls, (q) => writePoll(out, q));
  out.push(',"breakout":');
  writeBreakout(out, st.breakout);
  out.push("}");
  return out.join("");
}

/** stateHash resolves to the lower-case hex SHA-256 of snapshotJSON(st), the server's State.Hash. */
export async function stateHash(st) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(snapshotJSON(st)));
  let hex = "";
  for (const b of new Uint8Array(digest)) hex += b.toString(16).padStart(2, "0");
  return hex;
}

// writeChat writes a chat, the lesson's or a group's, as domain.ChatMessage.
function writeChat(out, chat) {
  writeList(out, chat, (m) => out.push(cached(m, () => '{"seq":' + jsonInt(m.seq) + ',"actor":' +
    jsonString(m.actor) + ',"time":' + jsonString(m.time) + ',"text":' + jsonString(m.text) + "}")));
}

// writeBreakout follows the field order of domain.Breakout and domain.Group.
function writeBreakout(out, b) {
  if (b === null) return out.push("null");
  out.push('{"seq":', jsonInt(b.seq), ',"started":', jsonString(b.started), ',"seconds":', jsonInt(b.seconds),
    ',"choose":', b.choose ? "true" : "false", ',"open":', b.open ? "true" : "false", ',"groups":');
  writeList(out, b.groups, (g) => {
    out.push('{"id":', jsonString(g.id), ',"name":', jsonString(g.name), ',"members":');
    writeList(out, g.members, (m) => out.push(jsonString(m)));
    out.push(',"visitors":');
    writeList(out, g.visitors, (m) => out.push(jsonString(m)));
    out.push(',"slide":{"deck":', jsonString(g.slide.deck), ',"page":', jsonInt(g.slide.page), '},"chat":');
    writeChat(out, g.chat);
    out.push("}");
  });
  out.push(',"message":', jsonString(b.message), ',"recalled":', jsonString(b.recalled), ',"recall":', jsonInt(b.recall),
    ',"shown":', jsonString(b.shown), "}");
}

// writePoll follows the field order and omitempty rules of domain.Poll.
function writePoll(out, q) {
  out.push('{"id":', jsonString(q.id), ',"seq":', jsonInt(q.seq), ',"question":', jsonString(q.question));
  if (q.choices.length > 0) out.push(',"choices":[', q.choices.map(jsonString).join(","), "]");
  if (q.multiple) out.push(',"multiple":true');
  if (q.correct.length > 0) out.push(',"correct":[', q.correct.map(jsonInt).join(","), "]");
  if (q.anonymous) out.push(',"anonymous":true');
  out.push(',"open":', q.open ? "true" : "false");
  if (q.answers.length > 0) {
    out.push(',"answers":');
    writeList(out, q.answers, (a) => {
      out.push('{"participant":', jsonString(a.participant), ',"seq":', jsonInt(a.seq));
      if (a.choices.length > 0) out.push(',"choices":[', a.choices.map(jsonInt).join(","), "]");
      if (a.text !== "") out.push(',"text":', jsonString(a.text));
      out.push("}");
    });
  }
  if (q.shown) out.push(',"shown":true');
  if (q.results.length > 0) out.push(',"results":[', q.results.map(jsonInt).join(","), "]");
  out.push("}");
}

function writeBoard(out, b) {
  out.push('{"objects":');
  writeList(out, b.objects, (o) => writeObject(out, o));
  out.push(',"history":');
  writeMap(out, b.history, (h) => {
    if (h === null) return out.push("null");
    out.push('{"undo":');
    writeList(out, h.undo, (a) => writeAction(out, a));
    out.push(',"redo":');
    writeList(out, h.redo, (a) => writeAction(out, a));
    out.push("}");
  });
  out.push("}");
}

function writeAction(out, a) {
  out.push(cached(a, () => '{"op":' + jsonString(a.op) + ',"objects":' +
    (a.objects === null ? "null" : "[" + a.objects.map(jsonString).join(",") + "]") + "}"));
}

// encoded caches the JSON of board objects, actions and chat messages, so that
// a snapshot re-encodes only what changed since the last one. Actions and
// messages never change. Of an object the fold changes only hidden, which is
// written when the snapshot is, and, as a stroke grows, its points (only ever
// appended) and parts: the cache encodes the points added since it last saw
// the object and encodes its tail again when they or parts changed.
const encoded = new WeakMap();

// writeObject follows the field order and omitempty/omitzero rules of domain.Object.
function writeObject(out, o) {
  let c = encoded.get(o);
  if (c === undefined) {
    c = {
      head: '{"id":' + jsonString(o.id) + ',"kind":' + jsonString(o.kind) + ',"owner":' + jsonString(o.owner) +
        ',"seq":' + jsonInt(o.seq),
      points: "", n: 0, parts: o.parts, tail: null,
    };
    encoded.set(o, c);
  }
  const n = o.points ? o.points.length : 0;
  if (n > c.n) {
    c.points += (c.points === "" ? "" : ",") + pointsJSON(o.points, c.n);
    c.n = n;
    c.tail = null;
  }
  if (o.parts !== c.parts) {
    c.parts = o.parts;
    c.tail = null;
  }
  if (c.tail === null) c.tail = objectTail(o, c.points);
  out.push(c.head, o.hidden ? ',"hidden":true' : "", c.tail);
}

// objectTail encodes an object's fields after hidden, its points given encoded.
function objectTail(o, points) {
  let s = "";
  if (o.tool !== "") s += ',"tool":' + jsonString(o.tool);
  if (o.shape !== "") s += ',"shape":' + jsonString(o.shape);
  s += ',"color":' + jsonString(o.color);
  if (o.fill !== "") s += ',"fill":' + jsonString(o.fill);
  if (o.width !== 0) s += ',"width":' + jsonFloat(o.width);
  if (points !== "") s += ',"points":[' + points + "]";
  if (o.parts !== 0) s += ',"parts":' + jsonInt(o.parts);
  s += pairJSON(',"from":', o.from) + pairJSON(',"to":', o.to) + pairJSON(',"at":', o.at);
  if (o.text !== "") s += ',"text":' + jsonString(o.text);
  if (o.size !== 0) s += ',"size":' + jsonFloat(o.size);
  return s + "}";
}

// pointsJSON encodes points from index from on as [x,y,t,pressure],… without
// the brackets around them.
function pointsJSON(points, from) {
  let s = "";
  for (let i = from; i < points.length; i++) {
    const p = points[i];
    if (i > from) s += ",";
    s += "[" + jsonFloat(p[0]) + "," + jsonFloat(p[1]) + "," + jsonInt(p[2]) + "," + jsonFloat(p[3]) + "]";
  }
  return s;
}

// pairJSON encodes an omitzero [2]float64: nothing when both are zero (-0 too).
function pairJSON(key, v) {
  if (v[0] === 0 && v[1] === 0) return "";
  return key + "[" + jsonFloat(v[0]) + "," + jsonFloat(v[1]) + "]";
}

// cached returns the JSON of an immutable value, encoding it the first time.
function cached(v, encode) {
  let s = encoded.get(v);
  if (s === undefined) {
    s = encode(v);
    encoded.set(v, s);
  }
  return s;
}

function writeList(out, list, each) {
  if (list === null) return out.push("null");
  out.push("[");
  for (let i = 0; i < list.length; i++) {
    if (i > 0) out.push(",");
    each(list[i]);
  }
  out.push("]");
}

// writeMap writes a Go map: null when nil, else its keys sorted by their UTF-8 bytes.
function writeMap(out, map, each) {
  if (map === null) return out.push("null");
  const keys = [...map.keys()].sort(compareUTF8);
  out.push("{");
  for (let i = 0; i < keys.length; i++) {
    if (i > 0) out.push(",");
    out.push(jsonString(keys[i]), ":");
    each(map.get(keys[i]));
  }
  out.push("}");
}

/**
 * jsonFloat formats a float64 exactly as Go's encoding/json does (and
 * domain's appendFloat): the shortest digits that round-trip, in 'f' form
 * when 1e-6 ≤ |x| < 1e21 or x is 0, otherwise in 'e' form with the
 * exponent's leading zero dropped (1e-7, 1.5e+21); -0 is "-0". NaN and
 * infinities, which validation refuses, are "0" as in appendFloat.
 */
export function jsonFloat(x) {
  if (x === 0) return Object.is(x, -0) ? "-0" : "0";
  if (!Number.isFinite(x)) return "0";
  const abs = x < 0 ? -x : x;
  if (abs >= 1e-6 && abs < 1e21) {
    // ECMAScript's Number::toString is the shortest round-trip in fixed
    // notation for exactly this range (its exponent n is in (-6, 21]).
    return String(x);
  }
  // toExponential() without digits gives the same shortest digits as
  // "d.ddde±n"; strconv's 'e' writes the exponent in at least two digits
  // and encoding/json then drops the leading zero of a negative one, which
  // leaves the exponent without padding either way.
  const [mant, exp] = x.toExponential().split("e");
  const sign = exp[0];
  let digits = exp.slice(1);
  if (digits.length < 2) digits = "0" + digits;
  if (sign === "-" && digits[0] === "0") digits = digits.slice(1);
  return mant + "e" + sign + digits;
}

const NEEDS_ESCAPE = /[\u0000-\u001f"\\<>&\u2028\u2029\ud800-\udfff]/;

/**
 * jsonString quotes a string exactly as Go's encoding/json does: HTML-safe
 * (<, >, & as \u003c, \u003e, \u0026), U+2028 and U+2029 escaped, \b \f \n \r
 * \t and other control characters as \u00XX; a lone surrogate becomes U+FFFD.
 */
export function jsonString(s) {
  if (!NEEDS_ESCAPE.test(s)) return '"' + s + '"';
  let out = '"';
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let esc;
    if (c < 0x20) {
      switch (c) {
        case 0x08: esc = "\\b"; break;
        case 0x0c: esc = "\\f"; break;
        case 0x0a: esc = "\\n"; break;
        case 0x0d: esc = "\\r"; break;
        case 0x09: esc = "\\t"; break;
        default: esc = "\\u00" + HEX[c >> 4] + HEX[c & 0xf];
      }
    } else if (c === 0x22) esc = '\\"';
    else if (c === 0x5c) esc = "\\\\";
    else if (c === 0x3c) esc = "\\u003c";
    else if (c === 0x3e) esc = "\\u003e";
    else if (c === 0x26) esc = "\\u0026";
    else if (c === 0x2028) esc = "\\u2028";
    else if (c === 0x2029) esc = "\\u2029";
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        i++; // a well-formed pair: copied as it is
        continue;
      }
      esc = "\ufffd";
    } else if (c >= 0xd800 && c <= 0xdfff) esc = "\ufffd";
    else continue;
    out += s.slice(start, i) + esc;
    start = i + 1;
  }
  return out + s.slice(start) + '"';
}

const HEX = "0123456789abcdef";
