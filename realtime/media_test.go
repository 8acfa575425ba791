package realtime_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"

	"classroom/domain"
	"classroom/media/mediatest"
	"classroom/media/turn"
	"classroom/realtime"
	"classroom/realtime/client"
	"classroom/realtime/protocol"
)

// reception counts what one subscriber receives of one forwarded track.
type reception struct {
	mu            sync.Mutex
	publisher     string
	kind          webrtc.RTPCodecType
	codec         string // its MIME type
	packets       int
	first, last   int64 // unwrapped sequence numbers
	firstKeyframe bool  // the first video packet starts a keyframe
	ended         bool
	lastAt        time.Time
	lastTS        uint32 // the timestamp of the last packet
	// The sender reports of the track: how many, and how far the last
	// one's RTP time was from the timestamp of the last packet before it.
	reports   int
	reportGap int32
	reported  rtcp.SenderReport
}

// count returns the packets received and the highest sequence number so far.
func (r *reception) count() (packets int, last int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.packets, r.last
}

// lossSince returns the share of packets lost since count returned
// (packets, last): a window that leaves out how the stream started.
func (r *reception) lossSince(packets int, last int64) (float64, int) {
	p, l := r.count()
	if l == last {
		return 1, 0
	}
	return 1 - float64(p-packets)/float64(l-last), p - packets
}

// receiver records every track a client is sent.
type receiver struct {
	mu     sync.Mutex
	tracks []*reception
}

func (rc *receiver) onTrack(t *webrtc.TrackRemote, rtpReceiver *webrtc.RTPReceiver) {
	r := &reception{publisher: t.StreamID(), kind: t.Kind(), codec: t.Codec().MimeType}
	rc.mu.Lock()
	rc.tracks = append(rc.tracks, r)
	rc.mu.Unlock()
	go r.readReports(rtpReceiver, uint32(t.SSRC())) // ends with the receiver
	var last uint16
	for {
		p, _, err := t.ReadRTP()
		if err != nil {
			r.mu.Lock()
			r.ended = true
			r.mu.Unlock()
			return
		}
		r.mu.Lock()
		if r.packets == 0 {
			r.first, r.last = int64(p.SequenceNumber), int64(p.SequenceNumber)
			if r.kind == webrtc.RTPCodecTypeVideo {
				var vp8 codecs.VP8Packet
				if _, err := vp8.Unmarshal(p.Payload); err == nil {
					r.firstKeyframe = vp8.S == 1 && vp8.PID == 0 && len(vp8.Payload) > 0 && vp8.Payload[0]&0x01 == 0
				}
			}
		} else if d := int16(p.SequenceNumber - last); d > 0 {
			r.last += int64(d)
		}
		last = uint16(r.last)
		r.packets++
		r.lastAt = time.Now()
		r.lastTS = p.Timestamp
		r.mu.Unlock()
	}
}

// readReports notes the sender reports of the track's SSRC until the
// receiver stops.
func (r *reception) readReports(rtpReceiver *webrtc.RTPReceiver, ssrc uint32) {
	for {
		pkts, _, err := rtpReceiver.ReadRTCP()
		if err != nil {
			return
		}
		for _, pkt := range pkts {
			if sr, ok := pkt.(*rtcp.SenderReport); ok && sr.SSRC == ssrc {
				r.mu.Lock()
				if r.packets > 0 {
					r.reports++
					r.reportGap = int32(sr.RTPTime - r.lastTS)
					r.reported = *sr
				}
				r.mu.Unlock()
			}
		}
	}
}

// from returns the receptions of a publisher's tracks of a kind.
func (rc *receiver) from(publisher string, kind webrtc.RTPCodecType) []*reception {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var out []*reception
	for _, r := range rc.tracks {
		if r.publisher == publisher && r.kind == kind {
			out = append(out, r)
		}
	}
	return out
}

