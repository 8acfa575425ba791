package eventstore

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgtype"
)

// TestColumnsEncodeAsArrays checks that each column encodes to the same
// bytes as pgx encodes the plain slice (a nil bytea as NULL), and that
// encoding one does not allocate per element: the reason they exist.
func TestColumnsEncodeAsArrays(t *testing.T) {
	const n = 200
	var (
		texts  = make([]string, n)
		int8s  = make([]int64, n)
		int2s  = make([]int16, n)
		ids    = make([]uuid.UUID, n)
		pgIDs  = make([]pgtype.UUID, n)
		times  = make([]time.Time, n)
		blobs  = make([][]byte, n)
		origin = time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	)
	for i := range n {
		texts[i] = fmt.Sprintf(`{"text":"line %d"}`, i)
		int8s[i], int2s[i] = int64(i)<<33-7, int16(i-100)
		ids[i] = uuid.New()
		pgIDs[i] = pgtype.UUID{Bytes: ids[i], Valid: true}
		times[i] = origin.Add(time.Duration(i) * 1234 * time.Microsecond)
		if i%3 != 0 {
			blobs[i] = []byte{1, byte(i), 2}
		}
	}
	m := pgtype.NewMap()
	for _, c := range []struct {
		name       string
		oid        uint32
		col, plain any
	}{
		{"text", pgtype.TextArrayOID, column[string](texts), texts},
		{"bigint", pgtype.Int8ArrayOID, column[int64](int8s), int8s},
		{"smallint", pgtype.Int2ArrayOID, column[int16](int2s), int2s},
		{"uuid", pgtype.UUIDArrayOID, column[uuid.UUID](ids), pgIDs},
		{"timestamptz", pgtype.TimestamptzArrayOID, column[time.Time](times), times},
		{"bytea", pgtype.ByteaArrayOID, column[[]byte](blobs), blobs},
	} {
		want, err := m.Encode(c.oid, pgtype.BinaryFormatCode, c.plain, nil)
		if err != nil {
			t.Fatalf("%s: the plain slice: %v", c.name, err)
		}
		got, err := m.Encode(c.oid, pgtype.BinaryFormatCode, c.col, nil)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("%s: the column encodes as\n%x\nnot as the plain slice\n%x", c.name, got, want)
		}
		buf := make([]byte, 0, 2*len(want))
		if _, err := m.Encode(pgtype.TextArrayOID, pgtype.BinaryFormatCode, column[int64](int8s), nil); c.name == "bigint" && err == nil {
			t.Error("a bigint column was sent as text")
		}
		if allocs := testing.AllocsPerRun(20, func() {
			m.Encode(c.oid, pgtype.BinaryFormatCode, c.col, buf[:0]) //nolint:errcheck // checked above
		}); allocs > 4 {
			t.Errorf("%s: encoding a column of %d elements allocates %.0f times, want a few, not one an element", c.name, n, allocs)
		}
	}
}
