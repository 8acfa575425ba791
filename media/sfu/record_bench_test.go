package sfu

import (
	"fmt"
	"log/slog"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"classroom/media"
	"classroom/media/recorder"
)

// discard is a subscriber's SRTP stream that sends nowhere.
type discard struct{}

func (discard) WriteRTP(h *rtp.Header, payload []byte) (int, error) { return len(payload) + 12, nil }
func (discard) Write(b []byte) (int, error)                         { return len(b), nil }

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkRecordingCost: one teacher's camera (VP8, five 1,000-byte
// packets a frame) and microphone (one Opus packet per 20 ms: 1.67 a frame)
// forwarded to N subscribers, with and without recording both tracks. An
// op is one video frame and its share of audio; cpu-µs/op is the process's
// CPU time (getrusage: every goroutine, writers and recorders included).
// Subscribers' writes go nowhere, so forwarding's cost here leaves out
// SRTP and the socket: recording's share of a real server's is smaller.
func BenchmarkRecordingCost(b *testing.B) {
	for _, subs := range []int{1, 10, 30} {
		for _, record := range []bool{false, true} {
			b.Run(fmt.Sprintf("subscribers=%d/record=%v", subs, record), func(b *testing.B) {
				benchRecording(b, subs, record)
			})
		}
	}
}

func benchRecording(b *testing.B, subs int, record bool) {
	video, _ := testPublication()
	video.codec = webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}}
	audio := &publication{kind: webrtc.RTPCodecTypeAudio, mime: "audio/opus", done: make(chan struct{}),
		codec: webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}}}
	audio.askKeyframe = func() {}
	var wg sync.WaitGroup
	var downs []*downTrack
	for _, p := range []*publication{video, audio} {
		for range subs {
			d := newDownTrack(p, nil)
			d.ssrc, d.pt, d.write = 4242, 100, discard{}
			d.start(&wg)
			p.subs = append(p.subs, d)
			downs = append(downs, d)
		}
	}
	var rec *recorder.Recorder
	var dir string
	stage := NewStage(slog.New(slog.DiscardHandler))
	if record {
		// The two tracks are the teacher's, on stage, and the recorder is
		// the stage's subscriber.
		teacher := &Member{stage: stage, id: "teacher", downs: map[*publication]*downTrack{}, pubs: []*publication{video, audio}}
		video.owner, audio.owner = teacher, teacher
		stage.members[teacher] = struct{}{}
		stage.onStage[teacher.id] = true
		rec = recorder.New(stage, slog.New(slog.DiscardHandler))
		dir = b.TempDir()
		if err := rec.Start(recorder.Options{Dir: dir, Lesson: "bench", Segment: 1, Now: time.Now}); err != nil {
			b.Fatal(err)
		}
	}
	frame := make([]byte, 1000)
	copy(frame, []byte{0x10, 0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01}) // descriptor, then a keyframe's start
	var vseq, aseq uint16
	cpu0 := cpuTime()
	b.ResetTimer()
	for i := range b.N {
		key := i%60 == 0
		for k := range 5 {
			payload := append([]byte(nil), frame...)
			if k > 0 {
				payload[0] = 0x00
			} else if !key {
				payload[1] |= 0x01
			}
			video.handOut(&packet{from: video, Packet: media.Packet{Header: rtp.Header{Version: 2, SequenceNumber: vseq,
				Timestamp: uint32(i * 3000), Marker: k == 4, SSRC: 1}, Payload: payload, Keyframe: key && k == 0}})
			vseq++
		}
		for aseq < uint16(i*5/3) {
			audio.handOut(&packet{from: audio, Packet: media.Packet{Header: rtp.Header{Version: 2, SequenceNumber: aseq,
				Timestamp: uint32(aseq) * 960, Marker: true, SSRC: 2}, Payload: make([]byte, 80)}})
			aseq++
		}
		if i%8 == 0 {
			time.Sleep(time.Millisecond) // let queues drain, as a paced publisher would
		}
	}
	if rec != nil {
		rec.Stop(time.Time{})
	}
	for _, d := range downs {
		d.close()
	}
	wg.Wait()
	stage.Close() // waits for the recorder's files
	b.StopTimer()
	cpu := cpuTime() - cpu0
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/op")
	var dropped uint64
	for _, d := range downs {
		dropped += d.dropped.Load()
	}
	if rec != nil {
		// A run too short to complete a frame writes no file.
		recs, err := recorder.ListRecordings(dir)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range recs {
			dropped += r.Dropped
		}
	}
	b.ReportMetric(float64(dropped)/float64(b.N), "drops/op")
}