// flowing reports whether a packet of the publisher's kind arrived in the last 300 ms.
func (rc *receiver) flowing(publisher string, kind webrtc.RTPCodecType) bool {
	for _, r := range rc.from(publisher, kind) {
		r.mu.Lock()
		ok := r.packets > 0 && time.Since(r.lastAt) < 300*time.Millisecond
		r.mu.Unlock()
		if ok {
			return true
		}
	}
	return false
}

// negotiated reports whether every transceiver of c's connection is in a
// description both sides applied.
func negotiated(c *client.Client) bool {
	pc := c.PeerConnection()
	if pc == nil || pc.SignalingState() != webrtc.SignalingStateStable {
		return false
	}
	for _, tr := range pc.GetTransceivers() {
		if tr.Mid() == "" {
			return false
		}
	}
	return true
}

func (ls *lessonServer) joinMedia(ctx context.Context, role domain.Role, name string) (*client.Client, *receiver) {
	ls.t.Helper()
	participant := ""
	if role == domain.RoleTeacher {
		participant = "teacher"
	}
	rc := &receiver{}
	c, err := client.Dial(ctx, client.Options{URL: ls.url(), Token: ls.token(role, participant, time.Hour), Name: name,
		Loopback: true, OnTrack: rc.onTrack})
	if err != nil {
		ls.t.Fatalf("%s joins: %v", name, err)
	}
	ls.t.Cleanup(func() { c.Close() })
	return c, rc
}

// TestTeacherToClass: the teacher's camera and microphone reach ten
// students through the server, with no loss to speak of, and each student's
// video starts with a keyframe.
func TestTeacherToClass(t *testing.T) {
	ls := startServer(t, openStore(t, "sqlite"), nil)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	teacher, _ := ls.joinMedia(ctx, domain.RoleTeacher, "Ms Lovelace")
	mustSend(t, ctx, teacher, &domain.LessonStarted{})
	mediatest.Start(t, teacher.AddTrack, "teacher", 30, 3000)
	var students []*receiver
	for i := range 10 {
		_, rc := ls.joinMedia(ctx, domain.RoleStudent, fmt.Sprintf("Student %d", i))
		students = append(students, rc)
	}
	waitFor(t, 20*time.Second, "every student to receive the teacher", func() bool {
		for _, rc := range students {
			if !rc.flowing("teacher", webrtc.RTPCodecTypeVideo) || !rc.flowing("teacher", webrtc.RTPCodecTypeAudio) {
				return false
			}
		}
		return true
	})
	type mark struct {
		r       *reception
		packets int
		last    int64
	}
	marks := map[[2]int]mark{}
	for i, rc := range students {
		for k, kind := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeVideo, webrtc.RTPCodecTypeAudio} {
			got := rc.from("teacher", kind)
			if len(got) != 1 {
				t.Fatalf("student %d has %d %s tracks of the teacher, want 1", i, len(got), kind)
			}
			p, l := got[0].count()
			marks[[2]int{i, k}] = mark{got[0], p, l}
		}
	}
	time.Sleep(4 * time.Second)
	for i := range students {
		for k, kind := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeVideo, webrtc.RTPCodecTypeAudio} {
			m := marks[[2]int{i, k}]
			r := m.r
			if loss, n := r.lossSince(m.packets, m.last); loss >= 0.01 {
				t.Errorf("student %d lost %.2f%% of the teacher's %s (%d packets received in 4 s)", i, 100*loss, kind, n)
			}
			if kind == webrtc.RTPCodecTypeVideo && !r.firstKeyframe {
				t.Errorf("student %d's first video packet does not start a keyframe", i)
			}
		}
	}
}

