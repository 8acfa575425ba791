package media

import (
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/nack"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
)

// rtcpLog is an RTCP writer that keeps what it is given.
type rtcpLog struct {
	mu   sync.Mutex
	pkts []rtcp.Packet
}

func (l *rtcpLog) Write(pkts []rtcp.Packet, _ interceptor.Attributes) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pkts = append(l.pkts, pkts...)
	return len(pkts), nil
}

// nacked returns the sequence numbers NACKed so far.
func (l *rtcpLog) nacked() []uint16 {
	l.mu.Lock()
	defer l.mu.Unlock()
	var seqs []uint16
	for _, p := range l.pkts {
		if n, ok := p.(*rtcp.TransportLayerNack); ok {
			for _, pair := range n.Nacks {
				seqs = append(seqs, pair.PacketList()...)
			}
		}
	}
	return seqs
}

// TestNACKGeneratorWaitsForAStream: a connection that receives nothing
// runs no NACK generator (pion's would tick every 100 ms for each of a
// server's subscribers); one whose stream negotiated NACK runs it, whichever
// of the writer and the stream is bound first, and closing ends it.
func TestNACKGeneratorWaitsForAStream(t *testing.T) {
	const conns = 100
	gen, err := nack.NewGeneratorInterceptor()
	if err != nil {
		t.Fatal(err)
	}
	f := nackOnReceive{generator: gen}
	video := &interceptor.StreamInfo{SSRC: 1, RTCPFeedback: []interceptor.RTCPFeedback{{Type: "nack"}, {Type: "nack", Parameter: "pli"}}}
	audio := &interceptor.StreamInfo{SSRC: 2}
	noop := interceptor.RTPReaderFunc(func(b []byte, a interceptor.Attributes) (int, interceptor.Attributes, error) {
		return len(b), a, nil
	})

	base := runtime.NumGoroutine()
	ics := make([]interceptor.Interceptor, conns)
	for i := range ics {
		if ics[i], err = f.NewInterceptor(""); err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			ics[i].BindRTCPWriter(&rtcpLog{})
		}
		ics[i].BindRemoteStream(audio, noop) // no NACK for it
		if i%2 == 1 {
			ics[i].BindRTCPWriter(&rtcpLog{})
		}
	}
	if n := runtime.NumGoroutine() - base; n > conns/10 {
		t.Errorf("%d connections that receive no stream with NACK started %d goroutines", conns, n)
	}
	for _, ic := range ics {
		ic.BindRemoteStream(video, noop)
	}
	if n := runtime.NumGoroutine() - base; n < conns {
		t.Errorf("%d connections receiving video started %d goroutines, want a generator each", conns, n)
	}
	for _, ic := range ics {
		if err := ic.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if n := runtime.NumGoroutine() - base; n > conns/10 {
		t.Errorf("%d goroutines left after closing", n)
	}
}

// TestNACKGeneratorAsksForAHole: started late, the generator still asks for
// what a received stream lacks, whichever of the writer and the stream was
// bound first.
func TestNACKGeneratorAsksForAHole(t *testing.T) {
	for _, writerFirst := range []bool{true, false} {
		gen, err := nack.NewGeneratorInterceptor(nack.GeneratorInterval(10 * time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		ic, err := nackOnReceive{generator: gen}.NewInterceptor("")
		if err != nil {
			t.Fatal(err)
		}
		log := &rtcpLog{}
		if writerFirst {
			ic.BindRTCPWriter(log)
		}
		var next []byte
		r := ic.BindRemoteStream(&interceptor.StreamInfo{SSRC: 7, RTCPFeedback: []interceptor.RTCPFeedback{{Type: "nack"}}},
			interceptor.RTPReaderFunc(func(b []byte, a interceptor.Attributes) (int, interceptor.Attributes, error) {
				return copy(b, next), a, nil
			}))
		if !writerFirst {
			ic.BindRTCPWriter(log)
		}
		for _, seq := range []uint16{100, 101, 103, 104} { // 102 is lost
			p := rtp.Packet{Header: rtp.Header{Version: 2, SSRC: 7, SequenceNumber: seq, PayloadType: 96}, Payload: []byte{1}}
			if next, err = p.Marshal(); err != nil {
				t.Fatal(err)
			}
			if _, _, err := r.Read(make([]byte, 1500), nil); err != nil {
				t.Fatal(err)
			}
		}
		deadline := time.Now().Add(5 * time.Second)
		for len(log.nacked()) == 0 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if got := log.nacked(); len(got) == 0 || got[0] != 102 {
			t.Errorf("writer bound first %v: NACKed %v, want 102", writerFirst, got)
		}
		if err := ic.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
