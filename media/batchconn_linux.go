//go:build linux

package media

import (
	"encoding/binary"
	"net"
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// batchWriter sends datagrams with sendmmsg(2), made as a raw system call:
// one that does not tell Go's scheduler it may block. The socket is
// non-blocking, so it does not; and a batch takes longer than the 20 µs
// after which the runtime's monitor hands a P stuck in a system call to
// another thread. Made as an ordinary system call, nearly every batch was
// handed over so, waking threads and keeping the monitor polling every
// 20 µs: more CPU than the batching saved. When the socket's buffer is
// full, the writer waits for it through the runtime's poller, as any
// write does.
type batchWriter struct {
	raw   syscall.RawConn
	conn  *net.UDPConn
	hdrs  []unix.Mmsghdr
	iovs  []unix.Iovec
	names []unix.RawSockaddrInet4
}

func newBatchWriter(c *net.UDPConn) batchWriter {
	raw, err := c.SyscallConn()
	if err != nil {
		raw = nil // write sends one datagram at a time then
	}
	return batchWriter{raw: raw, conn: c}
}

// write sends the longest prefix of ds the kernel takes in one call and
// says how many went; an error is the first refused datagram's.
func (w *batchWriter) write(ds []datagram) (int, error) {
	// The leading run of IPv4 destinations goes in one call; the socket
	// is IPv4 ("udp4"), so another is an error of the caller's.
	k := 0
	for k < len(ds) && (ds[k].dst.Addr().Is4() || ds[k].dst.Addr().Is4In6()) {
		k++
	}
	if k == 0 || w.raw == nil {
		_, err := w.conn.WriteToUDPAddrPort(ds[0].b, ds[0].dst)
		if err != nil {
			return 0, err
		}
		return 1, nil
	}
	ds = ds[:k]
	if len(w.hdrs) < k {
		w.hdrs = make([]unix.Mmsghdr, k)
		w.iovs = make([]unix.Iovec, k)
		w.names = make([]unix.RawSockaddrInet4, k)
	}
	for i := range ds {
		d := &ds[i]
		name := &w.names[i]
		name.Family = unix.AF_INET
		binary.BigEndian.PutUint16((*[2]byte)(unsafe.Pointer(&name.Port))[:], d.dst.Port())
		name.Addr = d.dst.Addr().Unmap().As4()
		iov := &w.iovs[i]
		iov.Base = unsafe.SliceData(d.b)
		iov.SetLen(len(d.b))
		h := &w.hdrs[i]
		h.Hdr = unix.Msghdr{Name: (*byte)(unsafe.Pointer(name)), Namelen: unix.SizeofSockaddrInet4, Iov: iov}
		h.Hdr.SetIovlen(1)
		h.Len = 0
	}
	var (
		n     int
		errno syscall.Errno
	)
	err := w.raw.Write(func(fd uintptr) bool {
		r, _, e := unix.RawSyscall6(unix.SYS_SENDMMSG, fd, uintptr(unsafe.Pointer(&w.hdrs[0])), uintptr(k), 0, 0, 0)
		if e == unix.EAGAIN {
			return false // wait until the socket takes more
		}
		n, errno = int(r), e
		return true
	})
	if err != nil {
		return 0, err
	}
	if errno != 0 {
		return 0, &net.OpError{Op: "sendmmsg", Net: "udp", Source: w.conn.LocalAddr(),
			Addr: net.UDPAddrFromAddrPort(ds[0].dst), Err: os.NewSyscallError("sendmmsg", errno)}
	}
	return n, nil
}
