package app

import (
	"errors"
	"strings"

	"github.com/unha/unha/internal/ociexec"
)

// Sentinels for the failures `unha run` reports with Docker's exit codes
// (127 and 126, decided by cmd/unha).
var (
	ErrCommandNotFound      = errors.New("command not found")
	ErrCommandNotExecutable = errors.New("command cannot be invoked")
)

// commandError is a runtime failure recognised as the container's command
// being missing or not executable; it reads as the runtime's own message.
type commandError struct {
	kind error
	err  error
}

func (e *commandError) Error() string        { return e.err.Error() }
func (e *commandError) Unwrap() error        { return e.err }
func (e *commandError) Is(target error) bool { return target == e.kind }

// classifyStart recognises, in a create or start failure, the runtime
// failing to exec the container's command. runc resolves the command in the
// container before `create` returns, failing with `exec: "x": executable
// file not found in $PATH`, `exec: "/x": stat /x: no such file or
// directory` or `exec: "/x": permission denied`; crun says "executable file
// `x` not found". Docker (moby's translateContainerdStartErr) maps the same
// messages to 127 and 126; it matches any "no such file or directory",
// this also requires the message to be about exec, so that a missing mount
// source stays a runtime failure.
func classifyStart(err error) error {
	if err == nil {
		return nil
	}
	m := strings.ToLower(err.Error())
	aboutExec := strings.Contains(m, "exec")
	switch {
	case strings.Contains(m, "executable file not found"),
		strings.Contains(m, "executable file") && strings.Contains(m, "not found"),
		aboutExec && strings.Contains(m, "no such file or directory"):
		return &commandError{kind: ErrCommandNotFound, err: err}
	case aboutExec && strings.Contains(m, "permission denied"):
		return &commandError{kind: ErrCommandNotExecutable, err: err}
	}
	return err
}

// runtimeError presents a runtime failure by its message alone ("create
// container 0123456789ab: <runtime's words>"), keeping the *ociexec.Error
// (and its sentinels) reachable with errors.Is/As.
type runtimeError struct {
	op  string
	err error
}

func (e *runtimeError) Error() string {
	var oe *ociexec.Error
	if errors.As(e.err, &oe) && oe.Msg != "" {
		return e.op + ": " + oe.Msg
	}
	return e.op + ": " + e.err.Error()
}

func (e *runtimeError) Unwrap() error { return e.err }

func wrapRuntime(op string, err error) error {
	if err == nil {
		return nil
	}
	return &runtimeError{op: op, err: err}
}
