package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"
	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"

	"classroom/domain"
	"classroom/media/codec"
	"classroom/media/mediatest"
	"classroom/media/recorder"
	"classroom/realtime/client"
)

// mediaNode starts a classroom process as one of the nodes sharing the
// PostgreSQL database at dbURL and the token key in keyFile, recording into
// its own directory, with the extra args.
func mediaNode(t *testing.T, dbURL, keyFile string, args ...string) (*server, string) {
	t.Helper()
	addr := freeAddr(t)
	recordings := t.TempDir()
	s := start(t, addr, append([]string{"-database-url", dbURL, "-data", t.TempDir(), "-token-key-file", keyFile,
		"-node-id", "media-" + uuid.NewString()[:8], "-node-public-url", "http://" + addr, "-recordings-dir", recordings}, args...)...)
	// Stopped gracefully, a node leaves the registry at once, and later
	// tests' full nodes send nobody to it.
	t.Cleanup(func() {
		s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(10 * time.Second):
		}
	})
	return s, recordings
}

// nodesDB is the PostgreSQL the multi-node tests share.
func nodesDB(t *testing.T) string {
	t.Helper()
	url := os.Getenv("DATABASE_URL")
	if url == "" {
		t.Fatal("DATABASE_URL is not set: run the tests through scripts/test, or point DATABASE_URL at a PostgreSQL")
	}
	return url
}

type classLesson struct {
	ID       string
	Teacher  struct{ Token string }
	Students struct{ Token string }
}

