package seccomp

// The kernel tests load filters into child processes, never into the test
// binary: a filter cannot be removed. TestMain turns a re-exec of the test
// binary into such a child, driven by environment variables.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

const (
	envChild   = "UNHA_SECCOMP_TEST_CHILD"   // profile JSON
	envCalls   = "UNHA_SECCOMP_TEST_CALLS"   // "op arg arg;op arg"
	envExec    = "UNHA_SECCOMP_TEST_EXEC"    // program to execve after the calls
	envAgent   = "UNHA_SECCOMP_TEST_AGENT"   // listener socket for the notify fd
	envNoNNP   = "UNHA_SECCOMP_TEST_NO_NNP"  // load without no_new_privs or CAP_SYS_ADMIN
	envTrace   = "UNHA_SECCOMP_TEST_TRACE"   // program to run under ptrace after loading
	noSuchPid  = 999999999                   // above PID_MAX_LIMIT: kill() gives ESRCH
	perLinux32 = 0x0008                      // PER_LINUX32, <linux/personality.h>
	queryPers  = 0xffffffff                  // personality(0xffffffff) only reads it
	badNr      = 1000                        // no syscall has this number (yet)
	childState = "creating"                  // status sent with the notify fd
	childMeta  = "MKNOD=/dev/null;unha-test" // listenerMetadata
)

func TestMain(m *testing.M) {
	if prof, ok := os.LookupEnv(envChild); ok {
		os.Exit(childMain(prof))
	}
	os.Exit(m.Run())
}

// childMain loads the profile, runs the calls and prints one line per call:
// the return value and the errno (0 for none).
func childMain(prof string) int {
	var s specs.LinuxSeccomp
	if err := json.Unmarshal([]byte(prof), &s); err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 100
	}
	// KILL_PROCESS and KILL_THREAD dump core: keep cores out of the tree.
	_ = unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{})
	if os.Getenv(envNoNNP) != "" {
		// Capabilities are per thread, and so is the kernel's check.
		runtime.LockOSThread()
		if err := dropSysAdmin(); err != nil {
			fmt.Fprintln(os.Stderr, "child: drop CAP_SYS_ADMIN:", err)
			return 101
		}
	} else if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		fmt.Fprintln(os.Stderr, "child: no_new_privs:", err)
		return 101
	}
	fd, err := Load(&s)
	if err != nil {
		fmt.Fprintln(os.Stderr, "child: load:", err)
		return 102
	}
	if path := os.Getenv(envAgent); path != "" {
		st := &specs.ContainerProcessState{
			Pid: os.Getpid(), Metadata: s.ListenerMetadata,
			State: specs.State{Version: specs.Version, ID: "unha-seccomp-test", Status: childState, Pid: os.Getpid(), Bundle: "/nonexistent-bundle"},
		}
		if err := SendNotifyFd(path, fd, st); err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			return 103
		}
		unix.Close(fd)
	} else if fd != -1 {
		fmt.Fprintln(os.Stderr, "child: unexpected notify fd", fd)
		return 104
	}
	var out bytes.Buffer
	for call := range strings.SplitSeq(os.Getenv(envCalls), ";") {
		if call == "" {
			continue
		}
		r, errno, err := doCall(call)
		if err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			return 105
		}
		fmt.Fprintf(&out, "%d %d\n", int64(r), int(errno))
	}
	if prog := os.Getenv(envTrace); prog != "" {
		msg, status, err := traceSeccomp(prog)
		if err != nil {
			fmt.Fprintln(os.Stderr, "child: trace:", err)
			return 107
		}
		fmt.Fprintf(&out, "%d 0\n%d 0\n", msg, status)
	}
	os.Stdout.Write(out.Bytes())
	if prog := os.Getenv(envExec); prog != "" {
		err := syscall.Exec(prog, []string{prog}, os.Environ())
		fmt.Fprintln(os.Stderr, "child: exec:", err)
		return 106
	}
	return 0
}

// traceSeccomp runs prog under ptrace with PTRACE_O_TRACESECCOMP, lets it
// through its first SCMP_ACT_TRACE stop and returns the stop's message
// (SECCOMP_RET_DATA, the profile's errnoRet) and prog's exit status.
func traceSeccomp(prog string) (msg uint, status int, err error) {
	// ptrace requests must come from the tracing thread.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	devnull, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return 0, 0, err
	}
	defer devnull.Close()
	pid, err := syscall.ForkExec(prog, []string{prog}, &syscall.ProcAttr{
		Files: []uintptr{devnull.Fd(), devnull.Fd(), 2},
		Sys:   &syscall.SysProcAttr{Ptrace: true},
	})
	if err != nil {
		return 0, 0, err
	}
	var ws syscall.WaitStatus
	wait := func() error {
		_, err := syscall.Wait4(pid, &ws, 0, nil)
		return err
	}
	// Stopped by SIGTRAP at execve.
	if err := wait(); err != nil || !ws.Stopped() {
		return 0, 0, fmt.Errorf("first stop: %v %v", ws, err)
	}
	if err := syscall.PtraceSetOptions(pid, unix.PTRACE_O_TRACESECCOMP|unix.PTRACE_O_EXITKILL); err != nil {
		return 0, 0, err
	}
	seen := false
	for {
		if err := syscall.PtraceCont(pid, 0); err != nil {
			return 0, 0, err
		}
		if err := wait(); err != nil {
			return 0, 0, err
		}
		if ws.Exited() {
			if !seen {
				return 0, 0, fmt.Errorf("%s exited %d without a seccomp stop", prog, ws.ExitStatus())
			}
			return msg, ws.ExitStatus(), nil
		}
		if !ws.Stopped() || ws.StopSignal() != syscall.SIGTRAP || ws.TrapCause() != unix.PTRACE_EVENT_SECCOMP {
			return 0, 0, fmt.Errorf("unexpected status %#x", ws)
		}
		if !seen {
			if msg, err = syscall.PtraceGetEventMsg(pid); err != nil {
				return 0, 0, err
			}
			seen = true
		}
	}
}

