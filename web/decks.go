package web

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"golang.org/x/image/webp"

	"classroom/domain"
	"classroom/eventstore"
)

// Limits of an uploaded slide deck.
const (
	// MaxPageSide is the most pixels a page image may have on a side: the
	// browsers of the whole class decode every page they are shown.
	MaxPageSide = 8192
	// maxUploads is how many deck uploads one server reads at once; each
	// holds its deck in memory until it is stored.
	maxUploads = 4
	// uploadTimeout is how long a deck upload may take, reading and
	// answering, in place of the server's shorter timeouts.
	uploadTimeout = 10 * time.Minute
	// multipartOverhead is what the body of an upload may hold besides its
	// page images: the name and the parts' headers.
	multipartOverhead = 1 << 20
)

// DeckLimits bounds uploaded decks. A zero field means the default.
type DeckLimits struct {
	PageBytes int64 // one page image; default and most eventstore.MaxPageBytes
	DeckBytes int64 // all the page images of a deck; default and most eventstore.MaxDeckBytes
	Side      int   // pixels on a side of a page; default and most MaxPageSide
}

func (l DeckLimits) withDefaults() DeckLimits {
	if l.PageBytes <= 0 || l.PageBytes > eventstore.MaxPageBytes {
		l.PageBytes = eventstore.MaxPageBytes
	}
	if l.DeckBytes <= 0 || l.DeckBytes > eventstore.MaxDeckBytes {
		l.DeckBytes = eventstore.MaxDeckBytes
	}
	if l.Side <= 0 || l.Side > MaxPageSide {
		l.Side = MaxPageSide
	}
	return l
}

// deckJSON is an uploaded deck as the API answers it.
type deckJSON struct {
	Deck  uuid.UUID `json:"deck"`
	Name  string    `json:"name"`
	Pages int       `json:"pages"`
}

// uploadDeck stores a slide deck of page images for a lesson:
// POST /api/lessons/{id}/decks with the teacher's token as Authorization:
// Bearer … and a multipart/form-data body of one "name" part and one "page"
// part per page, in order. Every page must be a whole PNG, JPEG or WebP
// image within the limits; the upload is stored whole or not at all. The
// answer names the new deck, which the teacher's client then adds to the
// lesson with a deck.added command.
func (a *API) uploadDeck(w http.ResponseWriter, r *http.Request) {
	lesson, err := a.teacherPath(r, "uploads slides")
	if err != nil {
		a.fail(w, r, err)
		return
	}
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		a.fail(w, r, &statusError{http.StatusUnsupportedMediaType,
			domain.Errorf(domain.CodeInvalid, "the body must be multipart/form-data: a \"name\" part, then one \"page\" part per page")})
		return
	}
	l, err := a.store.Lesson(r.Context(), lesson)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if !l.Ended.IsZero() {
		a.fail(w, r, domain.Errorf(domain.CodeConflict, "the lesson has ended").Because(domain.ReasonLessonEnded))
		return
	}

	select {
	case a.uploads <- struct{}{}:
		defer func() { <-a.uploads }()
	case <-r.Context().Done():
		return
	}
	// A large deck over a slow link takes longer than the server's
	// timeouts allow ordinary requests.
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Now().Add(uploadTimeout))
	_ = rc.SetWriteDeadline(time.Now().Add(uploadTimeout))

	lim := a.cfg.DeckLimits
	body := http.MaxBytesReader(w, r.Body, lim.DeckBytes+multipartOverhead)
	name, pages, err := readDeck(multipart.NewReader(body, params["boundary"]), lim)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	deck := uuid.New()
	// The deck must be one a deck.added command can name: check it as the
	// lesson's rules will.
	added := domain.Event{ID: uuid.New(), Lesson: lesson, Version: domain.EventVersion, Role: domain.RoleTeacher,
		Time: a.now(), Payload: &domain.DeckAdded{Deck: deck, Name: name, Pages: len(pages)}}
	if err := added.Validate(); err != nil {
		a.fail(w, r, err)
		return
	}
	if err := a.decks.PutDeck(r.Context(), lesson, deck, name, pages); err != nil {
		a.fail(w, r, err)
		return
	}
	a.reply(w, http.StatusCreated, deckJSON{Deck: deck, Name: name, Pages: len(pages)})
}