// TestFloor: only the teacher and the student with the floor are heard and
// seen; granting the floor brings the student's camera to everyone, and
// revoking it takes it away.
func TestFloor(t *testing.T) {
	ls := startServer(t, openStore(t, "sqlite"), nil)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	teacher, teacherRx := ls.joinMedia(ctx, domain.RoleTeacher, "Ms Lovelace")
	mustSend(t, ctx, teacher, &domain.LessonStarted{})
	ada, adaRx := ls.joinMedia(ctx, domain.RoleStudent, "Ada")
	bob, bobRx := ls.joinMedia(ctx, domain.RoleStudent, "Bob")
	// The students' cameras first, negotiated before the teacher's brings
	// the server's offers: a pion client cannot roll back an offer that
	// crosses the server's (see client.readSignals).
	mediatest.Start(t, ada.AddTrack, "ada", 30, 2000)
	mediatest.Start(t, bob.AddTrack, "bob", 30, 2000)
	waitFor(t, 10*time.Second, "the students' cameras to be negotiated", func() bool { return negotiated(ada) && negotiated(bob) })
	mediatest.Start(t, teacher.AddTrack, "teacher", 30, 2000)
	waitFor(t, 20*time.Second, "the students to receive the teacher", func() bool {
		return adaRx.flowing("teacher", webrtc.RTPCodecTypeVideo) && bobRx.flowing("teacher", webrtc.RTPCodecTypeVideo)
	})
	time.Sleep(time.Second)
	// Without the floor, a student's tracks go nowhere.
	for name, rc := range map[string]*receiver{"teacher": teacherRx, "Ada": adaRx, "Bob": bobRx} {
		for _, student := range []string{ada.Participant(), bob.Participant()} {
			if len(rc.from(student, webrtc.RTPCodecTypeVideo))+len(rc.from(student, webrtc.RTPCodecTypeAudio)) > 0 {
				t.Fatalf("%s receives student %s without the floor", name, student)
			}
		}
	}

	mustSend(t, ctx, ada, &domain.HandRaised{})
	mustSend(t, ctx, teacher, &domain.FloorGranted{Participant: ada.Participant()})
	waitFor(t, 20*time.Second, "the teacher and Bob to receive Ada", func() bool {
		for _, rc := range []*receiver{teacherRx, bobRx} {
			if !rc.flowing(ada.Participant(), webrtc.RTPCodecTypeVideo) || !rc.flowing(ada.Participant(), webrtc.RTPCodecTypeAudio) {
				return false
			}
		}
		return true
	})
	if len(adaRx.from(ada.Participant(), webrtc.RTPCodecTypeVideo)) > 0 {
		t.Fatal("Ada is sent her own camera")
	}
	if len(teacherRx.from(bob.Participant(), webrtc.RTPCodecTypeVideo))+len(adaRx.from(bob.Participant(), webrtc.RTPCodecTypeVideo)) > 0 {
		t.Fatal("Bob, without the floor, is forwarded")
	}
	for _, r := range bobRx.from(ada.Participant(), webrtc.RTPCodecTypeVideo) {
		if !r.firstKeyframe {
			t.Error("Bob's first packet of Ada's video does not start a keyframe")
		}
	}

	mustSend(t, ctx, teacher, &domain.FloorRevoked{Participant: ada.Participant()})
	waitFor(t, 20*time.Second, "Ada's tracks to stop", func() bool {
		for _, rc := range []*receiver{teacherRx, bobRx} {
			if rc.flowing(ada.Participant(), webrtc.RTPCodecTypeVideo) || rc.flowing(ada.Participant(), webrtc.RTPCodecTypeAudio) {
				return false
			}
		}
		return true
	})
	// The teacher is still seen by both.
	waitFor(t, 5*time.Second, "the teacher to be seen still", func() bool {
		return adaRx.flowing("teacher", webrtc.RTPCodecTypeVideo) && bobRx.flowing("teacher", webrtc.RTPCodecTypeVideo)
	})
	for _, c := range []*client.Client{teacher, ada, bob} {
		if st := c.ConnectionState(); st != webrtc.PeerConnectionStateConnected {
			t.Fatalf("a connection is %s after the renegotiations", st)
		}
	}
}

