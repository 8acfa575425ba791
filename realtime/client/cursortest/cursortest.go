// Package cursortest checks who is sent whose cursors on the ephemeral
// channel: each participant of a test sends cursors until the others on its
// board have one, and no one off that board may have been sent it. It is
// for tests only: nothing outside a _test.go file may import it.
package cursortest

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"classroom/domain"
	"classroom/realtime/client"
	"classroom/realtime/protocol"
)

// Participant is one participant of a test: its client, and the cursors its
// ephemeral channel carried.
type Participant struct {
	Name   string
	Client *client.Client // set once dialled with OnEphemeral

	mu  sync.Mutex
	got map[string][]float64 // the x of each cursor received, by sender
}

// OnEphemeral records a cursor received: the client's OnEphemeral.
func (p *Participant) OnEphemeral(e protocol.Ephemeral) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.got == nil {
		p.got = map[string][]float64{}
	}
	p.got[e.Actor] = append(p.got[e.Actor], e.X)
}

// has reports whether p was sent actor's cursor at x.
func (p *Participant) has(actor string, x float64) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Contains(p.got[actor], x)
}

// Class is every participant of a test, with the rounds of cursors sent.
type Class struct {
	All   []*Participant
	round int
}

// Boards has each participant of each board send a cursor (its x tells the
// round and the sender) until the others on its board have it, at least
// three times, then checks that nobody else of the class was sent it. when
// says what the round checks.
func (c *Class) Boards(t testing.TB, when string, boards ...[]*Participant) {
	t.Helper()
	c.round++
	x := func(i int) float64 { return float64(100*c.round + i) }
	for _, board := range boards {
		for i, from := range board {
			missing := func() bool {
				return slices.ContainsFunc(board, func(to *Participant) bool {
					return to != from && !to.has(from.Client.Participant(), x(i))
				})
			}
			// Unreliable by design: sent until each has one.
			deadline := time.Now().Add(10 * time.Second)
			for sent := 0; sent < 3 || missing(); sent++ {
				if time.Now().After(deadline) {
					t.Fatalf("%s: %s's cursor did not reach everyone on their board", when, from.Name)
				}
				if err := from.Client.SendEphemeral(protocol.Ephemeral{Type: protocol.EphemeralCursor, X: x(i), Y: 1}); err != nil {
					t.Fatal(err)
				}
				time.Sleep(50 * time.Millisecond)
			}
		}
	}
	time.Sleep(300 * time.Millisecond) // for any stray one
	for _, board := range boards {
		for i, from := range board {
			for _, to := range c.All {
				if !slices.Contains(board, to) && to.has(from.Client.Participant(), x(i)) {
					t.Errorf("%s: %s was sent the cursor of %s, on another board", when, to.Name, from.Name)
				}
			}
		}
	}
}

// Breakout checks the ephemeral relay through breakout groups. The class
// is, in this order, the teacher and the students A1, A2, B1, B2 and M;
// apply sends a command as the teacher and returns once every participant
// has its event. A1 and A2 form group A, B1 and B2 group B, M stays in the
// main room with the teacher: each is sent the cursors of its board only.
// Then the teacher visits group A: the teacher and group A are sent each
// other's, M no one's. Once the groups end, everyone everyone's.
func (c *Class) Breakout(t testing.TB, apply func(domain.Payload)) {
	t.Helper()
	if len(c.All) != 6 {
		t.Fatalf("a class of %d, want the teacher, A1, A2, B1, B2 and M", len(c.All))
	}
	teacher, a1, a2, b1, b2, main := c.All[0], c.All[1], c.All[2], c.All[3], c.All[4], c.All[5]
	groupA, groupB := uuid.New(), uuid.New()
	apply(&domain.GroupsFormed{Groups: []domain.GroupPlan{
		{ID: groupA, Name: "A", Members: []string{a1.Client.Participant(), a2.Client.Participant()}},
		{ID: groupB, Name: "B", Members: []string{b1.Client.Participant(), b2.Client.Participant()}},
	}})
	c.Boards(t, "in groups", []*Participant{a1, a2}, []*Participant{b1, b2}, []*Participant{teacher, main})
	apply(&domain.GroupJoined{Group: groupA})
	c.Boards(t, "the teacher visiting group A", []*Participant{a1, a2, teacher}, []*Participant{b1, b2}, []*Participant{main})
	apply(&domain.GroupsEnded{})
	c.Boards(t, "after the groups", c.All)
}
