//go:build !unix

package media

import (
	"testing"
	"time"
)

// cpuTime does not know the process's CPU time here (getrusage is Unix's):
// known is false.
func cpuTime(testing.TB) (_ time.Duration, known bool) { return 0, false }
