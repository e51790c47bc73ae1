package tests

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-spec/specs-go/features"
	"golang.org/x/sys/unix"

	"github.com/unha/unha/internal/seccomp"
	"github.com/unha/unha/internal/specgen"
	"github.com/unha/unha/tests/harness"
)

func errnoRet(e unix.Errno) *uint {
	v := uint(e)
	return &v
}

// allowExcept is a profile that allows everything but the given rules.
func allowExcept(rules ...specs.LinuxSyscall) *specs.LinuxSeccomp {
	return &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: rules}
}

// runLines runs the bundle with profile p and returns the probe's result lines.
func runLines(t *testing.T, e *harness.Env, b *harness.Bundle, p *specs.LinuxSeccomp) ([]string, harness.Result) {
	t.Helper()
	b.Spec.Linux.Seccomp = p
	_, r := e.RunContainer(b)
	return harness.Lines(r.Stdout), r
}

func wantSeccompLines(t *testing.T, what string, got []string, r harness.Result, want ...string) {
	t.Helper()
	if !r.OK() || !slices.Equal(got, want) {
		t.Errorf("%s: lines %q, want %q\n%s", what, got, want, r)
	}
}

// dockerDefaults gives the bundle Docker's default capabilities and, for them, Docker's
// default seccomp profile (the one `unha run` uses).
func dockerDefaults(t *testing.T, b *harness.Bundle) {
	t.Helper()
	c := specgen.DefaultCaps
	b.Spec.Process.Capabilities = &specs.LinuxCapabilities{
		Bounding: slices.Clone(c), Effective: slices.Clone(c), Permitted: slices.Clone(c),
	}
	p, err := specgen.DefaultSeccomp(b.Spec)
	if err != nil {
		t.Fatal(err)
	}
	b.Spec.Linux.Seccomp = p
}

// TestSeccompErrno: a denied syscall fails with the rule's errnoRet, EPERM without one, and
// the profile's defaultErrnoRet for syscalls it does not list. Both places init can load the
// filter are covered: before dropping privileges (no no_new_privs) and after setting
// no_new_privs.
func TestSeccompErrno(t *testing.T) {
	e := newEnv(t)
	for _, nnp := range []bool{false, true} {
		t.Run(fmt.Sprintf("noNewPrivileges=%v", nnp), func(t *testing.T) {
			b := e.NewBundle("/probe", "syscall", "getpgid", "0", "syscall", "getsid", "0", "syscall", "personality", "0xffffffff")
			b.Spec.Process.NoNewPrivileges = nnp
			got, r := runLines(t, e, b, allowExcept(
				specs.LinuxSyscall{Names: []string{"getpgid"}, Action: specs.ActErrno, ErrnoRet: errnoRet(unix.ENOMSG)},
				specs.LinuxSyscall{Names: []string{"getsid"}, Action: specs.ActErrno},
			))
			if len(got) == 3 && strings.HasPrefix(got[2], "ok ") {
				got[2] = "ok"
			}
			wantSeccompLines(t, "per-rule errnoRet", got, r, "ENOMSG", "EPERM", "ok")

			// Docker's profile with another default errno: keyctl is not in it.
			b = e.NewBundle("/probe", "syscall", "keyctl", "0", "0xfffffffd", "0", "syscall", "getpgid", "0")
			b.Spec.Process.NoNewPrivileges = nnp
			dockerDefaults(t, b)
			p := b.Spec.Linux.Seccomp
			p.DefaultErrnoRet = errnoRet(unix.EHOSTDOWN)
			got, r = runLines(t, e, b, p)
			if len(got) == 2 && strings.HasPrefix(got[1], "ok ") {
				got[1] = "ok"
			}
			wantSeccompLines(t, "defaultErrnoRet", got, r, "EHOSTDOWN", "ok")
		})
	}
	e.AssertClean()
}

