package protocol

import (
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// Deflater compresses events messages for the clients of version
// Compressed and later: a message's JSON, compressed on its own as one raw
// DEFLATE stream (RFC 1951: no zlib or gzip header, ending with its final
// block; what the browser's DecompressionStream("deflate-raw") reads),
// sent as a binary message. It keeps its compressor from one message to
// the next; no state carries over between messages. The zero value is
// ready to use; a Deflater is not safe for concurrent use.
type Deflater struct {
	w   *flate.Writer
	buf bytes.Buffer
}

// Deflate returns msg compressed, in a new slice of its own, or nil when
// compressing does not make it smaller.
func (d *Deflater) Deflate(msg []byte) []byte {
	d.buf.Reset()
	if d.w == nil {
		// The default level: a message of 12 stroke parts (6.8 KB of
		// JSON) becomes 1.9 KB, against 2.0 KB at BestSpeed, for about
		// 0.1 ms once a message for every student.
		d.w, _ = flate.NewWriter(&d.buf, flate.DefaultCompression)
	} else {
		d.w.Reset(&d.buf)
	}
	if _, err := d.w.Write(msg); err != nil {
		return nil // a bytes.Buffer does not fail
	}
	if err := d.w.Close(); err != nil {
		return nil
	}
	if d.buf.Len() >= len(msg) {
		return nil
	}
	return bytes.Clone(d.buf.Bytes())
}

// ErrCompressed is the error of a compressed events message that does not
// inflate to a message: not a whole raw DEFLATE stream, bytes after its
// final block, more than MaxServerMessage bytes inflated, or not UTF-8.
var ErrCompressed = errors.New("malformed compressed message")

// Inflater inflates compressed events messages (Deflate) one after
// another with one decompressor, reset for each message: making one costs
// more than 40 KB (its 32 KB window and tables), more than the messages it
// inflates, and a client is sent one for every batch of events while a
// class draws. The zero value is ready to use; an Inflater is not safe for
// concurrent use.
type Inflater struct {
	in bytes.Reader // an io.ByteReader: flate reads no further than its stream
	r  io.ReadCloser
}

// Inflate returns the message a compressed events message (Deflate) holds,
// in a new slice of its own, or an error wrapping ErrCompressed.
func (f *Inflater) Inflate(b []byte) ([]byte, error) {
	f.in.Reset(b)
	if f.r == nil {
		f.r = flate.NewReader(&f.in)
	} else if err := f.r.(flate.Resetter).Reset(&f.in, nil); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCompressed, err)
	}
	msg, err := io.ReadAll(io.LimitReader(f.r, MaxServerMessage+1))
	switch {
	case err != nil:
		return nil, fmt.Errorf("%w: %w", ErrCompressed, err)
	case len(msg) > MaxServerMessage:
		return nil, fmt.Errorf("%w: more than %d bytes inflated", ErrCompressed, MaxServerMessage)
	case f.in.Len() != 0:
		return nil, fmt.Errorf("%w: %d bytes after the end of its stream", ErrCompressed, f.in.Len())
	case !utf8.Valid(msg):
		return nil, fmt.Errorf("%w: not UTF-8", ErrCompressed)
	}
	return msg, nil
}
