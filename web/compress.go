package web

import (
	"net/http"
	"strings"

	"github.com/klauspost/compress/gzhttp"
	"github.com/klauspost/compress/gzip"
)

// compressed answers in zstd or gzip (zstd preferred) to a client that
// takes either, as every browser does. Playback needs it most: the state a
// seek in a long lesson fetches is tens of megabytes of JSON (25 MB after
// 100,000 events), and a page of the log or an export is JSON or text too;
// so are the pages' scripts, pdf.js above all. Media, images (slide pages
// are already PNG, JPEG or WebP) and zip archives go as they are, and so do
// answers under 1 KiB, WebSocket upgrades and range requests (the
// recordings' seeking).
//
// klauspost/compress's gzhttp: the maintained handler for this, from the
// module the snapshot store already uses for zstd; both encoders are set to
// their fastest level, since a seek waits for the whole answer.
func compressed(next http.Handler) http.Handler {
	wrap, err := gzhttp.NewWrapper(
		gzhttp.CompressionLevel(gzip.BestSpeed),
		gzhttp.ContentTypeFilter(compressible),
	)
	if err != nil {
		panic("web: gzhttp options: " + err.Error()) // constant options: a programming error
	}
	zipped := wrap(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "" {
			next.ServeHTTP(w, r) // the signaling WebSocket takes over the connection
			return
		}
		zipped.ServeHTTP(w, r)
	})
}

// compressible reports whether an answer of content type ct is worth
// compressing.
func compressible(ct string) bool {
	return gzhttp.DefaultContentTypeFilter(ct) && !strings.HasPrefix(strings.TrimSpace(strings.ToLower(ct)), "image/")
}
