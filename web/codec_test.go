package web_test

import (
	"context"
	"strings"
	"testing"
	"time"

	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"classroom/domain"
	"classroom/realtime/client"
)

// vp8Only makes a tab's browser decode VP8 alone, as a browser without
// H.264 does: before each answer the page makes, every video transceiver
// is limited to VP8 (and its retransmissions).
const vp8Only = `
	const setRemote = RTCPeerConnection.prototype.setRemoteDescription;
	RTCPeerConnection.prototype.setRemoteDescription = async function (...args) {
		await setRemote.apply(this, args);
		const vp8 = RTCRtpReceiver.getCapabilities("video").codecs.filter((c) => /^video\/(vp8|rtx)$/i.test(c.mimeType));
		for (const tr of this.getTransceivers()) {
			if (tr.receiver.track.kind === "video" && !tr.stopped) tr.setCodecPreferences(vp8);
		}
	};`

// teach joins the lesson as the teacher with the Go client, until the test
// ends, and sends the commands.
func teach(t *testing.T, ctx context.Context, site *liveSite, lesson lessonLinks, commands ...domain.Payload) *client.Client {
	t.Helper()
	teacher, err := client.Dial(ctx, client.Options{URL: site.ws(lesson.ID), Token: lesson.Teacher.Token, Loopback: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { teacher.Close() })
	for _, p := range commands {
		if _, err := teacher.Send(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	return teacher
}

// TestCodecUnsupportedInBrowser: an encoder publishes H.264 (as OBS does)
// as the teacher. A student in a Chromium that decodes only VP8 is told by
// the server, and the teacher's tile says in place of the picture that the
// video is H.264, which this browser cannot play, in the page's language;
// a student in an ordinary Chromium decodes the picture.
func TestCodecUnsupportedInBrowser(t *testing.T) {
	site := startSite(t)
	lesson := site.createLesson(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	teach(t, ctx, site, lesson, &domain.LessonStarted{})
	key := site.makeKey(t, lesson.ID, lesson.Teacher.Token, "publish")
	obs := newOBS(t, true, true)
	if resp, body := obs.connect(key.URL, key.Key); resp.StatusCode != 201 {
		t.Fatalf("the encoder's POST: %d %s", resp.StatusCode, body)
	}
	obs.send()

	b := browser(t)
	old := newTab(t, b, "VP8-only student")
	if _, err := chromedp.Call(old.ctx, cdppage.AddScriptToEvaluateOnNewDocument,
		cdppage.AddScriptToEvaluateOnNewDocumentParams{Source: vp8Only}); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(old.ctx, chromedp.Navigate(site.srv.URL+"/")); err != nil {
		t.Fatal(err)
	}
	eval[bool](old, `(localStorage.setItem("classroom:language", "de"), true)`)
	old.join(site.srv.URL+"/lessons/"+lesson.ID+"#token="+lesson.Students.Token, "Ada")
	other := newTab(t, b, "student")
	other.join(site.srv.URL+"/lessons/"+lesson.ID+"#token="+lesson.Students.Token, "Grace")
	other.decodes("teacher")

	tile := `(() => { const t = document.getElementById("tile-teacher");
		return t.classList.contains("unsupported") ? getComputedStyle(t, "::after").content : ""; })()`
	var said string
	waitUntil(t, 30*time.Second, "the VP8-only student's tile to say why there is no picture", func() bool {
		said = eval[string](old, tile)
		return said != ""
	})
	if !strings.Contains(said, "H.264") || !strings.Contains(said, "Browser") {
		t.Errorf("the tile says %s, want the German text naming H.264", said)
	}
	if frames := eval[float64](old, `window.classroom.videoStats().then((s) => (s.teacher || {}).framesDecoded || 0)`); frames != 0 {
		t.Errorf("the VP8-only student decoded %v frames", frames)
	}
	if eval[string](other, tile) != "" {
		t.Error("the ordinary student's tile says it cannot play the video")
	}
}
