package eventstore

import (
	"bytes"
	"fmt"
	"testing"
)

// TestSnapshotCodec: a state comes back byte for byte, smaller in storage;
// plain JSON an older server stored passes through; a damaged compressed
// snapshot is an error, not a wrong state.
func TestSnapshotCodec(t *testing.T) {
	c, err := newSnapshotCodec()
	if err != nil {
		t.Fatal(err)
	}
	defer c.close()
	var b bytes.Buffer
	b.WriteString(`{"lesson":"ed62f47e-c3a7-4ce2-8776-8aca3758a71b","boards":{"x":{"objects":[`)
	for i := range 20000 {
		fmt.Fprintf(&b, `{"id":"%08d","points":[[%d.5,%d,%d,0.5]]},`, i, i%1600, i%900, i*16)
	}
	b.WriteString(`{}]}}}`)
	state := b.Bytes()
	stored := c.pack(state)
	if len(stored)*3 > len(state) {
		t.Errorf("a %d-byte state is stored in %d bytes", len(state), len(stored))
	}
	got, err := c.unpack(stored)
	if err != nil || !bytes.Equal(got, state) {
		t.Fatalf("unpack(pack(state)) differs (err %v)", err)
	}
	if got, err := c.unpack(state); err != nil || !bytes.Equal(got, state) {
		t.Fatalf("a plain stored state: %v", err)
	}
	damaged := bytes.Clone(stored)
	damaged[len(damaged)/2] ^= 0xff
	damaged = damaged[:len(damaged)-7]
	if _, err := c.unpack(damaged); err == nil {
		t.Fatal("a damaged snapshot decompressed")
	}
}
