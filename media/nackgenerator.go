package media

import (
	"sync"

	"github.com/pion/interceptor"
)

// nackOnReceive is a factory of pion's NACK generator that starts a
// connection's generator only once the connection receives a stream it may
// ask again for. Pion's generator starts a goroutine ticking every 100 ms as
// soon as a connection is made, whether or not anything arrives on it; a
// server's connections are mostly its subscribers', which receive nothing
// (a student off the floor publishes nothing), so N students cost the
// server 10·N wake-ups a second that find nothing to ask for.
type nackOnReceive struct {
	generator interceptor.Factory
}

// NewInterceptor returns the generator of one connection, not yet started.
func (f nackOnReceive) NewInterceptor(id string) (interceptor.Interceptor, error) {
	g, err := f.generator.NewInterceptor(id)
	if err != nil {
		return nil, err
	}
	return &lazyNACK{generator: g}, nil
}

// lazyNACK hands the connection's RTCP writer to its generator, which
// starts the generator's ticker, when the first stream that negotiated NACK
// is bound, or when the writer comes after such a stream. Everything else
// passes through to the generator.
type lazyNACK struct {
	generator interceptor.Interceptor

	mu      sync.Mutex
	writer  interceptor.RTCPWriter // the connection's, once bound
	wanted  bool                   // a stream that negotiated NACK was bound
	started bool                   // the generator has the writer
}

// BindRTCPWriter keeps the writer for the generator; it returns it as the
// generator does, unchanged.
func (l *lazyNACK) BindRTCPWriter(w interceptor.RTCPWriter) interceptor.RTCPWriter {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.writer = w
	l.start()
	return w
}

// BindRemoteStream starts the generator for a stream that negotiated NACK
// and binds the stream to it.
func (l *lazyNACK) BindRemoteStream(info *interceptor.StreamInfo, r interceptor.RTPReader) interceptor.RTPReader {
	if asksAgain(info) {
		l.mu.Lock()
		l.wanted = true
		l.start()
		l.mu.Unlock()
	}
	return l.generator.BindRemoteStream(info, r)
}

// start gives the generator the writer once both are there. l.mu is held.
func (l *lazyNACK) start() {
	if l.started || !l.wanted || l.writer == nil {
		return
	}
	l.started = true
	l.generator.BindRTCPWriter(l.writer)
}

func (l *lazyNACK) BindRTCPReader(r interceptor.RTCPReader) interceptor.RTCPReader {
	return l.generator.BindRTCPReader(r)
}

func (l *lazyNACK) BindLocalStream(info *interceptor.StreamInfo, w interceptor.RTPWriter) interceptor.RTPWriter {
	return l.generator.BindLocalStream(info, w)
}

func (l *lazyNACK) UnbindLocalStream(info *interceptor.StreamInfo) {
	l.generator.UnbindLocalStream(info)
}

func (l *lazyNACK) UnbindRemoteStream(info *interceptor.StreamInfo) {
	l.generator.UnbindRemoteStream(info)
}

// Close closes the generator, which ends its goroutine if it started one.
func (l *lazyNACK) Close() error { return l.generator.Close() }

// asksAgain reports whether a stream negotiated generic NACK, the streams
// pion's generator keeps a receive log of.
func asksAgain(info *interceptor.StreamInfo) bool {
	for _, fb := range info.RTCPFeedback {
		if fb.Type == "nack" && fb.Parameter == "" {
			return true
		}
	}
	return false
}
