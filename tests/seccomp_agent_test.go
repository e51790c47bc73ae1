package tests

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"

	"github.com/unha/unha/tests/harness"
)

// seccompAgent is the test's side of listenerPath: it accepts the runtime's connections and
// decodes each one's container process state and seccomp notify fd.
type seccompAgent struct {
	Path string
	got  chan agentConn
}

// agentConn is what one connection brought.
type agentConn struct {
	State specs.ContainerProcessState
	Raw   string
	Fd    int // -1 if none came
	Err   error
}

// newSeccompAgent listens in a fresh short directory (sun_path holds 108 bytes). Cleanup
// closes the listener and every fd received.
func newSeccompAgent(t *testing.T) *seccompAgent {
	t.Helper()
	dir, err := os.MkdirTemp("", "usa-")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "agent.sock")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		os.RemoveAll(dir)
		t.Fatal(err)
	}
	a := &seccompAgent{Path: path, got: make(chan agentConn, 8)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			conn, err := ln.AcceptUnix()
			if err != nil {
				return
			}
			a.got <- readAgentConn(conn)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		close(a.got)
		for c := range a.got {
			if c.Fd >= 0 {
				unix.Close(c.Fd)
			}
		}
		os.RemoveAll(dir)
	})
	return a
}

func readAgentConn(conn *net.UnixConn) agentConn {
	defer conn.Close()
	c := agentConn{Fd: -1}
	if err := conn.SetReadDeadline(time.Now().Add(harness.DefaultTimeout)); err != nil {
		c.Err = err
		return c
	}
	buf := make([]byte, 64*1024)
	oob := make([]byte, unix.CmsgSpace(4*4))
	n, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
	if err != nil {
		c.Err = fmt.Errorf("recvmsg: %w", err)
		return c
	}
	// The fds come with the first bytes only; the rest of the state may follow. Decode one
	// JSON value rather than read to EOF: runc keeps an exec's connection open until the
	// exec'd process is done, and that process waits for our answer.
	var raw bytes.Buffer
	dec := json.NewDecoder(io.TeeReader(io.MultiReader(bytes.NewReader(buf[:n]), conn), &raw))
	if err := dec.Decode(&c.State); err != nil {
		c.Err = fmt.Errorf("state %q: %w", raw.String(), err)
	}
	c.Raw = raw.String()
	msgs, perr := unix.ParseSocketControlMessage(oob[:oobn])
	if perr != nil && c.Err == nil {
		c.Err = perr
	}
	var fds []int
	for _, m := range msgs {
		if f, err := unix.ParseUnixRights(&m); err == nil {
			fds = append(fds, f...)
		}
	}
	for i, fd := range fds {
		unix.CloseOnExec(fd)
		if i == 0 {
			c.Fd = fd
		} else {
			unix.Close(fd)
		}
	}
	if len(fds) != 1 && c.Err == nil {
		c.Err = fmt.Errorf("got %d fds, want exactly 1", len(fds))
	}
	return c
}

// next waits for the next connection. done, if it yields first, means the runtime finished
// without ever connecting.
func (a *seccompAgent) next(t *testing.T, done <-chan harness.Result) agentConn {
	t.Helper()
	select {
	case c := <-a.got:
		if c.Err != nil {
			t.Fatalf("seccomp agent: %v", c.Err)
		}
		return c
	case r := <-done:
		t.Fatalf("the runtime never connected to the seccomp agent: %s", r)
	case <-time.After(harness.DefaultTimeout):
		t.Fatal("the runtime never connected to the seccomp agent")
	}
	return agentConn{}
}

// answer waits for one notification on fd, checks it is syscall nr from a thread of process
// pid, and makes the syscall return val.
func answer(t *testing.T, fd int, nr uintptr, pid int, val uint64) {
	t.Helper()
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	for {
		n, err := unix.Poll(fds, int(harness.DefaultTimeout/time.Millisecond))
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil || n == 0 {
			t.Fatalf("no seccomp notification (poll: %d, %v)", n, err)
		}
		break
	}
	req, err := libseccomp.NotifReceive(libseccomp.ScmpFd(fd))
	if err != nil {
		t.Fatalf("receive notification: %v", err)
	}
	if uintptr(req.Data.Syscall) != nr {
		t.Errorf("notification for syscall %d, want %d", req.Data.Syscall, nr)
	}
	if tgid := threadGroup(t, int(req.Pid)); tgid != pid {
		t.Errorf("notification from thread %d of process %d, want process %d", req.Pid, tgid, pid)
	}
	if err := libseccomp.NotifRespond(libseccomp.ScmpFd(fd), &libseccomp.ScmpNotifResp{ID: req.ID, Val: val}); err != nil {
		t.Fatalf("respond: %v", err)
	}
}

// threadGroup is the process a thread belongs to, from /proc/TID/status.
func threadGroup(t *testing.T, tid int) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", tid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "Tgid:"); ok {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatalf("no Tgid in /proc/%d/status", tid)
	return 0
}
