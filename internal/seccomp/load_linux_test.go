package seccomp

import (
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

func rule(names []string, act specs.LinuxSeccompAction, errno *uint, args ...specs.LinuxSeccompArg) specs.LinuxSyscall {
	return specs.LinuxSyscall{Names: names, Action: act, ErrnoRet: errno, Args: args}
}

func TestLoadErrno(t *testing.T) {
	s := &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{
		rule([]string{"getcwd"}, specs.ActErrno, uptr(uint(unix.ENOSYS))),
		rule([]string{"umask"}, specs.ActErrno, nil), // EPERM by default
		rule([]string{"unha_no_such_syscall"}, specs.ActErrno, nil),
	}}
	c := runChild(t, s, []string{"getcwd", "umask 0o22", "getppid"})
	c.mustExit0(t, 3)
	if got, want := c.errnos(), []unix.Errno{unix.ENOSYS, unix.EPERM, 0}; !slices.Equal(got, want) {
		t.Fatalf("errnos = %v, want %v", got, want)
	}
	if c.results[2].ret != int64(os.Getpid()) {
		t.Fatalf("getppid() = %d in the child, want %d", c.results[2].ret, os.Getpid())
	}
}

// allSyscallsBut lists every native syscall the tables know except skip: an
// allow-list under which a Go child still runs.
func allSyscallsBut(t *testing.T, skip ...string) []string {
	t.Helper()
	var names []string
	for _, name := range syscallNames {
		if nr, ok := nativeArch().nr(name); !ok || nr < 0 || slices.Contains(skip, name) {
			continue
		}
		names = append(names, name)
	}
	if len(names) < 300 {
		t.Fatalf("the tables know only %d syscalls", len(names))
	}
	return names
}

func TestLoadDefaultErrnoRet(t *testing.T) {
	s := &specs.LinuxSeccomp{
		DefaultAction: specs.ActErrno, DefaultErrnoRet: uptr(uint(unix.EXDEV)),
		Syscalls: []specs.LinuxSyscall{rule(allSyscallsBut(t, "getcwd"), specs.ActAllow, nil)},
	}
	c := runChild(t, s, []string{"getcwd", "getppid"})
	c.mustExit0(t, 2)
	if got, want := c.errnos(), []unix.Errno{unix.EXDEV, 0}; !slices.Equal(got, want) {
		t.Fatalf("errnos = %v, want %v", got, want)
	}
}

// Syscalls numbered above every one the profile names get ENOSYS, not the
// default action, so that libc falls back (runc's behaviour); unlisted ones
// below the bound still get the default.
func TestLoadENOSYSAboveProfile(t *testing.T) {
	names := allSyscallsBut(t, "getcwd")
	var top int
	for _, n := range names {
		if nr, ok := nativeArch().nr(n); ok && int(nr) > top {
			top = int(nr)
		}
	}
	for _, tc := range []struct {
		def   specs.LinuxSeccompAction
		errno *uint
		calls []string
		want  []unix.Errno
	}{
		{
			def: specs.ActErrno, errno: uptr(uint(unix.EXDEV)),
			calls: []string{"getcwd", fmt.Sprintf("nr %d", top+1), fmt.Sprintf("nr %d", badNr)},
			want:  []unix.Errno{unix.EXDEV, unix.ENOSYS, unix.ENOSYS},
		},
		{
			// Not killed: the stub answers first.
			def:   specs.ActKillProcess,
			calls: []string{fmt.Sprintf("nr %d", top+1), "getppid"},
			want:  []unix.Errno{unix.ENOSYS, 0},
		},
	} {
		t.Run(string(tc.def), func(t *testing.T) {
			s := &specs.LinuxSeccomp{DefaultAction: tc.def, DefaultErrnoRet: tc.errno,
				Syscalls: []specs.LinuxSyscall{rule(names, specs.ActAllow, nil)}}
			c := runChild(t, s, tc.calls)
			c.mustExit0(t, len(tc.calls))
			if got := c.errnos(); !slices.Equal(got, tc.want) {
				t.Fatalf("calls %q: errnos = %v, want %v", tc.calls, got, tc.want)
			}
		})
	}
}

