package domain

import "slices"

// The teacher's controls over who is in the lesson and what students may do:
// the lobby (students wait to be admitted), the lock (no new student joins),
// removal, muting and the chat switch. Each is a command Decide checks and an
// event Apply folds, so that a live page, a late join, a replay and an export
// all see them alike.

// Event kinds of the teacher's controls. The strings are part of the stored
// format: never change one.
const (
	KindLobbyChanged        Kind = "lobby.changed"
	KindLessonLocked        Kind = "lesson.locked"
	KindParticipantWaiting  Kind = "participant.waiting"
	KindParticipantAdmitted Kind = "participant.admitted"
	KindParticipantDenied   Kind = "participant.denied"
	KindParticipantRemoved  Kind = "participant.removed"
	KindMediaMuted          Kind = "media.muted"
	KindMediaUnmuted        Kind = "media.unmuted"
	KindUnmuteAsked         Kind = "unmute.asked"
	KindChatPermitted       Kind = "chat.permitted"
)

// MaxWaiting bounds the students waiting in a lesson's lobby at once.
const MaxWaiting = 1000

// Waiter is a student waiting in the lobby to be admitted.
type Waiter struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// LobbyChanged switches "students wait to be admitted" on or off. A lesson
// created with LessonCreated.Lobby starts with it on.
type LobbyChanged struct {
	On bool `json:"on"`
}

// LessonLocked locks the lesson (no student who has never joined may join,
// not even into the lobby; those who have joined may come back) or unlocks it.
type LessonLocked struct {
	Locked bool `json:"locked"`
}

// ParticipantWaiting records a student entering the lobby. The actor is the
// student; the server sends it for them when the lobby holds them back.
type ParticipantWaiting struct {
	Name string `json:"name"`
}

// ParticipantAdmitted lets a waiting student in; with Participant empty it
// admits everyone waiting. An admitted student joins without waiting again,
// then and after any reconnection.
type ParticipantAdmitted struct {
	Participant string `json:"participant,omitempty"`
}

// ParticipantDenied sends a waiting student away. They may knock again.
type ParticipantDenied struct {
	Participant string `json:"participant"`
}

// ParticipantRemoved removes a student: their sessions end on every server
// node that folds it, and their identity is refused by the lesson from then
// on. Unless KeepOpen, it also switches the lobby on, so that whoever opens
// the class link next has to be admitted.
type ParticipantRemoved struct {
	Participant string `json:"participant"`
	KeepOpen    bool   `json:"keep_open,omitempty"`
}

// MediaMuted stops a student's microphone (Audio) and camera (Video) from
// reaching anyone; with Participant empty it mutes every student.
type MediaMuted struct {
	Participant string `json:"participant,omitempty"`
	Audio       bool   `json:"audio"`
	Video       bool   `json:"video"`
}

// MediaUnmuted is a student turning their own microphone (Audio) or camera
// (Video) back on after the teacher muted it. Nobody unmutes another.
type MediaUnmuted struct {
	Audio bool `json:"audio"`
	Video bool `json:"video"`
}

// UnmuteAsked is the teacher asking a muted student to unmute.
type UnmuteAsked struct {
	Participant string `json:"participant"`
}

// ChatPermitted lets students chat, or stops them.
type ChatPermitted struct {
	Allowed bool `json:"allowed"`
}

func (*LobbyChanged) Kind() Kind        { return KindLobbyChanged }
func (*LessonLocked) Kind() Kind        { return KindLessonLocked }
func (*ParticipantWaiting) Kind() Kind  { return KindParticipantWaiting }
func (*ParticipantAdmitted) Kind() Kind { return KindParticipantAdmitted }
func (*ParticipantDenied) Kind() Kind   { return KindParticipantDenied }
func (*ParticipantRemoved) Kind() Kind  { return KindParticipantRemoved }
func (*MediaMuted) Kind() Kind          { return KindMediaMuted }
func (*MediaUnmuted) Kind() Kind        { return KindMediaUnmuted }
func (*UnmuteAsked) Kind() Kind         { return KindUnmuteAsked }
func (*ChatPermitted) Kind() Kind       { return KindChatPermitted }

func (*LobbyChanged) validate() error { return nil }
func (*LessonLocked) validate() error { return nil }
func (p *ParticipantWaiting) validate() error {
	return checkText("name", p.Name, 1, MaxNameRunes)
}
func (p *ParticipantAdmitted) validate() error { return checkID("participant", p.Participant, false) }
func (p *ParticipantDenied) validate() error   { return checkID("participant", p.Participant, true) }
func (p *ParticipantRemoved) validate() error  { return checkID("participant", p.Participant, true) }
func (p *MediaMuted) validate() error {
	if !p.Audio && !p.Video {
		return Errorf(CodeInvalid, "mute the microphone, the camera or both")
	}
	return checkID("participant", p.Participant, false)
}
func (p *MediaUnmuted) validate() error {
	if !p.Audio && !p.Video {
		return Errorf(CodeInvalid, "unmute the microphone, the camera or both")
	}
	return nil
}
func (p *UnmuteAsked) validate() error { return checkID("participant", p.Participant, true) }
func (*ChatPermitted) validate() error { return nil }

