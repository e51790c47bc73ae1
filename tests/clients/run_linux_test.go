package clients

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// clientPath is the PATH every client runs with. It has no runc (Debian puts it in /usr/sbin):
// a client that ignored the runtime it was given would fail instead of using runc unnoticed.
const clientPath = "/usr/local/bin:/usr/bin"

// cmdTimeout bounds one client command; daemons and waits have their own bounds.
const cmdTimeout = 90 * time.Second

// result is what one command did.
type result struct {
	args   []string
	stdout string
	stderr string
	code   int // -1 when it did not exit normally
	err    error
}

func (r result) String() string {
	return fmt.Sprintf("%s: exit %d (%v)\nstdout:\n%s\nstderr:\n%s", strings.Join(r.args, " "), r.code, r.err, r.stdout, r.stderr)
}

// clientEnv is the environment of every client: the test's own, less anything of the suite's
// and with a PATH without runc and a private TMPDIR, plus extra.
func (e *testEnv) clientEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case k == "PATH", k == "TMPDIR", k == stageEnv, k == planEnv, k == runtimeEnv:
		case strings.HasPrefix(k, "CONTAINERS_"), strings.HasPrefix(k, "CONTAINERD_"):
		default:
			env = append(env, kv)
		}
	}
	return append(env, append([]string{"PATH=" + clientPath, "TMPDIR=" + e.tmp}, extra...)...)
}

// lookTool finds a client program on the clients' PATH, failing the test with what to install.
func (e *testEnv) lookTool(name string) string {
	e.t.Helper()
	for _, dir := range strings.Split(clientPath, ":") {
		p := dir + "/" + name
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return p
		}
	}
	e.t.Fatalf("%s is not installed (looked in %s): run tests/clients/install-deps.sh", name, clientPath)
	return ""
}