// Several conditions on one argument are alternatives; conditions on
// different arguments must all hold.
func TestLoadArgumentConditions(t *testing.T) {
	s := &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{
		rule([]string{"personality"}, specs.ActErrno, uptr(uint(unix.EACCES)),
			specs.LinuxSeccompArg{Index: 0, Op: specs.OpEqualTo, Value: perLinux32},
			specs.LinuxSeccompArg{Index: 0, Op: specs.OpEqualTo, Value: perLinux32 | 0x20000},
		),
		rule([]string{"kill"}, specs.ActErrno, uptr(uint(unix.EBADMSG)),
			specs.LinuxSeccompArg{Index: 0, Op: specs.OpEqualTo, Value: noSuchPid},
			specs.LinuxSeccompArg{Index: 1, Op: specs.OpEqualTo, Value: 0},
		),
	}}
	c := runChild(t, s, []string{
		fmt.Sprintf("personality %#x", queryPers),
		fmt.Sprintf("personality %#x", perLinux32),
		fmt.Sprintf("personality %#x", perLinux32|0x20000),
		fmt.Sprintf("kill %d 0", noSuchPid),
		fmt.Sprintf("kill %d 18", noSuchPid),
		fmt.Sprintf("kill %d 0", noSuchPid-1),
	})
	c.mustExit0(t, 6)
	want := []unix.Errno{0, unix.EACCES, unix.EACCES, unix.EBADMSG, unix.ESRCH, unix.ESRCH}
	if got := c.errnos(); !slices.Equal(got, want) {
		t.Fatalf("errnos = %v, want %v", got, want)
	}
}

func TestLoadOperators(t *testing.T) {
	tests := []struct {
		op          specs.LinuxSeccompOperator
		value, two  uint64
		match, miss []int // signal numbers for kill(noSuchPid, sig)
	}{
		{op: specs.OpEqualTo, value: 5, match: []int{5}, miss: []int{4, 6}},
		{op: specs.OpNotEqual, value: 5, match: []int{4, 6}, miss: []int{5}},
		{op: specs.OpLessThan, value: 5, match: []int{0, 4}, miss: []int{5, 6}},
		{op: specs.OpLessEqual, value: 5, match: []int{4, 5}, miss: []int{6}},
		{op: specs.OpGreaterThan, value: 5, match: []int{6, 30}, miss: []int{4, 5}},
		{op: specs.OpGreaterEqual, value: 5, match: []int{5, 6}, miss: []int{4}},
		// (sig & 0xf0) == 0x10: 16..31.
		{op: specs.OpMaskedEqual, value: 0xf0, two: 0x10, match: []int{16, 17, 31}, miss: []int{1, 15, 32, 33}},
	}
	for _, tc := range tests {
		t.Run(string(tc.op), func(t *testing.T) {
			s := &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{
				rule([]string{"kill"}, specs.ActErrno, uptr(uint(unix.EBADMSG)),
					specs.LinuxSeccompArg{Index: 0, Op: specs.OpEqualTo, Value: noSuchPid},
					specs.LinuxSeccompArg{Index: 1, Op: tc.op, Value: tc.value, ValueTwo: tc.two}),
			}}
			var calls []string
			var want []unix.Errno
			for _, sig := range tc.match {
				calls = append(calls, fmt.Sprintf("kill %d %d", noSuchPid, sig))
				want = append(want, unix.EBADMSG)
			}
			for _, sig := range tc.miss {
				calls = append(calls, fmt.Sprintf("kill %d %d", noSuchPid, sig))
				want = append(want, unix.ESRCH)
			}
			c := runChild(t, s, calls)
			c.mustExit0(t, len(calls))
			if got := c.errnos(); !slices.Equal(got, want) {
				t.Fatalf("calls %q: errnos = %v, want %v", calls, got, want)
			}
		})
	}
}

func TestLoadKillProcess(t *testing.T) {
	s := &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{
		rule([]string{"getcwd"}, specs.ActKillProcess, nil),
	}}
	c := runChild(t, s, []string{"getppid", "getcwd", "getppid"})
	if !c.status.Signaled() || c.status.Signal() != unix.SIGSYS {
		t.Fatalf("child status %v, want killed by SIGSYS; stderr:\n%s", c.status, c.stderr)
	}
	if len(c.results) != 0 {
		t.Fatalf("child printed %v after it should have died", c.results)
	}
}

