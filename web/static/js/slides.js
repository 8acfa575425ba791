// slides.js: slide decks in the browser.
//
// The teacher uploads a PDF or images; the server stores and serves only page
// images (PNG, JPEG, WebP), which every browser shows without pdf.js. So the
// teacher's browser turns a PDF into images itself, page by page, with the
// vendored pdf.js (loaded only when a PDF is uploaded, in a module worker),
// and uploads images as they are. Everyone then shows page n of a deck from
// pageURL. The contract is POST /api/lessons/{id}/decks and
// GET /api/lessons/{id}/decks/{deck}/pages/{n} in docs/protocol.md, section 1.
//
//   const d = await uploadDeck(input.files, { lessonId, token, onProgress });
//   await conn.send("deck.added", { deck: d.deck, name: d.name, pages: d.pages });
//   img.src = pageURL(lessonId, d.deck, 0);

// The server's limits of a deck (web/decks.go, eventstore/decks.go).
import { MAX_DECK_PAGES, MAX_PAGE_BYTES, MAX_DECK_BYTES, MAX_PAGE_SIDE, MAX_NAME_RUNES } from "./limits.js";
import { t } from "./i18n.js";

/** The width, in pixels, PDF pages are rendered at. */
export const PAGE_WIDTH = 1600;

const IMAGE_TYPES = ["image/png", "image/jpeg", "image/webp"];
const PDFJS = new URL("../vendor/pdfjs/pdf.min.mjs", import.meta.url).href;
const PDFJS_WORKER = new URL("../vendor/pdfjs/pdf.worker.min.mjs", import.meta.url).href;

/**
 * UploadError is a refused or failed upload. code is the API's error code
 * ("invalid", "unauthorized", "forbidden", "not_found", "conflict",
 * "unavailable", …) and status the HTTP status (0 when the browser refused
 * before sending, or the network failed).
 */
export class UploadError extends Error {
  constructor(message, { code = "invalid", status = 0 } = {}) {
    super(message);
    this.name = "UploadError";
    this.code = code;
    this.status = status;
  }
}

/** pageURL is where page `page` (from 0) of a lesson's deck is served. */
export function pageURL(lessonId, deck, page) {
  return `/api/lessons/${encodeURIComponent(lessonId)}/decks/${encodeURIComponent(deck)}/pages/${Number(page)}`;
}

/**
 * uploadDeck uploads files as one slide deck of a lesson and resolves to the
 * server's answer, {deck, name, pages}, which the teacher's client then sends
 * as a deck.added command.
 *
 * files is a FileList or an array of Files (or Blobs), in page order: a PDF
 * becomes one page per PDF page, rendered `width` pixels wide (fitted within
 * MAX_PAGE_SIDE) as WebP, or PNG where the browser cannot encode WebP; a PNG, JPEG
 * or WebP image is one page as it is; another image type the browser can
 * decode is converted. The deck is named `name`, or after the first file.
 * onProgress(done, total, phase) is called with pages rendered ("render")
 * and then pages sent ("upload"). An AbortSignal in `signal` cancels.
 * Failures reject with an UploadError.
 */
export async function uploadDeck(files, { lessonId, token, onProgress = () => {}, name, width = PAGE_WIDTH, signal } = {}) {
  const list = Array.from(files || []);
  if (!list.length) throw new UploadError("choose a PDF or images to upload");
  if (!lessonId || !token) throw new UploadError("uploadDeck needs the lesson's id and the teacher's token");
  width = Math.max(1, Math.min(MAX_PAGE_SIDE, Math.round(width)));

  // Open every file first, so that progress knows the number of pages.
  const sources = [];
  try {
    for (const file of list) {
      const pdf = await isPDF(file);
      sources.push(await (pdf ? openPDF(file) : openImage(file)));
    }
    const total = sources.reduce((n, s) => n + s.pages, 0);
    if (total > MAX_DECK_PAGES) throw new UploadError(`a deck has at most ${MAX_DECK_PAGES} pages, these files have ${total}`);
    const pages = [];
    let bytes = 0;
    onProgress(0, total, "render");
    for (const src of sources) {
      for (let i = 0; i < src.pages; i++) {
        if (signal?.aborted) throw new UploadError("the upload was cancelled", { code: "canceled" });
        const blob = await src.page(i, width);
        if (blob.size > MAX_PAGE_BYTES) {
          throw new UploadError(`page ${pages.length + 1} is ${mib(blob.size)}; a page may have ${mib(MAX_PAGE_BYTES)}`, { status: 413 });
        }
        if ((bytes += blob.size) > MAX_DECK_BYTES) {
          throw new UploadError(`the deck is larger than ${mib(MAX_DECK_BYTES)}`, { status: 413 });
        }
        pages.push(blob);
        onProgress(pages.length, total, "render");
      }
    }
    return await post(lessonId, token, deckName(name, list[0]), pages, onProgress, signal);
  } finally {
    for (const s of sources) s.close();
  }
}

function mib(n) {
  return `${(n / (1 << 20)).toFixed(1)} MiB`;
}

function deckName(name, first) {
  let s = String(name || first?.name || "").trim();
  if (!name) s = s.replace(/\.[A-Za-z0-9]{1,5}$/, "");
  s = Array.from(s).slice(0, MAX_NAME_RUNES).join("").trim();
  return s || t("Slides");
}

async function isPDF(file) {
  if (file.type === "application/pdf" || /\.pdf$/i.test(file.name || "")) return true;
  const head = new Uint8Array(await file.slice(0, 5).arrayBuffer());
  return String.fromCharCode(...head) === "%PDF-";
}