func createClass(t *testing.T, s *server, title string) classLesson {
	t.Helper()
	resp, err := http.Post("http://"+s.addr+"/api/lessons", "application/json", strings.NewReader(`{"title":"`+title+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var l classLesson
	if resp.StatusCode != http.StatusCreated || json.NewDecoder(resp.Body).Decode(&l) != nil {
		t.Fatalf("create lesson: HTTP %d", resp.StatusCode)
	}
	return l
}

// teach joins the lesson as its teacher through node s, starts it, and
// publishes a synthetic camera of fps frames of frameBytes.
func teach(ctx context.Context, t *testing.T, s *server, lesson classLesson, fps, frameBytes int,
	onTrack func(*webrtc.TrackRemote, *webrtc.RTPReceiver)) (*client.Client, *mediatest.Camera) {
	t.Helper()
	teacher, err := client.Dial(ctx, client.Options{URL: "ws://" + s.addr + "/api/lessons/" + lesson.ID + "/ws",
		Token: lesson.Teacher.Token, Name: "Ms Lovelace", Loopback: true, OnTrack: onTrack})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { teacher.Close() })
	if _, err := teacher.Send(ctx, &domain.LessonStarted{}); err != nil {
		t.Fatal(err)
	}
	return teacher, mediatest.Start(t, teacher.AddTrack, "teacher", fps, frameBytes)
}

// videoCounter counts the video packets and keyframes one participant's
// tracks bring to a client, and remembers the track's SSRC.
type videoCounter struct {
	from      string
	packets   atomic.Int64
	keyframes atomic.Int64
	ssrc      atomic.Uint32
}

func (v *videoCounter) onTrack(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
	counted := tr.Kind() == webrtc.RTPCodecTypeVideo && tr.StreamID() == v.from
	if counted {
		v.ssrc.Store(uint32(tr.SSRC()))
	}
	mime := strings.ToLower(tr.Codec().MimeType)
	for {
		p, _, err := tr.ReadRTP()
		if err != nil {
			return
		}
		if !counted {
			continue
		}
		v.packets.Add(1)
		if codec.KeyframeStart(mime, p.Payload) {
			v.keyframes.Add(1)
		}
	}
}

// says describes what came, for a test that waited for more.
func (v *videoCounter) says(who, what string) func() string {
	return func() string {
		return fmt.Sprintf("%s has %d packets and %d keyframes of %s", who, v.packets.Load(), v.keyframes.Load(), what)
	}
}

func waitFor(t *testing.T, what func() string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", timeout, what())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestMediaAcrossNodes: two nodes on one PostgreSQL. The teacher publishes
// on node A, a student on node B receives the teacher's video (packets and
// whole keyframes counted), and the student's keyframe requests reach the
// teacher's camera over the relay; once the student has the floor, the
// teacher on A receives the student's video from B, and A's recording (A
// owns the lesson) holds both, B's nothing.
func TestMediaAcrossNodes(t *testing.T) {
	db := nodesDB(t)
	key := filepath.Join(t.TempDir(), "token.key")
	a, recA := mediaNode(t, db, key)
	b, recB := mediaNode(t, db, key)
	lesson := createClass(t, a, "Across nodes")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	fromStudent := &videoCounter{}
	teacher, camera := teach(ctx, t, a, lesson, 30, 1200, fromStudent.onTrack)
	if _, err := teacher.Send(ctx, &domain.RecordingStarted{}); err != nil {
		t.Fatal(err)
	}

	fromTeacher := &videoCounter{from: teacher.Participant()}
	student, err := client.Dial(ctx, client.Options{URL: "ws://" + b.addr + "/api/lessons/" + lesson.ID + "/ws",
		Token: lesson.Students.Token, Name: "Ada", Loopback: true, OnTrack: fromTeacher.onTrack})
	if err != nil {
		t.Fatal(err)
	}
	defer student.Close()
	fromStudent.from = student.Participant()

	joined := time.Now()
	waitFor(t, fromTeacher.says("the student on B", "the teacher's video from A"), 20*time.Second, func() bool {
		return fromTeacher.keyframes.Load() >= 1 && fromTeacher.packets.Load() >= 60
	})
	t.Logf("student on B: first keyframe and 60 packets of the teacher's video %v after joining", time.Since(joined).Round(time.Millisecond))
	// The student's camera starts once the teacher's tracks are negotiated:
	// the Go client cannot roll back an offer that crosses the server's (pion
	// refuses the rollback; realtime/client's conn.go), so a camera started
	// at the join could leave both offers unanswered, which a browser, rolling
	// back, would not.
	mediatest.Start(t, student.AddTrack, "student", 30, 1200)
	if err := student.Err(); err != nil {
		t.Fatalf("the student on B: %v", err)
	}

	// Keyframe requests of the student on B reach the camera on A.
	ssrc := fromTeacher.ssrc.Load()
	askedBefore, keysBefore := camera.KeyframesAsked.Load(), fromTeacher.keyframes.Load()
	const requests = 5
	for range requests {
		if err := student.PeerConnection().WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: ssrc}}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(700 * time.Millisecond) // past both nodes' rate limits
	}
	asked, keys := camera.KeyframesAsked.Load()-askedBefore, fromTeacher.keyframes.Load()-keysBefore
	t.Logf("%d keyframe requests from B: the camera on A was asked %d times, the student got %d keyframes", requests, asked, keys)
	if asked < requests-1 || keys < requests-1 {
		t.Fatalf("%d keyframe requests from the student on B: the camera on A was asked %d times and %d keyframes came", requests, asked, keys)
	}

	// The student on B takes the floor: their video reaches the teacher on A.
	if _, err := teacher.Send(ctx, &domain.FloorGranted{Participant: student.Participant()}); err != nil {
		t.Fatal(err)
	}
	granted := time.Now()
	waitFor(t, fromStudent.says("the teacher on A", "the student's video from B"), 20*time.Second, func() bool {
		return fromStudent.keyframes.Load() >= 1 && fromStudent.packets.Load() >= 60
	})
	t.Logf("teacher on A: first keyframe and 60 packets of the student's video %v after the floor", time.Since(granted).Round(time.Millisecond))
	if _, err := teacher.Send(ctx, &domain.RecordingStopped{}); err != nil {
		t.Fatal(err)
	}

	// A's recording holds the publishers of both nodes.
	var recs []recorder.Recording
	waitFor(t, func() string { return fmt.Sprintf("A's recording does not hold both nodes' video: %+v", recs) }, 15*time.Second, func() bool {
		recs, _ = recorder.ListRecordings(filepath.Join(recA, lesson.ID))
		video := map[string]bool{}
		for _, r := range recs {
			if r.Kind == "video" && r.Frames >= 10 && r.End != nil {
				video[r.Participant] = true
			}
		}
		return video[teacher.Participant()] && video[student.Participant()]
	})
	for _, r := range recs {
		t.Logf("recorded on A: %s %s of %s, %d frames", r.Kind, r.Track, r.Participant, r.Frames)
	}
	// A, the lesson's owner, records; B, which follows it, does not copy it.
	if recs, err := recorder.ListRecordings(filepath.Join(recB, lesson.ID)); err != nil || len(recs) > 0 {
		t.Errorf("node B recorded the lesson too: %d files, %v", len(recs), err)
	}
}

