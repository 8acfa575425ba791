// toolbar.js: the lesson page's board and the controls around it: the
// tools, colours and width of the board (board.js), the teacher's page
// turning, and the upload of a slide deck (slides.js) that the class then
// follows.

import { Board } from "./board.js";
import { $, el, toast } from "./views.js";
import { t } from "./i18n.js";

const COLORS = ["#111827", "#dc2626", "#ea580c", "#16a34a", "#2563eb", "#7c3aed", "#ffffff"];
// The tools and colours' names are functions, worded in the page's language
// when asked for.
const TOOLS = () => [
  ["pen", "✎", t("Pen (P)")], ["highlighter", "▮", t("Highlighter (H)")], ["line", "╱", t("Line (L)")],
  ["arrow", "↗", t("Arrow (A)")], ["rectangle", "▭", t("Rectangle (R)")], ["ellipse", "◯", t("Ellipse (O)")],
  ["text", "T", t("Text (T)")], ["eraser", "⌫", t("Eraser (E)")], ["laser", "✦", t("Laser pointer (K)")],
];
const COLOR_NAMES = () => ({ "#111827": t("black"), "#dc2626": t("red"), "#ea580c": t("orange"), "#16a34a": t("green"),
  "#2563eb": t("blue"), "#7c3aed": t("purple"), "#ffffff": t("white") });

/** Toolbar makes the page's board and runs the buttons that act on it. */
export class Toolbar {
  constructor(app) {
    this.app = app;
  }

  /** makeBoard makes the board for this participant, with the tools their role has. */
  makeBoard() {
    const a = this.app;
    a.board = new Board($("board"), {
      send: (kind, data) => a.send(kind, data),
      sendEphemeral: (msg) => a.sendEphemeral(msg),
      me: a.me,
      isTeacher: a.role === "teacher",
      onerror: () => {}, // send() already showed it
      ontool: (t) => this.tool(t),
    });
    window.classroom.board = a.board;
    const tools = $("tools");
    tools.replaceChildren(...TOOLS().filter(([t]) => t !== "laser" || a.role === "teacher").map(([tool, icon]) =>
      el("button", { type: "button", "data-tool": tool, onclick: () => this.tool(tool) }, icon)));
    $("colors").replaceChildren(...COLORS.map((c) =>
      el("button", { type: "button", class: "swatch", "data-color": c, style: `background:${c}`, onclick: () => this.color(c) })));
    this.relabel();
    this.tool("pen");
    this.color(COLORS[4]);
    a.board.setWidth(Number($("width").value));
    a.board.setTextSize(Number($("text-size").value));
  }

  /** relabel names the tools and colours in the page's language. */
  relabel() {
    const titles = Object.fromEntries(TOOLS().map(([tool, , title]) => [tool, title])), colors = COLOR_NAMES();
    for (const b of $("tools").children) {
      b.title = titles[b.dataset.tool];
      b.setAttribute("aria-label", b.title);
    }
    for (const b of $("colors").children) {
      b.title = colors[b.dataset.color];
      b.setAttribute("aria-label", b.title);
    }
  }

  /** shortcuts lists the board's keyboard shortcuts for people. */
  shortcuts() {
    const tools = TOOLS().filter(([tool]) => tool !== "laser" || this.app.role === "teacher").map(([, , title]) => title);
    const more = [t("Undo (Ctrl+Z)"), t("Redo (Ctrl+Shift+Z)")];
    if (this.app.role === "teacher") more.push(t("Previous and next page (PageUp, PageDown)"));
    return [...tools, ...more];
  }

  /** tool picks a tool of the board. */
  tool(t) {
    this.app.board.setTool(t);
    for (const b of $("tools").children) b.setAttribute("aria-pressed", String(b.dataset.tool === t));
  }

  /** color picks the colour of what is drawn next. */
  color(c) {
    this.app.board.setColor(c);
    for (const b of $("colors").children) b.setAttribute("aria-pressed", String(b.dataset.color === c));
  }

  /** go moves the class to another page (teacher). */
  go(delta) {
    const a = this.app;
    const sl = a.state.slide;
    a.send("slide.changed", { slide: { deck: sl.deck, page: sl.page + delta } }).catch(() => {});
  }

  /** upload sends a deck's pages to the server, adds the deck to the lesson and shows its first page (teacher). */
  async upload(files) {
    const a = this.app;
    if (!files.length) return;
    const p = $("upload-progress");
    let d;
    try {
      // pdf.js is large: it is loaded when a teacher first uploads.
      const { uploadDeck } = await import("./slides.js");
      d = await uploadDeck(files, {
        lessonId: a.lesson, token: a.linkToken || a.token,
        onProgress: (done, total, phase) => {
          p.textContent = phase === "render" ? t("Reading page {done} of {total}…", { done, total }) : t("Uploading page {done} of {total}…", { done, total });
        },
      });
    } catch (err) {
      p.textContent = "";
      toast(t("Upload failed: {reason}", { reason: err.message || err }), "error");
      return;
    }
    p.textContent = "";
    try {
      await a.send("deck.added", { deck: d.deck, name: d.name, pages: d.pages });
      await a.send("slide.changed", { slide: { deck: d.deck, page: 0 } });
    } catch {
      // send() has shown the refusal
    }
  }

}
