package eventstore

import (
	"encoding/binary"
	"time"

	"github.com/google/uuid"
)

// Element type oids of the arrays a flush sends (PostgreSQL's pg_type).
const (
	oidBytea       = 17
	oidInt8        = 20
	oidInt2        = 21
	oidText        = 25
	oidTimestamptz = 1184
	oidUUID        = 2950
)

// y2kMicros is PostgreSQL's epoch, 2000-01-01 UTC, in microseconds since
// the Unix epoch: a timestamptz is sent as microseconds since it.
const y2kMicros = 946_684_800_000_000

// binaryParams builds a statement's parameters, one-dimensional arrays, in
// PostgreSQL's binary format, into one buffer that its owner (a commit
// lane) reuses from one flush to the next. pgx encodes an array parameter
// element by element through its type map, into a buffer it shrinks after
// every statement, so a flush of a few hundred events grew it again from a
// few hundred bytes each time; here the elements are appended directly,
// and a flush that is no larger than the one before allocates nothing for
// them (pgx's protocol layer still copies them into its own write buffer).
// The buffer is kept up to maxKeptParams bytes.
//
// Each array is begun and filled with exactly the number of elements begun
// with (or a scalar added); params then returns them in order. The element type of
// each array must be the one the statement casts its parameter to (the
// server refuses any other).
type binaryParams struct {
	buf    []byte
	starts []int    // where each array begins in buf
	values [][]byte // what params returns, reused
	nulls  int      // offset in buf of the open array's has-null flag
	fmts   [1]int16 // every parameter binary
	result [1]int16 // every result column binary
}

// maxKeptParams bounds the buffer a lane keeps between flushes: a burst of
// large events does not pin its size for the life of the process.
const maxKeptParams = 4 << 20

// reset forgets the arrays built, keeping the buffer unless it grew past
// maxKeptParams.
func (p *binaryParams) reset() {
	if cap(p.buf) > maxKeptParams {
		p.buf = nil
	}
	p.buf, p.starts = p.buf[:0], p.starts[:0]
}

// begin opens an array of n elements of type oid (an empty one too has one
// dimension, of length 0, as pgx sends it).
func (p *binaryParams) begin(oid uint32, n int) {
	p.starts = append(p.starts, len(p.buf))
	p.buf = binary.BigEndian.AppendUint32(p.buf, 1) // one dimension
	p.nulls = len(p.buf)
	p.buf = binary.BigEndian.AppendUint32(p.buf, 0) // no NULL element yet
	p.buf = binary.BigEndian.AppendUint32(p.buf, oid)
	p.buf = binary.BigEndian.AppendUint32(p.buf, uint32(n))
	p.buf = binary.BigEndian.AppendUint32(p.buf, 1) // lower bound
}

// scalarText adds a text parameter that is not an array.
func (p *binaryParams) scalarText(s string) {
	p.starts = append(p.starts, len(p.buf))
	p.buf = append(p.buf, s...)
}

func (p *binaryParams) length(n int) { p.buf = binary.BigEndian.AppendUint32(p.buf, uint32(n)) }

// null appends a NULL element.
func (p *binaryParams) null() {
	binary.BigEndian.PutUint32(p.buf[p.nulls:], 1)
	p.buf = binary.BigEndian.AppendUint32(p.buf, 0xffffffff) // length -1
}

func (p *binaryParams) uuid(id uuid.UUID) {
	p.length(16)
	p.buf = append(p.buf, id[:]...)
}

func (p *binaryParams) int8(n int64) {
	p.length(8)
	p.buf = binary.BigEndian.AppendUint64(p.buf, uint64(n))
}

func (p *binaryParams) int2(n int16) {
	p.length(2)
	p.buf = binary.BigEndian.AppendUint16(p.buf, uint16(n))
}

func (p *binaryParams) text(s string) {
	p.length(len(s))
	p.buf = append(p.buf, s...)
}

// textBytes appends text held in bytes, which must be valid UTF-8 (the
// server checks).
func (p *binaryParams) textBytes(b []byte) {
	p.length(len(b))
	p.buf = append(p.buf, b...)
}

// bytea appends b, or NULL when b is nil.
func (p *binaryParams) bytea(b []byte) {
	if b == nil {
		p.null()
		return
	}
	p.length(len(b))
	p.buf = append(p.buf, b...)
}

// timestamptz appends t cut to the microsecond, rounding down (before 1970
// too), exactly as pgx sends it: the full flush sends the same instants
// through pgx, and a resend must match what was stored.
func (p *binaryParams) timestamptz(t time.Time) {
	p.length(8)
	p.buf = binary.BigEndian.AppendUint64(p.buf, uint64(t.UnixMicro()-y2kMicros))
}

// params returns the arrays built, in order, with their formats and the
// result formats for a statement that takes them (all binary). They share
// p's buffer: they are valid until the next reset.
func (p *binaryParams) params() (values [][]byte, formats, results []int16) {
	p.values = p.values[:0]
	for i, start := range p.starts {
		end := len(p.buf)
		if i+1 < len(p.starts) {
			end = p.starts[i+1]
		}
		p.values = append(p.values, p.buf[start:end:end])
	}
	p.fmts[0], p.result[0] = 1, 1
	return p.values, p.fmts[:], p.result[:]
}
