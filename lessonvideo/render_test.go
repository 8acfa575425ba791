package lessonvideo_test

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"image"
	"log/slog"
	"math"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"classroom/domain/timeline"
	"classroom/eventstore"
	"classroom/lessonlog"
	"classroom/lessonvideo"
	"classroom/lessonvideo/videotest"
)

// scripted renders the scripted lesson once for the tests that look at
// the video.
func scripted(t *testing.T, opt lessonvideo.Options) (videotest.Lesson, lessonvideo.Source, string) {
	t.Helper()
	for _, tool := range []string{"ffmpeg", "ffprobe"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not installed (Debian's ffmpeg package; scripts/test installs it): %v", tool, err)
		}
	}
	dir := t.TempDir()
	store, err := eventstore.OpenSQLite(context.Background(), dir, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	recs := filepath.Join(dir, "recordings")
	l := videotest.Script(t, store, recs, time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC))
	src := lessonvideo.Source{Store: store, Decks: store, Recordings: recs}
	out := filepath.Join(dir, "lesson.mp4")
	var last lessonvideo.Progress
	if err := lessonvideo.Render(context.Background(), src, l.ID, out, opt, func(p lessonvideo.Progress) { last = p }); err != nil {
		t.Fatal(err)
	}
	if last.Frames != last.Total || last.Total == 0 {
		t.Fatalf("progress ended at %d of %d frames", last.Frames, last.Total)
	}
	return l, src, out
}

type probe struct {
	Streams []struct {
		CodecType string `json:"codec_type"`
		CodecName string `json:"codec_name"`
		Width     int    `json:"width"`
		Height    int    `json:"height"`
	} `json:"streams"`
	Format struct {
		Duration string `json:"duration"`
	} `json:"format"`
	Chapters []struct {
		StartTime string            `json:"start_time"`
		Tags      map[string]string `json:"tags"`
	} `json:"chapters"`
}

// probeVideo reads the rendered lesson at path with ffprobe and checks its
// streams' codecs (video, audio, the chat's subtitles), the video's size
// and that it lasts the recording's span within one frame.
func probeVideo(t *testing.T, path string, l videotest.Lesson, opt lessonvideo.Options, codecs [3]string) probe {
	t.Helper()
	b, err := exec.Command("ffprobe", "-v", "error", "-show_streams", "-show_format", "-show_chapters", "-of", "json", path).Output()
	if err != nil {
		t.Fatalf("ffprobe: %v", err)
	}
	var p probe
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	kinds := map[string]string{}
	for _, s := range p.Streams {
		kinds[s.CodecType] = s.CodecName
		if s.CodecType == "video" && (s.Width != opt.Width || s.Height != opt.Height) {
			t.Errorf("video is %dx%d, want %dx%d", s.Width, s.Height, opt.Width, opt.Height)
		}
	}
	if got := [3]string{kinds["video"], kinds["audio"], kinds["subtitle"]}; got != codecs {
		t.Errorf("streams %v, want %v video, audio and chat", kinds, codecs)
	}
	d, _ := strconv.ParseFloat(p.Format.Duration, 64)
	span := l.RecordingEnd.Sub(l.RecordingStart).Seconds()
	if frame := 1.0 / float64(opt.FPS); math.Abs(d-span) > frame {
		t.Errorf("duration %.3f s, the recording spans %.3f s (one frame is %.3f s)", d, span, frame)
	}
	return p
}

