package timeline

import (
	"cmp"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"slices"
	"strconv"
	"time"

	"classroom/domain"
)

// Attendance is who took part in a lesson and how, derived from its log
// alone: the same during the lesson, after it, in a replay, from an export
// and after a crash, since each of them folds the same events. Times are
// the server's, from the events.
type Attendance struct {
	Lesson string    `json:"lesson"`
	Title  string    `json:"title"`
	Start  time.Time `json:"start"` // lesson.created
	// Until is the time of the last event read: presence still open then
	// (a participant present at the end of the log) is counted up to it.
	Until        time.Time         `json:"until"`
	Participants []ParticipantTime `json:"participants"` // by first join
}

// ParticipantTime is one participant's attendance and participation.
type ParticipantTime struct {
	ID        string      `json:"id"`
	Name      string      `json:"name"` // as they last joined
	Role      domain.Role `json:"role"`
	FirstJoin time.Time   `json:"first_join"`
	// LastLeave is when they last left (or the server noticed they had
	// gone, or the teacher removed them); nil while present.
	LastLeave *time.Time `json:"last_leave"`
	// Present is the time present, reconnects merged: from each join of
	// someone absent to their next leave.
	Present  Millis     `json:"present_ms"`
	Presence []Interval `json:"presence"` // the intervals present, in order
	Hands    int        `json:"hands"`    // hands raised
	Floor    int        `json:"floor"`    // times given the floor
	OnFloor  Millis     `json:"floor_ms"` // time on the floor
	Strokes  int        `json:"strokes"`  // strokes drawn
	Objects  int        `json:"objects"`  // shapes and texts added
	Chat     int        `json:"chat"`     // chat messages posted
	Removed  bool       `json:"removed"`
	// Answers are the polls answered (the final answer counts, anonymous
	// polls included); QuizRight the quizzes answered right of Quizzes,
	// the quizzes asked that were not anonymous (an anonymous quiz counts
	// for no one's score).
	Answers   int `json:"answers"`
	QuizRight int `json:"quiz_right"`
	Quizzes   int `json:"quizzes"`
	// Absent marks a member of the lesson's course (its learning
	// platform's roster, AddAbsent) who never came: no join, so FirstJoin
	// is zero and every count is 0.
	Absent bool `json:"absent,omitempty"`
}

// Interval is a span of time.
type Interval struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

// Millis is a duration encoded as whole milliseconds.
type Millis time.Duration

// MarshalJSON encodes the duration in milliseconds.
func (m Millis) MarshalJSON() ([]byte, error) {
	return strconv.AppendInt(nil, time.Duration(m).Milliseconds(), 10), nil
}

// UnmarshalJSON decodes milliseconds.
func (m *Millis) UnmarshalJSON(b []byte) error {
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return fmt.Errorf("milliseconds: %w", err)
	}
	*m = Millis(time.Duration(n) * time.Millisecond)
	return nil
}

// attendanceFold follows the lesson's state event by event and turns its
// changes (who is present, who has the floor, whose hand went up, what was
// drawn and said) into attendance, so that it counts what the lesson's rules
// made of each event rather than the events themselves.
type attendanceFold struct {
	st     *domain.State
	people map[string]*ParticipantTime
	order  []string
	open   map[string]time.Time // presence begun, by participant
	floor  time.Time            // since when st.Floor has had it
	until  time.Time
}

func newAttendanceFold() *attendanceFold {
	return &attendanceFold{st: domain.NewState(), people: map[string]*ParticipantTime{}, open: map[string]time.Time{}}
}

func (f *attendanceFold) person(id string) *ParticipantTime {
	p, ok := f.people[id]
	if !ok {
		p = &ParticipantTime{ID: id}
		if pt := f.st.Participants[id]; pt != nil {
			p.Name, p.Role = pt.Name, pt.Role
		}
		f.people[id] = p
		f.order = append(f.order, id)
	}
	return p
}

