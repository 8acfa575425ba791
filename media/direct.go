package media

import (
	"errors"
	"fmt"
	"net/netip"
	"sync"

	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
	"github.com/pion/webrtc/v4"
)

// Direct sends the media forwarded to one participant's connection past
// pion's write chain (its interceptors, SRTP session, mux and ICE
// connection): the forwarder encrypts each packet itself, with the keys of
// the connection's DTLS handshake, and hands it to the shared media port for
// the address ICE selected. Made by Engine.NewMemberConnection.
//
// A stream (SSRC) must be sent either through Direct or through pion, never
// both: each keeps its own SRTP rollover counter. Streams sent through
// Direct get no sender reports from pion (it sends them only for what it
// sent); their sender must send its own.
type Direct struct {
	conn *sendConn
	pc   *webrtc.PeerConnection
	keys *dtlsKeys

	mu        sync.Mutex
	derived   bool // key, salt and profile are set, or err
	key, salt []byte
	profile   srtp.ProtectionProfile
	err       error
}

// ErrNotDirect is Direct's permanent refusal: the connection's handshake did
// not give the keys, so pion must send everything.
var ErrNotDirect = errors.New("media: this connection's SRTP keys are not known")

// Stream returns what sends one stream past pion. ok is false while the
// connection's DTLS handshake has not completed (nothing can be sent yet:
// try again later); err is set, for good, when the handshake completed
// without giving the keys (this server was not the DTLS server, or its
// cipher suite or profile is one this does not know): send through pion
// then.
func (d *Direct) Stream() (s *DirectStream, ok bool, err error) {
	if d.pc.SCTP().Transport().State() != webrtc.DTLSTransportStateConnected {
		// Connected comes after the handshake checked the participant's
		// certificate against the fingerprint they signalled: nothing is
		// sent to anyone before.
		d.mu.Lock()
		defer d.mu.Unlock()
		return nil, false, d.err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.derived {
		d.derived = true
		d.key, d.salt, d.profile, d.err = d.keys.local()
		if d.err != nil {
			d.err = fmt.Errorf("%w: %w", ErrNotDirect, d.err)
		}
	}
	if d.err != nil {
		return nil, false, d.err
	}
	ctx, err := srtp.CreateContext(d.key, d.salt, d.profile)
	if err != nil {
		d.err = fmt.Errorf("%w: %w", ErrNotDirect, err)
		return nil, false, d.err
	}
	return &DirectStream{conn: d.conn, srtp: ctx}, true, nil
}

// DirectStream encrypts and sends the packets of one stream. It is safe for
// concurrent use.
type DirectStream struct {
	conn *sendConn

	mu      sync.Mutex
	srtp    *srtp.Context
	buf     []byte
	scratch rtp.Header
}

// srtpOverhead is room for SRTP's authentication tag after a packet (10
// bytes for AES-CM with HMAC-SHA1-80, 16 for AES-GCM).
const srtpOverhead = 16

// WriteRTP encrypts a packet and sends it to the address, through the
// shared media port: while a writer holds the address (SendBatcher), it is
// kept and sent with the others. It returns the bytes of the packet before
// encryption, as pion's writers do.
func (s *DirectStream) WriteRTP(to netip.AddrPort, h *rtp.Header, payload []byte) (int, error) {
	size := h.MarshalSize() + len(payload)
	s.mu.Lock()
	defer s.mu.Unlock()
	if cap(s.buf) < size+srtpOverhead {
		s.buf = make([]byte, size+srtpOverhead)
	}
	buf := s.buf[:size]
	n, err := h.MarshalTo(buf)
	if err != nil {
		return 0, fmt.Errorf("media: RTP header: %w", err)
	}
	copy(buf[n:], payload)
	// In place: the plaintext is the start of the buffer the ciphertext
	// goes to, as in pion's own session.
	out, err := s.srtp.EncryptRTP(s.buf[:cap(s.buf)], buf, &s.scratch)
	if err != nil {
		return 0, fmt.Errorf("media: SRTP: %w", err)
	}
	s.buf = out[:cap(out)] // the same array, or a larger one SRTP had to make
	if _, err := s.conn.WriteToAddrPort(out, to); err != nil {
		return 0, err
	}
	return size, nil
}
