package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"classroom/domain"
	"classroom/domain/timeline/timelinetest"
	"classroom/realtime/token"
)

// TestGroupReplayHTTP: a replay follows a breakout group through the
// playback API: the state at a moment holds the group's board as it was
// then; a student is sent, in the state and in the log, the chat of their
// own group and their own lines, never another group's; the teacher all.
func TestGroupReplayHTTP(t *testing.T) {
	a := newAPI(t)
	g, err := timelinetest.GroupLesson()
	if err != nil {
		t.Fatal(err)
	}
	if _, errs, err := a.store.Append(context.Background(), g.Events...); err != nil || slices.ContainsFunc(errs, func(e error) bool { return e != nil }) {
		t.Fatalf("store the lesson: %v %v", err, errs)
	}
	lesson := g.Events[0].Lesson
	base := "/api/lessons/" + lesson.String()
	as := func(role domain.Role, participant string) string {
		tok, err := a.tokens.Issue(token.Claims{Lesson: lesson, Role: role, Participant: participant, Expires: a.clock.Add(24 * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	stateAt := func(seq int64, bearer string) *domain.State {
		t.Helper()
		resp, body := a.get(fmt.Sprintf("%s/state?seq=%d", base, seq), bearer)
		var out struct {
			State json.RawMessage `json:"state"`
		}
		if resp.StatusCode != 200 || json.Unmarshal(body, &out) != nil {
			t.Fatalf("state at %d: %d %s", seq, resp.StatusCode, body)
		}
		st, err := domain.RestoreSnapshot(out.State)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	teacher, ana, bob := as(domain.RoleTeacher, "teacher"), as(domain.RoleStudent, "ana"), as(domain.RoleStudent, "bob")

	// Blue's board, before and after Ana's stroke.
	for seq, want := range map[int64]int{g.BlueStroke - 1: 0, g.BlueStroke: 1} {
		n := 0
		if board := stateAt(seq, teacher).Board(domain.GroupBoard(g.Blue)); board != nil {
			n = len(board.Objects)
		}
		if n != want {
			t.Errorf("blue's board at %d has %d objects, want %d", seq, n, want)
		}
	}

	last := int64(len(g.Events))
	chats := func(st *domain.State) string {
		return fmt.Sprintf("blue %d red %d", len(st.Group(g.Blue).Chat), len(st.Group(g.Red).Chat))
	}
	// Ana is in Blue; Bob said a line in Red, then was moved to Blue.
	for who, c := range map[string]struct{ bearer, want string }{
		"the teacher": {teacher, "blue 1 red 1"}, "Ana": {ana, "blue 1 red 0"}, "Bob": {bob, "blue 1 red 1"},
	} {
		if got := chats(stateAt(last, c.bearer)); got != c.want {
			t.Errorf("%s's state at the end holds the chats %s, want %s", who, got, c.want)
		}
	}
	resp, body := a.get(base+"/events?after=0", ana)
	var page struct {
		Events []domain.Event `json:"events"`
	}
	if resp.StatusCode != 200 || json.Unmarshal(body, &page) != nil {
		t.Fatalf("Ana's log: %d %s", resp.StatusCode, body)
	}
	var lines []string
	for _, e := range page.Events {
		if p, ok := e.Payload.(*domain.GroupChatPosted); ok {
			lines = append(lines, p.Text)
		}
	}
	if !slices.Equal(lines, []string{"hello blue"}) {
		t.Errorf("Ana's log holds the group lines %q, want only Blue's", lines)
	}
}