// The Go test binary is multi-threaded, so killing one thread would leave a
// wedged process. /bin/pwd has one thread, and the kernel turns the death of
// a process's last thread into SIGSYS for the process.
func TestLoadKillThread(t *testing.T) {
	pwd, err := exec.LookPath("pwd")
	if err != nil {
		t.Skip("no pwd binary:", err)
	}
	for _, act := range []specs.LinuxSeccompAction{specs.ActKill, specs.ActKillThread} {
		t.Run(string(act), func(t *testing.T) {
			s := &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{rule([]string{"getcwd"}, act, nil)}}
			c := runChild(t, s, nil, envExec+"="+pwd)
			if !c.status.Signaled() || c.status.Signal() != unix.SIGSYS {
				t.Fatalf("pwd: status %v, want killed by SIGSYS; stderr:\n%s", c.status, c.stderr)
			}
		})
	}
	t.Run("control", func(t *testing.T) {
		s := &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{rule([]string{"reboot"}, specs.ActKillThread, nil)}}
		c := runChild(t, s, nil, envExec+"="+pwd)
		c.mustExit0(t, 0)
		wd, _ := os.Getwd()
		if strings.TrimSpace(c.stdout) != wd {
			t.Fatalf("pwd printed %q, want %q", c.stdout, wd)
		}
	})
}

// TRAP raises a catchable SIGSYS: Go's handler runs and reports it (Go
// treats SIGSYS as fatal, exit status 2), where KILL_* kills outright.
func TestLoadTrap(t *testing.T) {
	s := &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{rule([]string{"getcwd"}, specs.ActTrap, nil)}}
	c := runChild(t, s, []string{"getcwd"})
	if !c.status.Exited() || c.status.ExitStatus() != 2 || !strings.Contains(c.stderr, "SIGSYS: bad system call") {
		t.Fatalf("child status %v, want exit 2 from Go's SIGSYS handler; stderr:\n%s", c.status, c.stderr)
	}
}

// TRACE without a tracer: "the system call is not executed and returns a
// failure status with errno set to ENOSYS" (seccomp(2)).
func TestLoadTraceWithoutTracer(t *testing.T) {
	s := &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{rule([]string{"getcwd"}, specs.ActTrace, uptr(1234))}}
	c := runChild(t, s, []string{"getcwd", "getppid"})
	c.mustExit0(t, 2)
	if got, want := c.errnos(), []unix.Errno{unix.ENOSYS, 0}; !slices.Equal(got, want) {
		t.Fatalf("errnos = %v, want %v", got, want)
	}
}

// Under a tracer the stop carries errnoRet as the message, and continuing
// runs the syscall. pwd stops at getcwd and, let through, exits 0.
func TestLoadTraceMessage(t *testing.T) {
	pwd, err := exec.LookPath("pwd")
	if err != nil {
		t.Skip("no pwd binary:", err)
	}
	s := &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{rule([]string{"getcwd"}, specs.ActTrace, uptr(1234))}}
	c := runChild(t, s, nil, envTrace+"="+pwd)
	c.mustExit0(t, 2)
	if msg, status := c.results[0].ret, c.results[1].ret; msg != 1234 || status != 0 {
		t.Fatalf("trace message %d, pwd exit status %d; want 1234 and 0", msg, status)
	}
}

// The native architecture stays in the filter whatever the profile lists.
func TestLoadForeignArchitecturesKeepNative(t *testing.T) {
	s := &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Architectures: []specs.Arch{specs.ArchX86, specs.ArchX32, specs.ArchAARCH64},
		Syscalls:      []specs.LinuxSyscall{rule([]string{"getcwd"}, specs.ActErrno, uptr(uint(unix.ENOTSUP)))},
	}
	c := runChild(t, s, []string{"getcwd"})
	c.mustExit0(t, 1)
	if c.results[0].errno != unix.ENOTSUP {
		t.Fatalf("getcwd errno = %v, want ENOTSUP", c.results[0].errno)
	}
}

