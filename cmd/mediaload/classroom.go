package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"classroom/domain"
	"classroom/realtime/client"
)

// classroomTarget is a classroom server: a lesson whose teacher publishes
// and whose students subscribe, all through realtime/client.
type classroomTarget struct {
	http         *http.Client
	wsURL        string
	teacherToken string
	studentToken string
	teacher      *client.Client
}

// newClassroomTarget creates a lesson on the server at base
// (http://host:port).
func newClassroomTarget(ctx context.Context, base string) (*classroomTarget, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, fmt.Errorf("server URL: %w", err)
	}
	hc := &http.Client{Timeout: 30 * time.Second}
	body, err := json.Marshal(map[string]string{"title": "mediaload " + time.Now().Format(time.RFC3339)})
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.JoinPath("/api/lessons").String(), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("create a lesson: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return nil, fmt.Errorf("create a lesson: HTTP %d: %s", resp.StatusCode, b)
	}
	type link struct {
		Token string `json:"token"`
	}
	var lesson struct {
		ID       string `json:"id"`
		Teacher  link   `json:"teacher"`
		Students link   `json:"students"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&lesson); err != nil {
		return nil, fmt.Errorf("decode the lesson: %w", err)
	}
	ws := *u
	ws.Scheme = "ws"
	if u.Scheme == "https" {
		ws.Scheme = "wss"
	}
	return &classroomTarget{http: hc, wsURL: ws.JoinPath("/api/lessons", lesson.ID, "ws").String(),
		teacherToken: lesson.Teacher.Token, studentToken: lesson.Students.Token}, nil
}

// publish joins the teacher, starts the lesson and adds the camera's tracks.
func (c *classroomTarget) publish(ctx context.Context, cam *camera) error {
	t, err := client.Dial(ctx, client.Options{URL: c.wsURL, Token: c.teacherToken, Name: "Teacher", Loopback: true})
	if err != nil {
		return fmt.Errorf("teacher joins: %w", err)
	}
	c.teacher = t
	if _, err := t.Send(ctx, &domain.LessonStarted{}); err != nil {
		return fmt.Errorf("start the lesson: %w", err)
	}
	for _, tr := range cam.tracks() {
		sender, err := t.AddTrack(tr)
		if err != nil {
			return fmt.Errorf("add track %s: %w", tr.ID(), err)
		}
		cam.watch(sender)
	}
	return nil
}

// subscribe joins a student whose tracks rc records.
func (c *classroomTarget) subscribe(ctx context.Context, i int, rc *receiver) (io.Closer, error) {
	s, err := client.Dial(ctx, client.Options{URL: c.wsURL, Token: c.studentToken, Name: fmt.Sprintf("Student %d", i),
		Loopback: true, Net: rc.net, OnTrack: rc.onTrack})
	if err != nil {
		return nil, err
	}
	if rc.tap != nil {
		rc.tap.setRTCPWriter(s.PeerConnection().WriteRTCP)
	}
	return s, nil
}

// close makes the teacher leave.
func (c *classroomTarget) close() error {
	if c.teacher == nil {
		return nil
	}
	return c.teacher.Close()
}
