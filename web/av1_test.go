package web_test

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pion/webrtc/v4"

	"classroom/domain"
	"classroom/media/mediatest"
)

// TestWHIPAV1: an encoder publishes AV1 (OBS's AV1 output: payload type
// 96) and Opus over WHIP while the teacher records: the answer takes AV1,
// the recording is a WebM file that ffprobe reads as AV1 of the picture's
// size, and the replay page in Chromium shows it.
func TestWHIPAV1(t *testing.T) {
	site := startSite(t)
	lesson := site.createLesson(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	teacher := teach(t, ctx, site, lesson, &domain.LessonStarted{}, &domain.RecordingStarted{})
	key := site.makeKey(t, lesson.ID, lesson.Teacher.Token, "publish")
	av1 := webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeAV1, ClockRate: 90000,
		RTCPFeedback: []webrtc.RTCPFeedback{{Type: "nack"}, {Type: "nack", Parameter: "pli"}}}, PayloadType: 96}
	enc := newEncoder(t, av1, true, true)
	resp, body := enc.connect(key.URL, key.Key)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("the encoder's POST: %d %s", resp.StatusCode, body)
	}
	if !strings.Contains(body, "a=rtpmap:96 AV1/90000") {
		t.Fatalf("the answer does not take AV1 at 96:\n%s", body)
	}
	enc.send()
	type recording struct {
		File, Participant, Kind, Codec string
		Width, Height                  int
		End                            *time.Time
	}
	var video recording
	time.Sleep(3 * time.Second) // a few seconds recorded
	if _, err := teacher.Send(ctx, &domain.RecordingStopped{}); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 15*time.Second, "the encoder's video recording to be listed, finished", func() bool {
		list, _ := listRecordings[recording](site, lesson.ID, lesson.Teacher.Token)
		for _, r := range list {
			if r.Participant == "teacher" && r.Kind == "video" && r.End != nil {
				video = r
			}
		}
		return video.File != ""
	})
	if !strings.HasSuffix(video.File, ".webm") || !strings.EqualFold(video.Codec, webrtc.MimeTypeAV1) || video.Width != 320 || video.Height != 240 {
		t.Fatalf("the video recording: %+v", video)
	}
	probe := mediatest.ProbeFile(t, filepath.Join(site.recordings, lesson.ID, video.File))
	if probe.Codec != "av1" || len(probe.PTS) < 30 {
		t.Fatalf("ffprobe reads %s with %d frames in the video recording, want av1 with a second's at least", probe.Codec, len(probe.PTS))
	}

	replay := newTab(t, browser(t), "replay")
	if err := chromedp.Do(replay.ctx, chromedp.Navigate(site.srv.URL+"/lessons/"+lesson.ID+"/replay#token="+lesson.Teacher.Token)); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 30*time.Second, "the replay page to load", func() bool {
		ok, err := try[bool](replay, `!!(window.replay && window.replay.ready)`)
		return err == nil && ok
	})
	waitUntil(t, 10*time.Second, "the replay to know the recording", func() bool {
		return eval[int](replay, `window.replay.recorded.length`) == 1
	})
	eval[bool](replay, `window.replay.seek(window.replay.recorded[0][1] - 0.7).then(() => true)`)
	waitUntil(t, 15*time.Second, "the recorded AV1 to show on the replay page", func() bool {
		return eval[float64](replay, `document.querySelector("#tile-teacher video").videoWidth`) == 320
	})
}
