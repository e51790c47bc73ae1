package ociexec

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinels for the runtime failures callers branch on. runc's wording is
// the de facto contract (containerd and podman match on these strings), so
// the mapping is by message.
var (
	ErrNotExist   = errors.New("container does not exist")
	ErrNotRunning = errors.New("container not running")
)

// Error is a failed runtime call: the verb, the container, the runtime's
// exit status and its own message.
type Error struct {
	Verb   string
	ID     string
	Status int    // the runtime's exit status, -1 when it did not exit normally
	Msg    string // the runtime's message: last error in its log, else its stderr
	kind   error  // ErrNotExist, ErrNotRunning or nil
}

func (e *Error) Error() string {
	msg := e.Msg
	if msg == "" {
		msg = fmt.Sprintf("exit status %d", e.Status)
	}
	if e.ID == "" {
		return fmt.Sprintf("runtime %s: %s", e.Verb, msg)
	}
	return fmt.Sprintf("runtime %s %s: %s", e.Verb, e.ID, msg)
}

// Unwrap lets errors.Is(err, ErrNotExist) and errors.Is(err, ErrNotRunning)
// work on a runtime failure.
func (e *Error) Unwrap() error { return e.kind }

// classify maps a runtime's message onto a sentinel. crun says "container
// `x` does not exist" style messages as well, so only the stable tail is
// matched.
func classify(msg string) error {
	m := strings.ToLower(msg)
	switch {
	case strings.Contains(m, "does not exist"):
		return ErrNotExist
	case strings.Contains(m, "not running"):
		return ErrNotRunning
	}
	return nil
}
