// connection.js: a browser's connection to a live lesson, as docs/protocol.md
// describes it. It joins over the signaling WebSocket, keeps one
// RTCPeerConnection with the two negotiated data channels, plays the polite
// peer of perfect negotiation (the server is the impolite one), sends
// commands and receives the lesson's events in order, and hands out the
// media tracks the server forwards.
//
// Errors carry the server's code and, for the ones a page acts on, its
// reason (docs/protocol.md, section 7): link_replaced, joined_elsewhere,
// lesson_ended, incompatible (node_full it follows itself). Pages go by
// them, never by a message's words.
//
// Events it dispatches (an EventTarget):
//   "welcome"  detail: the welcome signal (version, participant, role, name, …)
//   "snapshot" detail: {seq, state}            the lesson state to start from
//   "events"   detail: [event, …]              committed events, in order
//   "live"     detail: {seq}                   history complete; live from here
//   "ephemeral" detail: a relayed cursor or preview
//   "track"    detail: {track, stream, participant}
//   "state"    detail: the PeerConnection's connectionState
//   "closed"   detail: {code}                  the signaling socket closed, with its close code
//   "bye"      detail: {code, reason, message} the server ended the session
//   "problem"  detail: {code, reason, message} an error that did not end it (yet)
//   "media"    detail: a media signal: a forwarded track this browser is sent
//              nothing of, and why (reason codec_unsupported, with
//              participant, track, kind, codec and the mid of its section)

import { MAX_COMMAND_BYTES, MAX_SERVER_MESSAGE } from "./limits.js";
import { t } from "./i18n.js";

// PROTOCOL_VERSION is the version of docs/protocol.md this client speaks
// (section 2.4); the server refuses a join of a version it does not serve
// with the reason incompatible. From version 3 on, the server may send an
// events message compressed (section 4.1): this client inflates it.
export const PROTOCOL_VERSION = 3;

/**
 * joinVersion is the protocol version the page joins with: PROTOCOL_VERSION
 * where the browser inflates raw DEFLATE (DecompressionStream "deflate-raw":
 * Chrome 103, Firefox 113, Safari 16.4 and later), else 2, which the server
 * answers with events messages as JSON text only.
 */
export function joinVersion() {
  try {
    new DecompressionStream("deflate-raw");
    return PROTOCOL_VERSION;
  } catch {
    return 2;
  }
}

// MAX_REDIRECTS bounds how many full servers in a row one join follows.
const MAX_REDIRECTS = 5;

const EVENTS = { label: "events", id: 0 };
const EPHEMERAL = { label: "ephemeral", id: 1 };

// SIMULCAST are the layers of a simulcast video track, smallest first, as
// the server expects (docs/protocol.md, section 9): a quarter, a half and
// the whole of the camera's resolution — 320×180, 640×360 and 1280×720 for a
// 720p camera. Chromium drops the top layers while its uplink cannot carry
// them and sends fewer for a small camera.
const SIMULCAST = [
  { rid: "q", scaleResolutionDownBy: 4, maxBitrate: 150_000 },
  { rid: "h", scaleResolutionDownBy: 2, maxBitrate: 500_000 },
  { rid: "f", scaleResolutionDownBy: 1, maxBitrate: 1_500_000 },
];

export class LessonConnection extends EventTarget {
  /**
   * @param {object} o
   * @param {string} o.url      the ws(s):// URL of /api/lessons/{id}/ws
   * @param {string} o.token    a join link's token or a resume token
   * @param {string} [o.name]   the display name, when the token has none
   * @param {number} [o.lastSeq] the last sequence already held
   */
  constructor({ url, token, name = "", lastSeq = 0 }) {
    super();
    this.url = url;
    this.token = token;
    this.name = name;
    this.lastSeq = lastSeq;
    this.pending = new Map(); // command id → {resolve, reject}
    this.collisions = 0; // offers of ours that crossed the server's
    this.makingOffer = false;
    this.snapshot = null; // {seq, parts, size, chunks}
    this.inbox = []; // events-channel messages not handled yet, in order
    this.draining = false; // drain is handling the inbox
    this.broken = false; // a message did not decode: the session is over
    this.inflated = 0; // compressed messages handled
    this.signals = Promise.resolve(); // the chain signals are handled on
  }

