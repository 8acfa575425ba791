package lessonvideo

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"classroom/media/recorder"
)

// encoder builds ffmpeg's command line for a plan, for the format of its
// options (codecs): the frames come raw
// (YUV 4:2:0, ToI420) on its standard input; the recorded files are decoded, scaled and
// laid over the tiles while they play; the audio files are mixed; the chat
// is a subtitle track and the chapters come from a metadata file.
type encoder struct {
	plan   *Plan
	layout Layout
	opt    Options
	dir    string // the lesson's recordings
	work   string // a directory for the metadata and subtitle files
}

// args returns ffmpeg's arguments, writing out into path.
func (e *encoder) args(path string) ([]string, error) {
	p, l, o := e.plan, e.layout, e.opt
	d := p.Duration()
	a := []string{"-hide_banner", "-nostdin", "-nostats", "-loglevel", "error", "-y",
		"-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", fmt.Sprintf("%dx%d", l.Width, l.Height),
		"-framerate", strconv.Itoa(o.FPS), "-i", "pipe:0"}
	inputs := 1
	var filters, audio []string
	last := "[0:v]"
	// Videos, oldest first, so that the newest recording of a participant
	// is on top, as the replay shows the newest.
	recs := slices.Clone(p.Recordings)
	slices.SortStableFunc(recs, func(a, b recorder.Recording) int { return a.Start.Compare(b.Start) })
	for _, r := range recs {
		off := r.Start.Sub(p.Start)
		var tile string
		var on []Interval
		span := Interval{r.Start, recordedEnd(r)}
		switch {
		case r.Kind == "audio":
			a = append(append(a, e.decoderThreads()...), "-i", filepath.Join(e.dir, r.File))
			audio = append(audio, fmt.Sprintf("[%d:a]aresample=48000:async=1:first_pts=0,adelay=%d:all=1[a%d]", inputs, max(0, off.Milliseconds()), inputs))
			inputs++
			continue
		case r.Kind != "video":
			continue
		case p.Teachers[r.Participant]:
			tile, on = "teacher", []Interval{span}
		default:
			tile, on = "floor", intersect(span, p.Floor[r.Participant])
		}
		if len(on) == 0 {
			continue
		}
		rect := l.Teacher
		if tile == "floor" {
			rect = l.Floor
		}
		a = append(append(a, e.decoderThreads()...), "-i", filepath.Join(e.dir, r.File))
		var enable []string
		for _, iv := range on {
			enable = append(enable, fmt.Sprintf("between(t,%s,%s)", secs(iv.From.Sub(p.Start)), secs(iv.To.Sub(p.Start))))
		}
		out := fmt.Sprintf("[v%d]", inputs)
		filters = append(filters,
			fmt.Sprintf("[%d:v]setpts=PTS-STARTPTS+%s/TB,fps=%d,scale=%d:%d:force_original_aspect_ratio=decrease,pad=%d:%d:(ow-iw)/2:(oh-ih)/2:color=0x303136[s%d]",
				inputs, secs(off), o.FPS, rect.Dx(), rect.Dy(), rect.Dx(), rect.Dy(), inputs),
			fmt.Sprintf("%s[s%d]overlay=%d:%d:eof_action=pass:enable='%s'%s", last, inputs, rect.Min.X, rect.Min.Y, strings.Join(enable, "+"), out))
		last = out
		inputs++
	}
	filters = append(filters, fmt.Sprintf("%sformat=yuv420p[vout]", last))
	// The audio: silence the span's length, and every file mixed into it
	// at its place.
	mix := fmt.Sprintf("anullsrc=r=48000:cl=stereo,atrim=0:%s[silence]", secs(d))
	filters = append(filters, mix)
	filters = append(filters, audio...)
	in := "[silence]"
	for _, f := range audio {
		in += f[strings.LastIndex(f, "["):]
	}
	filters = append(filters, fmt.Sprintf("%samix=inputs=%d:duration=first:dropout_transition=0:normalize=0[aout]", in, 1+len(audio)))

	meta := filepath.Join(e.work, "chapters.txt")
	if err := os.WriteFile(meta, []byte(ffmetadata(p)), 0o600); err != nil {
		return nil, err
	}
	a = append(a, "-f", "ffmetadata", "-i", meta)
	metaIn := inputs
	inputs++
	subIn := -1
	if len(p.Chat) > 0 {
		sub := filepath.Join(e.work, "chat.srt")
		if err := os.WriteFile(sub, []byte(srt(p)), 0o600); err != nil {
			return nil, err
		}
		a = append(a, "-f", "srt", "-i", sub)
		subIn = inputs
	}
	a = append(a, "-filter_complex", strings.Join(filters, ";"), "-map", "[vout]", "-map", "[aout]")
	c := codecs(o)
	if subIn >= 0 {
		a = append(a, "-map", strconv.Itoa(subIn)+":s", "-c:s", c.subtitles, "-metadata:s:s:0", "language=und", "-metadata:s:s:0", "title=Chat")
	}
	a = append(a, "-map_metadata", strconv.Itoa(metaIn), "-map_chapters", strconv.Itoa(metaIn))
	a = append(append(a, c.video...), "-g", strconv.Itoa(o.FPS*10))
	a = append(append(a, c.audio...), "-t", secs(d))
	if o.Threads > 0 {
		a = append(a, "-threads", strconv.Itoa(o.Threads), "-filter_complex_threads", strconv.Itoa(o.Threads))
	}
	return append(append(a, c.container...), path), nil
}