// TestSeccompArgs: conditions on arguments. One EQ value blocks only that value, MASKED_EQ
// compares (arg & value) with valueTwo, and conditions on different arguments must all hold.
func TestSeccompArgs(t *testing.T) {
	e := newEnv(t)
	// Personality values: 0 is PER_LINUX, 0x0008 PER_LINUX32, 0x40000 ADDR_NO_RANDOMIZE;
	// 0xffffffff only queries. Each call that succeeds is undone by the next personality 0.
	b := e.NewBundle("/probe",
		"syscall", "personality", "0x0008",
		"syscall", "personality", "0",
		"syscall", "personality", "0xffffffff")
	got, r := runLines(t, e, b, allowExcept(specs.LinuxSyscall{
		Names: []string{"personality"}, Action: specs.ActErrno, ErrnoRet: errnoRet(unix.EDOM),
		Args: []specs.LinuxSeccompArg{{Index: 0, Value: 0x0008, Op: specs.OpEqualTo}},
	}))
	wantSeccompLines(t, "personality EQ 8", got, r, "EDOM", "ok 0", "ok 0")

	b = e.NewBundle("/probe",
		"syscall", "personality", "0x0008",
		"syscall", "personality", "0x40008",
		"syscall", "personality", "0x40000",
		"syscall", "personality", "0",
		"syscall", "personality", "0xffffffff")
	got, r = runLines(t, e, b, allowExcept(specs.LinuxSyscall{
		Names: []string{"personality"}, Action: specs.ActErrno, ErrnoRet: errnoRet(unix.EDOM),
		// Blocks every personality whose low byte is PER_LINUX32, whatever the flags.
		Args: []specs.LinuxSeccompArg{{Index: 0, Value: 0xff, ValueTwo: 0x08, Op: specs.OpMaskedEqual}},
	}))
	// personality returns the previous persona: 0x40000 after the third call.
	wantSeccompLines(t, "personality MASKED_EQ 0xff==8", got, r, "EDOM", "EDOM", "ok 0", "ok 262144", "ok 0")

	// keyctl(KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING) is blocked; the same call for
	// another keyring only matches the first condition and must reach the kernel.
	b = e.NewBundle("/probe", "syscall", "keyctl", "0", "0xfffffffd", "0", "syscall", "keyctl", "0", "0xfffffffc", "0")
	got, r = runLines(t, e, b, allowExcept(specs.LinuxSyscall{
		Names: []string{"keyctl"}, Action: specs.ActErrno, ErrnoRet: errnoRet(unix.EDOM),
		Args: []specs.LinuxSeccompArg{{Index: 0, Value: 0, Op: specs.OpEqualTo}, {Index: 1, Value: 0xfffffffd, Op: specs.OpEqualTo}},
	}))
	if !r.OK() || len(got) != 2 || got[0] != "EDOM" || got[1] == "EDOM" {
		t.Errorf("keyctl with two conditions: lines %q, want EDOM then anything else\n%s", got, r)
	}
	e.AssertClean()
}

// seccompActions says what `probe syscall getpgid 0` does under each action, for
// TestSeccompActions and the features check. loadOnly actions are only loaded: killing one
// thread of a Go program leaves it in an undefined state.
var seccompActions = map[specs.LinuxSeccompAction]struct {
	lines    []string
	code     int
	stderr   string
	loadOnly bool
}{
	specs.ActAllow: {lines: []string{"ok"}},
	specs.ActLog:   {lines: []string{"ok"}},
	specs.ActErrno: {lines: []string{"EPERM"}},
	// seccomp(2): with no tracer attached the syscall fails with ENOSYS.
	specs.ActTrace: {lines: []string{"ENOSYS"}},
	// The whole process dies of SIGSYS: run reports 128+31.
	specs.ActKillProcess: {code: 128 + int(unix.SIGSYS)},
	// SIGSYS is delivered; the Go runtime dies of it, naming it.
	specs.ActTrap:       {stderr: "SIGSYS", code: -1},
	specs.ActKillThread: {loadOnly: true},
	specs.ActKill:       {loadOnly: true},
}

