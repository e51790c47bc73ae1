package seccomp

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

func plan(t *testing.T, s *specs.LinuxSeccomp) *Filter {
	t.Helper()
	f, err := Plan(s)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestCompileSkipsUnknownSyscalls(t *testing.T) {
	f := plan(t, &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{
		rule([]string{"getcwd", "unha_no_such_syscall"}, specs.ActErrno, nil,
			specs.LinuxSeccompArg{Index: 0, Op: specs.OpEqualTo, Value: 1},
			specs.LinuxSeccompArg{Index: 0, Op: specs.OpEqualTo, Value: 2}),
	}})
	var logs bytes.Buffer
	p, err := f.Compile(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	if len(p.BPF) == 0 || len(p.BPF)%8 != 0 || p.Notify() {
		t.Fatalf("program of %d bytes, notify %v", len(p.BPF), p.Notify())
	}
	// Two rules name it; one message.
	if n := strings.Count(logs.String(), "syscall=unha_no_such_syscall"); n != 1 {
		t.Fatalf("debug log mentions the unknown syscall %d times, want 1:\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), "level=DEBUG") || strings.Contains(logs.String(), "getcwd") {
		t.Fatalf("unexpected log:\n%s", logs.String())
	}
}

// AUDIT_ARCH_* values (include/uapi/linux/audit.h).
const (
	auditArchX86_64  = 0xc000003e
	auditArchI386    = 0x40000003
	auditArchAARCH64 = 0xc00000b7
)

func TestCompileArchitectures(t *testing.T) {
	f := plan(t, &specs.LinuxSeccomp{DefaultAction: specs.ActAllow,
		Architectures: []specs.Arch{specs.ArchX86, specs.ArchX32, specs.ArchAARCH64},
		Syscalls:      []specs.LinuxSyscall{rule([]string{"getcwd"}, specs.ActErrno, nil)},
	})
	p, err := f.Compile(nil)
	if err != nil {
		t.Fatal(err)
	}
	prog, err := decodeBPF(p.BPF)
	if err != nil {
		t.Fatal(err)
	}
	// getcwd is 79 on x86_64 (and x32, with the x32 bit), 183 on i386, 17 on
	// aarch64: each section checks its own number.
	for _, tc := range []struct {
		arch uint32
		nr   int32
	}{{auditArchX86_64, 79}, {auditArchX86_64, x32SyscallBit | 79}, {auditArchI386, 183}, {auditArchAARCH64, 17}} {
		d := seccompData{nr: tc.nr, arch: tc.arch}
		if got, _, err := interpret(prog, &d); err != nil || got != unix.SECCOMP_RET_ERRNO|1 {
			t.Errorf("arch %#x nr %#x: %#x, %v; want ERRNO(1)", tc.arch, tc.nr, got, err)
		}
		d.nr = 80 // not getcwd anywhere
		if got, _, err := interpret(prog, &d); err != nil || got != unix.SECCOMP_RET_ALLOW {
			t.Errorf("arch %#x nr 80: %#x, %v; want ALLOW", tc.arch, got, err)
		}
	}
	// Architectures not in the filter get KILL_THREAD, as from libseccomp.
	d := seccompData{nr: 1, arch: unix.AUDIT_ARCH_ARM}
	if got, _, _ := interpret(prog, &d); got != unix.SECCOMP_RET_KILL_THREAD {
		t.Errorf("foreign arch: %#x, want KILL_THREAD", got)
	}

	// A big-endian architecture cannot share a filter with x86_64.
	f = plan(t, &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Architectures: []specs.Arch{specs.ArchPPC64}})
	if _, err := f.Compile(nil); err == nil || !strings.Contains(err.Error(), "architecture SCMP_ARCH_PPC64 cannot be used here") {
		t.Fatalf("Compile with PPC64 = %v, want an architecture error", err)
	}
}

func TestCompileNotify(t *testing.T) {
	f := plan(t, &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, ListenerPath: "/x",
		Flags:    []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagWaitKillableRecv},
		Syscalls: []specs.LinuxSyscall{rule([]string{"mkdirat"}, specs.ActNotify, nil)},
	})
	p, err := f.Compile(nil)
	if err != nil {
		t.Fatal(err)
	}
	want := uint(tsync | listen | esrch | waitKR)
	if !p.Notify() || p.Flags != want {
		t.Fatalf("flags %#x, want %#x", p.Flags, want)
	}
	// If every NOTIFY rule names an unknown syscall there is nothing to
	// listen to, hence no listener.
	f.Rules[0].Syscall = "unha_no_such_syscall"
	if p, err = f.Compile(nil); err != nil || p.Notify() || p.Flags != tsync {
		t.Fatalf("flags %#x, %v; want TSYNC only", p.Flags, err)
	}
}