// run runs one command to completion, bounded by timeout (0: cmdTimeout).
func (e *testEnv) run(timeout time.Duration, env []string, name string, args ...string) result {
	e.t.Helper()
	if timeout == 0 {
		timeout = cmdTimeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = env
	cmd.Dir = e.dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// A daemonising client (conmon, the shim) may inherit the pipes: do not wait on them.
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	r := result{args: append([]string{name}, args...), stdout: stdout.String(), stderr: stderr.String(), code: -1, err: err}
	var ee *exec.ExitError
	switch {
	case err == nil:
		r.code = 0
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	}
	if ctx.Err() != nil {
		r.err = fmt.Errorf("timed out after %v: %w", timeout, err)
	}
	e.t.Logf("$ %s\n-> exit %d%s%s", strings.Join(r.args, " "), r.code, indent("stdout", r.stdout), indent("stderr", r.stderr))
	return r
}

// indent formats one stream for the log, cut short: a failure prints the whole result.
func indent(label, s string) string {
	if s = strings.TrimRight(s, "\n"); s == "" {
		return ""
	}
	if len(s) > 1500 {
		s = s[:1500] + " [...]"
	}
	return "\n   " + label + ": " + strings.ReplaceAll(s, "\n", "\n   "+strings.Repeat(" ", len(label)+2))
}

// must fails the test unless the command exited 0.
func (e *testEnv) must(r result) result {
	e.t.Helper()
	if r.code != 0 {
		e.t.Fatalf("command failed: %s", r)
	}
	return r
}

// wantCode fails the test unless the command exited with code.
func (e *testEnv) wantCode(r result, code int) result {
	e.t.Helper()
	if r.code != code {
		e.t.Fatalf("want exit %d, got: %s", code, r)
	}
	return r
}

// wantLines fails the test unless stdout has every line in want.
func (e *testEnv) wantLines(r result, want ...string) {
	e.t.Helper()
	lines := map[string]bool{}
	for _, l := range strings.Split(r.stdout, "\n") {
		lines[strings.TrimRight(l, "\r")] = true
	}
	for _, w := range want {
		if !lines[w] {
			e.t.Errorf("stdout lacks the line %q: %s", w, r)
		}
	}
}

// eventually polls f every 100ms until it returns "" or d passes, then fails with its last word.
func (e *testEnv) eventually(d time.Duration, what string, f func() string) {
	e.t.Helper()
	deadline := time.Now().Add(d)
	for {
		why := f()
		if why == "" {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("%s: not within %v: %s", what, d, why)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// runtimeState asks the runtime under test itself for a container's state (root "" is the
// runtime's default, which podman relies on): proof that the client drove this runtime.
func (e *testEnv) runtimeState(root, id string) (status string, pid int) {
	e.t.Helper()
	args := []string{"state", id}
	if root != "" {
		args = append([]string{"--root", root}, args...)
	}
	r := e.must(e.run(0, e.clientEnv(), suite.Runtime, args...))
	var st struct {
		ID     string `json:"id"`
		Pid    int    `json:"pid"`
		Status string `json:"status"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil || st.ID != id {
		e.t.Fatalf("runtime state of %s: %v: %s", id, err, r)
	}
	return st.Status, st.Pid
}

// ptySession is a command whose stdin, stdout and stderr are the slave of a fresh pty, as when
// a person types into `podman run -it` or `ctr run -t`.
type ptySession struct {
	e      *testEnv
	cmd    *exec.Cmd
	cancel context.CancelFunc
	master *os.File
	mu     sync.Mutex
	buf    bytes.Buffer
	eof    chan struct{}
}

// startPty starts a command on a new pty of 24 rows and 80 columns, as a session leader with the
// pty as its controlling terminal.
func (e *testEnv) startPty(timeout time.Duration, env []string, name string, args ...string) *ptySession {
	e.t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		e.t.Fatal(err)
	}
	fd := int(master.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		master.Close()
		e.t.Fatal(os.NewSyscallError("ioctl TIOCSPTLCK", err))
	}
	if err := unix.IoctlSetWinsize(fd, unix.TIOCSWINSZ, &unix.Winsize{Row: 24, Col: 80}); err != nil {
		master.Close()
		e.t.Fatal(os.NewSyscallError("ioctl TIOCSWINSZ", err))
	}
	// TIOCGPTPEER opens the slave of this very master, with no path lookup in /dev/pts; its
	// argument is the open flags (ioctl_tty(2)).
	sfd, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.TIOCGPTPEER, uintptr(unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC))
	if errno != 0 {
		master.Close()
		e.t.Fatal(os.NewSyscallError("ioctl TIOCGPTPEER", errno))
	}
	slave := os.NewFile(uintptr(sfd), "pty-slave")
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env, cmd.Dir = env, e.dir
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	e.t.Logf("$ %s   (on a pty)", strings.Join(append([]string{name}, args...), " "))
	err = cmd.Start()
	slave.Close()
	if err != nil {
		cancel()
		master.Close()
		e.t.Fatal(err)
	}
	s := &ptySession{e: e, cmd: cmd, cancel: cancel, master: master, eof: make(chan struct{})}
	go func() {
		defer close(s.eof)
		b := make([]byte, 4096)
		for {
			n, err := master.Read(b)
			s.mu.Lock()
			s.buf.Write(b[:n])
			s.mu.Unlock()
			if err != nil {
				return // EIO once the last slave fd is closed
			}
		}
	}()
	return s
}

func (s *ptySession) output() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// expect waits, bounded, for the output to contain sub.
func (s *ptySession) expect(sub string, d time.Duration) {
	s.e.t.Helper()
	deadline := time.Now().Add(d)
	for !strings.Contains(s.output(), sub) {
		if time.Now().After(deadline) {
			s.e.t.Fatalf("pty: %q not seen within %v; output so far: %q", sub, d, s.output())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// send types text into the terminal.
func (s *ptySession) send(text string) {
	s.e.t.Helper()
	if _, err := s.master.WriteString(text); err != nil {
		s.e.t.Fatal(err)
	}
}

// wait waits for the command (its own bound applies) and returns its exit code and the
// complete output.
func (s *ptySession) wait() (int, string) {
	s.e.t.Helper()
	err := s.cmd.Wait()
	s.cancel()
	select {
	case <-s.eof:
	case <-time.After(2 * time.Second):
		// Something still holds the slave; the output up to now is all there will be.
	}
	s.master.Close()
	<-s.eof
	code := -1
	var ee *exec.ExitError
	if err == nil {
		code = 0
	} else if errors.As(err, &ee) {
		code = ee.ExitCode()
	}
	out := s.output()
	s.e.t.Logf("-> exit %d (%v)\n   pty: %q", code, err, out)
	return code, out
}

// closeOnFailure kills the session's command (our direct child) if the test ends without wait.
func (s *ptySession) closeOnFailure() {
	if s.cmd.ProcessState == nil {
		s.cancel()
		_ = s.cmd.Wait()
		s.master.Close()
	}
}