func checkAction(t *testing.T, e *harness.Env, act specs.LinuxSeccompAction) {
	t.Helper()
	want, ok := seccompActions[act]
	if !ok {
		t.Errorf("no expectation for action %s", act)
		return
	}
	args := []string{"/probe", "print", "before", "syscall", "getpgid", "0", "print", "after"}
	if want.loadOnly {
		args = []string{"/probe", "print", "before", "print", "after"}
	}
	b := e.NewBundle(args...)
	rule := specs.LinuxSyscall{Names: []string{"getpgid"}, Action: act}
	if act == specs.ActAllow {
		// A rule that repeats the default action would be dropped: deny by default and
		// allow everything the probe needs instead.
		dockerDefaults(t, b)
		b.Spec.Linux.Seccomp.Syscalls = append(b.Spec.Linux.Seccomp.Syscalls, rule)
	} else {
		b.Spec.Linux.Seccomp = allowExcept(rule)
	}
	got, r := runLines(t, e, b, b.Spec.Linux.Seccomp)
	for i, l := range got {
		if strings.HasPrefix(l, "ok ") {
			got[i] = "ok"
		}
	}
	switch {
	case want.loadOnly || want.lines != nil:
		wantSeccompLines(t, string(act), got, r, append(append([]string{"before"}, want.lines...), "after")...)
	case want.code > 0:
		if r.Code != want.code || !slices.Equal(got, []string{"before"}) {
			t.Errorf("%s: want exit %d after printing only \"before\": %s", act, want.code, r)
		}
	default:
		if r.OK() || !slices.Equal(got, []string{"before"}) || !strings.Contains(r.Stderr, want.stderr) {
			t.Errorf("%s: want a failure mentioning %s after printing only \"before\": %s", act, want.stderr, r)
		}
	}
}

// TestSeccompActions runs every action but NOTIFY (TestSeccompNotify), KILL_PROCESS among
// them: the container dies of SIGSYS and run exits 159.
func TestSeccompActions(t *testing.T) {
	e := newEnv(t)
	for _, act := range []specs.LinuxSeccompAction{specs.ActErrno, specs.ActKillProcess, specs.ActTrap,
		specs.ActTrace, specs.ActLog, specs.ActAllow, specs.ActKillThread} {
		t.Run(string(act), func(t *testing.T) { checkAction(t, e, act) })
	}
	e.AssertClean()
}

// TestSeccompNotify: the runtime hands the notify fd and the container process state to the
// agent at listenerPath; the agent answers the container's syscall, whose return value is
// then the agent's. `exec` loads the filter anew and hands its fd over too.
func TestSeccompNotify(t *testing.T) {
	e := newEnv(t)
	a := newSeccompAgent(t)
	const meta = "unha-e2e-metadata"
	b := e.NewBundle("/probe", "syscall", "getpgid", "0", "syscall", "getsid", "0", "wait-signal")
	b.Spec.Linux.Seccomp = &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow, ListenerPath: a.Path, ListenerMetadata: meta,
		Syscalls: []specs.LinuxSyscall{{Names: []string{"getpgid"}, Action: specs.ActNotify}},
	}
	c := e.Create(b)
	conn := a.next(t, nil)
	st := c.State()
	ps := conn.State
	if ps.Version == "" || !slices.Equal(ps.Fds, []string{specs.SeccompFdName}) || ps.Metadata != meta ||
		ps.Pid != st.Pid || ps.State.Pid != st.Pid || ps.State.ID != c.ID || ps.State.Status != specs.StateCreating ||
		ps.State.Bundle != b.Dir {
		t.Errorf("container process state %s; want fds [seccompFd], metadata %q, pid %d, id %s, status creating, bundle %s",
			conn.Raw, meta, st.Pid, c.ID, b.Dir)
	}
	c.Start()
	answer(t, conn.Fd, unix.SYS_GETPGID, st.Pid, 4242)
	c.WaitOutput("ready")
	if got := harness.Lines(c.Stdout()); len(got) < 2 || got[0] != "ok 4242" || !strings.HasPrefix(got[1], "ok ") {
		t.Errorf("container output %q, want the agent's 4242, then getsid unhindered", got)
	}

	t.Run("exec", func(t *testing.T) {
		done := make(chan harness.Result, 1)
		go func() { done <- c.Exec(nil, "/probe", "syscall", "getpgid", "0") }()
		conn := a.next(t, done)
		// As runc: pid is the exec'd process (answer checks the notification came from it),
		// state.pid the container's init, and the container is running.
		ps := conn.State
		if ps.Metadata != meta || ps.State.ID != c.ID || ps.State.Pid != st.Pid || ps.Pid == st.Pid ||
			ps.State.Status != specs.StateRunning || !slices.Equal(ps.Fds, []string{specs.SeccompFdName}) {
			t.Errorf("exec: container process state %s; want the exec'd pid, state.pid %d, status running", conn.Raw, st.Pid)
		}
		answer(t, conn.Fd, unix.SYS_GETPGID, ps.Pid, 777)
		if r := <-done; !r.OK() || r.Stdout != "ok 777\n" {
			t.Errorf("exec: want the agent's 777: %s", r)
		}
	})
	c.Kill("KILL")
	c.WaitStatus("stopped")
	c.Delete(false)
	e.AssertClean()
}

