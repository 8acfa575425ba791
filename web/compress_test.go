package web_test

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"classroom/domain"
	"classroom/eventstore"
	"classroom/realtime/token"
	"classroom/web"
)

// decoded reads an answer's body, undoing its Content-Encoding.
func decoded(tb testing.TB, resp *http.Response) []byte {
	tb.Helper()
	var r io.Reader = resp.Body
	switch enc := resp.Header.Get("Content-Encoding"); enc {
	case "":
	case "gzip":
		zr, err := gzip.NewReader(resp.Body)
		if err != nil {
			tb.Fatal(err)
		}
		r = zr
	case "zstd":
		zr, err := zstd.NewReader(resp.Body)
		if err != nil {
			tb.Fatal(err)
		}
		defer zr.Close()
		r = zr
	default:
		tb.Fatalf("unexpected Content-Encoding %q", enc)
	}
	body, err := io.ReadAll(r)
	if err != nil {
		tb.Fatal(err)
	}
	return body
}

// getEncoded sends a GET accepting the given encodings ("" for none) with
// a bearer token, and returns the answer, its decoded body and the bytes
// it took on the wire.
func getEncoded(tb testing.TB, url, accept, bearer string) (*http.Response, []byte, int) {
	tb.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		tb.Fatal(err)
	}
	if accept != "" {
		req.Header.Set("Accept-Encoding", accept)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	// A transport of its own: the default one would ask for gzip and
	// undo it unseen.
	tr := &http.Transport{DisableCompression: true}
	defer tr.CloseIdleConnections()
	resp, err := tr.RoundTrip(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	resp.Body = io.NopCloser(bytes.NewReader(raw))
	return resp, decoded(tb, resp), len(raw)
}

// TestCompressedAnswers: JSON and scripts go compressed to a client that
// takes zstd or gzip and unchanged to one that does not; the decoded bodies
// are the same bytes. Slide pages and the WebSocket are never compressed.
func TestCompressedAnswers(t *testing.T) {
	a := newAPI(t)
	events := importLesson(t, a.store, 15, 3000, 8)
	lesson := events[0].Lesson
	teacher := a.token(lesson, domain.RoleTeacher)
	for _, path := range []string{
		"/api/lessons/" + lesson.String() + "/state?seq=2900",
		"/api/lessons/" + lesson.String() + "/events?after=0&limit=2000",
		"/api/lessons/" + lesson.String() + "/export?format=csv",
		"/static/js/board.js",
	} {
		_, plain, plainWire := getEncoded(t, a.srv.URL+path, "", teacher)
		if plainWire != len(plain) || len(plain) < 10000 {
			t.Fatalf("%s: %d bytes on the wire for a %d-byte answer without compression", path, plainWire, len(plain))
		}
		for _, accept := range []string{"gzip", "zstd", "gzip, deflate, br, zstd"} {
			resp, body, wire := getEncoded(t, a.srv.URL+path, accept, teacher)
			enc := resp.Header.Get("Content-Encoding")
			if enc == "" || !strings.Contains(accept, enc) {
				t.Errorf("%s, Accept-Encoding %q: Content-Encoding %q", path, accept, enc)
			}
			if !bytes.Equal(body, plain) {
				t.Errorf("%s, %s: the decoded answer differs from the plain one", path, enc)
			}
			if wire*2 > len(plain) {
				t.Errorf("%s, %s: %d bytes on the wire for %d", path, enc, wire, len(plain))
			}
			if !strings.Contains(resp.Header.Get("Vary"), "Accept-Encoding") {
				t.Errorf("%s: no Vary: Accept-Encoding", path)
			}
		}
	}
	// An error answer is still JSON, whatever the encoding.
	resp, body, _ := getEncoded(t, a.srv.URL+"/api/lessons/"+lesson.String()+"/state?seq=x", "zstd", teacher)
	if resp.StatusCode != 400 || !bytes.Contains(body, []byte(`"invalid"`)) {
		t.Errorf("a refused seek, compressed: %d %s", resp.StatusCode, body)
	}
}

// BenchmarkStateHTTP fetches the state of a 100,000-event lesson at its
// last event through the HTTP API, as the playback page does for a seek,
// with no compression, gzip and zstd (the client decodes, as a browser
// would). wire-MB/op is what crosses the network; ms-at-50Mbit/op adds the
// time those bytes take on a 50 Mbit/s link to the measured time, which
// is loopback's.
func BenchmarkStateHTTP(b *testing.B) {
	store, err := eventstore.OpenSQLite(b.Context(), b.TempDir(), slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	l := countOnly(b, store)
	clock := time.Now()
	tokens, err := token.NewKeeper(bytes.Repeat([]byte("k"), 32), func() time.Time { return clock })
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(web.NewHandler(web.Config{Store: store, Tokens: tokens, Logger: slog.New(slog.DiscardHandler)}))
	defer srv.Close()
	teacher, err := tokens.Issue(token.Claims{Lesson: l.lesson, Role: domain.RoleTeacher, Participant: "teacher", Expires: clock.Add(time.Hour)})
	if err != nil {
		b.Fatal(err)
	}
	url := fmt.Sprintf("%s/api/lessons/%s/state?seq=99999", srv.URL, l.lesson)
	for _, accept := range []string{"identity", "gzip", "zstd"} {
		b.Run("encoding="+accept, func(b *testing.B) {
			var wire int
			for b.Loop() {
				resp, body, n := getEncoded(b, url, accept, teacher)
				if resp.StatusCode != 200 || len(body) < 1e6 {
					b.Fatalf("%d, %d bytes", resp.StatusCode, len(body))
				}
				wire += n
			}
			mb := float64(wire) / float64(b.N) / 1e6
			ms := float64(b.Elapsed().Microseconds()) / 1e3 / float64(b.N)
			b.ReportMetric(ms, "ms/op")
			b.ReportMetric(mb, "wire-MB/op")
			b.ReportMetric(ms+mb*8/50*1e3, "ms-at-50Mbit/op")
		})
	}
}
