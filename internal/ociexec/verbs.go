package ociexec

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// CreateOpts are the options of `create` and `run`.
type CreateOpts struct {
	Bundle        string // --bundle, required
	PidFile       string // --pid-file: the runtime writes init's host pid there
	ConsoleSocket string // --console-socket: where the runtime sends the pty master
	NoPivot       bool   // --no-pivot
	NoNewKeyring  bool   // --no-new-keyring
	// ExtraFiles become fds 3, 4, … of the container's process
	// (--preserve-fds N).
	ExtraFiles []*os.File
	IO         IO // the container's stdio when it has no terminal
}

func (o *CreateOpts) args() ([]string, error) {
	if o.Bundle == "" {
		return nil, errors.New("bundle is required")
	}
	a := []string{"--bundle", o.Bundle}
	if o.PidFile != "" {
		a = append(a, "--pid-file", o.PidFile)
	}
	if o.ConsoleSocket != "" {
		a = append(a, "--console-socket", o.ConsoleSocket)
	}
	if o.NoPivot {
		a = append(a, "--no-pivot")
	}
	if o.NoNewKeyring {
		a = append(a, "--no-new-keyring")
	}
	if n := len(o.ExtraFiles); n > 0 {
		a = append(a, "--preserve-fds", strconv.Itoa(n))
	}
	return a, nil
}

// Create runs `create`: the runtime sets the container up and returns once
// its init waits for Start. With runc the init process is then re-parented
// to the caller's nearest child subreaper, which is how a caller that set
// PR_SET_CHILD_SUBREAPER can wait for it.
func (r *Runtime) Create(ctx context.Context, id string, o CreateOpts) error {
	a, err := o.args()
	if err != nil {
		return fmt.Errorf("create %s: %w", id, err)
	}
	io := o.IO
	_, _, err = r.call(ctx, "create", id, &io, o.ExtraFiles, append(a, id)...)
	return err
}

// Run runs `run` in the foreground: the runtime creates and starts the
// container, stays its parent (proxying the pty itself when the process has
// a terminal and no console socket is given) and exits with the process's
// status, which is returned; 128+N when it was killed by signal N. An error
// is returned only when the runtime logged one.
func (r *Runtime) Run(ctx context.Context, id string, o CreateOpts) (int, error) {
	a, err := o.args()
	if err != nil {
		return -1, fmt.Errorf("run %s: %w", id, err)
	}
	io := o.IO
	_, status, err := r.call(ctx, "run", id, &io, o.ExtraFiles, append(a, id)...)
	return foreground(status, err)
}

// foreground separates a process's own non-zero status from a failure of
// the runtime: only the latter leaves an error in the log.
func foreground(status int, err error) (int, error) {
	var e *Error
	if errors.As(err, &e) && e.Msg == "" && e.Status >= 0 {
		return e.Status, nil
	}
	if err != nil {
		return status, err
	}
	return 0, nil
}

// Start runs `start`: the container's process execs. Runtimes refuse it
// unless the container is `created`.
func (r *Runtime) Start(ctx context.Context, id string) error {
	_, _, err := r.call(ctx, "start", id, nil, nil, id)
	return err
}

// State is what `state` prints: the OCI state plus runc's extra fields.
type State struct {
	specs.State
	Rootfs  string    `json:"rootfs,omitempty"`
	Created time.Time `json:"created"`
	Owner   string    `json:"owner,omitempty"`
}

// State runs `state`. A container the runtime does not know gives an error
// matching ErrNotExist.
func (r *Runtime) State(ctx context.Context, id string) (*State, error) {
	out, _, err := r.call(ctx, "state", id, nil, nil, id)
	if err != nil {
		return nil, err
	}
	var st State
	if err := json.Unmarshal(out, &st); err != nil {
		return nil, fmt.Errorf("runtime state %s: parse %q: %w", id, truncate(out), err)
	}
	return &st, nil
}

// Kill runs `kill [--all] ID SIG`. The signal is passed as a number, which
// every runtime accepts. Killing a stopped container gives an error
// matching ErrNotRunning.
func (r *Runtime) Kill(ctx context.Context, id string, sig syscall.Signal, all bool) error {
	var a []string
	if all {
		a = append(a, "--all")
	}
	a = append(a, id, strconv.Itoa(int(sig)))
	_, _, err := r.call(ctx, "kill", id, nil, nil, a...)
	return err
}

// Delete runs `delete [--force] ID`.
func (r *Runtime) Delete(ctx context.Context, id string, force bool) error {
	var a []string
	if force {
		a = append(a, "--force")
	}
	_, _, err := r.call(ctx, "delete", id, nil, nil, append(a, id)...)
	return err
}

// ExecOpts are the options of `exec`.
type ExecOpts struct {
	Detach        bool   // --detach: return once the process runs
	PidFile       string // --pid-file
	ConsoleSocket string // --console-socket, for a process with Terminal set
	ExtraFiles    []*os.File
	IO            IO
}

// Exec runs `exec --process FILE ID` with p written to a private temporary
// file. In the foreground it returns the process's exit status as Run does;
// detached it returns 0 once the runtime has started the process.
func (r *Runtime) Exec(ctx context.Context, id string, p *specs.Process, o ExecOpts) (int, error) {
	data, err := json.Marshal(p)
	if err != nil {
		return -1, fmt.Errorf("exec %s: %w", id, err)
	}
	f, err := os.CreateTemp("", "ociexec-process-*.json")
	if err != nil {
		return -1, fmt.Errorf("exec %s: %w", id, err)
	}
	defer os.Remove(f.Name())
	_, werr := f.Write(data)
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return -1, fmt.Errorf("exec %s: write process: %w", id, werr)
	}
	a := []string{"--process", f.Name()}
	if o.Detach {
		a = append(a, "--detach")
	}
	if o.PidFile != "" {
		a = append(a, "--pid-file", o.PidFile)
	}
	if o.ConsoleSocket != "" {
		a = append(a, "--console-socket", o.ConsoleSocket)
	}
	if n := len(o.ExtraFiles); n > 0 {
		a = append(a, "--preserve-fds", strconv.Itoa(n))
	}
	io := o.IO
	_, status, err := r.call(ctx, "exec", id, &io, o.ExtraFiles, append(a, id)...)
	if o.Detach {
		return 0, err
	}
	return foreground(status, err)
}

// Version returns what `--version` prints, trimmed.
func (r *Runtime) Version(ctx context.Context) (string, error) {
	out, _, err := r.call(ctx, "--version", "", nil, nil)
	return strings.TrimSpace(string(out)), err
}

func truncate(b []byte) string {
	if len(b) > 200 {
		return string(b[:200]) + "…"
	}
	return string(b)
}