// TestSeccompExec: processes started by `exec` get the container's filter.
func TestSeccompExec(t *testing.T) {
	e := newEnv(t)
	b := e.NewBundle("/probe", "wait-signal")
	b.Spec.Linux.Seccomp = allowExcept(specs.LinuxSyscall{Names: []string{"getpgid"}, Action: specs.ActErrno, ErrnoRet: errnoRet(unix.ENOMSG)})
	c := e.Create(b)
	c.Start()
	c.WaitOutput("ready")
	if mode := procStatus(t, c.State().Pid, "Seccomp"); mode != "2" {
		t.Errorf("init's seccomp mode %q, want 2 (filter)", mode)
	}
	if r := c.Exec(nil, "/probe", "syscall", "getpgid", "0", "syscall", "getsid", "0"); !r.OK() ||
		len(harness.Lines(r.Stdout)) != 2 || harness.Lines(r.Stdout)[0] != "ENOMSG" || !strings.HasPrefix(harness.Lines(r.Stdout)[1], "ok ") {
		t.Errorf("exec'd probe: want ENOMSG then ok: %s", r)
	}
	d := c.ExecDetached(nil, "/probe", "wait-signal")
	d.WaitOutput("ready")
	if mode := procStatus(t, d.Pid, "Seccomp"); mode != "2" {
		t.Errorf("exec'd process's seccomp mode %q, want 2 (filter)", mode)
	}
	c.Kill("KILL")
	c.WaitStatus("stopped")
	c.Delete(false)
	d.WaitGone()
	e.AssertClean()
}

func procStatus(t *testing.T, pid int, key string) string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, key+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// TestSeccompEscapes: with Docker's default profile and capabilities the usual ways out of a
// container fail, and for each a control run without the profile (and, where capabilities are
// what stops it, with every capability) shows the probe can succeed, so the failures are the
// confinement's doing.
func TestSeccompEscapes(t *testing.T) {
	e := newEnv(t)
	// A host process to trace: the containers that try share the host's PID namespace so
	// they can name it.
	sleep := exec.Command("sleep", "600")
	if err := sleep.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = sleep.Process.Kill()
		_ = sleep.Wait()
	})
	hostPid := strconv.Itoa(sleep.Process.Pid)
	args := []string{"/probe",
		"unshare", strconv.Itoa(unix.CLONE_NEWUSER),
		"syscall", "keyctl", "0", "0xfffffffd", "0", // KEYCTL_GET_KEYRING_ID of the session keyring
		"mount-tmpfs", "/mnt",
		"write", "/proc/sys/kernel/hostname",
		"ptrace-attach", hostPid,
	}
	norm := func(lines []string) []string {
		for i, l := range lines {
			if strings.HasPrefix(l, "ok ") {
				lines[i] = "ok"
			}
			if l == "EACCES" && i == 3 {
				lines[i] = "EROFS" // either refusal of /proc/sys is fine
			}
		}
		return lines
	}

	b := e.NewBundle(args...)
	b.RemoveNamespace(specs.PIDNamespace)
	dockerDefaults(t, b)
	got, r := runLines(t, e, b, b.Spec.Linux.Seccomp)
	wantSeccompLines(t, "Docker's profile and capabilities", norm(got), r, "EPERM", "EPERM", "EPERM", "EROFS", "EPERM")

	// No profile: user namespaces and keyrings open up, while the capabilities still refuse
	// mount and ptrace and /proc/sys stays read-only.
	got, r = runLines(t, e, b, nil)
	wantSeccompLines(t, "no profile, Docker's capabilities", norm(got), r, "ok", "ok", "EPERM", "EROFS", "EPERM")

	// No profile, every capability, nothing read-only: everything works.
	all := harness.CapNames(ownBoundingMask(t))
	b.Spec.Process.Capabilities = &specs.LinuxCapabilities{Bounding: all, Effective: all, Permitted: all}
	b.Spec.Linux.ReadonlyPaths = nil
	got, r = runLines(t, e, b, nil)
	wantSeccompLines(t, "no profile, every capability", norm(got), r, "ok", "ok", "ok", "ok", "ok")
	e.AssertClean()
}