// TestLectureAcrossNodes: three nodes of 40 participants each hold a
// lecture of a teacher and 100 students who all come to node A: the full
// nodes send students on to nodes with room, no node serves more than 40,
// and every student receives the teacher's video, relayed from A to the
// nodes it spilled onto.
func TestLectureAcrossNodes(t *testing.T) {
	const (
		capacity = 40
		students = 100
		dialers  = 10 // students joining at once
	)
	db := nodesDB(t)
	key := filepath.Join(t.TempDir(), "token.key")
	cap := "-max-subscribers=" + fmt.Sprint(capacity)
	a, _ := mediaNode(t, db, key, cap)
	b, _ := mediaNode(t, db, key, cap)
	c, _ := mediaNode(t, db, key, cap)
	lesson := createClass(t, a, "A lecture")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	began := time.Now()

	urlA := "ws://" + a.addr + "/api/lessons/" + lesson.ID + "/ws"
	teacher, _ := teach(ctx, t, a, lesson, 15, 600, nil)

	counters := make([]*videoCounter, students)
	clients := make([]*client.Client, students)
	errs := make(chan error, students)
	next := make(chan int)
	go func() {
		defer close(next)
		for i := range students {
			next <- i
		}
	}()
	for range dialers {
		go func() {
			for i := range next {
				counters[i] = &videoCounter{from: teacher.Participant()}
				var cl *client.Client
				var err error
				// A join refused as unavailable is made again, as a client does
				// (the lesson's owner may be moving on this loaded machine).
				for try := 0; try < 3; try++ {
					cl, err = client.Dial(ctx, client.Options{URL: urlA, Token: lesson.Students.Token, Name: fmt.Sprintf("Student %d", i),
						Loopback: true, OnTrack: counters[i].onTrack})
					if domain.ErrorCode(err) != domain.CodeUnavailable {
						break
					}
					time.Sleep(500 * time.Millisecond)
				}
				clients[i] = cl
				errs <- err
			}
		}()
	}
	for range students {
		if err := <-errs; err != nil {
			t.Fatalf("a student joins: %v", err)
		}
	}
	for _, cl := range clients {
		defer cl.Close()
	}
	joined := time.Since(began)

	perNode := map[string]int{a.addr: 1} // the teacher
	for _, cl := range clients {
		for _, s := range []*server{a, b, c} {
			if strings.Contains(cl.URL(), "//"+s.addr+"/") {
				perNode[s.addr]++
			}
		}
	}
	t.Logf("participants per node: A %d, B %d, C %d (all %d students joined in %v)",
		perNode[a.addr], perNode[b.addr], perNode[c.addr], students, joined.Round(time.Millisecond))
	total := 0
	for addr, n := range perNode {
		total += n
		if n > capacity {
			t.Errorf("node %s serves %d participants; its capacity is %d", addr, n, capacity)
		}
	}
	if total != students+1 {
		t.Errorf("the nodes serve %d participants of %d", total, students+1)
	}

	waitFor(t, func() string {
		var short []string
		for i, v := range counters {
			if v.keyframes.Load() < 1 || v.packets.Load() < 30 {
				short = append(short, describeStudent(clients[i], v, map[string]string{a.addr: "A", b.addr: "B", c.addr: "C"}))
			}
		}
		return fmt.Sprintf("%d of %d students have not had a keyframe and 30 packets of the teacher's video:\n%s",
			len(short), students, strings.Join(short, "\n"))
	}, time.Minute, func() bool {
		for _, v := range counters {
			if v.keyframes.Load() < 1 || v.packets.Load() < 30 {
				return false
			}
		}
		return true
	})
	t.Logf("every student has the teacher's video %v after the first joined", time.Since(began).Round(time.Millisecond))
	broken := map[*client.Client]bool{}
	for _, cl := range clients {
		// A gap, a duplicate or a malformed message in a student's event
		// stream is a failure even when the video came.
		if err := cl.Err(); err != nil {
			t.Errorf("%s saw the protocol broken: %v", cl.Participant(), err)
			broken[cl] = true
		}
	}

	// What each node costs, for docs/benchmarks.md: its CPU over a window,
	// and the packets its students received in it.
	const window = 5 * time.Second
	before := map[*server]time.Duration{}
	packets := func() map[string]int64 {
		out := map[string]int64{}
		for i, cl := range clients {
			out[cl.URL()] += counters[i].packets.Load()
		}
		return out
	}
	for _, s := range []*server{a, b, c} {
		before[s] = cpuTime(t, s)
	}
	sent := packets()
	time.Sleep(window)
	got := packets()
	for name, s := range map[string]*server{"A": a, "B": b, "C": c} {
		url := "ws://" + s.addr + "/api/lessons/" + lesson.ID + "/ws"
		cpu := cpuTime(t, s) - before[s]
		rate := float64(got[url]-sent[url]) / window.Seconds()
		t.Logf("node %s: %d students, %.0f video packets/s to them, CPU %.1f %% of a core", name, perNode[s.addr]-map[bool]int{true: 1}[s == a],
			rate, 100*cpu.Seconds()/window.Seconds())
	}
	for _, cl := range clients {
		if err := cl.Err(); err != nil && !broken[cl] {
			t.Errorf("%s saw the protocol broken in the measured window: %v", cl.Participant(), err)
		}
	}
}

