//go:build cgo

package seccomp

// TestLoadNotify answers notifications with libseccomp's helpers.

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

// The test is the seccomp agent: it gets the notify fd and the container
// process state over listenerPath, then answers the child's notified calls
// (a value for getppid, an errno for getpgid) while others run unhindered.
func TestLoadNotify(t *testing.T) {
	ln, sock := listenAgent(t)
	s := &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow, ListenerPath: sock, ListenerMetadata: childMeta,
		Flags: []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagWaitKillableRecv},
		Syscalls: []specs.LinuxSyscall{
			rule([]string{"getppid", "getpgid"}, specs.ActNotify, nil),
		},
	}
	mask := unix.Umask(0o22) // the child inherits it; umask() there returns it
	unix.Umask(mask)
	cmd := childCmd(t, s, []string{"getppid", "getpgid 0", "umask 0o22"}, envAgent+"="+sock)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waited := false
	t.Cleanup(func() {
		if !waited {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})

	st, fds := recvState(t, ln)
	pid := cmd.Process.Pid
	if st.Version != specs.Version || !slices.Equal(st.Fds, []string{specs.SeccompFdName}) || st.Pid != pid ||
		st.Metadata != childMeta || st.State.Status != childState || st.State.Pid != pid {
		t.Fatalf("container process state %+v, want fds [seccompFd], pid %d, metadata %q", st, pid, childMeta)
	}
	if len(fds) != 1 {
		t.Fatalf("got %d fds, want 1", len(fds))
	}
	nfd := libseccomp.ScmpFd(fds[0])
	const val, errno = 4242, unix.EOWNERDEAD
	for range 2 {
		req, err := libseccomp.NotifReceive(nfd)
		if err != nil {
			t.Fatalf("receive notification: %v (child stderr: %s)", err, stderr.String())
		}
		if tgid := threadGroup(t, int(req.Pid)); tgid != pid {
			t.Fatalf("notification from thread %d of process %d, want the child %d", req.Pid, tgid, pid)
		}
		resp := &libseccomp.ScmpNotifResp{ID: req.ID}
		switch req.Data.Syscall {
		case unix.SYS_GETPPID:
			resp.Val = val
		case unix.SYS_GETPGID:
			resp.Error = int32(errno)
		default:
			t.Fatalf("notification for syscall %d, want getppid or getpgid", req.Data.Syscall)
		}
		if err := libseccomp.NotifRespond(nfd, resp); err != nil {
			t.Fatalf("respond: %v", err)
		}
	}
	err := cmd.Wait()
	waited = true
	if err != nil {
		t.Fatalf("child: %v; stderr:\n%s", err, stderr.String())
	}
	c := parseChild(t, cmd, stdout.String(), stderr.String())
	c.mustExit0(t, 3)
	if r := c.results; r[0] != (result{ret: val}) || r[1].errno != errno || r[2].errno != 0 || r[2].ret != int64(mask) {
		t.Fatalf("child results %v; want getppid %d, getpgid %v, umask unfiltered", r, val, errno)
	}
}

func threadGroup(t *testing.T, tid int) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", tid))
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(b)) {
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