// controlPayload returns a zero payload of a control kind, or nil.
func controlPayload(k Kind) Payload {
	switch k {
	case KindLobbyChanged:
		return &LobbyChanged{}
	case KindLessonLocked:
		return &LessonLocked{}
	case KindParticipantWaiting:
		return &ParticipantWaiting{}
	case KindParticipantAdmitted:
		return &ParticipantAdmitted{}
	case KindParticipantDenied:
		return &ParticipantDenied{}
	case KindParticipantRemoved:
		return &ParticipantRemoved{}
	case KindMediaMuted:
		return &MediaMuted{}
	case KindMediaUnmuted:
		return &MediaUnmuted{}
	case KindUnmuteAsked:
		return &UnmuteAsked{}
	case KindChatPermitted:
		return &ChatPermitted{}
	}
	return pollPayload(k)
}

// IsRemoved reports whether the participant was removed from the lesson.
func (s *State) IsRemoved(participant string) bool { return slices.Contains(s.Removed, participant) }

// IsWaiting reports whether the participant waits in the lobby.
func (s *State) IsWaiting(participant string) bool { return s.waiter(participant) >= 0 }

func (s *State) waiter(participant string) int {
	return slices.IndexFunc(s.Waiting, func(w Waiter) bool { return w.ID == participant })
}

// MayEnter says whether a student joining now goes straight in (nil), must
// wait in the lobby (an error of reason ReasonWaiting), or is refused (an
// error of reason ReasonRemoved or ReasonLocked). Teachers always go in.
func (s *State) MayEnter(participant string, role Role) error {
	if role != RoleStudent {
		return nil
	}
	if s.IsRemoved(participant) {
		return Errorf(CodeForbidden, "the teacher removed you from this lesson").Because(ReasonRemoved)
	}
	if _, known := s.Participants[participant]; known || slices.Contains(s.Admitted, participant) {
		return nil
	}
	if s.Locked {
		return Errorf(CodeForbidden, "the teacher has locked this lesson: no one new may join").Because(ReasonLocked)
	}
	if s.Lobby {
		return Errorf(CodeForbidden, "the teacher will let you in").Because(ReasonWaiting)
	}
	return nil
}

// MayChat reports whether a participant may post to the chat now.
func (s *State) MayChat(participant string) bool {
	pt, ok := s.Participants[participant]
	return ok && (pt.Role == RoleTeacher || !s.ChatClosed)
}

// checkWaiting checks a student's arrival in the lobby; the actor is not in
// the lesson yet, so it is checked before presence, as a join is.
func (s *State) checkWaiting(c Command) error {
	if c.Role != RoleStudent {
		return Errorf(CodeInvalid, "only students wait to be admitted")
	}
	err := s.MayEnter(c.Actor, c.Role)
	switch {
	case err == nil:
		return Errorf(CodeConflict, "you may join without waiting")
	case ErrorReason(err) != ReasonWaiting:
		return err
	case s.IsWaiting(c.Actor):
		return Errorf(CodeConflict, "you are already waiting")
	case len(s.Waiting) >= MaxWaiting:
		return Errorf(CodeConflict, "the lobby is full")
	}
	return nil
}

// checkControlCommand checks the teacher's controls and a student's unmute.
func (s *State) checkControlCommand(c Command) error {
	teacher := c.Role == RoleTeacher
	if _, ok := c.Payload.(*MediaUnmuted); !ok && !teacher {
		return Errorf(CodeForbidden, "only the teacher may %s", controlVerb(c.Payload))
	}
	switch p := c.Payload.(type) {
	case *LobbyChanged:
		if s.Lobby == p.On {
			return Errorf(CodeConflict, "the lobby is already %s", onWord(p.On))
		}
	case *LessonLocked:
		if s.Locked == p.Locked {
			return Errorf(CodeConflict, "the lesson is already %s", map[bool]string{true: "locked", false: "unlocked"}[p.Locked])
		}
	case *ParticipantAdmitted:
		if p.Participant == "" {
			if len(s.Waiting) == 0 {
				return Errorf(CodeConflict, "nobody is waiting")
			}
		} else if !s.IsWaiting(p.Participant) {
			return Errorf(CodeNotFound, "%q is not waiting", p.Participant)
		}
	case *ParticipantDenied:
		if !s.IsWaiting(p.Participant) {
			return Errorf(CodeNotFound, "%q is not waiting", p.Participant)
		}
	case *ParticipantRemoved:
		pt := s.Participants[p.Participant]
		switch {
		case pt == nil:
			return Errorf(CodeNotFound, "no participant %q", p.Participant)
		case pt.Role != RoleStudent:
			return Errorf(CodeInvalid, "only students can be removed")
		case s.IsRemoved(p.Participant):
			return Errorf(CodeConflict, "%s was already removed", pt.Name)
		}
	case *MediaMuted:
		return s.checkMute(p)
	case *MediaUnmuted:
		me := s.Participants[c.Actor] // present: check made sure
		if !(p.Audio && me.AudioMuted || p.Video && me.VideoMuted) {
			return Errorf(CodeConflict, "the teacher has not muted that")
		}
	case *UnmuteAsked:
		pt := s.Participants[p.Participant]
		switch {
		case pt == nil || !pt.Present:
			return Errorf(CodeNotFound, "%q is not in the lesson", p.Participant)
		case !pt.AudioMuted && !pt.VideoMuted:
			return Errorf(CodeConflict, "%s is not muted", pt.Name)
		case pt.UnmuteAsked:
			return Errorf(CodeConflict, "%s was already asked", pt.Name)
		}
	case *ChatPermitted:
		if s.ChatClosed == !p.Allowed {
			return Errorf(CodeConflict, "chat is already %s", allowedWord(p.Allowed))
		}
	default:
		return notACommand(c)
	}
	return nil
}

