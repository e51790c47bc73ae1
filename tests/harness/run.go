package harness

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// DefaultTimeout bounds every runtime invocation. It only exists so that a hung runtime fails
// the test instead of the whole CI job; it is never used to judge speed.
const DefaultTimeout = 60 * time.Second

// Result is the outcome of one runtime invocation.
type Result struct {
	Args   []string
	Stdout string
	Stderr string
	// Code is the exit status, 128+N for death by signal N, or -1 if the runtime did not run.
	Code int
	Err  error
}

// OK reports whether the runtime exited 0.
func (r Result) OK() bool { return r.Code == 0 }

func (r Result) String() string {
	return fmt.Sprintf("%s\nexit %d (%v)\nstdout: %q\nstderr: %q", strings.Join(r.Args, " "), r.Code,
		r.Err, r.Stdout, r.Stderr)
}

// StderrLines returns the non-empty lines of stderr.
func (r Result) StderrLines() []string { return nonEmptyLines(r.Stderr) }

// RunOpts adjusts one invocation. The zero value runs with stdin from /dev/null and stdout and
// stderr captured through files.
type RunOpts struct {
	// Stdout and Stderr, when set, receive the runtime's (and so, for create and run, the
	// container's) output; Result.Stdout/Stderr are then read back from them.
	Stdout, Stderr *os.File
	// Stdin defaults to /dev/null.
	Stdin *os.File
	// ExtraFiles become fds 3, 4, ... of the runtime.
	ExtraFiles []*os.File
	// Env is added to the runtime's environment.
	Env []string
	// ListenFDs > 0 sets LISTEN_FDS and LISTEN_PID for the runtime the way systemd socket
	// activation does. LISTEN_PID must be the runtime's own pid, which is only known after
	// fork, so the runtime is started through `sh -c 'LISTEN_PID=$$ exec ...'`.
	ListenFDs int
	// NoRoot leaves out the --root global flag.
	NoRoot bool
	// Global flags go before the verb, after --root.
	Global  []string
	Timeout time.Duration
}

// Run invokes the runtime with --root set to the test's state directory.
func (e *Env) Run(args ...string) Result { return e.RunWith(RunOpts{}, args...) }

// RunWith invokes the runtime with options.
func (e *Env) RunWith(o RunOpts, args ...string) Result {
	e.T.Helper()
	full := []string{}
	if !o.NoRoot {
		full = append(full, "--root", e.Root)
	}
	full = append(append(full, o.Global...), args...)
	res := Result{Args: append([]string{e.S.RuntimeName()}, full...), Code: -1}

	timeout := o.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var cmd *exec.Cmd
	if o.ListenFDs > 0 {
		script := fmt.Sprintf(`LISTEN_FDS=%d LISTEN_PID=$$ exec "$0" "$@"`, o.ListenFDs)
		cmd = exec.CommandContext(ctx, "/bin/sh", append([]string{"-c", script, e.S.Runtime}, full...)...)
	} else {
		cmd = exec.CommandContext(ctx, e.S.Runtime, full...)
	}
	cmd.Env = append(os.Environ(), o.Env...)
	if e.As != nil {
		e.As.apply(cmd, e)
	}
	cmd.ExtraFiles = o.ExtraFiles
	cmd.WaitDelay = 5 * time.Second

	// Files, not pipes: a detached container inherits the runtime's stdio and may keep it
	// open long after the runtime exits, and exec.Cmd would wait for a pipe's last writer.
	stdout, stderr := o.Stdout, o.Stderr
	var err error
	if stdout == nil {
		if stdout, err = e.tempFile("stdout"); err != nil {
			res.Err = err
			return res
		}
		defer stdout.Close()
	}
	if stderr == nil {
		if stderr, err = e.tempFile("stderr"); err != nil {
			res.Err = err
			return res
		}
		defer stderr.Close()
	}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if o.Stdin != nil {
		cmd.Stdin = o.Stdin
	} // exec.Cmd opens /dev/null for a nil Stdin.

	res.Err = cmd.Run()
	var ee *exec.ExitError
	switch {
	case res.Err == nil:
		res.Code = 0
	case errors.As(res.Err, &ee):
		res.Code = exitCode(ee.ProcessState)
	}
	if ctx.Err() != nil {
		res.Err = fmt.Errorf("timed out after %v: %w", timeout, ctx.Err())
	}
	res.Stdout = readBack(stdout)
	res.Stderr = readBack(stderr)
	return res
}

func exitCode(ps *os.ProcessState) int {
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ps.ExitCode()
}

// tempFile makes an anonymous-ish file in the test directory.
func (e *Env) tempFile(kind string) (*os.File, error) {
	return os.CreateTemp(e.Dir, "."+kind+"-")
}

func readBack(f *os.File) string {
	b, err := os.ReadFile(f.Name())
	if err != nil {
		return ""
	}
	return string(b)
}

func nonEmptyLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}
