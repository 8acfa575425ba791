package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"
	"golang.org/x/image/webp"

	"classroom/eventstore"
	"classroom/web"
)

// twoPagePDF writes a minimal valid PDF by hand: two pages of 400×300 pt,
// the first red with a black 50 pt square in its top left corner, the second
// blue.
func twoPagePDF() []byte {
	contents := []string{
		"1 0 0 rg 0 0 400 300 re f 0 0 0 rg 0 250 50 50 re f\n",
		"0 0 1 rg 0 0 400 300 re f\n",
	}
	objects := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R 5 0 R] /Count 2 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 400 300] /Resources << >> /Contents 4 0 R >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%sendstream", len(contents[0]), contents[0]),
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 400 300] /Resources << >> /Contents 6 0 R >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%sendstream", len(contents[1]), contents[1]),
	}
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n")
	offsets := make([]int, len(objects))
	for i, o := range objects {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objects)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objects)+1, xref)
	return b.Bytes()
}

// slidesSite serves the API, slides.html and its test files.
type slidesSite struct {
	*deckSite
	files *httptest.Server
}

// uploadResult is what slides.html's upload() reports.
type uploadResult struct {
	Deck     string
	Name     string
	Pages    int
	Progress [][]any
	Sizes    [][2]int
	Error    *struct {
		Name, Code, Message string
		Status              int
	}
}

func TestSlidesInBrowser(t *testing.T) {
	s := newDeckSite(t, "sqlite", web.DeckLimits{})
	pdf := twoPagePDF()
	diagram := pngOf(t, 320, 200, false)
	mux := http.NewServeMux()
	mux.Handle("/", s.srv.Config.Handler)
	mux.Handle("GET /test/", http.StripPrefix("/test/", http.FileServer(http.Dir("testdata"))))
	serve := func(path, contentType string, b []byte) {
		mux.HandleFunc("GET "+path, func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", contentType)
			w.Write(b)
		})
	}
	serve("/test/shapes.pdf", "application/pdf", pdf)
	serve("/test/diagram.png", "image/png", diagram)
	serve("/test/notes.txt", "text/plain", []byte("not slides"))
	site := httptest.NewServer(mux)
	defer site.Close()

	l := s.newLesson()
	b := browser(t)
	ctx, cancel := context.WithTimeout(b, 2*time.Minute)
	defer cancel()
	page := site.URL + "/test/slides.html?" + url.Values{"lesson": {l.ID.String()}}.Encode()
	if err := chromedp.Do(ctx, chromedp.Navigate(page)); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 30*time.Second, "slides.html to load", func() bool {
		ok, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.ready === true`))
		return ok
	})
	upload := func(path, name, contentType, token string) uploadResult {
		t.Helper()
		args, _ := json.Marshal([]string{path, name, contentType, token})
		res, err := chromedp.Run(ctx, chromedp.Evaluate[uploadResult](`upload(...`+string(args)+`)`, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("upload %s: %v", path, err)
		}
		return res
	}

	// A PDF: rendered by pdf.js in the browser, uploaded as two images.
	got := upload("/test/shapes.pdf", "Shapes.pdf", "application/pdf", l.Teacher.Token)
	if got.Error != nil || got.Pages != 2 || got.Name != "Shapes" {
		t.Fatalf("the PDF upload: %+v", got)
	}
	want := [][2]int{{1600, 1200}, {1600, 1200}} // 400×300 pt at 1600 px wide
	if fmt.Sprint(got.Sizes) != fmt.Sprint(want) {
		t.Fatalf("the browser shows pages of %v, want %v", got.Sizes, want)
	}
	if p := fmt.Sprint(got.Progress); !strings.Contains(p, "[render 2 2]") || !strings.Contains(p, "[upload 2 2]") {
		t.Fatalf("progress %s", p)
	}
	deck := uuid.MustParse(got.Deck)
	if d, err := s.decks.Deck(context.Background(), l.ID, deck); err != nil || d.Pages != 2 || d.Name != "Shapes" {
		t.Fatalf("stored deck: %+v, %v", d, err)
	}
	// The pages as the server serves them: WebP images of the pages' colours.
	red, blue, black := color.RGBA{255, 0, 0, 255}, color.RGBA{0, 0, 255, 255}, color.RGBA{0, 0, 0, 255}
	for n, spots := range []map[image.Point]color.RGBA{
		{{800, 600}: red, {100, 100}: black, {300, 100}: red, {100, 1100}: red},
		{{800, 600}: blue, {100, 100}: blue, {1500, 1100}: blue},
	} {
		resp, body := s.get(pagePath(l.ID, deck, n), nil)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != eventstore.WebP {
			t.Fatalf("page %d: %d %s", n, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		img, err := webp.Decode(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("page %d: %v", n, err)
		}
		if sz := img.Bounds().Size(); sz != image.Pt(1600, 1200) {
			t.Fatalf("page %d is %v", n, sz)
		}
		for at, c := range spots {
			if !near(img.At(at.X, at.Y), c) {
				t.Fatalf("page %d at %v is %v, want about %v", n, at, img.At(at.X, at.Y), c)
			}
		}
	}

	// An image: uploaded as it is.
	got = upload("/test/diagram.png", "Diagram.png", "image/png", l.Teacher.Token)
	if got.Error != nil || got.Pages != 1 || got.Name != "Diagram" || fmt.Sprint(got.Sizes) != "[[320 200]]" {
		t.Fatalf("the image upload: %+v", got)
	}
	if resp, body := s.get(pagePath(l.ID, got.Deck, 0), nil); resp.StatusCode != 200 || !bytes.Equal(body, diagram) {
		t.Fatalf("the image as served: %d, %d bytes, want the %d uploaded", resp.StatusCode, len(body), len(diagram))
	}

	// Refusals reach the caller as UploadErrors, and store nothing.
	got = upload("/test/shapes.pdf", "Shapes.pdf", "application/pdf", l.Students.Token)
	if got.Error == nil || got.Error.Name != "UploadError" || got.Error.Code != "forbidden" || got.Error.Status != 403 {
		t.Fatalf("a student's upload: %+v", got)
	}
	got = upload("/test/notes.txt", "notes.txt", "text/plain", l.Teacher.Token)
	if got.Error == nil || got.Error.Code != "invalid" || got.Error.Status != 0 {
		t.Fatalf("a text file: %+v", got)
	}
	if n := s.deckCount(l.ID); n != 2 {
		t.Fatalf("%d decks stored, want 2", n)
	}
}

// near says whether c is within a lossy encoder's reach of want.
func near(c color.Color, want color.RGBA) bool {
	r, g, b, _ := c.RGBA()
	d := func(x uint32, y uint8) bool { return int(x>>8)-int(y) < 40 && int(y)-int(x>>8) < 40 }
	return d(r, want.R) && d(g, want.G) && d(b, want.B)
}
