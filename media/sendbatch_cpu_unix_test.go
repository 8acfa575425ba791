//go:build unix

package media

import (
	"syscall"
	"testing"
	"time"
)

// cpuTime is the process's user and system CPU time; known is true.
func cpuTime(tb testing.TB) (_ time.Duration, known bool) {
	var u syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(u.Utime.Nano() + u.Stime.Nano()), true
}
