package eventstore

import (
	"bytes"
	"fmt"

	"github.com/klauspost/compress/zstd"
)

// zstdMagic starts every zstd frame. A stored snapshot that does not start
// with it is the plain JSON of an older server, and is read as it is.
const zstdMagic = "\x28\xb5\x2f\xfd"

// snapshotCodec compresses snapshots for storage with zstd and restores
// them: a lesson's state is mostly numbers in JSON and shrinks several
// times, which a seek pays back in reading it from the database. Its
// encoder and decoder are safe for concurrent use and held for the store's
// life (they are costly to make). klauspost/compress: the well-kept Go
// zstd, already in the module graph.
type snapshotCodec struct {
	enc *zstd.Encoder
	dec *zstd.Decoder
}

func newSnapshotCodec() (*snapshotCodec, error) {
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1))
	if err != nil {
		return nil, fmt.Errorf("eventstore: zstd encoder: %w", err)
	}
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(0), zstd.WithDecoderMaxMemory(MaxSnapshotBytes))
	if err != nil {
		enc.Close()
		return nil, fmt.Errorf("eventstore: zstd decoder: %w", err)
	}
	return &snapshotCodec{enc: enc, dec: dec}, nil
}

// pack returns the stored form of a snapshot's state.
func (c *snapshotCodec) pack(state []byte) []byte {
	return c.enc.EncodeAll(state, make([]byte, 0, len(state)/4))
}

// unpack returns a stored state as it was saved; plain JSON passes through.
func (c *snapshotCodec) unpack(stored []byte) ([]byte, error) {
	if !bytes.HasPrefix(stored, []byte(zstdMagic)) {
		return stored, nil
	}
	state, err := c.dec.DecodeAll(stored, nil)
	if err != nil {
		return nil, fmt.Errorf("eventstore: a stored snapshot does not decompress: %w", err)
	}
	return state, nil
}

func (c *snapshotCodec) close() {
	c.enc.Close()
	c.dec.Close()
}
