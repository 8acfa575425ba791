package web_test

import (
	"bytes"
	"os"
	"testing"

	"classroom/web/internal/jslimits"
)

// TestLimitsModuleIsGenerated: the browser client's limits.js is what the
// server's constants give now, so that a limit changed in Go cannot leave the
// pages checking and folding by the old one.
func TestLimitsModuleIsGenerated(t *testing.T) {
	disk, err := os.ReadFile(jslimits.Path)
	if err != nil {
		t.Fatal(err)
	}
	if want := jslimits.Module(); !bytes.Equal(disk, want) {
		t.Fatalf("%s differs from the server's constants: run go generate ./web/\nit has:\n%s\nthe constants give:\n%s", jslimits.Path, disk, want)
	}
}
