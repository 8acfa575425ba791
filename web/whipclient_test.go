package web_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"classroom/domain"
	"classroom/media/mediatest"
	"classroom/realtime/client"
)

// whipClient starts Debian's whip-client (package simple-whip-client, a
// GStreamer webrtcbin publisher that trickles its candidates with PATCH)
// publishing a test pattern in H.264 and a tone in Opus to endpoint with
// key, until the test ends; it fails the test when whip-client is missing.
func whipClient(t *testing.T, endpoint, key string) {
	t.Helper()
	bin, err := exec.LookPath("whip-client")
	if err != nil {
		t.Fatal("whip-client not found: install the Debian package 'simple-whip-client' with gstreamer1.0-nice and " +
			"gstreamer1.0-plugins-{base,good,bad,ugly} (scripts/test does as root)")
	}
	cc, err := exec.LookPath("cc")
	if err != nil {
		t.Fatal("cc not found: whip-client needs a stand-in library built (see testdata/gupnp-igd-stub.c): install 'gcc'")
	}
	libs := t.TempDir()
	src, err := filepath.Abs("testdata/gupnp-igd-stub.c")
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(cc, "-shared", "-fPIC", "-Wl,-soname,libgupnp-igd-1.0.so.4", "-o",
		filepath.Join(libs, "libgupnp-igd-1.0.so.4"), src).CombinedOutput(); err != nil {
		t.Fatalf("build the stand-in for libgupnp-igd: %v: %s", err, out)
	}
	video := "videotestsrc is-live=true pattern=smpte ! video/x-raw,width=320,height=240,framerate=30/1 ! videoconvert ! queue ! " +
		"x264enc tune=zerolatency speed-preset=ultrafast key-int-max=30 ! video/x-h264,profile=constrained-baseline ! " +
		"rtph264pay pt=96 ssrc=2 config-interval=-1 mtu=1200 aggregate-mode=zero-latency ! queue ! " +
		"application/x-rtp,media=video,encoding-name=H264,payload=96"
	audio := "audiotestsrc is-live=true wave=sine freq=440 ! audioconvert ! audioresample ! queue ! opusenc ! " +
		"rtpopuspay pt=111 ssrc=1 ! queue ! application/x-rtp,media=audio,encoding-name=OPUS,payload=111"
	cmd := exec.Command(bin, "-u", endpoint, "-t", key, "-l", "4", "-o", "-V", video, "-A", audio)
	cmd.Env = append(os.Environ(), "LD_LIBRARY_PATH="+libs)
	logPath := filepath.Join(t.TempDir(), "whip-client.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatalf("start whip-client: %v", err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGINT) // it sends its DELETE and ends
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		logFile.Close()
		b, _ := os.ReadFile(logPath)
		// It logs a trickle PATCH's status only when it is an error.
		if strings.Contains(string(b), "[trickle]") || strings.Contains(string(b), "HTTP error") {
			t.Error("whip-client was refused a request")
		}
		if t.Failed() {
			t.Logf("whip-client's log:\n%s", b)
		}
	})
}

// TestSimpleWHIPClientInBrowser: Debian's whip-client publishes a test
// pattern (x264) and a tone (Opus) with a publishing key while the teacher
// records; a student in Chromium decodes the teacher's video from it; the
// recording holds it, H.264 in Matroska that ffprobe reads, and the replay
// page shows it.
func TestSimpleWHIPClientInBrowser(t *testing.T) {
	site := startSite(t)
	lesson := site.createLesson(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	teacher, err := client.Dial(ctx, client.Options{URL: site.ws(lesson.ID), Token: lesson.Teacher.Token, Loopback: true})
	if err != nil {
		t.Fatal(err)
	}
	defer teacher.Close()
	for _, p := range []domain.Payload{&domain.LessonStarted{}, &domain.RecordingStarted{}} {
		if _, err := teacher.Send(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	key := site.makeKey(t, lesson.ID, lesson.Teacher.Token, "publish")
	whipClient(t, key.URL, key.Key)

	b := browser(t)
	student := newTab(t, b, "student")
	student.join(site.srv.URL+"/lessons/"+lesson.ID+"#token="+lesson.Students.Token, "Ada")
	student.decodes("teacher")
	time.Sleep(2 * time.Second) // a few seconds recorded
	if _, err := teacher.Send(ctx, &domain.RecordingStopped{}); err != nil {
		t.Fatal(err)
	}

	type recording struct {
		File, Participant, Kind, Codec string
		Frames                         int
		Width, Height                  int
		End                            *time.Time
	}
	var video, audio recording
	waitUntil(t, 15*time.Second, "the encoder's video and audio recordings to be listed, finished", func() bool {
		list, _ := listRecordings[recording](site, lesson.ID, lesson.Teacher.Token)
		for _, r := range list {
			if r.Participant == "teacher" && r.End != nil {
				if r.Kind == "video" {
					video = r
				} else {
					audio = r
				}
			}
		}
		return video.File != "" && audio.File != ""
	})
	if !strings.HasSuffix(video.File, ".mkv") || !strings.EqualFold(video.Codec, "video/H264") || video.Width != 320 || video.Height != 240 {
		t.Fatalf("the video recording: %+v", video)
	}
	probe := mediatest.ProbeFile(t, filepath.Join(site.recordings, lesson.ID, video.File))
	if probe.Codec != "h264" || len(probe.PTS) < 30 {
		t.Fatalf("ffprobe reads %s with %d frames in the video recording, want h264 with a second's at least", probe.Codec, len(probe.PTS))
	}
	if p := mediatest.ProbeFile(t, filepath.Join(site.recordings, lesson.ID, audio.File)); p.Codec != "opus" || len(p.PTS) < 50 {
		t.Fatalf("ffprobe reads %s with %d packets in the audio recording", p.Codec, len(p.PTS))
	}

	// The replay page plays the Matroska file.
	viewer := newTab(t, b, "replay")
	if err := chromedp.Do(viewer.ctx, chromedp.Navigate(site.srv.URL+"/lessons/"+lesson.ID+"/replay#token="+lesson.Teacher.Token)); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 30*time.Second, "the replay page to load", func() bool {
		ok, err := try[bool](viewer, `!!(window.replay && window.replay.ready)`)
		return err == nil && ok
	})
	waitUntil(t, 10*time.Second, "the replay to know the recording", func() bool {
		return eval[int](viewer, `window.replay.recorded.length`) == 1
	})
	eval[bool](viewer, `window.replay.seek(window.replay.recorded[0][1] - 0.7).then(() => true)`)
	waitUntil(t, 15*time.Second, "the recorded H.264 to show on the replay page", func() bool {
		return eval[float64](viewer, `document.querySelector("#tile-teacher video").videoWidth`) == 320
	})
}
