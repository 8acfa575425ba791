//go:build linux

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pion/webrtc/v4"

	"classroom/domain"
	"classroom/media/mediatest"
	"classroom/realtime/client"
)

// TestFirewallHelper is not a test of its own: TestHTTPSOnlyFirewall runs
// this binary again inside its network namespaces, with fwRoleEnv set to
// the part to play there, and reads the "RESULT {json}" lines it prints.
// Run directly, without fwRoleEnv, it does nothing.
func TestFirewallHelper(t *testing.T) {
	role := os.Getenv(fwRoleEnv)
	if role == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()
	var (
		out map[string]any
		err error
	)
	switch role {
	case "teacher":
		err = fwTeacher(ctx, t)
	case "student":
		out, err = fwStudent(ctx)
	case "browser":
		out, err = fwBrowser(ctx, t)
	default:
		err = fmt.Errorf("unknown role %q", role)
	}
	if err != nil {
		out = map[string]any{"error": err.Error()}
	}
	if out != nil {
		printResult(out)
	}
}

func printResult(v map[string]any) {
	b, _ := json.Marshal(v)
	fmt.Printf("RESULT %s\n", b)
}

// fwTeacher creates a lesson, starts it, publishes a camera and posts a
// chat line, prints the students' link, then posts a line a second until its
// standard input closes.
func fwTeacher(ctx context.Context, t *testing.T) error {
	base := os.Getenv("CLASSROOM_FW_BASE")
	var resp *http.Response
	var err error
	for { // the server may still be starting
		resp, err = http.Post(base+"/api/lessons", "application/json", strings.NewReader(`{"title":"Behind a firewall"}`))
		if err == nil {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("create the lesson: %w", err)
		case <-time.After(100 * time.Millisecond):
		}
	}
	var l struct {
		ID       string
		Teacher  struct{ Token string }
		Students struct{ Token, URL string }
	}
	err = json.NewDecoder(resp.Body).Decode(&l)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("create the lesson: HTTP %d, %v", resp.StatusCode, err)
	}
	teacher, err := client.Dial(ctx, client.Options{URL: wsURL(base, l.ID), Token: l.Teacher.Token, Name: "Ms Hopper"})
	if err != nil {
		return fmt.Errorf("the teacher joins: %w", err)
	}
	defer teacher.Close()
	if _, err := teacher.Send(ctx, &domain.LessonStarted{}); err != nil {
		return err
	}
	mediatest.Start(t, teacher.AddTrack, "teacher", 30, 1500)
	if _, err := teacher.Send(ctx, &domain.ChatPosted{Text: "welcome, all"}); err != nil {
		return err
	}
	printResult(map[string]any{"id": l.ID, "students": l.Students.Token, "students_url": l.Students.URL})
	stdin := make(chan struct{})
	go func() { io.Copy(io.Discard, os.Stdin); close(stdin) }()
	for i := 1; ; i++ {
		select {
		case <-stdin:
			return nil
		case <-ctx.Done():
			return nil
		case <-time.After(time.Second):
		}
		if _, err := teacher.Send(ctx, &domain.ChatPosted{Text: fmt.Sprintf("line %d", i)}); err != nil {
			return err
		}
	}
}

func wsURL(base, lesson string) string {
	return "wss://" + strings.TrimPrefix(base, "https://") + "/api/lessons/" + lesson + "/ws"
}

// fwStudentWait is how long the Go student waits for the teacher's video
// and chat lines: less than TestHTTPSOnlyFirewall waits for its result.
const fwStudentWait = 75 * time.Second

