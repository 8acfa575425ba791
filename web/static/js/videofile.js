// videofile.js: a lesson's video file (/api/lessons/{id}/video, rendered by
// the server in the background): in a box the page gives it, how far the
// render is (percent, time left) while it runs, then a download link. The
// teacher may ask for it; everyone who may replay the lesson follows and
// fetches it. A server that renders no videos, or a lesson not to be
// replayed yet, leaves the box hidden.

import { claims } from "./mine.js";
import { t } from "./i18n.js";
import { clock } from "./clock.js";

const POLL_MS = 2000;

function megabytes(n) {
  return `${(n / 1e6).toFixed(n < 1e7 ? 1 : 0)} MB`;
}

/**
 * followVideo shows lesson's video status in box, following a render until
 * it is done or failed. It returns a function that stops following.
 */
export function followVideo(box, lesson, token, every = POLL_MS) {
  const base = `/api/lessons/${lesson}/video`;
  const auth = { Authorization: `Bearer ${token}` };
  const teacher = claims(token).role === "teacher";
  let timer = 0, stopped = false;

  const show = (...nodes) => {
    box.replaceChildren(...nodes);
    box.hidden = nodes.length === 0;
  };
  const text = (s) => Object.assign(document.createElement("span"), { textContent: s });
  const startButton = (label) => {
    const b = Object.assign(document.createElement("button"), { type: "button", textContent: label });
    b.addEventListener("click", async () => {
      b.disabled = true;
      const r = await fetch(base, { method: "POST", headers: auth }).catch(() => null);
      if (!r || !r.ok) {
        const body = r ? await r.json().catch(() => ({})) : {};
        show(text(t("Could not start the video: {reason}", { reason: body.error ? body.error.message : t("the server did not answer") })));
        return;
      }
      poll();
    });
    return b;
  };

  async function poll() {
    clearTimeout(timer);
    if (stopped) return;
    let st;
    try {
      const r = await fetch(`${base}/status`, { headers: auth });
      if (!r.ok) return show();
      st = await r.json();
    } catch {
      timer = setTimeout(poll, every * 2);
      return;
    }
    box.dataset.state = st.state;
    switch (st.state) {
      case "none":
        return teacher ? show(startButton(t("Make a video"))) : show();
      case "failed":
        return show(text(t("The video failed: {reason}", { reason: st.error })), ...(teacher ? [startButton(t("Try again"))] : []));
      case "done": {
        const a = Object.assign(document.createElement("a"), {
          href: `${base}?access_token=${encodeURIComponent(token)}`, textContent: t("Download video ({size})", { size: megabytes(st.size) }),
        });
        a.setAttribute("download", "");
        return show(a);
      }
      default: {
        const bar = Object.assign(document.createElement("progress"), { max: 100, value: st.percent || 0 });
        bar.setAttribute("aria-label", t("Video rendered so far"));
        const percent = Math.floor(st.percent);
        const words = st.state === "queued" ? t("Video: waiting to render") : st.seconds_left ?
          t("Video: {percent}%, about {left} left", { percent, left: clock(Math.round(st.seconds_left)) }) : t("Video: {percent}%", { percent });
        show(text(words), bar);
        timer = setTimeout(poll, every);
      }
    }
  }
  poll();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