// apply folds one event.
func (f *attendanceFold) apply(e domain.Event) {
	st := f.st
	floor := st.Floor
	hands := len(st.Hands)
	watch := []string{e.Actor}
	if p, ok := e.Payload.(*domain.ParticipantRemoved); ok {
		watch = append(watch, p.Participant)
	}
	was := make([]bool, len(watch))
	for i, id := range watch {
		was[i] = st.Participants[id] != nil && st.Participants[id].Present
	}
	st.Apply(e)
	f.until = e.Time

	for i, id := range watch {
		pt := st.Participants[id]
		if pt == nil {
			continue
		}
		now := pt.Present
		switch {
		case now && !was[i]:
			p := f.person(id)
			if p.FirstJoin.IsZero() {
				p.FirstJoin = e.Time
			}
			p.LastLeave = nil
			f.open[id] = e.Time
		case !now && was[i]:
			f.close(id, e.Time)
		}
		if now {
			f.person(id).Name = pt.Name
		}
		if st.IsRemoved(id) {
			f.person(id).Removed = true
		}
	}
	if st.Floor != floor {
		if floor != "" {
			f.person(floor).OnFloor += Millis(e.Time.Sub(f.floor))
		}
		if st.Floor != "" {
			f.person(st.Floor).Floor++
			f.floor = e.Time
		}
	}
	if len(st.Hands) > hands && st.Hands[len(st.Hands)-1] == e.Actor {
		f.person(e.Actor).Hands++
	}
	switch p := e.Payload.(type) {
	case *domain.ChatPosted:
		if n := len(st.Chat); n > 0 && st.Chat[n-1].Seq == e.Seq {
			f.person(e.Actor).Chat++
		}
	case *domain.GroupChatPosted:
		// A line said in a breakout group is the speaker's chat as much
		// as one said to the class; counted when the group kept it.
		if g := st.Group(p.Group); g != nil {
			if n := len(g.Chat); n > 0 && g.Chat[n-1].Seq == e.Seq {
				f.person(e.Actor).Chat++
			}
		}
	case *domain.StrokeDrawn:
		if p.Part == 0 && f.created(p.Slide, e) {
			f.person(e.Actor).Strokes++
		}
	case *domain.ShapeAdded:
		if f.created(p.Slide, e) {
			f.person(e.Actor).Objects++
		}
	case *domain.TextAdded:
		if f.created(p.Slide, e) {
			f.person(e.Actor).Objects++
		}
	}
}

// created reports whether the event made a new object on the slide's board.
func (f *attendanceFold) created(sl domain.Slide, e domain.Event) bool {
	b := f.st.Board(sl)
	return b != nil && len(b.Objects) > 0 && b.Objects[len(b.Objects)-1].Seq == e.Seq && e.Seq != 0
}

// close ends a participant's presence at t.
func (f *attendanceFold) close(id string, t time.Time) {
	from, ok := f.open[id]
	if !ok {
		return
	}
	delete(f.open, id)
	p := f.person(id)
	p.Presence = append(p.Presence, Interval{From: from, To: t})
	p.Present += Millis(t.Sub(from))
	left := t
	p.LastLeave = &left
}

// report returns the attendance with presence and floor still open counted
// up to the last event.
func (f *attendanceFold) report() Attendance {
	a := Attendance{Title: f.st.Title, Start: f.st.Created, Until: f.until, Participants: []ParticipantTime{}}
	if f.st.Status != "" {
		a.Lesson = f.st.Lesson.String()
	}
	quizzes := 0
	for _, q := range f.st.Polls {
		if q.Quiz() && !q.Anonymous {
			quizzes++
		}
		for _, a := range q.Answers {
			p := f.person(a.Participant)
			p.Answers++
			if !q.Anonymous && q.Right(a) {
				p.QuizRight++
			}
		}
	}
	for _, id := range f.order {
		p := *f.people[id]
		if p.Role == domain.RoleStudent {
			p.Quizzes = quizzes
		}
		p.Presence = slices.Clone(p.Presence)
		if from, ok := f.open[id]; ok {
			p.Presence = append(p.Presence, Interval{From: from, To: f.until})
			p.Present += Millis(f.until.Sub(from))
		}
		if id == f.st.Floor {
			p.OnFloor += Millis(f.until.Sub(f.floor))
		}
		if p.Presence == nil {
			p.Presence = []Interval{}
		}
		a.Participants = append(a.Participants, p)
	}
	slices.SortStableFunc(a.Participants, func(x, y ParticipantTime) int { return cmp.Compare(x.FirstJoin.UnixNano(), y.FirstJoin.UnixNano()) })
	return a
}

