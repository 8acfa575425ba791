// streamkeys.js: the teacher's stream keys, in the lesson page's "Encoders
// and players" dialog. A publishing key lets an encoder (OBS, a hardware
// encoder) send the teacher's camera and microphone over WHIP; a viewing key
// lets a WHEP player watch the stage without joining. A key is shown once,
// when it is made, beside the URL to paste with it; revoking one ends what
// it opened. It takes the page's App (lesson.js) for the lesson and token.

import { $, el, toast } from "./views.js";
import { t, dateTime } from "./i18n.js";

async function api(app, method, path, body) {
  const r = await fetch(`/api/lessons/${app.lesson}/keys${path}`, { method,
    headers: { Authorization: `Bearer ${app.linkToken || app.token}`, "Content-Type": "application/json" },
    body: body ? JSON.stringify(body) : undefined });
  if (r.status === 204) return null;
  const out = await r.json();
  if (!r.ok) throw new Error(out.error ? out.error.message : r.statusText);
  return out;
}

const kinds = { publish: () => t("Publishing (OBS, encoder)"), view: () => t("Viewing (WHEP player)") };

/** render lists the lesson's keys, each live one with its Revoke button. */
async function render(app) {
  const list = await api(app, "GET", "");
  $("stream-viewers").textContent = t("{n} watching now", { n: list.viewers });
  $("stream-keys").replaceChildren(...list.keys.map((k) => {
    const item = el("li", { "data-key": k.id },
      el("span", {}, t("{label} · {kind} · made {when}", { label: k.label || t("(no label)"), kind: kinds[k.kind] ? kinds[k.kind]() : k.kind, when: dateTime(k.created) })));
    if (k.revoked) {
      item.append(el("span", { class: "note" }, t(" · revoked {when}", { when: dateTime(k.revoked) })));
    } else {
      const revoke = el("button", { type: "button" }, t("Revoke"));
      revoke.onclick = async () => {
        if (!confirm(t("Revoke this key? What it is sending or watching stops now."))) return;
        try {
          await api(app, "DELETE", `/${k.id}`);
          await render(app);
        } catch (err) {
          toast(t("Could not revoke the key: {reason}", { reason: err.message || err }), "error");
        }
      };
      item.append(" ", revoke);
    }
    return item;
  }));
}

/** openStreamKeys shows the dialog, its keys listed and a form to make one. */
export async function openStreamKeys(app) {
  const dialog = $("streams-dialog");
  $("stream-made").hidden = true;
  $("stream-form").onsubmit = async (e) => {
    e.preventDefault();
    try {
      const k = await api(app, "POST", "", { kind: $("stream-kind").value, label: $("stream-label").value });
      $("stream-url").value = k.url;
      $("stream-key").value = k.key;
      $("stream-made").hidden = false;
      $("stream-label").value = "";
      await render(app);
    } catch (err) {
      toast(t("Could not make a key: {reason}", { reason: err.message || err }), "error");
    }
  };
  $("streams-close").onclick = () => dialog.close();
  try {
    await render(app);
  } catch (err) {
    toast(t("Could not list the keys: {reason}", { reason: err.message || err }), "error");
  }
  if (!dialog.open) dialog.showModal();
}
