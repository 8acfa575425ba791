// replaymedia.js: the recorded media of a lesson, played in step with the
// replay's clock (replay.js). Each recorded file holds one track of one
// participant and spans a recording segment, with its start and end on the
// event clock; every file whose span covers the position plays at the
// position's offset into it, corrected when it drifts more than DRIFT.
// Only the files of the stage followed play: the main room's, or a breakout
// group's (a recording labelled with the group's id).

const DRIFT = 0.25; // seconds a recording may drift before it is corrected

export class RecordedMedia {
  constructor() {
    this.list = []; // {participant, kind, group, start, end, media}, start and end in ms
    this.group = ""; // the stage followed: "" the main room's, else a breakout group's id
  }

  /**
   * load makes a media element for each recording the server lists (GET
   * /recordings through api), its audio ones inside box; a lesson never
   * recorded (404) has none.
   */
  async load(api, token, box) {
    let list = [];
    try {
      const body = await api("/recordings");
      list = body.recordings || [];
    } catch (err) {
      if (err.status !== 404) console.warn("recordings", err);
    }
    for (const r of list) {
      const media = document.createElement(r.kind === "audio" ? "audio" : "video");
      media.preload = "auto";
      media.playsInline = true;
      // Each recorded file holds one track: sound comes from the audio
      // files, so a video may always be muted, which browsers let play.
      if (r.kind !== "audio") media.muted = true;
      // A media element cannot send a header: the token rides in the query.
      media.src = `${r.url}?access_token=${encodeURIComponent(token)}`;
      if (r.kind === "audio") box.append(media);
      const start = Date.parse(r.start);
      const end = r.end ? Date.parse(r.end) : start + (r.duration_ms || 0);
      this.list.push({ participant: r.participant, kind: r.kind, group: r.group || "", start, end, media });
    }
  }

  /**
   * sync plays the recordings that cover wall (ms on the event clock) at its
   * offset and rate, running or paused, and pauses the others; force sets
   * their position even when they have not drifted.
   */
  sync(wall, rate, run, force) {
    for (const r of this.list) {
      const on = r.group === this.group && wall >= r.start && wall < r.end;
      const m = r.media;
      if (!on) {
        if (!m.paused) m.pause();
        continue;
      }
      const want = (wall - r.start) / 1000;
      if (force || Math.abs(m.currentTime - want) > DRIFT * rate) m.currentTime = want;
      m.playbackRate = rate;
      if (run && m.paused) m.play().catch(() => {});
      if (!run && !m.paused) m.pause();
    }
  }

  /** current is the recording of a participant's video on the stage followed that plays at wall, newest first. */
  current(participant, wall) {
    let best = null;
    for (const r of this.list) {
      if (r.kind !== "video" || r.participant !== participant || r.group !== this.group || wall < r.start || wall >= r.end) continue;
      if (!best || r.start > best.start) best = r;
    }
    return best;
  }
}
