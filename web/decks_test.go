package web_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"golang.org/x/image/webp"

	"classroom/domain"
	"classroom/eventstore"
	"classroom/realtime/token"
	"classroom/web"
)

// Two WebP pages of 40×30 made by ffmpeg with libwebp: a lossless red one
// (VP8L) and a lossy blue one (VP8).
var (
	webpLossless = mustHex("524946461c000000574542505650384c0f0000002f274007000710f58ffe0722a2ff0100")
	webpLossy    = mustHex("524946464800000057454250565038203c0000001003009d012a28001e003ed166ac50a825a422a568" +
		"01001a0967000029436f5f0000fef09b43fffe849fffc4d9fff49b3e115fd25d2e2f6f03260000")
)

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// openStore opens the store a web test runs on: "sqlite" (a fresh file) or
// "postgres" (DATABASE_URL, which the test fails without).
func openStore(t *testing.T, kind string) eventstore.Store {
	t.Helper()
	var (
		s   eventstore.Store
		err error
	)
	switch kind {
	case "postgres":
		url := os.Getenv("DATABASE_URL")
		if url == "" {
			t.Fatal("DATABASE_URL is not set: run the tests through scripts/test, or point DATABASE_URL at a PostgreSQL")
		}
		s, err = eventstore.OpenPostgres(context.Background(), url, quietLog())
	default:
		s, err = eventstore.OpenSQLite(context.Background(), t.TempDir(), quietLog())
	}
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// deckSite is the HTTP API on a store, with a token clock the test moves.
type deckSite struct {
	t      *testing.T
	store  eventstore.Store
	decks  eventstore.Decks
	srv    *httptest.Server
	tokens *token.Keeper
	clock  atomic.Int64 // the tokens' time, Unix seconds
}

func newDeckSite(t *testing.T, kind string, lim web.DeckLimits) *deckSite {
	t.Helper()
	s := &deckSite{t: t, store: openStore(t, kind)}
	s.clock.Store(time.Now().Unix())
	var err error
	s.tokens, err = token.NewKeeper(bytes.Repeat([]byte("k"), 32), func() time.Time { return time.Unix(s.clock.Load(), 0) })
	if err != nil {
		t.Fatal(err)
	}
	s.decks = s.store.(eventstore.Decks)
	s.srv = httptest.NewServer(web.NewHandler(web.Config{Store: s.store, Tokens: s.tokens, Logger: quietLog(), DeckLimits: lim}))
	t.Cleanup(func() {
		s.srv.Close()
		s.store.Close()
	})
	return s
}

type siteLesson struct {
	ID       uuid.UUID
	Teacher  struct{ Token string }
	Students struct{ Token string }
}

func (s *deckSite) newLesson() siteLesson {
	s.t.Helper()
	resp, err := http.Post(s.srv.URL+"/api/lessons", "application/json", strings.NewReader(`{"title":"Slides"}`))
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	var l siteLesson
	if err := json.NewDecoder(resp.Body).Decode(&l); err != nil || resp.StatusCode != http.StatusCreated {
		s.t.Fatalf("create a lesson: %d %v", resp.StatusCode, err)
	}
	return l
}

// part is one part of an upload's body.
type part struct {
	name string
	data []byte
}

func name(s string) part { return part{"name", []byte(s)} }
func page(b []byte) part { return part{"page", b} }
func pages(b ...[]byte) []part {
	out := make([]part, len(b))
	for i := range b {
		out[i] = page(b[i])
	}
	return out
}

// upload posts a deck and decodes the JSON answer into out.
func (s *deckSite) upload(lesson uuid.UUID, tok string, parts []part, out any) *http.Response {
	s.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for i, p := range parts {
		var w io.Writer
		var err error
		if p.name == "page" {
			w, err = mw.CreateFormFile("page", fmt.Sprintf("page-%d.png", i))
		} else {
			w, err = mw.CreateFormField(p.name)
		}
		if err != nil {
			s.t.Fatal(err)
		}
		w.Write(p.data)
	}
	mw.Close()
	return s.post(lesson, tok, mw.FormDataContentType(), &body, out)
}

func (s *deckSite) post(lesson uuid.UUID, tok, contentType string, body io.Reader, out any) *http.Response {
	s.t.Helper()
	req, err := http.NewRequest("POST", s.srv.URL+"/api/lessons/"+lesson.String()+"/decks", body)
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		s.t.Fatalf("upload: %d, Content-Type %q, body %s", resp.StatusCode, ct, b)
	}
	if err := json.Unmarshal(b, out); err != nil {
		s.t.Fatalf("upload: %v in %s", err, b)
	}
	return resp
}