// dropSysAdmin clears CAP_SYS_ADMIN from the calling thread's effective set.
func dropSysAdmin() error {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return err
	}
	data[unix.CAP_SYS_ADMIN/32].Effective &^= 1 << (unix.CAP_SYS_ADMIN % 32)
	return unix.Capset(&hdr, &data[0])
}

func doCall(call string) (uintptr, unix.Errno, error) {
	f := strings.Fields(call)
	var a [3]uintptr
	for i, s := range f[1:] {
		v, err := strconv.ParseUint(s, 0, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("call %q: %w", call, err)
		}
		a[i] = uintptr(v)
	}
	var buf [4096]byte
	switch f[0] {
	case "getcwd":
		return sys(unix.SYS_GETCWD, uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)), 0)
	case "personality":
		return sys(unix.SYS_PERSONALITY, a[0], 0, 0)
	case "kill":
		return sys(unix.SYS_KILL, a[0], a[1], 0)
	case "getppid":
		return sys(unix.SYS_GETPPID, 0, 0, 0)
	case "getpgid":
		return sys(unix.SYS_GETPGID, a[0], 0, 0)
	case "umask":
		return sys(unix.SYS_UMASK, a[0], 0, 0)
	case "nr":
		return sys(a[0], 0, 0, 0)
	}
	return 0, 0, fmt.Errorf("unknown call %q", call)
}

func sys(nr, a0, a1, a2 uintptr) (uintptr, unix.Errno, error) {
	r, _, errno := unix.Syscall(nr, a0, a1, a2)
	if errno != 0 {
		r = ^uintptr(0)
	}
	return r, errno, nil
}

// result is one call's outcome in the child.
type result struct {
	ret   int64
	errno unix.Errno
}

// child is a finished child run.
type child struct {
	pid     int
	results []result
	stdout  string
	stderr  string
	status  syscall.WaitStatus
}

// runChild loads s in a child, makes calls there and waits for it.
// extraEnv adds variables (exec, agent).
func runChild(t *testing.T, s *specs.LinuxSeccomp, calls []string, extraEnv ...string) child {
	t.Helper()
	cmd := childCmd(t, s, calls, extraEnv...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatalf("run child: %v", err)
	}
	if slices.ContainsFunc(extraEnv, func(e string) bool { return strings.HasPrefix(e, envExec+"=") }) {
		// The exec'd program owns stdout.
		return child{pid: cmd.Process.Pid, stdout: stdout.String(), stderr: stderr.String(), status: cmd.ProcessState.Sys().(syscall.WaitStatus)}
	}
	return parseChild(t, cmd, stdout.String(), stderr.String())
}

func childCmd(t *testing.T, s *specs.LinuxSeccomp, calls []string, extraEnv ...string) *exec.Cmd {
	t.Helper()
	prof, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envChild+"="+string(prof), envCalls+"="+strings.Join(calls, ";"))
	cmd.Env = append(cmd.Env, extraEnv...)
	return cmd
}

func parseChild(t *testing.T, cmd *exec.Cmd, stdout, stderr string) child {
	t.Helper()
	c := child{pid: cmd.Process.Pid, stdout: stdout, stderr: stderr, status: cmd.ProcessState.Sys().(syscall.WaitStatus)}
	for line := range strings.Lines(stdout) {
		var r result
		var e int
		if _, err := fmt.Sscanf(line, "%d %d", &r.ret, &e); err != nil {
			t.Fatalf("child output %q: %v", line, err)
		}
		r.errno = unix.Errno(e)
		c.results = append(c.results, r)
	}
	return c
}

// mustExit0 fails unless the child ran all n calls and exited 0.
func (c child) mustExit0(t *testing.T, n int) {
	t.Helper()
	if !c.status.Exited() || c.status.ExitStatus() != 0 || len(c.results) != n {
		t.Fatalf("child: status %v, %d of %d results, stderr:\n%s", c.status, len(c.results), n, c.stderr)
	}
}

// errnos lists each call's errno.
func (c child) errnos() []unix.Errno {
	var out []unix.Errno
	for _, r := range c.results {
		out = append(out, r.errno)
	}
	return out
}