let pdfjs = null; // the pdf.js module, loaded at the first PDF

function loadPDFJS() {
  pdfjs ??= import(PDFJS).then((m) => {
    m.GlobalWorkerOptions.workerSrc = PDFJS_WORKER;
    return m;
  }, (err) => {
    pdfjs = null;
    throw new UploadError(`pdf.js could not be loaded: ${err.message || err}`, { code: "unavailable" });
  });
  return pdfjs;
}

// A source is one file's pages: {pages, page(i, width) → Blob, close()}.

async function openPDF(file) {
  const lib = await loadPDFJS();
  const task = lib.getDocument({ data: new Uint8Array(await file.arrayBuffer()), isEvalSupported: false });
  let doc;
  try {
    doc = await task.promise;
  } catch (err) {
    task.destroy();
    throw new UploadError(`${file.name || "the PDF"} could not be read: ${err.message || err}`);
  }
  return {
    pages: doc.numPages,
    async page(i, width) {
      const page = await doc.getPage(i + 1);
      try {
        const base = page.getViewport({ scale: 1 });
        const scale = Math.min(width / base.width, MAX_PAGE_SIDE / base.width, MAX_PAGE_SIDE / base.height);
        const viewport = page.getViewport({ scale });
        const canvas = document.createElement("canvas");
        canvas.width = Math.max(1, Math.floor(viewport.width));
        canvas.height = Math.max(1, Math.floor(viewport.height));
        await page.render({ canvas, viewport, background: "#ffffff" }).promise;
        return await encode(canvas);
      } finally {
        page.cleanup();
      }
    },
    close() {
      task.destroy();
    },
  };
}

async function openImage(file) {
  if (!file.type.startsWith("image/") && !/\.(png|jpe?g|webp|gif|bmp|avif)$/i.test(file.name || "")) {
    throw new UploadError(`${file.name || "a file"} is neither a PDF nor an image`);
  }
  let bitmap;
  try {
    bitmap = await createImageBitmap(file);
  } catch {
    throw new UploadError(`${file.name || "an image"} could not be read as an image`);
  }
  const asIs = IMAGE_TYPES.includes(file.type) && file.size <= MAX_PAGE_BYTES &&
    bitmap.width <= MAX_PAGE_SIDE && bitmap.height <= MAX_PAGE_SIDE;
  return {
    pages: 1,
    async page(_, width) {
      if (asIs) return file;
      // Another type, or too large: drawn again, at most `width` wide.
      const scale = Math.min(1, width / bitmap.width, MAX_PAGE_SIDE / bitmap.height);
      const canvas = document.createElement("canvas");
      canvas.width = Math.max(1, Math.round(bitmap.width * scale));
      canvas.height = Math.max(1, Math.round(bitmap.height * scale));
      const ctx = canvas.getContext("2d");
      ctx.fillStyle = "#ffffff";
      ctx.fillRect(0, 0, canvas.width, canvas.height);
      ctx.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      return encode(canvas);
    },
    close() {
      bitmap.close();
    },
  };
}

function toBlob(canvas, type, quality) {
  return new Promise((resolve) => canvas.toBlob(resolve, type, quality));
}

// encode turns a canvas into WebP, or PNG where the browser encodes no WebP
// (toBlob then gives PNG), and frees the canvas's pixels.
async function encode(canvas) {
  try {
    let blob = await toBlob(canvas, "image/webp", 0.92);
    if (!blob || blob.type !== "image/webp") blob = await toBlob(canvas, "image/png");
    if (!blob) throw new UploadError("the browser could not encode a page image");
    return blob;
  } finally {
    canvas.width = canvas.height = 0;
  }
}

const EXT = { "image/png": "png", "image/jpeg": "jpg", "image/webp": "webp" };

// post sends the pages and reports, from the bytes sent, how many pages
// have reached the server.
function post(lessonId, token, name, pages, onProgress, signal) {
  const form = new FormData();
  form.append("name", name);
  const ends = [];
  let sum = 0;
  pages.forEach((blob, i) => {
    form.append("page", blob, `page-${i + 1}.${EXT[blob.type] || "img"}`);
    ends.push((sum += blob.size));
  });
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `/api/lessons/${encodeURIComponent(lessonId)}/decks`);
    xhr.setRequestHeader("Authorization", `Bearer ${token}`);
    onProgress(0, pages.length, "upload");
    xhr.upload.onprogress = (e) => {
      if (!e.lengthComputable || !e.total) return;
      const sent = (e.loaded / e.total) * sum;
      let done = 0;
      while (done < ends.length && ends[done] <= sent) done++;
      onProgress(done, pages.length, "upload");
    };
    xhr.onload = () => {
      let body = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        // answered below
      }
      if (xhr.status === 201 && body && body.deck) {
        onProgress(pages.length, pages.length, "upload");
        resolve({ deck: body.deck, name: body.name, pages: body.pages });
        return;
      }
      const e = body && body.error;
      reject(new UploadError(e ? e.message : t("the server answered {status}", { status: xhr.status }),
        { code: e ? e.code : "internal", status: xhr.status }));
    };
    xhr.onerror = () => reject(new UploadError(t("the upload failed: the network or the server is down"), { code: "unavailable" }));
    xhr.onabort = () => reject(new UploadError("the upload was cancelled", { code: "canceled" }));
    if (signal) {
      if (signal.aborted) return xhr.onabort();
      signal.addEventListener("abort", () => xhr.abort(), { once: true });
    }
    xhr.send(form);
  });
}
