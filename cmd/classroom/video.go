package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"classroom/internal/atomicfile"
	"classroom/lessonvideo"
)

// The video subcommand starts, follows and fetches a lesson's video through
// a running server's API (/api/lessons/{id}/video): the render is the
// server's, where the recordings are.

// videoClient holds the video subcommand's flags.
type videoClient struct {
	server, lesson, token, out string
	format                     string
	start, follow              bool
	every                      time.Duration
}

func (v *videoClient) flags(fs *flag.FlagSet) {
	fs.StringVar(&v.server, "server", "http://localhost:8080", "the server's URL")
	fs.StringVar(&v.lesson, "lesson", "", "id of the lesson")
	fs.StringVar(&v.token, "token", os.Getenv("CLASSROOM_TOKEN"), "the teacher's token (or a student's, to follow and fetch) (CLASSROOM_TOKEN)")
	fs.BoolVar(&v.start, "start", false, "ask the server to render the video (the teacher's token)")
	fs.BoolVar(&v.follow, "follow", false, "report the render's progress until it is done")
	fs.StringVar(&v.format, "format", "mp4", "the video's format: mp4 (H.264, AAC) or webm (VP9, Opus)")
	fs.StringVar(&v.out, "o", "", "where to save the video once it is ready (- for standard output); follows the render until then")
	fs.DurationVar(&v.every, "every", 2*time.Second, "how often to ask how far the render is")
}

// run starts the render if asked, and says where it is on stderr: once, or
// until it is done with -follow or -o, and then saves the file with -o.
func (v *videoClient) run(ctx context.Context, stdout, stderr io.Writer) error {
	if v.lesson == "" || v.token == "" {
		return errors.New("-lesson and -token are needed")
	}
	base := strings.TrimRight(v.server, "/") + "/api/lessons/" + v.lesson + "/video"
	query := "?format=" + url.QueryEscape(v.format)
	var st lessonvideo.Status
	if v.start {
		if err := v.call(ctx, http.MethodPost, base+query, &st); err != nil {
			return err
		}
	}
	for {
		if err := v.call(ctx, http.MethodGet, base+"/status"+query, &st); err != nil {
			return err
		}
		switch st.State {
		case lessonvideo.StateDone:
			fmt.Fprintf(stderr, "the video is ready (%d bytes)\n", st.Size)
			if v.out == "" {
				return nil
			}
			return v.fetch(ctx, base+query, stdout)
		case lessonvideo.StateFailed:
			return fmt.Errorf("the render failed: %s", st.Error)
		case lessonvideo.StateNone:
			return errors.New("the lesson has no video and none is being rendered (use -start)")
		}
		fmt.Fprintf(stderr, "%s %.0f%%, about %s left\n", st.State, st.Percent, (time.Duration(st.LeftS) * time.Second).String())
		if !v.follow && v.out == "" {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(v.every):
		}
	}
}

func (v *videoClient) request(ctx context.Context, method, url string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+v.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode >= 300 {
		defer resp.Body.Close()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return nil, fmt.Errorf("%s %s: %s: %s", method, url, resp.Status, strings.TrimSpace(string(b)))
	}
	return resp, nil
}

func (v *videoClient) call(ctx context.Context, method, url string, into any) error {
	resp, err := v.request(ctx, method, url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return json.NewDecoder(resp.Body).Decode(into)
}

// fetch saves the video to v.out ("-": standard output), written beside
// and renamed, so that an interrupted download leaves no half file.
func (v *videoClient) fetch(ctx context.Context, base string, stdout io.Writer) error {
	resp, err := v.request(ctx, http.MethodGet, base)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if v.out == "-" {
		_, err := io.Copy(stdout, resp.Body)
		return err
	}
	return atomicfile.Write(v.out, 0o644, func(w io.Writer) error {
		_, err := io.Copy(w, resp.Body)
		return err
	})
}