// describeStudent says, for a test that waited for a student's video in
// vain, where the student is and what its connection and session look like:
// its node (by name in nodes, keyed by address), what came of the teacher's
// video, whether the video track came at all, its connection's states, and
// whether the session ended or the client saw an error, so that a failure
// seen once tells which part stalled.
func describeStudent(cl *client.Client, v *videoCounter, nodes map[string]string) string {
	node := cl.URL()
	for addr, name := range nodes {
		if strings.Contains(node, "//"+addr+"/") {
			node = name
		}
	}
	ended := "on"
	select {
	case <-cl.Ended():
		ended = "ended"
		if bye := cl.Bye(); bye != nil {
			ended += fmt.Sprintf(" (%s %s: %s)", bye.Code, bye.Reason, bye.Message)
		}
	default:
	}
	states := "no connection"
	if pc := cl.PeerConnection(); pc != nil {
		states = fmt.Sprintf("ICE %s, connection %s, signaling %s", pc.ICEConnectionState(), pc.ConnectionState(), pc.SignalingState())
	}
	return fmt.Sprintf("  %s on %s: %d packets, %d keyframes, video track came: %v; %s; session %s; client error: %v",
		cl.Participant(), node, v.packets.Load(), v.keyframes.Load(), v.ssrc.Load() != 0, states, ended, cl.Err())
}

// cpuTime is the CPU time a server process has used (utime + stime).
func cpuTime(t *testing.T, s *server) time.Duration {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	var utime, stime int64
	fmt.Sscan(f[11], &utime)
	fmt.Sscan(f[12], &stime)
	return time.Duration(utime+stime) * 10 * time.Millisecond // USER_HZ is 100 on Linux
}

// TestPageFollowsFullNode: the lesson page, opened on a node that is full,
// joins through the node the refusal names, and gets the teacher's video
// relayed there.
func TestPageFollowsFullNode(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		if chromium, err = exec.LookPath("chromium-browser"); err != nil {
			t.Fatal("chromium not found: install the Debian package chromium")
		}
	}
	db := nodesDB(t)
	key := filepath.Join(t.TempDir(), "token.key")
	a, _ := mediaNode(t, db, key, "-max-subscribers=1", "-allowed-origins=*")
	b, _ := mediaNode(t, db, key, "-max-subscribers=1", "-allowed-origins=*")
	lesson := createClass(t, a, "A full node")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	teach(ctx, t, a, lesson, 30, 1200, nil)
	time.Sleep(1500 * time.Millisecond) // A's load reaches the registry with its next heartbeat

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium), chromedp.NoSandbox,
		chromedp.UserDataDir(t.TempDir()), chromedp.Flag("headless", "new"), chromedp.Flag("disable-gpu", true),
		chromedp.Flag("use-fake-device-for-media-stream", true), chromedp.Flag("use-fake-ui-for-media-stream", true),
		chromedp.Flag("disable-features", "WebRtcHideLocalIpsWithMdns,Translate"))
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(alloc)
	defer cancelBrowser()
	link := "http://" + a.addr + "/lessons/" + lesson.ID + "#token=" + lesson.Students.Token
	if err := chromedp.Do(bctx, chromedp.Navigate(link), chromedp.WaitVisible(chromedp.ID("join-name")),
		chromedp.SetValue(chromedp.ID("join-name"), "Grace"), chromedp.Click(chromedp.ID("join-button"))); err != nil {
		t.Fatalf("open %s and join: %v", link, err)
	}
	const probe = `(async () => {
	  const c = window.classroom;
	  if (!c || !c.ready || !c.app || !c.app.conn || !c.app.conn.pc) return null;
	  let packets = 0;
	  (await c.app.conn.pc.getStats()).forEach((s) => { if (s.type === "inbound-rtp" && s.kind === "video") packets += s.packetsReceived || 0; });
	  return {url: c.app.conn.url, video_packets: packets};
	})()`
	var last map[string]any
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(300 * time.Millisecond) {
		got, err := chromedp.Run(bctx, chromedp.Evaluate[map[string]any](probe, chromedp.EvalAwaitPromise))
		if err == nil && got != nil {
			last = got
			if n, _ := got["video_packets"].(float64); n >= 60 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the page did not get the teacher's video through another node; last probe: %v", last)
		}
	}
	if url := fmt.Sprint(last["url"]); !strings.Contains(url, "//"+b.addr+"/") {
		t.Fatalf("the page joined through %s, not through node B (%s)", url, b.addr)
	}
	t.Logf("the page, sent from full node A to B, has %v packets of the teacher's video from A", last["video_packets"])
}