func TestFeatures(t *testing.T) {
	ft := Features()
	if ft.Enabled == nil || !*ft.Enabled {
		t.Fatal("seccomp not enabled")
	}
	// The kernel's own list names each action it has.
	avail, err := os.ReadFile("/proc/sys/kernel/seccomp/actions_avail")
	if err != nil {
		t.Fatal(err)
	}
	kernel := strings.Fields(string(avail))
	kname := map[specs.LinuxSeccompAction]string{
		specs.ActKill: "kill_thread", specs.ActKillThread: "kill_thread", specs.ActKillProcess: "kill_process",
		specs.ActTrap: "trap", specs.ActErrno: "errno", specs.ActTrace: "trace", specs.ActAllow: "allow",
		specs.ActLog: "log", specs.ActNotify: "user_notif",
	}
	for _, a := range knownActions {
		if got, want := slices.Contains(ft.Actions, string(a)), slices.Contains(kernel, kname[a]); got != want {
			t.Errorf("Features lists %s: %v; kernel has %s: %v", a, got, kname[a], want)
		}
	}
	if len(ft.Operators) != 7 || !slices.IsSorted(ft.Operators) || !slices.IsSorted(ft.Actions) || !slices.IsSorted(ft.Archs) {
		t.Errorf("operators %v, lists must be sorted", ft.Operators)
	}
	for _, a := range []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32, specs.ArchAARCH64} {
		if !slices.Contains(ft.Archs, string(a)) {
			t.Errorf("archs %v lack %s", ft.Archs, a)
		}
	}
	for _, a := range []specs.Arch{specs.ArchPPC64, specs.ArchS390X} {
		if slices.Contains(ft.Archs, string(a)) {
			t.Errorf("archs %v list big-endian %s, which cannot join an x86_64 filter", ft.Archs, a)
		}
	}
	if len(ft.KnownFlags) != 4 {
		t.Errorf("known flags %v, want the runtime-spec's four", ft.KnownFlags)
	}
	// Linux 5.19 has all four.
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		t.Fatal(err)
	}
	var major, minor int
	fmt.Sscanf(unix.ByteSliceToString(u.Release[:]), "%d.%d", &major, &minor)
	if (major > 5 || major == 5 && minor >= 19) && !slices.Equal(ft.SupportedFlags, ft.KnownFlags) {
		t.Errorf("supported flags %v, want all of %v on Linux %d.%d", ft.SupportedFlags, ft.KnownFlags, major, minor)
	}
}

// The ENOSYS stub sits in front of the program exactly when the
// default action would not let a new syscall through or fail it with ENOSYS.
func TestCompileENOSYSStub(t *testing.T) {
	compile := func(def specs.LinuxSeccompAction, errno *uint, archs ...specs.Arch) *Program {
		t.Helper()
		f := plan(t, &specs.LinuxSeccomp{DefaultAction: def, DefaultErrnoRet: errno, Architectures: archs,
			Syscalls: []specs.LinuxSyscall{rule([]string{"read", "getcwd", "unha_no_such_syscall"}, specs.ActAllow, nil)}})
		p, err := f.Compile(nil)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	base := len(compile(specs.ActErrno, uptr(uint(unix.ENOSYS))).BPF)
	for _, def := range []specs.LinuxSeccompAction{specs.ActLog, specs.ActTrace} {
		if n := len(compile(def, nil).BPF); n != base {
			t.Errorf("%s: %d bytes, want %d (no stub)", def, n, base)
		}
	}
	// getcwd is the highest named: 79 on x86_64, 183 on i386; 17 (getcwd)
	// and 63 (read) on aarch64, so 63.
	for _, tc := range []struct {
		archs  []specs.Arch
		bounds []archBound
	}{
		{bounds: []archBound{{auditArch: unix.AUDIT_ARCH_X86_64, max: 79}}},
		{
			archs: []specs.Arch{specs.ArchX86, specs.ArchX32, specs.ArchAARCH64},
			bounds: []archBound{
				{auditArch: unix.AUDIT_ARCH_X86_64, max: 79, x32Max: x32SyscallBit | 79},
				{auditArch: unix.AUDIT_ARCH_I386, max: 183},
				{auditArch: unix.AUDIT_ARCH_AARCH64, max: 63},
			},
		},
	} {
		f := plan(t, &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Architectures: tc.archs,
			Syscalls: []specs.LinuxSyscall{rule([]string{"read", "getcwd", "unha_no_such_syscall"}, specs.ActAllow, nil)}})
		c, err := f.newCompiler(nil)
		if err != nil {
			t.Fatal(err)
		}
		got := c.enosysBounds()
		if !slices.Equal(got, tc.bounds) {
			t.Fatalf("archs %v: bounds %+v, %v; want %+v", tc.archs, got, err, tc.bounds)
		}
		stub, err := enosysStub(got)
		if err != nil {
			t.Fatal(err)
		}
		p := compile(specs.ActErrno, nil, tc.archs...)
		if !bytes.HasPrefix(p.BPF, encodeBPF(stub)) {
			t.Fatalf("archs %v: program does not start with the stub", tc.archs)
		}
		if tc.archs == nil && len(p.BPF) != base+len(encodeBPF(stub)) {
			t.Fatalf("program of %d bytes, want %d + %d", len(p.BPF), base, len(encodeBPF(stub)))
		}
	}
}
