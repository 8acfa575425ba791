package media

import (
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// The shared media port asks for a receive buffer larger than Linux's
// default, as far as the kernel allows.
func TestSharedPortReadBuffer(t *testing.T) {
	b, err := os.ReadFile("/proc/sys/net/core/rmem_max")
	if err != nil {
		t.Skip("no /proc/sys/net/core/rmem_max:", err)
	}
	rmemMax, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	e, err := NewEngine(EngineConfig{Loopback: true, UDPAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	raw, err := e.conn.(*net.UDPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var got int
	var serr error
	if err := raw.Control(func(fd uintptr) {
		got, serr = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF)
	}); err != nil {
		t.Fatal(err)
	}
	if serr != nil {
		t.Fatal(serr)
	}
	// Linux reports twice what was set, the set value capped at rmem_max.
	if want := min(udpReadBuffer, rmemMax); got < want {
		t.Errorf("SO_RCVBUF = %d, want at least %d", got, want)
	}
}