// tooLarge is an error answered with 413.
func tooLarge(format string, args ...any) error {
	return &statusError{http.StatusRequestEntityTooLarge, domain.Errorf(domain.CodeInvalid, format, args...)}
}

// readDeck reads an upload's parts: one "name" (anywhere) and the "page"
// parts, in page order. It checks every page as it arrives and stops at the
// first one out of bounds, so a refused upload is not read to its end. Its
// errors are *domain.Error values, wrapped in a statusError when the upload
// is too large.
func readDeck(mr *multipart.Reader, lim DeckLimits) (string, []eventstore.Page, error) {
	lim = lim.withDefaults()
	var (
		name    string
		hasName bool
		pages   []eventstore.Page
		total   int64
	)
	for {
		part, err := mr.NextRawPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return "", nil, readError(err)
		}
		switch part.FormName() {
		case "name":
			if hasName {
				return "", nil, domain.Errorf(domain.CodeInvalid, "the upload has two \"name\" parts")
			}
			b, err := io.ReadAll(io.LimitReader(part, 4*domain.MaxNameRunes+1))
			if err != nil {
				return "", nil, readError(err)
			}
			if len(b) > 4*domain.MaxNameRunes || utf8.RuneCount(b) > domain.MaxNameRunes {
				return "", nil, domain.Errorf(domain.CodeInvalid, "the deck's name is longer than %d characters", domain.MaxNameRunes)
			}
			if !utf8.Valid(b) || len(b) == 0 {
				return "", nil, domain.Errorf(domain.CodeInvalid, "the deck's name must be 1 to %d characters of UTF-8", domain.MaxNameRunes)
			}
			name, hasName = string(b), true
		case "page":
			n := len(pages)
			if n == domain.MaxDeckPages {
				return "", nil, domain.Errorf(domain.CodeInvalid, "a deck has at most %d pages", domain.MaxDeckPages)
			}
			data, err := io.ReadAll(io.LimitReader(part, lim.PageBytes+1))
			if err != nil {
				return "", nil, readError(err)
			}
			if int64(len(data)) > lim.PageBytes {
				return "", nil, tooLarge("page %d is larger than %d bytes", n, lim.PageBytes)
			}
			if total += int64(len(data)); total > lim.DeckBytes {
				return "", nil, tooLarge("the deck is larger than %d bytes", lim.DeckBytes)
			}
			contentType, err := checkPage(data, lim.Side)
			if err != nil {
				return "", nil, domain.Errorf(domain.CodeInvalid, "page %d: %s", n, domain.ErrorMessage(err))
			}
			pages = append(pages, eventstore.Page{ContentType: contentType, Data: data})
		default:
			return "", nil, domain.Errorf(domain.CodeInvalid, "unexpected part %q: send \"name\" and \"page\" parts", part.FormName())
		}
	}
	if !hasName {
		return "", nil, domain.Errorf(domain.CodeInvalid, "the upload has no \"name\" part")
	}
	if len(pages) == 0 {
		return "", nil, domain.Errorf(domain.CodeInvalid, "the upload has no \"page\" part")
	}
	return name, pages, nil
}

// readError turns a failure to read an upload's body into an API error.
func readError(err error) error {
	var big *http.MaxBytesError
	if errors.As(err, &big) {
		return tooLarge("the upload is larger than %d bytes", big.Limit)
	}
	return domain.Errorf(domain.CodeInvalid, "malformed multipart body: %v", err)
}

var (
	pngMagic  = []byte("\x89PNG\r\n\x1a\n")
	jpegMagic = []byte{0xff, 0xd8, 0xff}
)