// AttendanceOf folds a lesson's events into its attendance.
func AttendanceOf(events iter.Seq2[domain.Event, error]) (Attendance, int64, error) {
	f := newAttendanceFold()
	var n int64
	for e, err := range events {
		if err != nil {
			return Attendance{}, n, err
		}
		f.apply(e)
		n++
	}
	if n == 0 {
		return Attendance{}, 0, domain.Errorf(domain.CodeNotFound, "the lesson has no events")
	}
	return f.report(), n, nil
}

// WriteAttendanceJSON writes the lesson's attendance as one JSON object
// (Attendance). It returns the number of events read.
func WriteAttendanceJSON(w io.Writer, events iter.Seq2[domain.Event, error]) (int64, error) {
	a, n, err := AttendanceOf(events)
	if err != nil {
		return n, err
	}
	return n, a.WriteJSON(w)
}

// Member is someone expected at a lesson: a member of its course.
type Member struct {
	ID   string // the participant id they would join with
	Name string
	Role domain.Role
}

// AddAbsent adds to the attendance, after those who came, each of members
// who never joined the lesson, marked Absent.
func (a *Attendance) AddAbsent(members []Member) {
	came := make(map[string]bool, len(a.Participants))
	for _, p := range a.Participants {
		came[p.ID] = true
	}
	for _, m := range members {
		if came[m.ID] {
			continue
		}
		came[m.ID] = true
		a.Participants = append(a.Participants, ParticipantTime{ID: m.ID, Name: m.Name, Role: m.Role, Presence: []Interval{}, Absent: true})
	}
}

// WriteJSON writes the attendance as one JSON object.
func (a Attendance) WriteJSON(w io.Writer) error {
	b, err := json.Marshal(a)
	if err != nil {
		return fmt.Errorf("encode attendance: %w", err)
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// AttendanceColumns are the columns of WriteAttendanceCSV.
var AttendanceColumns = []string{"participant", "name", "role", "first_join", "last_leave", "present",
	"hands", "floor", "on_floor", "strokes", "objects", "chat", "removed", "answers", "quiz_right", "quizzes", "absent"}

// WriteAttendanceCSV writes the lesson's attendance as CSV, a row per
// participant by first join: times in RFC 3339 UTC (last_leave empty while
// present), durations as H:MM:SS.mmm (as WriteCSV's offsets, which
// spreadsheets read as durations), names made safe as WriteCSV makes text.
// It returns the number of events read.
func WriteAttendanceCSV(w io.Writer, events iter.Seq2[domain.Event, error]) (int64, error) {
	a, n, err := AttendanceOf(events)
	if err != nil {
		return n, err
	}
	return n, a.WriteCSV(w)
}

// WriteCSV writes the attendance as WriteAttendanceCSV does; an absent
// member's first_join is empty.
func (a Attendance) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(AttendanceColumns); err != nil {
		return err
	}
	for _, p := range a.Participants {
		joined, left := "", stamp(p.FirstJoin) // zero, so empty, when absent
		if !p.Absent {
			joined = left
			left = ""
		}
		if p.LastLeave != nil {
			left = stamp(*p.LastLeave)
		}
		row := []string{cell(p.ID), cell(p.Name), string(p.Role), joined, left,
			clock(time.Duration(p.Present)), strconv.Itoa(p.Hands), strconv.Itoa(p.Floor), clock(time.Duration(p.OnFloor)),
			strconv.Itoa(p.Strokes), strconv.Itoa(p.Objects), strconv.Itoa(p.Chat), strconv.FormatBool(p.Removed),
			strconv.Itoa(p.Answers), strconv.Itoa(p.QuizRight), strconv.Itoa(p.Quizzes), strconv.FormatBool(p.Absent)}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
