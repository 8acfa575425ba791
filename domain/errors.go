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

// Error is an application error: a code for machines and a message for people.
// The message is safe to show to the participant who caused it.
type Error struct {
	Code    Code
	Message string
}

func (e *Error) Error() string { return string(e.Code) + ": " + e.Message }

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
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

// ErrorMessage returns the message of the first *Error in err's chain, or a
// generic message that reveals nothing of an internal failure.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