// formatCodecs are a format's encoders and container, as ffmpeg options.
type formatCodecs struct {
	video, audio, container []string
	subtitles               string
}

// codecs returns the encoders of o.Format. VP9 is encoded in libvpx's
// realtime mode at its fastest speed, the only one that keeps near H.264
// ultrafast's cost; its quality is constant (CRF 36, any bitrate).
func codecs(o Options) formatCodecs {
	if o.Format == FormatWebM {
		return formatCodecs{
			video:     []string{"-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-row-mt", "1", "-crf", "36", "-b:v", "0"},
			audio:     []string{"-c:a", "libopus", "-b:a", "96k"},
			container: []string{"-f", "webm"},
			subtitles: "webvtt",
		}
	}
	return formatCodecs{
		video:     []string{"-c:v", "libx264", "-preset", o.Preset, "-crf", strconv.Itoa(o.CRF), "-tune", "stillimage"},
		audio:     []string{"-c:a", "aac", "-b:a", "128k"},
		container: []string{"-movflags", "+faststart", "-f", "mp4"},
		subtitles: "mov_text",
	}
}

// decoderThreads are the options that limit a recording's decoder to the
// render's threads.
func (e *encoder) decoderThreads() []string {
	if e.opt.Threads <= 0 {
		return nil
	}
	return []string{"-threads", strconv.Itoa(e.opt.Threads)}
}

// intersect returns the parts of the intervals ivs within span.
func intersect(span Interval, ivs []Interval) []Interval {
	var out []Interval
	for _, iv := range ivs {
		from, to := later(iv.From, span.From), earlier(iv.To, span.To)
		if from.Before(to) {
			out = append(out, Interval{from, to})
		}
	}
	return out
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// secs writes a duration in seconds for ffmpeg.
func secs(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', 6, 64) }

// ffmetadata writes the title and the chapters in ffmpeg's metadata format.
func ffmetadata(p *Plan) string {
	var b strings.Builder
	b.WriteString(";FFMETADATA1\ntitle=" + metaEscape(p.Title) + "\n")
	for i, c := range p.Chapters {
		end := p.End
		if i+1 < len(p.Chapters) {
			end = p.Chapters[i+1].At
		}
		fmt.Fprintf(&b, "\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=%d\nEND=%d\ntitle=%s\n",
			c.At.Sub(p.Start).Milliseconds(), end.Sub(p.Start).Milliseconds(), metaEscape(c.Title))
	}
	return b.String()
}

// metaEscape escapes what ffmetadata gives a meaning: = ; # \ and line ends.
func metaEscape(s string) string {
	return strings.NewReplacer("\\", "\\\\", "=", "\\=", ";", "\\;", "#", "\\#", "\n", " ", "\r", " ").Replace(s)
}

// chatCue is how long a chat line shows when no message follows sooner.
const chatCue = 5 * time.Second

// srt writes the chat inside the span as SubRip subtitles, "Name: text",
// each until the next message or for chatCue.
func srt(p *Plan) string {
	var b strings.Builder
	n := 0
	for i, c := range p.Chat {
		if c.At.Before(p.Start) || !c.At.Before(p.End) {
			continue
		}
		end := c.At.Add(chatCue)
		if i+1 < len(p.Chat) && p.Chat[i+1].At.Before(end) {
			end = p.Chat[i+1].At
		}
		end = earlier(later(end, c.At.Add(time.Millisecond)), p.End)
		n++
		fmt.Fprintf(&b, "%d\n%s --> %s\n%s: %s\n\n", n, srtTime(c.At.Sub(p.Start)), srtTime(end.Sub(p.Start)),
			oneLine(c.Name), oneLine(c.Text))
	}
	return b.String()
}

func srtTime(d time.Duration) string {
	ms := d.Milliseconds()
	return fmt.Sprintf("%02d:%02d:%02d,%03d", ms/3600000, ms/60000%60, ms/1000%60, ms%1000)
}

// oneLine makes line ends spaces: an empty line would end the cue.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