// checkPage checks that b is one whole PNG, JPEG or WebP image of 1 to
// maxSide pixels a side and returns its content type. It reads the image's
// header and its container's structure, never its pixels: a page of the
// largest size would take 256 MiB to decode. What arrives truncated, or
// carries anything after the image's end, is refused.
func checkPage(b []byte, maxSide int) (string, error) {
	var (
		contentType, format string
		cfg                 image.Config
		err                 error
	)
	switch {
	case bytes.HasPrefix(b, pngMagic):
		contentType, format = eventstore.PNG, "PNG"
		if cfg, err = png.DecodeConfig(bytes.NewReader(b)); err == nil {
			err = checkPNG(b)
		}
	case bytes.HasPrefix(b, jpegMagic):
		contentType, format = eventstore.JPEG, "JPEG"
		if cfg, err = jpeg.DecodeConfig(bytes.NewReader(b)); err == nil && !bytes.HasSuffix(b, []byte{0xff, 0xd9}) {
			err = errors.New("the JPEG does not end with its end-of-image marker: truncated?")
		}
	case len(b) >= 12 && string(b[:4]) == "RIFF" && string(b[8:12]) == "WEBP":
		contentType, format = eventstore.WebP, "WebP"
		if err = checkRIFF(b); err == nil {
			cfg, err = webp.DecodeConfig(bytes.NewReader(b))
		}
	case bytes.HasPrefix(b, []byte("%PDF-")):
		return "", domain.Errorf(domain.CodeInvalid, "a PDF, not an image: upload its pages as images (the browser client renders them)")
	default:
		return "", domain.Errorf(domain.CodeInvalid, "not a PNG, JPEG or WebP image")
	}
	if err != nil {
		return "", domain.Errorf(domain.CodeInvalid, "a broken %s image: %v", format, err)
	}
	if cfg.Width < 1 || cfg.Height < 1 || cfg.Width > maxSide || cfg.Height > maxSide {
		return "", domain.Errorf(domain.CodeInvalid, "the image is %d×%d pixels; a page has 1 to %d a side", cfg.Width, cfg.Height, maxSide)
	}
	return contentType, nil
}

// checkPNG walks a PNG's chunks after the signature, checking each one's
// length and checksum, and requires image data and an IEND chunk that ends
// the file.
func checkPNG(b []byte) error {
	b = b[len(pngMagic):]
	idat := false
	for len(b) > 0 {
		if len(b) < 12 {
			return errors.New("truncated chunk")
		}
		n := uint64(binary.BigEndian.Uint32(b))
		if n > uint64(len(b)-12) {
			return errors.New("truncated chunk")
		}
		typ := string(b[4:8])
		if crc32.ChecksumIEEE(b[4:8+n]) != binary.BigEndian.Uint32(b[8+n:]) {
			return fmt.Errorf("chunk %q has a bad checksum", typ)
		}
		b = b[12+n:]
		switch typ {
		case "IDAT":
			idat = true
		case "IEND":
			if !idat {
				return errors.New("no image data")
			}
			if len(b) > 0 {
				return errors.New("data after the end of the image")
			}
			return nil
		}
	}
	return errors.New("no end chunk: truncated?")
}

// checkRIFF checks that a WebP's RIFF container holds exactly the file: its
// declared size and its chunks' sizes add up to the bytes there are.
func checkRIFF(b []byte) error {
	if uint64(binary.LittleEndian.Uint32(b[4:8]))+8 != uint64(len(b)) {
		return fmt.Errorf("the container declares %d bytes and holds %d: truncated?", binary.LittleEndian.Uint32(b[4:8]), len(b)-8)
	}
	for b = b[12:]; len(b) > 0; {
		if len(b) < 8 {
			return errors.New("truncated chunk")
		}
		n := uint64(binary.LittleEndian.Uint32(b[4:8]))
		n += n & 1 // chunks are padded to an even size
		if n > uint64(len(b)-8) {
			return fmt.Errorf("chunk %q is truncated", b[:4])
		}
		b = b[8+n:]
	}
	return nil
}

// deckPage serves page n (from 0) of a lesson's deck:
// GET /api/lessons/{id}/decks/{deck}/pages/{n}. It asks no token: deck ids
// are random and known only to the lesson's participants, so the URL is the
// capability. Pages never change, so browsers keep them for good.
func (a *API) deckPage(w http.ResponseWriter, r *http.Request) {
	lesson, err := pathLesson(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	deck, err := uuid.Parse(r.PathValue("deck"))
	if err != nil {
		a.fail(w, r, domain.Errorf(domain.CodeInvalid, "%q is not a deck id", r.PathValue("deck")))
		return
	}
	n, err := strconv.Atoi(r.PathValue("n"))
	if err != nil || n < 0 {
		a.fail(w, r, domain.Errorf(domain.CodeInvalid, "%q is not a page number (from 0)", r.PathValue("n")))
		return
	}
	page, err := a.decks.Page(r.Context(), lesson, deck, n)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", page.ContentType)
	h.Set("ETag", `"`+hex.EncodeToString(page.SHA256[:])+`"`)
	h.Set("Cache-Control", "private, max-age=31536000, immutable")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(page.Data))
}