// LOG lets the call through and the kernel writes an audit record
// (type=1326, AUDIT_SECCOMP) with the action; SECCOMP_FILTER_FLAG_LOG logs
// ERRNO too, which is otherwise silent.
func TestLoadLog(t *testing.T) {
	for _, tc := range []struct {
		name   string
		flags  []specs.LinuxSeccompFlag
		logged bool // whether the ERRNO on umask is logged
	}{
		{name: "action", flags: []specs.LinuxSeccompFlag{}},
		{name: "action and flag", flags: []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagLog}, logged: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Flags: tc.flags, Syscalls: []specs.LinuxSyscall{
				rule([]string{"getcwd"}, specs.ActLog, nil),
				rule([]string{"umask"}, specs.ActErrno, nil),
			}}
			wantLog := []string{fmt.Sprintf("syscall=%d compat=0 ip=", unix.SYS_GETCWD), "code=0x7ffc0000"}
			wantErrnoLog := []string{fmt.Sprintf("syscall=%d compat=0 ip=", unix.SYS_UMASK), "code=0x50000"}
			// printk_ratelimit() may swallow audit lines printed to the
			// kernel log (no auditd here); a fresh child after a pause
			// gets a new burst.
			var c child
			var lines []string
			for try := range 8 {
				if try > 0 {
					time.Sleep(time.Second)
				}
				c = runChild(t, s, []string{"getcwd", "umask 0o22"})
				c.mustExit0(t, 2)
				if c.results[0].errno != 0 || c.results[0].ret <= 0 || c.results[1].errno != unix.EPERM {
					t.Fatalf("results %v, want getcwd to succeed and umask EPERM", c.results)
				}
				if os.Geteuid() != 0 {
					t.Skip("the kernel log needs root to read")
				}
				lines = auditLines(t, c.pid)
				if hasLine(lines, wantLog) && (!tc.logged || hasLine(lines, wantErrnoLog)) {
					break
				}
			}
			if !hasLine(lines, wantLog) {
				t.Fatalf("no audit record %q for pid %d in the kernel log: %q", wantLog, c.pid, lines)
			}
			if got := hasLine(lines, wantErrnoLog); got != tc.logged {
				t.Fatalf("ERRNO logged = %v, want %v: %q", got, tc.logged, lines)
			}
		})
	}
}

// auditLines returns the kernel log's seccomp audit records for pid.
func auditLines(t *testing.T, pid int) []string {
	t.Helper()
	// Raw fd: os.File would park on the poller at EAGAIN instead of
	// returning it.
	fd, err := unix.Open("/dev/kmsg", unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("open kernel log: %v", err)
	}
	defer unix.Close(fd)
	var out []string
	buf := make([]byte, 8192)
	for {
		n, err := unix.Read(fd, buf)
		if err == unix.EPIPE { // a record was overwritten: read on
			continue
		}
		if err != nil || n <= 0 {
			break // EAGAIN: the end
		}
		line := string(buf[:n])
		if strings.Contains(line, "type=1326") && strings.Contains(line, fmt.Sprintf(" pid=%d ", pid)) {
			out = append(out, line)
		}
	}
	return out
}

func hasLine(lines, parts []string) bool {
	return slices.ContainsFunc(lines, func(l string) bool {
		return !slices.ContainsFunc(parts, func(p string) bool { return !strings.Contains(l, p) })
	})
}

func TestLoadFlags(t *testing.T) {
	for _, flags := range [][]specs.LinuxSeccompFlag{
		nil /* unset */, {}, {FlagTsync}, {specs.LinuxSeccompFlagLog}, {specs.LinuxSeccompFlagSpecAllow},
		{specs.LinuxSeccompFlagWaitKillableRecv}, // no listener: moot, dropped
		{FlagTsync, specs.LinuxSeccompFlagLog, specs.LinuxSeccompFlagSpecAllow, specs.LinuxSeccompFlagWaitKillableRecv},
	} {
		t.Run(fmt.Sprint(flags), func(t *testing.T) {
			s := &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Flags: flags, Syscalls: []specs.LinuxSyscall{
				rule([]string{"getcwd"}, specs.ActErrno, uptr(uint(unix.ENOSYS))),
			}}
			c := runChild(t, s, []string{"getcwd"})
			c.mustExit0(t, 1)
			if c.results[0].errno != unix.ENOSYS {
				t.Fatalf("getcwd errno = %v, want ENOSYS", c.results[0].errno)
			}
		})
	}
}

// Without no_new_privs or CAP_SYS_ADMIN the kernel refuses the filter with
// EACCES, and the error must say what is missing. As root the child drops
// CAP_SYS_ADMIN from the thread that loads.
func TestLoadNeedsNoNewPrivs(t *testing.T) {
	s := &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{rule([]string{"getcwd"}, specs.ActErrno, nil)}}
	c := runChild(t, s, []string{"getcwd"}, envNoNNP+"=1")
	if !c.status.Exited() || c.status.ExitStatus() != 102 || !strings.Contains(c.stderr, "set no_new_privs or hold CAP_SYS_ADMIN") ||
		!strings.Contains(c.stderr, "permission denied") {
		t.Fatalf("child status %v, want a load error about no_new_privs; stderr:\n%s", c.status, c.stderr)
	}
}

// The test must not run the filter in its own process: check it did not.
func TestParentUnfiltered(t *testing.T) {
	if mode, err := unix.PrctlRetInt(unix.PR_GET_SECCOMP, 0, 0, 0, 0); err != nil || mode != 0 {
		t.Fatalf("test process has seccomp mode %d (%v)", mode, err)
	}
}