// get fetches a path with extra headers and returns the answer and its body.
func (s *deckSite) get(path string, header http.Header) (*http.Response, []byte) {
	s.t.Helper()
	req, err := http.NewRequest("GET", s.srv.URL+path, nil)
	if err != nil {
		s.t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	return resp, b
}

func (s *deckSite) deckCount(lesson uuid.UUID) int {
	s.t.Helper()
	list, err := s.decks.LessonDecks(context.Background(), lesson)
	if err != nil {
		s.t.Fatal(err)
	}
	return len(list)
}

type uploaded struct {
	Deck  uuid.UUID
	Name  string
	Pages int
}

func pagePath(lesson uuid.UUID, deck, n any) string {
	return fmt.Sprintf("/api/lessons/%s/decks/%s/pages/%v", lesson, deck, n)
}

// pngOf encodes a w×h image; noisy pages hardly compress.
func pngOf(t testing.TB, w, h int, noisy bool) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	r := rand.New(rand.NewPCG(uint64(w), uint64(h)))
	for i := range img.Pix {
		if noisy {
			img.Pix[i] = byte(r.Uint32())
		} else {
			img.Pix[i] = byte(i)
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func jpegOf(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for x := range w {
		img.Set(x, x%h, color.RGBA{200, 30, 30, 255})
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// withPNGSize rewrites a PNG's declared size (and its header's checksum).
func withPNGSize(b []byte, w, h uint32) []byte {
	b = bytes.Clone(b)
	binary.BigEndian.PutUint32(b[16:], w)
	binary.BigEndian.PutUint32(b[20:], h)
	binary.BigEndian.PutUint32(b[29:], crc32.ChecksumIEEE(b[12:29]))
	return b
}

func TestDecks(t *testing.T) {
	for _, kind := range []string{"sqlite", "postgres"} {
		t.Run(kind, func(t *testing.T) {
			t.Run("UploadAndServe", func(t *testing.T) { testUploadAndServe(t, kind) })
			t.Run("Refused", func(t *testing.T) { testUploadRefused(t, kind) })
		})
	}
}

func testUploadAndServe(t *testing.T, kind string) {
	s := newDeckSite(t, kind, web.DeckLimits{})
	l := s.newLesson()
	sent := [][]byte{pngOf(t, 160, 120, false), jpegOf(t, 64, 48), webpLossless, webpLossy}
	types := []string{"image/png", "image/jpeg", "image/webp", "image/webp"}
	var got uploaded
	resp := s.upload(l.ID, l.Teacher.Token, append([]part{name("Fractions — week 3")}, pages(sent...)...), &got)
	if resp.StatusCode != http.StatusCreated || got.Deck == uuid.Nil || got.Name != "Fractions — week 3" || got.Pages != 4 {
		t.Fatalf("upload: %d %+v", resp.StatusCode, got)
	}
	d, err := s.decks.Deck(context.Background(), l.ID, got.Deck)
	if err != nil || d.Pages != 4 || d.Name != got.Name {
		t.Fatalf("stored deck: %+v, %v", d, err)
	}

	for i, want := range sent {
		// Anyone holding the URL reads the page, without a token.
		resp, body := s.get(pagePath(l.ID, got.Deck, i), nil)
		etag := `"` + hex.EncodeToString(sha256Of(want)) + `"`
		if resp.StatusCode != http.StatusOK || !bytes.Equal(body, want) || resp.Header.Get("Content-Type") != types[i] ||
			resp.Header.Get("ETag") != etag || resp.Header.Get("Cache-Control") != "private, max-age=31536000, immutable" ||
			resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Fatalf("page %d: %d, %d bytes, headers %v", i, resp.StatusCode, len(body), resp.Header)
		}
		resp, body = s.get(pagePath(l.ID, got.Deck, i), http.Header{"If-None-Match": {etag}})
		if resp.StatusCode != http.StatusNotModified || len(body) != 0 {
			t.Fatalf("page %d revalidated: %d, %d bytes", i, resp.StatusCode, len(body))
		}
		resp, _ = s.get(pagePath(l.ID, got.Deck, i), http.Header{"If-None-Match": {`"something-else"`}})
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("page %d with a stale ETag: %d", i, resp.StatusCode)
		}
	}
	for _, b := range [][]byte{webpLossless, webpLossy} {
		if cfg, err := webp.DecodeConfig(bytes.NewReader(b)); err != nil || cfg.Width != 40 || cfg.Height != 30 {
			t.Fatalf("a WebP sample: %+v %v", cfg, err)
		}
	}

	other := s.newLesson()
	for _, tt := range []struct {
		name, path string
		status     int
		code       string
	}{
		{"past the last page", pagePath(l.ID, got.Deck, 4), 404, "not_found"},
		{"unknown deck", pagePath(l.ID, uuid.New(), 0), 404, "not_found"},
		{"another lesson's deck", pagePath(other.ID, got.Deck, 0), 404, "not_found"},
		{"negative page", pagePath(l.ID, got.Deck, -1), 400, "invalid"},
		{"not a page number", pagePath(l.ID, got.Deck, "first"), 400, "invalid"},
		{"not a deck id", pagePath(l.ID, "deck", 0), 400, "invalid"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := s.get(tt.path, nil)
			var e errorOut
			if err := json.Unmarshal(body, &e); err != nil || resp.StatusCode != tt.status || e.Error.Code != tt.code || e.Error.Message == "" {
				t.Fatalf("%d %s", resp.StatusCode, body)
			}
		})
	}
}

func sha256Of(b []byte) []byte {
	h := sha256.Sum256(b)
	return h[:]
}

func testUploadRefused(t *testing.T, kind string) {
	lim := web.DeckLimits{PageBytes: 64 << 10, DeckBytes: 160 << 10, Side: 256}
	s := newDeckSite(t, kind, lim)
	l := s.newLesson()
	good := pngOf(t, 32, 24, false)
	jpg := jpegOf(t, 32, 24)
	withPage := func(b ...[]byte) []part { return append([]part{name("Deck")}, pages(b...)...) }

	// Tokens: another lesson's teacher, one that has expired.
	other := s.newLesson()
	expiring, err := s.tokens.Issue(token.Claims{Lesson: l.ID, Role: domain.RoleTeacher, Participant: "teacher",
		Expires: time.Unix(s.clock.Load(), 0).Add(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}

	corruptPNG := bytes.Clone(good)
	corruptPNG[len(corruptPNG)-20] ^= 0xff // inside the image data: a checksum fails
	tinyPages := make([][]byte, domain.MaxDeckPages+1)
	for i := range tinyPages {
		tinyPages[i] = good
	}
	noisy := pngOf(t, 120, 120, true) // about 57 KiB: three are more than the deck may hold
	if len(noisy) > int(lim.PageBytes) || 3*len(noisy) <= int(lim.DeckBytes) {
		t.Fatalf("a noisy page has %d bytes: the limits test nothing", len(noisy))
	}

	for _, tt := range []struct {
		name   string
		token  string
		parts  []part
		status int
		code   string
	}{
		{"no token", "", withPage(good), 401, "unauthorized"},
		{"forged token", "x.y.z", withPage(good), 401, "unauthorized"},
		{"student's token", l.Students.Token, withPage(good), 403, "forbidden"},
		{"another lesson's token", other.Teacher.Token, withPage(good), 401, "unauthorized"},
		{"expired token", "expired", withPage(good), 401, "unauthorized"},
		{"a PDF", l.Teacher.Token, withPage(good, []byte("%PDF-1.4\n%âãÏÓ\n1 0 obj\n<<>>\nendobj\n")), 400, "invalid"},
		{"text named .png", l.Teacher.Token, withPage([]byte("hello, I am a picture")), 400, "invalid"},
		{"a GIF", l.Teacher.Token, withPage([]byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;")), 400, "invalid"},
		{"empty page", l.Teacher.Token, withPage(good, nil), 400, "invalid"},
		{"truncated PNG", l.Teacher.Token, withPage(good[:len(good)-12]), 400, "invalid"},
		{"PNG cut in its header", l.Teacher.Token, withPage(good[:20]), 400, "invalid"},
		{"corrupt PNG", l.Teacher.Token, withPage(corruptPNG), 400, "invalid"},
		{"PNG with a tail", l.Teacher.Token, withPage(append(bytes.Clone(good), "<html>"...)), 400, "invalid"},
		{"truncated JPEG", l.Teacher.Token, withPage(jpg[:len(jpg)-10]), 400, "invalid"},
		{"truncated lossless WebP", l.Teacher.Token, withPage(webpLossless[:len(webpLossless)-4]), 400, "invalid"},
		{"truncated lossy WebP", l.Teacher.Token, withPage(webpLossy[:len(webpLossy)-1]), 400, "invalid"},
		{"huge declared size", l.Teacher.Token, withPage(withPNGSize(good, 100000, 100000)), 400, "invalid"},
		{"wider than the limit", l.Teacher.Token, withPage(withPNGSize(good, 257, 24)), 400, "invalid"},
		{"a real image too tall", l.Teacher.Token, withPage(pngOf(t, 10, 300, false)), 400, "invalid"},
		{"too many pages", l.Teacher.Token, withPage(tinyPages...), 400, "invalid"},
		{"page too large", l.Teacher.Token, withPage(good, make([]byte, lim.PageBytes+1)), 413, "invalid"},
		{"deck too large", l.Teacher.Token, withPage(noisy, noisy, noisy), 413, "invalid"},
		{"no name", l.Teacher.Token, pages(good), 400, "invalid"},
		{"empty name", l.Teacher.Token, append([]part{name("")}, page(good)), 400, "invalid"},
		{"name too long", l.Teacher.Token, append([]part{name(strings.Repeat("é", domain.MaxNameRunes+1))}, page(good)), 400, "invalid"},
		{"name not UTF-8", l.Teacher.Token, append([]part{name("\xff\xfe")}, page(good)), 400, "invalid"},
		{"two names", l.Teacher.Token, append(withPage(good), name("Again")), 400, "invalid"},
		{"no pages", l.Teacher.Token, []part{name("Deck")}, 400, "invalid"},
		{"unknown part", l.Teacher.Token, append(withPage(good), part{"slide", good}), 400, "invalid"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tok := tt.token
			if tok == "expired" {
				s.clock.Add(3600)
				defer s.clock.Add(-3600)
				tok = expiring
			}
			var e errorOut
			resp := s.upload(l.ID, tok, tt.parts, &e)
			if resp.StatusCode != tt.status || e.Error.Code != tt.code || e.Error.Message == "" {
				t.Fatalf("%d %+v, want %d %s", resp.StatusCode, e, tt.status, tt.code)
			}
			t.Logf("%d %s", resp.StatusCode, e.Error.Message)
		})
	}
	if n := s.deckCount(l.ID); n != 0 {
		t.Fatalf("%d decks stored after the refusals", n)
	}

	// The body must be multipart.
	var e errorOut
	if resp := s.post(l.ID, l.Teacher.Token, "application/json", strings.NewReader(`{"name":"x"}`), &e); resp.StatusCode != 415 || e.Error.Code != "invalid" {
		t.Fatalf("a JSON body: %d %+v", resp.StatusCode, e)
	}
	// A malformed multipart body.
	if resp := s.post(l.ID, l.Teacher.Token, "multipart/form-data; boundary=xyz", strings.NewReader("--xyz\r\nno end"), &e); resp.StatusCode != 400 || e.Error.Code != "invalid" {
		t.Fatalf("a malformed body: %d %+v", resp.StatusCode, e)
	}

	// An unknown lesson, with a token that would admit to it.
	ghost := uuid.New()
	ghostToken, err := s.tokens.Issue(token.Claims{Lesson: ghost, Role: domain.RoleTeacher, Participant: "teacher",
		Expires: time.Unix(s.clock.Load(), 0).Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if resp := s.upload(ghost, ghostToken, withPage(good), &e); resp.StatusCode != 404 || e.Error.Code != "not_found" {
		t.Fatalf("an unknown lesson: %d %+v", resp.StatusCode, e)
	}
	if resp := s.upload(uuid.Nil, l.Teacher.Token, withPage(good), &e); resp.StatusCode != 401 {
		t.Fatalf("the nil lesson: %d %+v", resp.StatusCode, e)
	}

	// The same upload is accepted while the lesson runs, refused once it has ended.
	var ok uploaded
	if resp := s.upload(l.ID, l.Teacher.Token, withPage(good, jpg, noisy, noisy), &ok); resp.StatusCode != 201 || ok.Pages != 4 {
		t.Fatalf("a good upload at the limits: %d %+v", resp.StatusCode, ok)
	}
	end := domain.Event{ID: uuid.New(), Lesson: l.ID, Version: domain.EventVersion, Actor: "teacher",
		Role: domain.RoleTeacher, Time: time.Now(), Payload: &domain.LessonEnded{}}
	if _, errs, err := s.store.Append(context.Background(), end); err != nil || errs[0] != nil {
		t.Fatalf("end the lesson: %v %v", err, errs)
	}
	if resp := s.upload(l.ID, l.Teacher.Token, withPage(good), &e); resp.StatusCode != 409 || e.Error.Code != "conflict" {
		t.Fatalf("an ended lesson: %d %+v", resp.StatusCode, e)
	}
	if n := s.deckCount(l.ID); n != 1 {
		t.Fatalf("%d decks stored, want the one good upload", n)
	}
}

// TestDeckDefaultLimits: with no limits configured, a page of more than
// 10 MiB is refused before it is read whole.
func TestDeckDefaultLimits(t *testing.T) {
	s := newDeckSite(t, "sqlite", web.DeckLimits{})
	l := s.newLesson()
	big := make([]byte, eventstore.MaxPageBytes+1)
	copy(big, pngOf(t, 8, 8, false))
	var e errorOut
	if resp := s.upload(l.ID, l.Teacher.Token, []part{name("Big"), page(big)}, &e); resp.StatusCode != 413 {
		t.Fatalf("a page of 10 MiB + 1: %d %+v", resp.StatusCode, e)
	}
	if resp := s.upload(l.ID, l.Teacher.Token, []part{name("Too wide"), page(withPNGSize(pngOf(t, 8, 8, false), web.MaxPageSide+1, 1))}, &e); resp.StatusCode != 400 {
		t.Fatalf("a page %d wide: %d %+v", web.MaxPageSide+1, resp.StatusCode, e)
	}
}