// fwStudent joins as a student, as the Go client does anywhere (all paths
// offered, none forced), and reports what reached it and over which path;
// then it stays until its standard input closes, and reports again.
func fwStudent(ctx context.Context) (map[string]any, error) {
	var video, chat atomic.Int64
	// Say how far it got (TestHTTPSOnlyFirewall shows a helper's output
	// when it fails), and give up before the test does, so that a student
	// who got nothing says what it was waiting for.
	wait, stop := context.WithTimeout(ctx, fwStudentWait)
	defer stop()
	fmt.Fprintln(os.Stderr, "student: joining")
	c, err := client.Dial(wait, client.Options{URL: wsURL(os.Getenv("CLASSROOM_FW_BASE"), os.Getenv("CLASSROOM_FW_LESSON")),
		Token: os.Getenv("CLASSROOM_FW_TOKEN"), Name: "Behind the firewall",
		OnEvent: func(e domain.Event) {
			if _, ok := e.Payload.(*domain.ChatPosted); ok {
				chat.Add(1)
			}
		},
		OnTrack: func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
			for {
				if _, _, err := tr.ReadRTP(); err != nil {
					return
				}
				if tr.Kind() == webrtc.RTPCodecTypeVideo {
					video.Add(1)
				}
			}
		}})
	if err != nil {
		return nil, fmt.Errorf("join: %w", err)
	}
	defer c.Close()
	fmt.Fprintln(os.Stderr, "student: joined")
	progress := time.NewTicker(5 * time.Second)
	defer progress.Stop()
	for video.Load() < 60 || chat.Load() < 2 {
		select {
		case <-wait.Done():
			typ, proto := selectedLocal(c.PeerConnection())
			return nil, fmt.Errorf("%v after starting to join: %d video packets, %d chat lines, connection %s, ICE %s, local candidate %q %q",
				fwStudentWait, video.Load(), chat.Load(), c.ConnectionState(), c.PeerConnection().ICEConnectionState(), typ, proto)
		case <-progress.C:
			fmt.Fprintf(os.Stderr, "student: %d video packets, %d chat lines, connection %s, ICE %s\n",
				video.Load(), chat.Load(), c.ConnectionState(), c.PeerConnection().ICEConnectionState())
		case <-time.After(100 * time.Millisecond):
		}
	}
	typ, proto := selectedLocal(c.PeerConnection())
	printResult(map[string]any{"video_packets": video.Load(), "chat_lines": chat.Load(), "candidate": typ, "relay_protocol": proto})
	// Stay in the lesson until told to leave, then say how much came since.
	io.Copy(io.Discard, os.Stdin)
	return map[string]any{"video_packets": video.Load(), "chat_lines": chat.Load(), "state": c.ConnectionState().String()}, nil
}

// selectedLocal returns the type of the local candidate of pc's selected
// pair and, for a relayed one, how it reaches its relay.
func selectedLocal(pc *webrtc.PeerConnection) (typ, relayProtocol string) {
	report := pc.GetStats()
	for _, s := range report {
		pair, ok := s.(webrtc.ICECandidatePairStats)
		if !ok || !pair.Nominated || pair.State != webrtc.StatsICECandidatePairStateSucceeded {
			continue
		}
		if local, ok := report[pair.LocalCandidateID].(webrtc.ICECandidateStats); ok {
			return local.CandidateType.String(), local.RelayProtocol
		}
	}
	return "", ""
}

// fwBrowser opens the students' link in headless Chromium, joins and
// reports what the page received, shows and says of its path.
func fwBrowser(ctx context.Context, t *testing.T) (map[string]any, error) {
	path, err := exec.LookPath("chromium")
	if err != nil {
		if path, err = exec.LookPath("chromium-browser"); err != nil {
			return nil, errors.New("chromium not found: install the Debian package chromium")
		}
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("headless", "new"),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("ignore-certificate-errors", true),
		chromedp.Flag("use-fake-device-for-media-stream", true),
		chromedp.Flag("use-fake-ui-for-media-stream", true),
		chromedp.Flag("disable-features", "WebRtcHideLocalIpsWithMdns,Translate"),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	bctx, cancel := chromedp.NewContext(alloc)
	defer cancel()
	link := os.Getenv("CLASSROOM_FW_BASE") + "/lessons/" + os.Getenv("CLASSROOM_FW_LESSON") + "#token=" + os.Getenv("CLASSROOM_FW_TOKEN")
	if err := chromedp.Do(bctx, chromedp.Navigate(link),
		chromedp.WaitVisible(chromedp.ID("join-name")),
		chromedp.SetValue(chromedp.ID("join-name"), "Behind the firewall"),
		chromedp.Click(chromedp.ID("join-button"))); err != nil {
		return nil, fmt.Errorf("open %s and join: %w", link, err)
	}
	const probe = `(async () => {
	  const c = window.classroom;
	  if (!c || !c.ready || !c.state) return null;
	  const path = await c.path();
	  const chat = c.state.chat ? c.state.chat.length : 0;
	  // The Go teacher's camera sends VP8 packets, not pictures a browser
	  // can decode: count what arrives of its video.
	  let packets = 0;
	  (await c.app.conn.pc.getStats()).forEach((s) => { if (s.type === "inbound-rtp" && s.kind === "video") packets += s.packetsReceived || 0; });
	  return {video_packets: packets, chat_lines: chat, path: path.text, status: document.getElementById("status").textContent,
	          candidate: path.candidate, relay_protocol: path.relayProtocol};
	})()`
	var last map[string]any
	for deadline := time.Now().Add(90 * time.Second); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		got, err := chromedp.Run(bctx, chromedp.Evaluate[map[string]any](probe, chromedp.EvalAwaitPromise))
		if err != nil || got == nil {
			continue
		}
		last = got
		if n, _ := got["video_packets"].(float64); n >= 60 {
			if n, _ := got["chat_lines"].(float64); n >= 2 && strings.Contains(fmt.Sprint(got["status"]), "(") {
				return got, nil
			}
		}
	}
	return nil, fmt.Errorf("the page did not get the lesson through the firewall; last probe: %v", last)
}
