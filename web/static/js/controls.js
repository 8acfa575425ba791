// controls.js: the teacher's controls over who is in the lesson and what
// students may do (lobby, lock, admission, removal, mute, the chat switch),
// and what a student's page says of them: that they wait to be admitted,
// that they were muted or asked to unmute, what they may do now and why a
// control is greyed out. Every control is a command (docs/protocol.md,
// section 5) the server checks; the page only shows what the folded state
// says.

import { $, el, toast } from "./views.js";
import { t } from "./i18n.js";

export class Controls {
  constructor(app) {
    this.app = app;
    this.knownWaiting = new Set(); // whom the teacher has been told of
  }

  /** wire connects the teacher's buttons. */
  wire() {
    const quiet = () => this.render(); // send() has shown the refusal
    const send = (kind, data) => this.app.send(kind, data).catch(quiet);
    $("lobby-on").onchange = (e) => send("lobby.changed", { on: e.target.checked });
    $("lock").onchange = (e) => send("lesson.locked", { locked: e.target.checked });
    $("chat-on").onchange = (e) => send("chat.permitted", { allowed: e.target.checked });
    $("admit-all").onclick = () => send("participant.admitted", {});
    $("mute-all").onclick = () => send("media.muted", { audio: true, video: false });
    $("unmute-me").onclick = () => {
      const me = this.me();
      if (me) send("media.unmuted", { audio: me.audioMuted, video: me.videoMuted });
    };
  }

  me() {
    const s = this.app.state;
    return s ? s.participants.get(this.app.me) : null;
  }

  /** waiting shows the page of a student the lobby holds back. */
  waiting() {
    document.body.classList.add("waiting");
    $("lobby-screen").hidden = false;
  }

  /** entered takes the lobby screen away once the student is in. */
  entered() {
    document.body.classList.remove("waiting");
    $("lobby-screen").hidden = true;
  }

  /** render shows the controls as the state has them. */
  render() {
    const s = this.app.state;
    if (!s) return;
    const teacher = this.app.role === "teacher";
    if (teacher) this.renderTeacher(s);
    else this.renderStudent(s);
  }

  renderTeacher(s) {
    $("lobby-on").checked = s.lobby;
    $("lock").checked = s.locked;
    $("chat-on").checked = !s.chatClosed;
    const waiting = s.waiting || [];
    $("waiting-count").textContent = waiting.length ? String(waiting.length) : "";
    $("tab-waiting").textContent = waiting.length ? String(waiting.length) : "";
    $("admit-all").disabled = waiting.length === 0;
    $("waiting").replaceChildren(...waiting.map((w) => el("li", { "data-participant": w.id },
      el("span", { class: "name" }, w.name),
      el("button", { type: "button", class: "small admit", onclick: () => this.app.send("participant.admitted", { participant: w.id }).catch(() => {}) }, t("Admit")),
      el("button", { type: "button", class: "small deny", onclick: () => this.app.send("participant.denied", { participant: w.id }).catch(() => {}) }, t("Deny")))));
    const arrived = waiting.filter((w) => !this.knownWaiting.has(w.id));
    this.knownWaiting = new Set(waiting.map((w) => w.id));
    if (arrived.length && this.app.live) {
      knock();
      const names = arrived.map((w) => w.name).join(", ");
      toast(arrived.length === 1 ? t("{names} is waiting to be let in.", { names }) : t("{names} are waiting to be let in.", { names }));
    }
    // Per student: mute, ask to unmute, remove.
    for (const li of document.querySelectorAll("#people li[data-participant]")) {
      const p = s.participants.get(li.dataset.participant);
      if (!p || p.role !== "student" || li.querySelector(".controls")) continue;
      const id = p.id;
      const box = el("span", { class: "controls" });
      box.append(el("button", {
        type: "button", class: "small mute-mic", disabled: p.audioMuted,
        title: p.audioMuted ? t("Muted: only the student can turn it back on") : t("Stop this student's microphone reaching anyone"),
        onclick: () => this.app.send("media.muted", { participant: id, audio: true, video: false }).catch(() => {}),
      }, p.audioMuted ? t("mic muted") : t("Mute mic")));
      box.append(el("button", {
        type: "button", class: "small mute-cam", disabled: p.videoMuted,
        title: p.videoMuted ? t("Stopped: only the student can turn it back on") : t("Stop this student's camera reaching anyone"),
        onclick: () => this.app.send("media.muted", { participant: id, audio: false, video: true }).catch(() => {}),
      }, p.videoMuted ? t("camera stopped") : t("Stop camera")));
      if (p.audioMuted || p.videoMuted) {
        box.append(el("button", {
          type: "button", class: "small ask", disabled: p.unmuteAsked, title: t("Ask the student to turn it back on"),
          onclick: () => this.app.send("unmute.asked", { participant: id }).catch(() => {}),
        }, p.unmuteAsked ? t("asked") : t("Ask to unmute")));
      }
      box.append(el("button", {
        type: "button", class: "small remove", title: t("End this student's session and refuse them from now on"),
        onclick: () => {
          if (!confirm(t("Remove {name} from the lesson? They cannot come back with this identity, and newcomers will wait to be admitted.", { name: p.name }))) return;
          this.app.send("participant.removed", { participant: id }).catch(() => {});
        },
      }, t("Remove")));
      li.append(box);
    }
  }

  renderStudent(s) {
    const me = this.me();
    if (!me) return;
    const notes = [];
    if (me.audioMuted) notes.push(t("The teacher muted your microphone: nobody hears you."));
    if (me.videoMuted) notes.push(t("The teacher stopped your camera: nobody sees you."));
    if (me.unmuteAsked) notes.push(t("The teacher asks you to turn it back on."));
    const muted = me.audioMuted || me.videoMuted;
    $("muted-note").hidden = !muted;
    $("muted-text").textContent = notes.join(" ");
    $("unmute-me").hidden = !muted;
    const mayChat = s.mayChat(this.app.me) && s.status !== "ended";
    const input = $("chat-input");
    input.disabled = !mayChat;
    input.placeholder = mayChat ? t("Message the class") : t("The teacher has switched the chat off");
    const can = [];
    const cannot = [];
    (s.canDraw(this.app.me) ? can : cannot).push(t("draw"));
    (mayChat ? can : cannot).push(t("chat"));
    (me.audioMuted ? cannot : can).push(t("be heard when you have the floor"));
    const may = t("You may {things}.", { things: can.join(", ") || t("watch") });
    const not = cannot.length ? t("The teacher has not allowed you to {things}.", { things: cannot.join(", ") }) : "";
    $("my-permissions").textContent = not ? `${may} ${not}` : may;
    if (me.unmuteAsked && !this.asked) toast(t("The teacher asks you to unmute."));
    this.asked = me.unmuteAsked;
  }
}

/** knock plays a short double knock, when the page may play sound. */
function knock() {
  try {
    const ctx = new AudioContext();
    for (const at of [0, 0.18]) {
      const o = ctx.createOscillator();
      const g = ctx.createGain();
      o.frequency.value = 180;
      g.gain.setValueAtTime(0.3, ctx.currentTime + at);
      g.gain.exponentialRampToValueAtTime(0.001, ctx.currentTime + at + 0.12);
      o.connect(g).connect(ctx.destination);
      o.start(ctx.currentTime + at);
      o.stop(ctx.currentTime + at + 0.13);
    }
    setTimeout(() => ctx.close(), 600);
  } catch {
    // No sound: the badge and the message say it.
  }
}
