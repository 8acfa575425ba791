package domain

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"time"

	"github.com/google/uuid"
)

// MaxEncodedEventBytes bounds a whole encoded event: its payload's limit and
// room for the envelope.
const MaxEncodedEventBytes = MaxEventBytes + 1024

// EventVersion is the version of the event encoding written by this code.
// Decoders accept versions from 1 up to it.
const EventVersion = 1

// Role is what a participant may do in a lesson.
type Role string

// Roles.
const (
	RoleTeacher Role = "teacher"
	RoleStudent Role = "student"
	RoleSystem  Role = "system" // the server itself, e.g. when it creates a lesson
	// RoleViewer is a player watching the stage over WHEP: it joins and
	// leaves, is listed and counted in attendance, and does nothing else.
	RoleViewer Role = "viewer"
)

func (r Role) valid() bool {
	return r == RoleTeacher || r == RoleStudent || r == RoleSystem || r == RoleViewer
}

// Kind names the type of an event and of its payload.
type Kind string

// Event kinds. The strings are part of the stored format: never change one.
const (
	KindLessonCreated     Kind = "lesson.created"
	KindLessonStarted     Kind = "lesson.started"
	KindLessonEnded       Kind = "lesson.ended"
	KindParticipantJoined Kind = "participant.joined"
	KindParticipantLeft   Kind = "participant.left"
	KindDrawingPermitted  Kind = "drawing.permitted"
	KindStrokeDrawn       Kind = "stroke.drawn"
	KindShapeAdded        Kind = "shape.added"
	KindTextAdded         Kind = "text.added"
	KindObjectsErased     Kind = "objects.erased"
	KindBoardUndone       Kind = "board.undone"
	KindBoardRedone       Kind = "board.redone"
	KindBoardCleared      Kind = "board.cleared"
	KindDeckAdded         Kind = "deck.added"
	KindSlideChanged      Kind = "slide.changed"
	KindHandRaised        Kind = "hand.raised"
	KindHandLowered       Kind = "hand.lowered"
	KindFloorGranted      Kind = "floor.granted"
	KindFloorRevoked      Kind = "floor.revoked"
	KindChatPosted        Kind = "chat.posted"
	KindRecordingStarted  Kind = "recording.started"
	KindRecordingStopped  Kind = "recording.stopped"
)

// Payload is the kind-specific body of an event or command.
type Payload interface {
	Kind() Kind
	// validate checks the payload on its own, without state: bounds, formats.
	validate() error
}

// newPayload returns a zero payload of the given kind, or nil for an unknown kind.
func newPayload(k Kind) Payload {
	switch k {
	case KindLessonCreated:
		return &LessonCreated{}
	case KindLessonStarted:
		return &LessonStarted{}
	case KindLessonEnded:
		return &LessonEnded{}
	case KindParticipantJoined:
		return &ParticipantJoined{}
	case KindParticipantLeft:
		return &ParticipantLeft{}
	case KindDrawingPermitted:
		return &DrawingPermitted{}
	case KindStrokeDrawn:
		return &StrokeDrawn{}
	case KindShapeAdded:
		return &ShapeAdded{}
	case KindTextAdded:
		return &TextAdded{}
	case KindObjectsErased:
		return &ObjectsErased{}
	case KindBoardUndone:
		return &BoardUndone{}
	case KindBoardRedone:
		return &BoardRedone{}
	case KindBoardCleared:
		return &BoardCleared{}
	case KindDeckAdded:
		return &DeckAdded{}
	case KindSlideChanged:
		return &SlideChanged{}
	case KindHandRaised:
		return &HandRaised{}
	case KindHandLowered:
		return &HandLowered{}
	case KindFloorGranted:
		return &FloorGranted{}
	case KindFloorRevoked:
		return &FloorRevoked{}
	case KindChatPosted:
		return &ChatPosted{}
	case KindRecordingStarted:
		return &RecordingStarted{}
	case KindRecordingStopped:
		return &RecordingStopped{}
	}
	return controlPayload(k)
}

// Event is one entry of a lesson's log. Seq is assigned by the event store
// when the event is appended: it is 0 on an event that has not been stored.
type Event struct {
	ID      uuid.UUID // chosen by the client that sent the command; makes resends idempotent
	Lesson  uuid.UUID
	Seq     int64
	Version int
	Actor   string // participant id; "" for the system
	Role    Role
	Time    time.Time // server time, UTC, microsecond precision
	Payload Payload
}

// isNil reports whether p is nil or a typed nil pointer.
func isNil(p Payload) bool {
	if p == nil {
		return true
	}
	v := reflect.ValueOf(p)
	return v.Kind() == reflect.Pointer && v.IsNil()
}

// Kind returns the kind of the event's payload, or "" when it has none.
func (e Event) Kind() Kind {
	if isNil(e.Payload) {
		return ""
	}
	return e.Payload.Kind()
}

