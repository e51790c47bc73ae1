package seccomp

import (
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// listenAgent is the agent's end: a SOCK_STREAM listener in a fresh dir.
func listenAgent(t *testing.T) (*net.UnixListener, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "agent.sock")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	// Guards against a hang, not a timing assertion.
	if err := ln.SetDeadline(time.Now().Add(2 * time.Minute)); err != nil {
		t.Fatal(err)
	}
	return ln, path
}

// recvState accepts one connection and reads what the runtime sends: the
// state JSON up to EOF (the runtime must close) and the fds of the first
// message.
func recvState(t *testing.T, ln *net.UnixListener) (*specs.ContainerProcessState, []int) {
	t.Helper()
	conn, err := ln.AcceptUnix()
	if err != nil {
		t.Fatalf("accept: %v", err)
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(2 * time.Minute)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1<<16)
	oob := make([]byte, unix.CmsgSpace(4*4))
	n, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
	if err != nil {
		t.Fatalf("recvmsg: %v", err)
	}
	var fds []int
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil {
		t.Fatal(err)
	}
	for i := range msgs {
		got, err := unix.ParseUnixRights(&msgs[i])
		if err != nil {
			t.Fatal(err)
		}
		fds = append(fds, got...)
	}
	for _, fd := range fds {
		t.Cleanup(func() { unix.Close(fd) })
	}
	rest, err := io.ReadAll(conn)
	if err != nil {
		t.Fatalf("read rest: %v", err)
	}
	var st specs.ContainerProcessState
	if err := json.Unmarshal(append(buf[:n], rest...), &st); err != nil {
		t.Fatalf("state %q: %v", buf[:n], err)
	}
	return &st, fds
}

func sameFile(t *testing.T, a, b int) bool {
	t.Helper()
	var sa, sb unix.Stat_t
	if err := unix.Fstat(a, &sa); err != nil {
		t.Fatal(err)
	}
	if err := unix.Fstat(b, &sb); err != nil {
		t.Fatal(err)
	}
	return sa.Dev == sb.Dev && sa.Ino == sb.Ino
}

func TestSendNotifyFd(t *testing.T) {
	ln, path := listenAgent(t)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	in := &specs.ContainerProcessState{
		Pid: 4422, Metadata: "MKNOD=/dev/null",
		State: specs.State{Version: specs.Version, ID: "c1", Status: specs.StateCreating, Pid: 4422, Bundle: "/b", Annotations: map[string]string{"k": "v"}},
	}
	keep := *in
	errc := make(chan error, 1)
	go func() { errc <- SendNotifyFd(path, int(w.Fd()), in) }()
	got, fds := recvState(t, ln)
	if err := <-errc; err != nil {
		t.Fatalf("SendNotifyFd: %v", err)
	}
	want := keep
	want.Version = specs.Version
	want.Fds = []string{"seccompFd"}
	if !reflect.DeepEqual(got, &want) {
		t.Fatalf("agent got %+v, want %+v", got, want)
	}
	if !reflect.DeepEqual(in, &keep) {
		t.Fatalf("SendNotifyFd modified its argument: %+v", in)
	}
	if len(fds) != 1 || !sameFile(t, fds[0], int(w.Fd())) {
		t.Fatalf("agent got fds %v, want one fd for the pipe", fds)
	}
}

func TestSendNotifyFdErrors(t *testing.T) {
	st := &specs.ContainerProcessState{Pid: 1}
	missing := filepath.Join(t.TempDir(), "nobody-listens")
	tests := []struct {
		name  string
		path  string
		fd    int
		state *specs.ContainerProcessState
		err   string
		errno error
	}{
		{name: "no path", path: "", fd: 0, state: st, err: "listenerPath is empty"},
		{name: "bad fd", path: missing, fd: -1, state: st, err: "invalid fd -1"},
		{name: "no state", path: missing, fd: 0, state: nil, err: "no container process state"},
		{name: "nobody listening", path: missing, fd: 0, state: st, err: missing, errno: unix.ENOENT},
		{name: "path too long", path: "/" + strings.Repeat("x", 200), fd: 0, state: st, err: "send notify fd", errno: unix.EINVAL},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := SendNotifyFd(tc.path, tc.fd, tc.state)
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("SendNotifyFd() = %v, want an error with %q", err, tc.err)
			}
			if tc.errno != nil && !errors.Is(err, tc.errno) {
				t.Fatalf("SendNotifyFd() = %v, want errno %v kept", err, tc.errno)
			}
		})
	}
}
