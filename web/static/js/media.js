// media.js: the lesson page's audio and video. It asks for the camera and
// microphone, sends them while this participant may publish (the teacher
// always, a student while holding the floor or in a breakout group;
// docs/protocol.md, section 9), shares the teacher's screen, and shows the
// teacher and the student with the floor in their tiles from the tracks the
// server forwards; in a breakout group, a tile for each of the others in
// it, whose tracks are all the server forwards there.

import { $, el, toast, banner } from "./views.js";
import { t } from "./i18n.js";
import { groupStage } from "./groups.js";

/** Media owns the camera, the microphone, the screen share and the remote videos. */
export class Media {
  constructor(app) {
    this.app = app;
    this.local = null; // MediaStream from the camera and microphone
    this.screen = null; // MediaStreamTrack of a screen share
    this.senders = new Map(); // track id → RTCRtpSender on the current connection
    this.remote = new Map(); // participant → {stream, videos: [track…]}
    this.cannotPlay = new WeakMap(); // a forwarded track this browser cannot decode → its codec's name
    this.camOn = true;
    this.micOn = true;
  }

  /** start asks for the camera and microphone; the lesson goes on without them. */
  async start() {
    try {
      this.local = await navigator.mediaDevices.getUserMedia({
        audio: { echoCancellation: true, noiseSuppression: true },
        video: { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30 } },
      });
    } catch (err) {
      const why = err && err.name === "NotAllowedError"
        ? t("Camera and microphone are blocked for this site: allow them in the browser's site settings and reload.")
        : t("No camera or microphone: {reason}.", { reason: err && err.message ? err.message : err });
      const still = t("You can still follow the lesson, draw and chat.");
      banner(`${why} ${still}`, "warn");
      $("cam").disabled = true;
      $("mic").disabled = true;
      return;
    }
    $("tile-self").querySelector("video").srcObject = this.local;
  }

  /** mayPublish reports whether this participant's camera goes to the others now. */
  mayPublish() {
    const a = this.app;
    if (this.ended || (a.state && a.state.status === "ended")) return false;
    return a.role === "teacher" || (a.state && (a.state.floor === a.me || !!groupStage(a.state, a.me, Date.now())));
  }

  /** attach starts sending on a new connection (after a join or a resume). */
  attach(conn) {
    this.senders.clear();
    this.sync(conn);
    if (this.screen && this.app.role === "teacher") {
      this.senders.set(this.screen.id, conn.publish(this.screen, new MediaStream([this.screen])));
    }
  }

  /**
   * sync sends the camera and microphone while the participant may publish
   * and stops sending them otherwise. A student's senders stay on the
   * connection with no track between two turns on the floor, so taking the
   * floor again needs no renegotiation.
   */
  sync(conn = this.app.conn) {
    if (!this.local || !conn || !conn.pc || this.ended) return;
    const on = this.mayPublish();
    for (const track of this.local.getTracks()) {
      const sender = this.senders.get(track.id);
      // Simulcast for the teacher's camera only (watched all lesson, over every link); a student's uplink pays for one encoding.
      if (on && !sender) this.senders.set(track.id, conn.publish(track, this.local, { simulcast: this.app.role === "teacher" }));
      else if (sender && (sender.track === null) === on) sender.replaceTrack(on ? track : null).catch(() => {});
    }
  }

  toggle(kind) {
    if (!this.local) return;
    const on = kind === "video" ? (this.camOn = !this.camOn) : (this.micOn = !this.micOn);
    for (const t of this.local.getTracks()) if (t.kind === kind) t.enabled = on;
    this.labelButtons();
  }

  /** labelButtons says on the camera, microphone and screen buttons what they do. */
  labelButtons() {
    $("cam").textContent = this.camOn ? t("Turn camera off") : t("Turn camera on");
    $("mic").textContent = this.micOn ? t("Turn microphone off") : t("Turn microphone on");
    $("screen").textContent = this.screen ? t("Stop sharing") : t("Share screen");
  }

  async shareScreen() {
    const conn = this.app.conn;
    if (this.screen) {
      this.stopScreen();
      return;
    }
    try {
      const s = await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: { ideal: 15 } }, audio: false });
      this.screen = s.getVideoTracks()[0];
    } catch (err) {
      if (err && err.name !== "NotAllowedError") toast(t("Screen share failed: {reason}", { reason: err.message || err }), "error");
      return;
    }
    this.screen.addEventListener("ended", () => this.stopScreen());
    this.senders.set(this.screen.id, conn.publish(this.screen, new MediaStream([this.screen])));
    this.labelButtons();
  }

  stopScreen() {
    const t = this.screen;
    if (!t) return;
    this.screen = null;
    const sender = this.senders.get(t.id);
    this.senders.delete(t.id);
    t.stop();
    if (sender && this.app.conn) {
      try { this.app.conn.unpublish(sender); } catch { /* the connection is gone */ }
    }
    this.labelButtons();
  }

  /**
   * end turns the camera, microphone and screen off for good: the lesson
   * has ended, or this page has stopped. Nothing is sent any more and the
   * buttons that would turn them on are disabled.
   */
  end() {
    this.ended = true;
    this.stopScreen();
    const conn = this.app.conn;
    for (const sender of this.senders.values()) {
      if (sender.track) sender.replaceTrack(null).catch(() => {});
      if (conn && conn.pc && conn.pc.signalingState !== "closed") {
        try { conn.unpublish(sender); } catch { /* the connection is gone */ }
      }
    }
    this.senders.clear();
    if (this.local) for (const t of this.local.getTracks()) t.stop();
    $("tile-self").querySelector("video").srcObject = null;
    for (const id of ["cam", "mic", "screen"]) $(id).disabled = true;
    this.render();
  }

  /** track records a forwarded track; the stream id is its publisher. */
  track({ track, stream, participant }) {
    let r = this.remote.get(participant);
    if (!r || r.stream !== stream) {
      r = { stream, videos: [] };
      this.remote.set(participant, r);
      stream.addEventListener("removetrack", () => this.render());
      stream.addEventListener("addtrack", () => this.render());
    }
    if (track.kind === "video" && !r.videos.includes(track)) r.videos.push(track);
    track.addEventListener("mute", () => this.render());
    track.addEventListener("unmute", () => this.render());
    track.addEventListener("ended", () => this.render());
    this.render();
  }

  /**
   * unsupported notes a forwarded track the server sends nothing of because
   * this browser negotiated none of its codec (a media signal of reason
   * codec_unsupported, docs/protocol.md section 9): its tile says so in
   * place of the picture.
   */
  unsupported({ reason, mid, codec }, pc) {
    if (reason !== "codec_unsupported" || !pc) return;
    const tr = pc.getTransceivers().find((x) => x.mid === mid);
    if (!tr || !tr.receiver.track) return;
    const names = { "video/h264": "H.264", "video/av1": "AV1", "video/vp8": "VP8" }; // not user-facing: codecs' names
    this.cannotPlay.set(tr.receiver.track, names[String(codec).toLowerCase()] || String(codec).replace(/^video\//i, ""));
    this.render();
  }

  /** showCannotPlay says in a tile that its video is in a codec this browser cannot play. */
  showCannotPlay(tile, track) {
    const codec = track && this.cannotPlay.get(track);
    tile.classList.toggle("unsupported", !!codec);
    if (codec) tile.dataset.unsupported = t("This video is sent as {codec}, which this browser cannot play. Another browser may.", { codec });
  }

  /** live lists a participant's forwarded tracks that still flow. */
  live(participant) {
    const r = this.remote.get(participant);
    if (!r) return { videos: [], audios: [] };
    const inStream = new Set(r.stream.getTracks());
    const ok = (t) => inStream.has(t) && t.readyState === "live";
    return { videos: r.videos.filter(ok), audios: r.stream.getAudioTracks().filter(ok) };
  }

  /**
   * renderGroup shows, while this participant is on a breakout group's
   * stage, a tile for each of the others in the group (members and visiting
   * teachers), in place of the teacher's and the floor's; it reports
   * whether it did.
   */
  renderGroup() {
    const a = this.app;
    const g = this.ended ? null : groupStage(a.state, a.me, Date.now());
    const grid = $("group-tiles");
    grid.hidden = !g;
    if (!g) {
      grid.replaceChildren();
      return false;
    }
    const others = [...(g.members || []), ...(g.visitors || [])].filter((id) => id !== a.me);
    const tiles = new Map([...grid.children].map((c) => [c.dataset.participant, c]));
    grid.replaceChildren(...others.map((id) => {
      const tile = tiles.get(id) || el("div", { class: "tile", "data-participant": id, "data-empty": t("No video") },
        el("video", { autoplay: true, playsinline: true }), el("span", { class: "label" }));
      const { videos, audios } = this.live(id);
      setStream(tile.querySelector("video"), videos.length ? [videos[videos.length - 1], ...audios] : audios);
      tile.querySelector(".label").textContent = a.nameOf(id);
      tile.classList.toggle("empty", !videos.length);
      return tile;
    }));
    // Your own camera, as the group sees it.
    $("tile-self").hidden = false;
    return true;
  }

  /** render puts the teacher and the floor holder in their tiles, or the group's members in theirs. */
  render() {
    const a = this.app;
    if (!a.state) return;
    const inGroup = this.renderGroup();
    $("tile-teacher").hidden = inGroup;
    if (inGroup) {
      $("tile-floor").hidden = true;
      return;
    }
    const teacher = a.role === "teacher" ? null : this.teacherID();
    const tile = $("tile-teacher");
    if (teacher) {
      // The teacher's newest video is the screen share when there is one.
      const { videos, audios } = this.live(teacher);
      const main = videos[videos.length - 1];
      setStream(tile.querySelector("video"), main ? [main, ...audios] : audios);
      tile.querySelector(".label").textContent = a.nameOf(teacher);
      tile.classList.toggle("empty", !main);
      this.showCannotPlay(tile, main);
    } else if (a.role === "teacher") {
      // The teacher sees what the class sees: the screen when shared,
      // else their own camera (muted: it is their own voice).
      const mine = this.ended ? [] : this.screen ? [this.screen] : this.local ? this.local.getVideoTracks() : [];
      const v = tile.querySelector("video");
      v.muted = true;
      setStream(v, mine);
      tile.querySelector(".label").textContent = this.ended ? t("Your camera is off: the lesson has ended")
        : this.screen ? t("Your screen (the class sees it)") : t("You (the class sees you)");
      tile.classList.toggle("empty", mine.length === 0);
      this.showCannotPlay(tile, null);
      $("tile-self").hidden = !this.screen;
    }
    const floor = a.state.floor;
    const ft = $("tile-floor");
    ft.hidden = !floor;
    if (floor && floor !== a.me) {
      const { videos, audios } = this.live(floor);
      const v = ft.querySelector("video");
      v.muted = false; // it may have shown this participant's own camera before
      setStream(v, videos.length ? [videos[0], ...audios] : audios);
      ft.querySelector(".label").textContent = t("{name} (has the floor)", { name: a.nameOf(floor) });
      ft.classList.toggle("empty", !videos.length);
      this.showCannotPlay(ft, videos[0]);
    } else if (floor === a.me) {
      // What everyone sees of you; muted, it is your own voice.
      const mine = this.local ? this.local.getVideoTracks() : [];
      const v = ft.querySelector("video");
      v.muted = true;
      setStream(v, mine);
      ft.querySelector(".label").textContent = t("You have the floor: everyone sees and hears you");
      ft.classList.toggle("empty", mine.length === 0);
      this.showCannotPlay(ft, null);
    }
  }

  teacherID() {
    for (const p of this.app.state.present()) if (p.role === "teacher") return p.id;
    return "teacher";
  }

  /** stats reports, per participant, the video frames decoded and the picture size shown. */
  async stats() {
    const out = {};
    const pc = this.app.conn && this.app.conn.pc;
    if (!pc) return out;
    for (const rec of pc.getReceivers()) {
      if (!rec.track || rec.track.kind !== "video") continue;
      let who = null;
      for (const [p, r] of this.remote) if (r.videos.includes(rec.track)) who = p;
      if (!who) continue;
      let frames = 0;
      (await rec.getStats()).forEach((s) => { if (s.type === "inbound-rtp") frames += s.framesDecoded || 0; });
      const o = out[who] || (out[who] = { framesDecoded: 0, width: 0 });
      o.framesDecoded += frames;
    }
    for (const tile of document.querySelectorAll(".videos .tile:not(.self)")) {
      const v = tile.querySelector("video");
      const s = v.srcObject;
      if (!s) continue;
      for (const [p, r] of this.remote) {
        if (s.getVideoTracks().some((t) => r.videos.includes(t)) && out[p]) out[p].width = Math.max(out[p].width, v.videoWidth);
      }
    }
    return out;
  }
}

/** setStream shows tracks in a video element, keeping it when they did not change. */
function setStream(video, tracks) {
  const cur = video.srcObject ? video.srcObject.getTracks() : [];
  if (cur.length === tracks.length && cur.every((t, i) => t === tracks[i])) return;
  video.srcObject = tracks.length ? new MediaStream(tracks) : null;
  if (tracks.length) {
    video.play().catch((err) => {
      // Only the browser's autoplay rule is worth a word; an interrupted
      // play() (the tracks changed again) is not, and neither replaces a
      // banner already shown (the page stopped, the camera blocked).
      if (!err || err.name !== "NotAllowedError" || !$("banner").hidden) return;
      banner(t("Click anywhere to hear the lesson."), "info");
      document.addEventListener("click", () => { video.play().catch(() => {}); banner(""); }, { once: true });
    });
  }
}