func (s *State) checkMute(p *MediaMuted) error {
	if p.Participant != "" {
		pt := s.Participants[p.Participant]
		switch {
		case pt == nil || !pt.Present:
			return Errorf(CodeNotFound, "%q is not in the lesson", p.Participant)
		case pt.Role != RoleStudent:
			return Errorf(CodeInvalid, "only students are muted")
		case !pt.mutes(p):
			return Errorf(CodeConflict, "%s is already muted", pt.Name)
		}
		return nil
	}
	for _, pt := range s.Participants {
		if pt != nil && pt.Role == RoleStudent && pt.Present && pt.mutes(p) {
			return nil
		}
	}
	return Errorf(CodeConflict, "every student is already muted")
}

// mutes reports whether the mute would change something of pt's.
func (pt *Participant) mutes(p *MediaMuted) bool {
	return p.Audio && !pt.AudioMuted || p.Video && !pt.VideoMuted
}

func controlVerb(p Payload) string {
	switch p.(type) {
	case *LobbyChanged:
		return "switch the lobby"
	case *LessonLocked:
		return "lock the lesson"
	case *ParticipantAdmitted:
		return "admit students"
	case *ParticipantDenied:
		return "deny students"
	case *ParticipantRemoved:
		return "remove participants"
	case *MediaMuted:
		return "mute participants"
	case *UnmuteAsked:
		return "ask students to unmute"
	case *ChatPermitted:
		return "switch the chat"
	}
	return "do that"
}

func onWord(on bool) string {
	if on {
		return "on"
	}
	return "off"
}

// applyControl folds the events of the teacher's controls.
func (s *State) applyControl(e Event) {
	switch p := e.Payload.(type) {
	case *LobbyChanged:
		s.Lobby = p.On
	case *LessonLocked:
		s.Locked = p.Locked
	case *ParticipantWaiting:
		if e.Role == RoleStudent && !s.IsWaiting(e.Actor) && len(s.Waiting) < MaxWaiting {
			s.Waiting = append(s.Waiting, Waiter{ID: e.Actor, Name: p.Name})
		}
	case *ParticipantAdmitted:
		admit := func(id string) {
			if !slices.Contains(s.Admitted, id) && len(s.Admitted) < MaxParticipantsKnown {
				s.Admitted = append(s.Admitted, id)
			}
		}
		if p.Participant == "" {
			for _, w := range s.Waiting {
				admit(w.ID)
			}
			s.Waiting = nil
		} else if i := s.waiter(p.Participant); i >= 0 {
			admit(p.Participant)
			s.Waiting = slices.Delete(s.Waiting, i, i+1)
		}
	case *ParticipantDenied:
		if i := s.waiter(p.Participant); i >= 0 {
			s.Waiting = slices.Delete(s.Waiting, i, i+1)
		}
	case *ParticipantRemoved:
		pt := s.Participants[p.Participant]
		if pt == nil || pt.Role != RoleStudent || s.IsRemoved(p.Participant) {
			break
		}
		pt.Present = false
		s.Removed = append(s.Removed, p.Participant)
		s.Admitted = remove(s.Admitted, p.Participant)
		s.Hands = remove(s.Hands, p.Participant)
		if s.Floor == p.Participant {
			s.Floor = ""
		}
		if !p.KeepOpen {
			s.Lobby = true
		}
	case *MediaMuted:
		for _, pt := range s.Participants {
			if pt != nil && pt.Role == RoleStudent && (p.Participant == pt.ID || p.Participant == "" && pt.Present) && pt.mutes(p) {
				pt.AudioMuted = pt.AudioMuted || p.Audio
				pt.VideoMuted = pt.VideoMuted || p.Video
				pt.UnmuteAsked = false
			}
		}
	case *MediaUnmuted:
		if pt := s.Participants[e.Actor]; pt != nil {
			pt.AudioMuted = pt.AudioMuted && !p.Audio
			pt.VideoMuted = pt.VideoMuted && !p.Video
			pt.UnmuteAsked = false
		}
	case *UnmuteAsked:
		if pt := s.Participants[p.Participant]; pt != nil && (pt.AudioMuted || pt.VideoMuted) {
			pt.UnmuteAsked = true
		}
	case *ChatPermitted:
		s.ChatClosed = !p.Allowed
	}
}
