// links.js: the links of a lesson that the lesson page hands out: the
// students' link the teacher shares (and replaces, when it leaked), the
// token this device keeps to come back with, and the replay's link once the
// lesson has ended. Each takes the page's App (lesson.js).

import { claims } from "./mine.js";
import { $, toast } from "./views.js";
import { t } from "./i18n.js";

/**
 * invite puts a students' link on the clipboard: the current one, or with
 * `replace` a new one, which stops the earlier ones admitting.
 */
export async function invite(app, replace) {
  try {
    const r = await fetch(`/api/lessons/${app.lesson}/invitations`, { method: "POST",
      headers: { Authorization: `Bearer ${app.linkToken || app.token}`, "Content-Type": "application/json" },
      body: JSON.stringify({ replace }) });
    const body = await r.json();
    if (!r.ok) throw new Error(body.error ? body.error.message : r.statusText);
    app.studentsLink = new URL(body.url, location.href).href;
    try {
      await navigator.clipboard.writeText(app.studentsLink);
      toast(replace ? t("A new students' link is on your clipboard: the old one no longer admits anyone.") : t("The students' link is on your clipboard."));
    } catch {
      // No clipboard here (plain http, or refused): the link itself,
      // selected, to copy by hand.
      prompt(replace ? t("A new students' link (the old one no longer admits anyone): copy it from here.") : t("The students' link: copy it from here."), app.studentsLink);
    }
  } catch (err) {
    toast(t("Could not make a link: {reason}", { reason: err.message || err }), "error");
  }
}

/**
 * keptToken is the token to come back with later (the home page's list,
 * the replay): this participant's own, once the server gave it, unless the
 * link's lasts longer. A student's own still admits after the teacher has
 * replaced the class's link, and brings them back as the same participant.
 */
export function keptToken(app) {
  const own = app.token && app.token !== app.linkToken && claims(app.token).sub ? app.token : "";
  if (!own || !app.linkToken) return own || app.linkToken;
  return (claims(own).exp || 0) >= (claims(app.linkToken).exp || 0) ? own : app.linkToken;
}

/**
 * exportLesson downloads the lesson in one of the server's export formats
 * (json, ndjson, csv, chapters.vtt, chat.vtt, svg), with the teacher's token.
 */
export function exportLesson(lesson, token, format) {
  if (!format) return;
  const a = document.createElement("a");
  a.href = `/api/lessons/${lesson}/export?${new URLSearchParams({ format, access_token: token })}`;
  a.download = "";
  document.body.append(a);
  a.click();
  a.remove();
}

/** showReplay links the lesson's replay: everyone who took part may play it back, with the token they keep. */
export function showReplay(app) {
  const replay = $("replay");
  replay.href = `/lessons/${app.lesson}/replay#token=${encodeURIComponent(keptToken(app))}`;
  replay.hidden = false;
}