// Validate checks the envelope and the payload on their own, without state.
func (e Event) Validate() error {
	switch {
	case e.ID == uuid.Nil:
		return Errorf(CodeInvalid, "event has no id")
	case e.Lesson == uuid.Nil:
		return Errorf(CodeInvalid, "event has no lesson")
	case e.Version < 1 || e.Version > EventVersion:
		return Errorf(CodeInvalid, "event version %d is not supported", e.Version)
	case !e.Role.valid():
		return Errorf(CodeInvalid, "unknown role %q", e.Role)
	case len(e.Actor) > MaxIDBytes:
		return Errorf(CodeInvalid, "actor id is longer than %d bytes", MaxIDBytes)
	case e.Time.IsZero():
		return Errorf(CodeInvalid, "event has no time")
	case isNil(e.Payload):
		return Errorf(CodeInvalid, "event has no payload")
	}
	return e.Payload.validate()
}

// wireEvent is the stable JSON form of an Event.
type wireEvent struct {
	Version int             `json:"v"`
	ID      uuid.UUID       `json:"id"`
	Lesson  uuid.UUID       `json:"lesson"`
	Seq     int64           `json:"seq,omitempty"`
	Kind    Kind            `json:"kind"`
	Actor   string          `json:"actor,omitempty"`
	Role    Role            `json:"role"`
	Time    time.Time       `json:"time"`
	Data    json.RawMessage `json:"data"`
}

// MarshalJSON encodes the event in its stable form:
// {"v":1,"id":…,"lesson":…,"seq":…,"kind":…,"actor":…,"role":…,"time":…,"data":{…}}.
func (e Event) MarshalJSON() ([]byte, error) {
	if isNil(e.Payload) {
		return nil, Errorf(CodeInvalid, "event has no payload")
	}
	data, err := json.Marshal(e.Payload)
	if err != nil {
		return nil, fmt.Errorf("encode %s payload: %w", e.Kind(), err)
	}
	return json.Marshal(wireEvent{
		Version: e.Version, ID: e.ID, Lesson: e.Lesson, Seq: e.Seq, Kind: e.Kind(),
		Actor: e.Actor, Role: e.Role, Time: e.Time, Data: data,
	})
}

// UnmarshalJSON decodes the stable form. It rejects unknown kinds and unknown
// fields but does not validate bounds: call Validate for that.
func (e *Event) UnmarshalJSON(b []byte) error {
	var w wireEvent
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		return Errorf(CodeInvalid, "malformed event: %v", err)
	}
	p, err := DecodePayload(w.Kind, w.Data)
	if err != nil {
		return err
	}
	*e = Event{
		ID: w.ID, Lesson: w.Lesson, Seq: w.Seq, Version: w.Version, Actor: w.Actor,
		Role: w.Role, Time: w.Time.UTC(), Payload: p,
	}
	return nil
}

// DecodePayload decodes the JSON body of a payload of kind k. Unknown kinds,
// unknown fields and trailing data are refused with CodeInvalid. A
// stroke.drawn payload as EncodePayload writes it, and a chat.posted one
// whose text needs no escape, is read in one pass; the result is the same
// either way.
func DecodePayload(k Kind, data []byte) (Payload, error) {
	switch k {
	case KindStrokeDrawn:
		if p, ok := decodeStrokeDrawn(data); ok {
			return p, nil
		}
	case KindChatPosted:
		if p, ok := decodeChatPosted(data); ok {
			return p, nil
		}
	}
	return decodePayloadJSON(k, data)
}

// decodePayloadJSON is DecodePayload through encoding/json, for every kind
// and every input.
func decodePayloadJSON(k Kind, data []byte) (Payload, error) {
	p := newPayload(k)
	if p == nil {
		return nil, Errorf(CodeInvalid, "unknown event kind %q", k)
	}
	if len(data) == 0 {
		return nil, Errorf(CodeInvalid, "%s has no data", k)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(p); err != nil {
		return nil, Errorf(CodeInvalid, "malformed %s data: %v", k, err)
	}
	if len(bytes.TrimSpace(data[dec.InputOffset():])) != 0 {
		return nil, Errorf(CodeInvalid, "malformed %s data: trailing data", k)
	}
	return p, nil
}

// DecodeEvent decodes an event from its JSON form and validates it, refusing
// input larger than MaxEncodedEventBytes and an event whose payload would
// encode to more than MaxEventBytes, so that whatever it accepts a store
// accepts too.
func DecodeEvent(b []byte) (Event, error) {
	if len(b) > MaxEncodedEventBytes {
		return Event{}, Errorf(CodeInvalid, "event is larger than %d bytes", MaxEncodedEventBytes)
	}
	var e Event
	if err := json.Unmarshal(b, &e); err != nil {
		return Event{}, asInvalid(err)
	}
	if err := e.Validate(); err != nil {
		return Event{}, err
	}
	if _, err := EncodePayload(e.Payload); err != nil {
		return Event{}, err
	}
	return e, nil
}

// EncodePayload returns the JSON body of an event's payload, refusing one whose
// encoding exceeds MaxEventBytes. Stores keep this body beside the envelope.
func EncodePayload(p Payload) ([]byte, error) {
	if isNil(p) {
		return nil, Errorf(CodeInvalid, "event has no payload")
	}
	b, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("encode %s payload: %w", p.Kind(), err)
	}
	if len(b) > MaxEventBytes {
		return nil, Errorf(CodeInvalid, "%s event is larger than %d bytes", p.Kind(), MaxEventBytes)
	}
	return b, nil
}

func asInvalid(err error) error {
	if ErrorCode(err) == CodeInternal {
		return Errorf(CodeInvalid, "malformed event: %v", err)
	}
	return err
}