// TestRelayOnly: a student whose network allows nothing but a TURN relay
// joins through the embedded relay with the credentials of its welcome;
// expired or forged credentials get it nowhere.
func TestRelayOnly(t *testing.T) {
	secret := []byte(strings.Repeat("s", 32))
	relay, err := turn.NewRelay(turn.RelayConfig{UDPAddr: "127.0.0.1:0", Secret: secret, AllowLoopback: true, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { relay.Close() })
	var mode atomic.Value
	mode.Store("valid")
	ls := startServer(t, openStore(t, "sqlite"), func(c *realtime.Config) {
		c.ICEServers = func(host, participant string) []protocol.ICEServer {
			var out []protocol.ICEServer
			for _, s := range relay.ICEServers(host, participant) {
				if s.Username != "" {
					switch mode.Load() {
					case "expired":
						s.Username = fmt.Sprintf("%d:%s", time.Now().Add(-time.Minute).Unix(), participant)
						mac := hmac.New(sha1.New, secret)
						mac.Write([]byte(s.Username))
						s.Credential = base64.StdEncoding.EncodeToString(mac.Sum(nil))
					case "forged": // one character changed, whatever it was
						forged := []byte(s.Credential)
						if forged[0] == 'x' {
							forged[0] = 'y'
						} else {
							forged[0] = 'x'
						}
						s.Credential = string(forged)
					}
				}
				out = append(out, protocol.ICEServer{URLs: s.URLs, Username: s.Username, Credential: s.Credential})
			}
			return out
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	teacher, _ := ls.joinMedia(ctx, domain.RoleTeacher, "Ms Lovelace")
	mustSend(t, ctx, teacher, &domain.LessonStarted{})
	mediatest.Start(t, teacher.AddTrack, "teacher", 30, 2000)

	rc := &receiver{}
	student, err := client.Dial(ctx, client.Options{URL: ls.url(), Token: ls.token(domain.RoleStudent, "", time.Hour),
		Name: "Behind a firewall", Loopback: true, RelayOnly: true, OnTrack: rc.onTrack})
	if err != nil {
		t.Fatalf("relay-only join: %v", err)
	}
	t.Cleanup(func() { student.Close() })
	pair, err := student.PeerConnection().SCTP().Transport().ICETransport().GetSelectedCandidatePair()
	if err != nil || pair == nil || pair.Local.Typ != webrtc.ICECandidateTypeRelay {
		t.Fatalf("selected pair %v (%v), want a relayed local candidate", pair, err)
	}
	waitFor(t, 20*time.Second, "the teacher's video through the relay", func() bool {
		return rc.flowing("teacher", webrtc.RTPCodecTypeVideo)
	})

	for _, bad := range []string{"expired", "forged"} {
		mode.Store(bad)
		short, cancel := context.WithTimeout(ctx, 6*time.Second)
		c, err := client.Dial(short, client.Options{URL: ls.url(), Token: ls.token(domain.RoleStudent, "", time.Hour),
			Name: "Locked out", Loopback: true, RelayOnly: true})
		cancel()
		if err == nil {
			c.Close()
			t.Fatalf("a relay-only student with %s credentials connected", bad)
		}
	}
}

// TestOneMediaPort: with a media UDP address, every connection's media goes
// through that one port, which sends a frame's packets to a student
// together, and none is lost.
func TestOneMediaPort(t *testing.T) {
	ls := startServer(t, openStore(t, "sqlite"), func(c *realtime.Config) { c.MediaUDPAddr = "127.0.0.1:0" })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	teacher, _ := ls.joinMedia(ctx, domain.RoleTeacher, "Ms Lovelace")
	mustSend(t, ctx, teacher, &domain.LessonStarted{})
	mediatest.Start(t, teacher.AddTrack, "teacher", 30, 2000)
	var students []*client.Client
	var rxs []*receiver
	for i := range 3 {
		c, rc := ls.joinMedia(ctx, domain.RoleStudent, fmt.Sprint("Student ", i))
		students, rxs = append(students, c), append(rxs, rc)
	}
	waitFor(t, 20*time.Second, "the students to receive the teacher", func() bool {
		for _, rc := range rxs {
			if !rc.flowing("teacher", webrtc.RTPCodecTypeVideo) {
				return false
			}
		}
		return true
	})
	// The port sends each student a frame's packets together (media.Engine.Batcher):
	// they arrive, every one of them.
	type mark struct {
		r       *reception
		packets int
		last    int64
	}
	var marks []mark
	for i, rc := range rxs {
		got := rc.from("teacher", webrtc.RTPCodecTypeVideo)
		if len(got) != 1 {
			t.Fatalf("student %d has %d video tracks of the teacher, want 1", i, len(got))
		}
		p, l := got[0].count()
		marks = append(marks, mark{got[0], p, l})
	}
	time.Sleep(2 * time.Second)
	for i, m := range marks {
		if loss, n := m.r.lossSince(m.packets, m.last); loss >= 0.01 || n == 0 {
			t.Errorf("student %d lost %.2f%% of the teacher's video through the one port (%d packets received in 2 s)", i, 100*loss, n)
		}
		if !m.r.firstKeyframe {
			t.Errorf("student %d's first video packet does not start a keyframe", i)
		}
		// The port's sender sends its own reports (media.Direct): one a
		// second, which map the wall clock onto the track's timestamps
		// (the last packet, at 30 frames a second, came at most a few
		// frames before), and count what was sent.
		m.r.mu.Lock()
		reports, gap, sr, packets := m.r.reports, m.r.reportGap, m.r.reported, m.r.packets
		m.r.mu.Unlock()
		if reports == 0 || gap < -9000 || gap > 9000 || sr.PacketCount == 0 || int(sr.PacketCount) > packets+10 || sr.OctetCount == 0 {
			t.Errorf("student %d: %d sender reports of the teacher's video, the last counting %d packets and %d bytes, %d ticks from the last packet's timestamp; %d packets received",
				i, reports, sr.PacketCount, sr.OctetCount, gap, packets)
		}
	}
	port := ls.live().MediaAddr().(*net.UDPAddr).Port
	for _, c := range append(students, teacher) {
		pair, err := c.PeerConnection().SCTP().Transport().ICETransport().GetSelectedCandidatePair()
		if err != nil || pair == nil {
			t.Fatalf("no selected pair: %v", err)
		}
		if int(pair.Remote.Port) != port {
			t.Fatalf("a connection uses the server's port %d, not the media port %d", pair.Remote.Port, port)
		}
	}
}

// TestEndedLessonForwardsNothing: once the teacher ends the lesson, the
// server stops forwarding their camera and microphone, though the teacher's
// client still sends them.
func TestEndedLessonForwardsNothing(t *testing.T) {
	ls := startServer(t, openStore(t, "sqlite"), nil)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	teacher, _ := ls.joinMedia(ctx, domain.RoleTeacher, "Ms Lovelace")
	mustSend(t, ctx, teacher, &domain.LessonStarted{})
	mediatest.Start(t, teacher.AddTrack, "teacher", 30, 2000)
	_, rc := ls.joinMedia(ctx, domain.RoleStudent, "Ada")
	received := func(kind webrtc.RTPCodecType) (n int) {
		for _, r := range rc.from("teacher", kind) {
			p, _ := r.count()
			n += p
		}
		return n
	}
	waitFor(t, 20*time.Second, "the student to receive the teacher", func() bool {
		return received(webrtc.RTPCodecTypeVideo) > 30 && received(webrtc.RTPCodecTypeAudio) > 30
	})
	mustSend(t, ctx, teacher, &domain.LessonEnded{})
	time.Sleep(time.Second) // what was on its way has arrived
	video, audio := received(webrtc.RTPCodecTypeVideo), received(webrtc.RTPCodecTypeAudio)
	t.Log(video, audio)
	defer func() { t.Log(received(webrtc.RTPCodecTypeVideo), received(webrtc.RTPCodecTypeAudio)) }()
	time.Sleep(2 * time.Second)
	if v, a := received(webrtc.RTPCodecTypeVideo)-video, received(webrtc.RTPCodecTypeAudio)-audio; v+a > 0 {
		t.Fatalf("2 s after the end, the student was sent %d more video and %d more audio packets of the teacher", v, a)
	}
}
