package domain

import (
	"errors"
	"fmt"
	"testing"
)

func TestErrors(t *testing.T) {
	e := Errorf(CodeNotFound, "no deck %q of %d", "x", 3)
	if e.Code != CodeNotFound || e.Message != `no deck "x" of 3` || e.Error() != `not_found: no deck "x" of 3` {
		t.Fatalf("Errorf gave %#v / %q", e, e.Error())
	}
	wrapped := fmt.Errorf("store: %w", e)
	tests := []struct {
		name string
		err  error
		code Code
		msg  string
	}{
		{"nil", nil, "", "internal error"},
		{"domain error", e, CodeNotFound, `no deck "x" of 3`},
		{"wrapped domain error", wrapped, CodeNotFound, `no deck "x" of 3`},
		{"joined", errors.Join(errors.New("other"), Errorf(CodeConflict, "c")), CodeConflict, "c"},
		{"plain error", errors.New("disk on fire"), CodeInternal, "internal error"},
		{"wrapped plain error", fmt.Errorf("x: %w", errors.New("y")), CodeInternal, "internal error"},
	}
	for _, tt := range tests {
		if got := ErrorCode(tt.err); got != tt.code {
			t.Errorf("%s: ErrorCode = %q, want %q", tt.name, got, tt.code)
		}
		if got := ErrorMessage(tt.err); got != tt.msg {
			t.Errorf("%s: ErrorMessage = %q, want %q", tt.name, got, tt.msg)
		}
	}
	// Codes are part of the wire contract of every transport.
	for code, want := range map[Code]string{
		CodeInvalid: "invalid", CodeForbidden: "forbidden", CodeNotFound: "not_found", CodeConflict: "conflict",
		CodeUnauthorized: "unauthorized", CodeUnavailable: "unavailable", CodeInternal: "internal",
	} {
		if string(code) != want {
			t.Errorf("code %q, want %q", code, want)
		}
	}
}