// TestRenderScriptedLesson renders the scripted lesson and checks the file
// as ffprobe reads it, the board at five moments against the fold's state
// painted by the same rasterizer, and the audio's energy.
func TestRenderScriptedLesson(t *testing.T) {
	opt := lessonvideo.Options{Width: 1280, Height: 720, FPS: 15}
	l, src, out := scripted(t, opt)
	p := probeVideo(t, out, l, opt, [3]string{"h264", "aac", "mov_text"})
	if len(p.Chapters) != len(l.SlideChanges) {
		t.Fatalf("%d chapters, want %d (the slide changes): %+v", len(p.Chapters), len(l.SlideChanges), p.Chapters)
	}
	for i, c := range p.Chapters {
		at, _ := strconv.ParseFloat(c.StartTime, 64)
		want := l.SlideChanges[i].Sub(l.RecordingStart).Seconds()
		if math.Abs(at-want) > 0.001 || c.Tags["title"] != l.Titles[i] {
			t.Errorf("chapter %d at %.3f s %q, want %.3f s %q", i, at, c.Tags["title"], want, l.Titles[i])
		}
	}

	// The board at five moments.
	layout := lessonvideo.NewLayout(opt.Width, opt.Height)
	framer, err := lessonvideo.NewFramer(layout, src.Decks, l.ID)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var frames []*image.RGBA
	for _, m := range l.Moments {
		s, err := lessonlog.Seek(ctx, src.Store, l.ID, timeline.AtOffset(m.Sub(l.Created)))
		if err != nil {
			t.Fatal(err)
		}
		if err := framer.Draw(ctx, s); err != nil {
			t.Fatal(err)
		}
		want := image.NewRGBA(framer.Frame.Bounds())
		copy(want.Pix, framer.Frame.Pix)
		got := videotest.Frame(t, out, m.Sub(l.RecordingStart), opt.Width, opt.Height)
		frames = append(frames, got)
		diff := lessonvideo.Compare(got, want, layout.Board)
		t.Logf("board at %v: %s", m.Sub(l.RecordingStart), diff)
		if !diff.Within() {
			t.Errorf("board at %v: %s", m.Sub(l.RecordingStart), diff)
		}
	}
	// The comparison can fail: each moment's frame differs from the next
	// moment's board.
	for i := 0; i+1 < len(frames); i++ {
		if diff := lessonvideo.Compare(frames[i], frames[i+1], layout.Board); diff.Within() {
			t.Errorf("moments %d and %d look alike (%s): the comparison cannot tell boards apart", i, i+1, diff)
		}
	}

	// The teacher's tone, and silence where the microphone was off.
	pcm := audio(t, out)
	rms := func(from, to time.Time) float64 {
		a := int(from.Sub(l.RecordingStart).Seconds() * 8000)
		b := int(to.Sub(l.RecordingStart).Seconds() * 8000)
		var sum float64
		for _, v := range pcm[max(0, a):min(b, len(pcm))] {
			sum += float64(v) * float64(v)
		}
		return math.Sqrt(sum / float64(max(1, b-a)))
	}
	margin := 200 * time.Millisecond
	tone := rms(l.ToneFrom.Add(margin), l.ToneTo.Add(-margin))
	before := rms(l.RecordingStart, l.ToneFrom.Add(-margin))
	after := rms(l.ToneTo.Add(margin), l.RecordingEnd)
	if tone < 1000 || before > 30 || after > 30 {
		t.Errorf("audio RMS %.0f before the tone, %.0f during it, %.0f after it (of 32767)", before, tone, after)
	}
}

// audio decodes the video's sound, mono at 8 kHz.
func audio(t *testing.T, path string) []int16 {
	t.Helper()
	b, err := exec.Command("ffmpeg", "-v", "error", "-i", path, "-map", "0:a", "-ac", "1", "-ar", "8000", "-f", "s16le", "-").Output()
	if err != nil {
		t.Fatalf("decode audio: %v", err)
	}
	pcm := make([]int16, len(b)/2)
	for i := range pcm {
		pcm[i] = int16(binary.LittleEndian.Uint16(b[2*i:]))
	}
	return pcm
}

// TestRenderSizes renders the scripted lesson at sizes whose quarters are
// odd, which 4:2:0 video cannot be laid out in unless the layout keeps
// every tile even.
func TestRenderSizes(t *testing.T) {
	for _, size := range [][2]int{{854, 480}, {1918, 1078}} {
		opt := lessonvideo.Options{Width: size[0], Height: size[1], Preset: "ultrafast"}
		scripted(t, opt)
	}
}

// TestRenderWebM renders the scripted lesson as WebM, which ffprobe must
// read as VP9 video, Opus audio and the chat as WebVTT, as long as the
// recording within a frame, with a chapter at every slide change.
func TestRenderWebM(t *testing.T) {
	opt := lessonvideo.Options{Format: lessonvideo.FormatWebM, Width: 640, Height: 360, FPS: 15}
	l, _, out := scripted(t, opt)
	p := probeVideo(t, out, l, opt, [3]string{"vp9", "opus", "webvtt"})
	if len(p.Chapters) != len(l.SlideChanges) {
		t.Errorf("%d chapters, want %d (the slide changes)", len(p.Chapters), len(l.SlideChanges))
	}
	if err := lessonvideo.Render(context.Background(), lessonvideo.Source{}, l.ID, out, lessonvideo.Options{Format: "avi"}, nil); err == nil {
		t.Error("an unknown format was rendered")
	}
}