func ownBoundingMask(t *testing.T) uint64 {
	t.Helper()
	v, err := strconv.ParseUint(procStatus(t, os.Getpid(), "CapBnd"), 16, 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestSeccompFeatures: what `features` claims about seccomp is true. unha-runtime's lists are
// exactly what internal/seccomp probes on this machine; for any runtime every action listed
// behaves as seccomp(2) says, every operator listed loads, and a profile naming every
// architecture listed loads.
func TestSeccompFeatures(t *testing.T) {
	e := newEnv(t)
	r := e.RunWith(harness.RunOpts{NoRoot: true}, "features")
	if !r.OK() {
		t.Fatalf("features: %s", r)
	}
	var f features.Features
	if err := json.Unmarshal([]byte(r.Stdout), &f); err != nil {
		t.Fatalf("features: %v\n%s", err, r.Stdout)
	}
	if f.Linux == nil || f.Linux.Seccomp == nil || f.Linux.Seccomp.Enabled == nil || !*f.Linux.Seccomp.Enabled {
		t.Fatalf("features: seccomp not enabled: %s", r.Stdout)
	}
	got := f.Linux.Seccomp
	if !suite.IsRunc() {
		if want := seccomp.Features(); !reflect.DeepEqual(got, want) {
			t.Errorf("features seccomp %+v, internal/seccomp.Features() %+v", got, want)
		}
	}
	for _, a := range got.Actions {
		act := specs.LinuxSeccompAction(a)
		if act == specs.ActNotify {
			continue // TestSeccompNotify
		}
		t.Run(a, func(t *testing.T) { checkAction(t, e, act) })
	}
	// Each operator listed on its own: getsid(match) hits the rule, getsid(miss) reaches the
	// kernel (ESRCH: the container has no such process; small pids would be the probe's
	// threads).
	cases := map[specs.LinuxSeccompOperator]struct{ value, two, match, miss uint64 }{
		specs.OpEqualTo:      {value: 5000, match: 5000, miss: 6000},
		specs.OpNotEqual:     {value: 5000, match: 6000, miss: 5000},
		specs.OpGreaterThan:  {value: 5000, match: 6000, miss: 5000},
		specs.OpGreaterEqual: {value: 5000, match: 5000, miss: 4000},
		specs.OpLessThan:     {value: 5000, match: 4000, miss: 5000},
		specs.OpLessEqual:    {value: 5000, match: 5000, miss: 6000},
		specs.OpMaskedEqual:  {value: 0xf000, two: 0x5000, match: 0x5555, miss: 0x6555},
	}
	for _, name := range got.Operators {
		op := specs.LinuxSeccompOperator(name)
		t.Run(name, func(t *testing.T) {
			c, ok := cases[op]
			if !ok {
				t.Fatalf("no case for operator %s", op)
			}
			b := e.NewBundle("/probe", "syscall", "getsid", strconv.FormatUint(c.match, 10),
				"syscall", "getsid", strconv.FormatUint(c.miss, 10))
			lines, r := runLines(t, e, b, allowExcept(specs.LinuxSyscall{Names: []string{"getsid"}, Action: specs.ActErrno,
				ErrnoRet: errnoRet(unix.EDOM), Args: []specs.LinuxSeccompArg{{Index: 0, Op: op, Value: c.value, ValueTwo: c.two}}}))
			wantSeccompLines(t, name, lines, r, "EDOM", "ESRCH")
		})
	}
	t.Run("archs", func(t *testing.T) {
		skipIfRunc(t, "runc lists every architecture its libseccomp knows, also those of the other byte order, which no filter on this machine can add")
		b := e.NewBundle("/probe", "print", "loaded")
		p := allowExcept(specs.LinuxSyscall{Names: []string{"getpgid"}, Action: specs.ActErrno})
		for _, a := range got.Archs {
			p.Architectures = append(p.Architectures, specs.Arch(a))
		}
		lines, r := runLines(t, e, b, p)
		wantSeccompLines(t, fmt.Sprintf("architectures %v", got.Archs), lines, r, "loaded")
	})
	e.AssertClean()
}
