package web

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/png"
	"mime/multipart"
	"net/http"
	"testing"
	"unicode/utf8"

	"classroom/domain"
)

const fuzzBoundary = "fuzzboundary"

var fuzzLimits = DeckLimits{PageBytes: 4 << 10, DeckBytes: 12 << 10, Side: 64}

// fuzzBody is an upload's body as a browser would send it.
func fuzzBody(t testing.TB, name string, pages ...[]byte) []byte {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	if err := mw.SetBoundary(fuzzBoundary); err != nil {
		t.Fatal(err)
	}
	if name != "" {
		mw.WriteField("name", name)
	}
	for _, p := range pages {
		w, err := mw.CreateFormFile("page", "page.png")
		if err != nil {
			t.Fatal(err)
		}
		w.Write(p)
	}
	mw.Close()
	return b.Bytes()
}

func fuzzPNG(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, w, h))
	img.Set(0, 0, color.White)
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// FuzzReadDeck feeds arbitrary bodies to the upload parser. It must never
// panic, must refuse with a clear error (invalid, as 400 or 413) rather than
// an internal one, and whatever it accepts must be within every limit and
// made of pages checkPage accepts.
func FuzzReadDeck(f *testing.F) {
	good := fuzzPNG(f, 8, 6)
	f.Add(fuzzBody(f, "Deck", good))
	f.Add(fuzzBody(f, "Two pages", good, good))
	f.Add(fuzzBody(f, "Broken", good[:len(good)-5]))
	f.Add(fuzzBody(f, "", good))
	f.Add(fuzzBody(f, "Text", []byte("not an image")))
	f.Add(fuzzBody(f, "WebP", []byte("RIFF\x1c\x00\x00\x00WEBPVP8L\x0f\x00\x00\x00/'@\x07\x00\x07\x10\xf5\x8f\xfe\x07\"\xa2\xff\x01\x00")))
	f.Add(fuzzBody(f, "JPEG", []byte{0xff, 0xd8, 0xff, 0xd9}))
	f.Add([]byte("--" + fuzzBoundary + "--\r\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		name, pages, err := readDeck(multipart.NewReader(bytes.NewReader(body), fuzzBoundary), fuzzLimits)
		if err != nil {
			var de *domain.Error
			if !errors.As(err, &de) || de.Code != domain.CodeInvalid || de.Message == "" {
				t.Fatalf("unclear refusal: %v", err)
			}
			var se *statusError
			if errors.As(err, &se) && se.status != http.StatusRequestEntityTooLarge {
				t.Fatalf("refused with status %d: %v", se.status, err)
			}
			return
		}
		if !utf8.ValidString(name) || name == "" || utf8.RuneCountInString(name) > domain.MaxNameRunes {
			t.Fatalf("accepted the name %q", name)
		}
		if len(pages) < 1 || len(pages) > domain.MaxDeckPages {
			t.Fatalf("accepted %d pages", len(pages))
		}
		var total int64
		for i, p := range pages {
			total += int64(len(p.Data))
			if int64(len(p.Data)) > fuzzLimits.PageBytes {
				t.Fatalf("page %d has %d bytes", i, len(p.Data))
			}
			ct, err := checkPage(p.Data, fuzzLimits.Side)
			if err != nil || ct != p.ContentType {
				t.Fatalf("page %d accepted as %s; checked again: %s, %v", i, p.ContentType, ct, err)
			}
		}
		if total > fuzzLimits.DeckBytes {
			t.Fatalf("accepted a deck of %d bytes", total)
		}
	})
}

// FuzzCheckPage feeds arbitrary bytes to the image check: no panic, and an
// accepted image has the signature of its type and a size within the limit.
func FuzzCheckPage(f *testing.F) {
	f.Add(fuzzPNG(f, 8, 6))
	f.Add([]byte{0xff, 0xd8, 0xff, 0xd9})
	f.Add([]byte("RIFF\x1c\x00\x00\x00WEBPVP8L\x0f\x00\x00\x00/'@\x07\x00\x07\x10\xf5\x8f\xfe\x07\"\xa2\xff\x01\x00"))
	f.Add([]byte("%PDF-1.7"))
	f.Fuzz(func(t *testing.T, b []byte) {
		ct, err := checkPage(b, fuzzLimits.Side)
		if err != nil {
			if domain.ErrorCode(err) != domain.CodeInvalid {
				t.Fatalf("unclear refusal: %v", err)
			}
			return
		}
		var cfg image.Config
		switch ct {
		case "image/png":
			cfg, err = png.DecodeConfig(bytes.NewReader(b))
		case "image/jpeg", "image/webp":
			cfg, _, err = image.DecodeConfig(bytes.NewReader(b))
		default:
			t.Fatalf("accepted as %q", ct)
		}
		if err != nil || cfg.Width < 1 || cfg.Height < 1 || cfg.Width > fuzzLimits.Side || cfg.Height > fuzzLimits.Side {
			t.Fatalf("accepted %s of %d×%d: %v", ct, cfg.Width, cfg.Height, err)
		}
	})
}