  /**
   * join opens the session and resolves with the welcome. It rejects with
   * the server's refusal: an Error with its code, reason and, when the
   * reason is incompatible, the server's protocol version. A server that
   * serves as many participants as it may (node_full) names another with
   * room, which join follows, up to MAX_REDIRECTS in a row.
   */
  async join() {
    for (let hop = 0; ; hop++) {
      try {
        return await this.joinOnce();
      } catch (err) {
        if (err.reason !== "node_full" || !err.redirect || hop >= MAX_REDIRECTS) throw err;
        this.url = err.redirect;
        // The loads the full server went by may be a heartbeat old.
        await new Promise((r) => setTimeout(r, hop * 200));
      }
    }
  }

  joinOnce() {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(this.url);
      this.ws = ws;
      let welcomed = false;
      let redirected = false; // its close is no lost connection
      ws.onopen = () => this.signal({ type: "join", version: joinVersion(), token: this.token, name: this.name, last_seq: this.lastSeq });
      ws.onerror = () => { if (!welcomed) reject(new Error("the signaling connection failed")); };
      ws.onclose = ({ code }) => {
        // code is the socket's close code: 1009 (message too big) says
        // that a signal of this page was over the server's limit, which
        // a reconnect meets again (docs/protocol.md, section 2).
        if (!welcomed) reject(Object.assign(new Error("the server closed the signaling connection"), { closeCode: code }));
        if (!redirected) this.dispatchEvent(new CustomEvent("closed", { detail: { code } }));
      };
      ws.onmessage = (m) => {
        const sig = JSON.parse(m.data);
        if (sig.type === "welcome" && !welcomed) {
          welcomed = true;
          this.welcome = sig;
          this.token = sig.resume_token;
          this.connect(sig.ice_servers || []);
          this.dispatchEvent(new CustomEvent("welcome", { detail: sig }));
          resolve(sig);
          return;
        }
        if (!welcomed && sig.type === "error") {
          redirected = sig.reason === "node_full" && !!sig.redirect;
          reject(refusal(sig, { version: sig.version || 0, redirect: sig.redirect || "" }));
          return;
        }
        // One signal at a time, in order: an answer must be applied before
        // the offer that follows it is looked at.
        this.signals = this.signals.then(() => this.onSignal(sig)).catch((err) => {
          console.warn("signal", sig.type, err);
          this.dispatchEvent(new CustomEvent("problem", { detail: { code: "negotiation", message: `${sig.type}: ${err}` } }));
        });
      };
    });
  }

  signal(sig) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(sig));
  }

  connect(iceServers) {
    const pc = new RTCPeerConnection({ iceServers });
    this.pc = pc;
    // Negotiated channels: creating them fires negotiationneeded, which
    // makes the first offer, as the server expects.
    this.events = pc.createDataChannel(EVENTS.label, { negotiated: true, id: EVENTS.id, ordered: true });
    this.ephemeral = pc.createDataChannel(EPHEMERAL.label,
      { negotiated: true, id: EPHEMERAL.id, ordered: false, maxRetransmits: 0 });
    this.events.binaryType = "arraybuffer";
    this.events.onmessage = (m) => this.onEventsMessage(m.data);
    this.ephemeral.onmessage = (m) => {
      this.dispatchEvent(new CustomEvent("ephemeral", { detail: JSON.parse(m.data) }));
    };
    pc.onnegotiationneeded = async () => {
      try {
        this.makingOffer = true;
        await pc.setLocalDescription();
        this.signal({ type: "offer", sdp: pc.localDescription.sdp });
      } catch (err) {
        console.warn("negotiation", err);
        this.dispatchEvent(new CustomEvent("problem", { detail: { code: "negotiation", message: `offer: ${err}` } }));
      } finally {
        this.makingOffer = false;
      }
    };
    pc.onicecandidate = ({ candidate }) => {
      if (candidate) this.signal({ type: "candidate", candidate: candidate.toJSON() });
    };
    pc.ontrack = ({ track, streams }) => {
      const stream = streams[0] || new MediaStream([track]);
      this.dispatchEvent(new CustomEvent("track", { detail: { track, stream, participant: stream.id } }));
    };
    pc.onconnectionstatechange = () => {
      this.dispatchEvent(new CustomEvent("state", { detail: pc.connectionState }));
    };
  }

  async onSignal(sig) {
    const pc = this.pc;
    switch (sig.type) {
      case "offer": {
        // The polite peer: an offer that crosses ours wins; ours is
        // rolled back (setRemoteDescription does it) and made again.
        if (this.makingOffer || pc.signalingState !== "stable") this.collisions++;
        await pc.setRemoteDescription({ type: "offer", sdp: sig.sdp });
        await pc.setLocalDescription();
        this.signal({ type: "answer", sdp: pc.localDescription.sdp });
        return;
      }
      case "answer":
        if (pc.signalingState === "have-local-offer") await pc.setRemoteDescription({ type: "answer", sdp: sig.sdp });
        return;
      case "candidate":
        if (sig.candidate) {
          try {
            await pc.addIceCandidate(sig.candidate);
          } catch (err) {
            console.warn("candidate", err);
          }
        }
        return;
      case "waiting":
        this.dispatchEvent(new CustomEvent("waiting", { detail: { message: sig.message || "" } }));
        return;
      case "media":
        this.dispatchEvent(new CustomEvent("media", { detail: sig }));
        return;
      case "error":
        this.dispatchEvent(new CustomEvent("problem", { detail: { code: sig.code, reason: sig.reason || "", message: sig.message } }));
        return;
      case "bye":
        // The server sent its last events before the bye, on the events
        // channel: those that came are handled first (a compressed one is
        // inflated asynchronously), so that the page that stops at the bye
        // (the lesson ended) holds them.
        await this.drained();
        this.dispatchEvent(new CustomEvent("bye", { detail: { code: sig.code || "", reason: sig.reason || "", message: sig.message || "" } }));
        // Commands still unanswered may or may not have been stored: the
        // caller resends them, with the same ids, on its next session.
        for (const { reject } of this.pending.values()) reject(refusal(sig, { ended: true }));
        this.pending.clear();
        return;
    }
  }

  /**
   * onEventsMessage takes a message of the events channel. Messages are
   * handled strictly in the order they came, one after the other: a
   * compressed one is inflated asynchronously (DecompressionStream), and
   * those after it wait. A message that does not decode ends the session
   * ("problem" with code invalid, then the connection closes, and the page
   * resumes from the last sequence it applied): nothing after it is
   * handled, so no event is skipped.
   */
  onEventsMessage(data) {
    if (this.broken) return;
    this.inbox.push(data);
    if (!this.draining) this.drain();
  }

  /** drained resolves once every events-channel message that came is handled. */
  drained() {
    if (!this.draining) return Promise.resolve();
    return new Promise((resolve) => this.addEventListener("drained", () => resolve(), { once: true }));
  }

  async drain() {
    this.draining = true;
    while (this.inbox.length > 0 && !this.broken) {
      let data = this.inbox.shift();
      try {
        // Binary is a snapshot's part while one is announced, else a
        // compressed message (docs/protocol.md, section 4.1).
        if (typeof data !== "string" && !this.snapshot) {
          data = await inflate(data);
          this.inflated++;
        }
        this.handleEventsMessage(data);
      } catch (err) {
        this.broken = true;
        this.inbox = [];
        console.warn("events channel: a message that does not decode", err);
        this.dispatchEvent(new CustomEvent("problem", { detail: { code: "invalid", reason: "",
          message: t("A message from the server could not be read; catching up.") } }));
        this.close(); // its socket's close tells the page ("closed")
      }
    }
    this.draining = false;
    this.dispatchEvent(new Event("drained"));
  }

  handleEventsMessage(data) {
    if (typeof data !== "string") {
      const s = this.snapshot;
      s.chunks.push(new Uint8Array(data));
      if (s.chunks.length === s.parts) {
        const all = new Uint8Array(s.size);
        let at = 0;
        for (const c of s.chunks) { all.set(c, at); at += c.length; }
        this.snapshot = null;
        const state = JSON.parse(new TextDecoder().decode(all));
        this.lastSeq = s.seq;
        this.dispatchEvent(new CustomEvent("snapshot", { detail: { seq: s.seq, state } }));
      }
      return;
    }
    const m = JSON.parse(data);
    switch (m.type) {
      case "snapshot":
        this.snapshot = { seq: m.seq, parts: m.parts, size: m.size, chunks: [] };
        return;
      case "events": {
        const fresh = m.events.filter((e) => e.seq > this.lastSeq);
        if (fresh.length === 0) return;
        this.lastSeq = fresh[fresh.length - 1].seq;
        this.dispatchEvent(new CustomEvent("events", { detail: fresh }));
        return;
      }
      case "live":
        this.dispatchEvent(new CustomEvent("live", { detail: { seq: m.seq } }));
        return;
      case "ack":
      case "error": {
        const p = this.pending.get(m.id);
        if (!p) {
          if (m.type === "error") this.dispatchEvent(new CustomEvent("problem", { detail: { code: m.code, reason: m.reason || "", message: m.message } }));
          return;
        }
        this.pending.delete(m.id);
        if (m.type === "ack") p.resolve(m.seq);
        else p.reject(refusal(m));
        return;
      }
    }
  }

  /**
   * send sends a command and resolves with its event's sequence number. It
   * rejects with {code, reason, message} when the server refuses the command, and
   * with {ended: true} when the session ends first: then resend it, with the
   * same id, on the next session (section 4.3 of docs/protocol.md).
   */
  send(kind, data = {}, id = crypto.randomUUID()) {
    return new Promise((resolve, reject) => {
      const msg = JSON.stringify({ type: "command", id, kind, data });
      // The server refuses a larger message before it can read its id, so
      // that its refusal would never settle the command: it is refused here.
      if (msg.length > MAX_COMMAND_BYTES / 3 && new TextEncoder().encode(msg).length > MAX_COMMAND_BYTES) {
        reject(refusal({ code: "invalid", message: t("The {kind} command is larger than {bytes} bytes.", { kind, bytes: MAX_COMMAND_BYTES }) }));
        return;
      }
      this.pending.set(id, { resolve, reject });
      try {
        this.events.send(msg);
      } catch (err) {
        this.pending.delete(id);
        reject(err);
      }
    });
  }

  /** sendEphemeral sends a cursor or preview; it may be lost. */
  sendEphemeral(msg) {
    if (this.ephemeral && this.ephemeral.readyState === "open") this.ephemeral.send(JSON.stringify(msg));
  }

  /**
   * publish sends a media track to the server and returns its RTCRtpSender;
   * the server forwards the track while its sender is on stage. With
   * simulcast, a video track is sent as the three layers of SIMULCAST
   * (section 9 of docs/protocol.md), and the server forwards each
   * subscriber the best its bandwidth allows; audio ignores the option.
   */
  publish(track, stream, { simulcast = false } = {}) {
    stream = stream || new MediaStream([track]);
    if (!simulcast || track.kind !== "video") return this.pc.addTrack(track, stream);
    const tr = this.pc.addTransceiver(track, {
      direction: "sendonly",
      streams: [stream],
      sendEncodings: SIMULCAST.map((e) => ({ ...e })),
    });
    return tr.sender;
  }

  /** unpublish stops sending a track. */
  unpublish(sender) {
    this.pc.removeTrack(sender);
  }

  /** close drops the session without leaving the lesson, as a lost network would. */
  close() {
    for (const { reject } of this.pending.values()) reject(Object.assign(new Error("the connection closed"), { code: "unavailable", ended: true }));
    this.pending.clear();
    if (this.pc) this.pc.close();
    if (this.ws) this.ws.close();
  }

  /** leave ends the session for good. */
  leave() {
    this.signal({ type: "leave" });
    if (this.pc) this.pc.close();
    if (this.ws) this.ws.close();
  }
}

/**
 * inflate returns the text of a compressed events message: one raw DEFLATE
 * stream (docs/protocol.md, section 4.1). It rejects a stream that is cut
 * short, has bytes after its end, inflates to more than the server's
 * largest message, or is not UTF-8.
 */
async function inflate(buf) {
  const reader = new Blob([buf]).stream().pipeThrough(new DecompressionStream("deflate-raw")).getReader();
  const parts = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > MAX_SERVER_MESSAGE) {
      reader.cancel();
      throw new Error(`a compressed message of more than ${MAX_SERVER_MESSAGE} bytes`);
    }
    parts.push(value);
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const p of parts) { all.set(p, at); at += p.length; }
  return new TextDecoder("utf-8", { fatal: true }).decode(all);
}

/** refusal is the server's error (a signal or an events-channel message) as an Error, with more fields. */
function refusal(m, more = {}) {
  const message = m.message || "the session ended"; // not user-facing
  return Object.assign(new Error(message), { code: m.code || "", reason: m.reason || "" }, more);
}
