package domain

import (
	"errors"
	"fmt"
)

// Code is a machine-readable error class that transports map to their own
// status codes.
type Code string

// Error codes.
const (
	CodeInvalid      Code = "invalid"      // the input is malformed or out of bounds
	CodeForbidden    Code = "forbidden"    // the actor's role does not allow the action
	CodeNotFound     Code = "not_found"    // the lesson, participant or object does not exist
	CodeConflict     Code = "conflict"     // the action contradicts the current state
	CodeUnauthorized Code = "unauthorized" // the caller could not be authenticated
	CodeUnavailable  Code = "unavailable"  // a dependency is down; retrying may succeed
	CodeRateLimited  Code = "rate_limited" // too many requests; slow down
	CodeInternal     Code = "internal"     // a bug or an unexpected failure
)

// Reason says, for machines, which of the refusals a client acts on an
// error is, where its code alone does not tell: clients react to the
// reason, never to the message's words. Most errors have none.
type Reason string

// Reasons.
const (
	ReasonLinkReplaced    Reason = "link_replaced"    // a students' link the teacher has replaced by a newer one
	ReasonJoinedElsewhere Reason = "joined_elsewhere" // the same participant joined from another device or tab
	ReasonLessonEnded     Reason = "lesson_ended"     // the lesson has ended: nothing more may happen in it
	ReasonIncompatible    Reason = "incompatible"     // the client speaks a protocol version the server does not
	ReasonNodeFull        Reason = "node_full"        // the server node serves as many participants as it may: join through the error's redirect
	ReasonFenced          Reason = "fenced"           // the server no longer decides the lesson (another took it over): reconnect
	ReasonWaiting         Reason = "waiting"          // the student waits in the lobby until the teacher admits them
	ReasonDenied          Reason = "denied"           // the teacher did not admit the waiting student
	ReasonRemoved         Reason = "removed"          // the teacher removed the participant from the lesson
	ReasonLocked          Reason = "locked"           // the lesson is locked: no one new may join
)

// Error is an application error: a code for machines, a reason when a
// client acts on this particular error, and a message for people. The
// message is safe to show to the participant who caused it.
type Error struct {
	Code    Code
	Reason  Reason
	Message string
}

func (e *Error) Error() string { return string(e.Code) + ": " + e.Message }

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Because sets the error's reason and returns it.
func (e *Error) Because(r Reason) *Error {
	e.Reason = r
	return e
}

// ErrorCode returns the code of the first *Error in err's chain, CodeInternal
// for any other non-nil error, and "" for nil.
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// ErrorReason returns the reason of the first *Error in err's chain, or "".
func ErrorReason(err error) Reason {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ""
}

// ErrorMessage returns the message of the first *Error in err's chain, or a
// generic message that reveals nothing of an internal failure.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
