//go:build linux

package hooks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// ErrTimeout is wrapped by the error of a hook killed for exceeding its
// timeout.
var ErrTimeout = errors.New("timeout")

// maxOutput bounds how much of a failing hook's output goes into the error.
const maxOutput = 4096

// Run runs hs in order with state on their stdin and stops at the first
// failure. The error names the hook's path and how it failed, followed by
// its (trimmed) stdout and stderr.
func Run(ctx context.Context, hs []specs.Hook, state *specs.State) error {
	if len(hs) == 0 {
		return nil
	}
	if state == nil {
		return errors.New("run hooks: no container state")
	}
	data, err := json.Marshal(state)
	if err != nil {
		return fmt.Errorf("run hooks: encode state: %w", err)
	}
	for i := range hs {
		if err := runOne(ctx, &hs[i], data); err != nil {
			return err
		}
	}
	return nil
}

func runOne(ctx context.Context, h *specs.Hook, state []byte) error {
	if !filepath.IsAbs(h.Path) {
		return fmt.Errorf("hook %q: path must be absolute", h.Path)
	}
	var timeout time.Duration
	if h.Timeout != nil {
		if *h.Timeout <= 0 {
			return fmt.Errorf("hook %s: timeout must be greater than zero, got %d", h.Path, *h.Timeout)
		}
		timeout = time.Duration(*h.Timeout) * time.Second
	}

	stdin, err := memFile("hook-state", state)
	if err != nil {
		return fmt.Errorf("hook %s: %w", h.Path, err)
	}
	defer stdin.Close()
	out, err := memFile("hook-output", nil)
	if err != nil {
		return fmt.Errorf("hook %s: %w", h.Path, err)
	}
	defer out.Close()

	cmd := command(h)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, out, out

	if err := cmd.Start(); err != nil {
		return fmt.Errorf("hook %s: %w", h.Path, err)
	}
	werr := wait(ctx, cmd, timeout)
	if werr == nil {
		return nil
	}
	if text := readOutput(out); text != "" {
		return fmt.Errorf("hook %s: %w: %s", h.Path, werr, text)
	}
	return fmt.Errorf("hook %s: %w", h.Path, werr)
}

// command builds the hook's exec.Cmd directly, not with exec.Command: no
// PATH lookup, argv0 exactly as given, and a non-nil Env so that nothing of
// the runtime's environment leaks into the hook.
func command(h *specs.Hook) *exec.Cmd {
	args := h.Args
	if len(args) == 0 {
		args = []string{h.Path}
	}
	env := h.Env
	if env == nil {
		env = []string{}
	}
	cmd := &exec.Cmd{Path: h.Path, Args: args, Env: env}
	setProcessGroup(cmd)
	return cmd
}

// wait waits for cmd, killing its process group when the hook's timeout
// expires or ctx is cancelled. The hook is reaped only after any kill, so
// its pid (and group id) cannot have been reused by then.
func wait(ctx context.Context, cmd *exec.Cmd, timeout time.Duration) error {
	exited := make(chan struct{})
	go func() {
		waitExited(cmd.Process.Pid)
		close(exited)
	}()

	var expired <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		expired = t.C
	}
	var reason error
	select {
	case <-exited:
	case <-expired:
		reason = fmt.Errorf("%w after %s", ErrTimeout, timeout)
	case <-ctx.Done():
		reason = ctx.Err()
	}
	if reason != nil {
		killGroup(cmd)
		<-exited
	}
	err := cmd.Wait()
	if reason != nil {
		return reason
	}
	return exitError(err)
}

func exitError(err error) error {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		// "exit status 1" or "signal: killed".
		return errors.New(ee.ProcessState.String())
	}
	return err
}

func readOutput(f *os.File) string {
	st, err := f.Stat()
	if err != nil {
		return ""
	}
	size := st.Size()
	off := int64(0)
	if size > maxOutput {
		// The end of the output is where the reason for a failure usually is.
		off = size - maxOutput
	}
	buf := make([]byte, size-off)
	n, _ := f.ReadAt(buf, off)
	text := strings.TrimSpace(string(buf[:n]))
	if off > 0 {
		text = "..." + text
	}
	return text
}
