// toolbar.js: the lesson page's board and the controls around it: the
// tools, colours and width of the board (board.js), the teacher's page
// turning, and the upload of a slide deck (slides.js) that the class then
// follows.

import { Board } from "./board.js";
import { $, el, toast } from "./views.js";

const COLORS = ["#111827", "#dc2626", "#ea580c", "#16a34a", "#2563eb", "#7c3aed", "#ffffff"];
const TOOLS = [
  ["pen", "✎", "Pen (P)"], ["highlighter", "▮", "Highlighter (H)"], ["line", "╱", "Line (L)"],
  ["arrow", "↗", "Arrow (A)"], ["rectangle", "▭", "Rectangle (R)"], ["ellipse", "◯", "Ellipse (O)"],
  ["text", "T", "Text (T)"], ["eraser", "⌫", "Eraser (E)"], ["laser", "✦", "Laser pointer (K)"],
];

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
    tools.replaceChildren(...TOOLS.filter(([t]) => t !== "laser" || a.role === "teacher").map(([tool, icon, title]) =>
      el("button", { type: "button", "data-tool": tool, title, "aria-label": title, onclick: () => this.tool(tool) }, icon)));
    $("colors").replaceChildren(...COLORS.map((c) =>
      el("button", { type: "button", class: "swatch", "data-color": c, title: c, style: `background:${c}`, onclick: () => this.color(c) })));
    this.tool("pen");
    this.color(COLORS[4]);
    a.board.setWidth(Number($("width").value));
    a.board.setTextSize(Number($("text-size").value));
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
        onProgress: (done, total, phase) => { p.textContent = `${phase === "render" ? "Reading" : "Uploading"} page ${done} of ${total}…`; },
      });
    } catch (err) {
      p.textContent = "";
      toast(`Upload failed: ${err.message || err}`, "error");
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
