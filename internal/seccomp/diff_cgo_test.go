//go:build cgo

package seccomp

// Differential tests: every profile is compiled by libseccomp (the former
// compiler, reference_cgo_test.go) and by this package, and both programs
// are run by the BPF interpreter over many seccomp_data. For Docker's
// profiles they must return the same for every one. Elsewhere a difference
// is allowed only where libseccomp departs from what the profile means
// (expect, semantics_test.go: its lost load of the syscall number in the
// linear layout, its choice among overlapping rules with different
// actions) and ours returns that meaning, or where ours is the more
// restrictive action; they must agree on errors (but for rules libseccomp
// refuses as overlapping, which ours resolves by precedence) and flags.

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	profiles "github.com/moby/profiles/seccomp"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// dockerProfile is Docker's default profile as internal/specgen gets it,
// for a process without extra capabilities.
func dockerProfile(t *testing.T) *specs.LinuxSeccomp {
	t.Helper()
	s, err := profiles.GetDefaultProfile(&specs.Spec{Process: &specs.Process{Capabilities: &specs.LinuxCapabilities{}}})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// dockerProfileAdmin adds the rules Docker gives CAP_SYS_ADMIN and friends.
func dockerProfileAdmin(t *testing.T) *specs.LinuxSeccomp {
	t.Helper()
	caps := []string{"CAP_SYS_ADMIN", "CAP_SYS_PTRACE", "CAP_SYS_BOOT", "CAP_SYS_MODULE", "CAP_SYSLOG",
		"CAP_SYS_RAWIO", "CAP_SYS_PACCT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME",
		"CAP_SYS_TTY_CONFIG", "CAP_BPF", "CAP_PERFMON", "CAP_SYS_CHROOT"}
	s, err := profiles.GetDefaultProfile(&specs.Spec{Process: &specs.Process{Capabilities: &specs.LinuxCapabilities{Bounding: caps}}})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

type diffStats struct {
	profiles, refused, inputs int
	// libseccompWrong counts inputs where libseccomp departs from the
	// profile's meaning and ours does not; stricter, where ours returns
	// the more restrictive action of overlapping rules.
	libseccompWrong, stricter int
	steps                     [2]int // ours, libseccomp's
}

// diffOne compiles s both ways and compares; it returns the mismatches.
func diffOne(t *testing.T, name string, s *specs.LinuxSeccomp, rnd *rand.Rand, thorough int, st *diffStats, strict bool) []string {
	t.Helper()
	f, err := Plan(s)
	if err != nil || f == nil {
		t.Fatalf("%s: plan: %v", name, err)
	}
	st.profiles++
	ref, rerr := f.refCompile(nil)
	ours, oerr := f.Compile(nil)
	if rerr != nil || oerr != nil {
		if rerr != nil && oerr == nil && !strict && errors.Is(rerr, unix.EEXIST) {
			// libseccomp refuses rules of different actions that
			// meet; ours ranks them (precede). Nothing to run.
			st.refused++
			return nil
		}
		if rerr == nil || oerr == nil {
			return []string{fmt.Sprintf("%s: libseccomp: %v; ours: %v", name, rerr, oerr)}
		}
		st.refused++
		return nil
	}
	if ref.Flags != ours.Flags {
		return []string{fmt.Sprintf("%s: flags %#x, libseccomp's %#x", name, ours.Flags, ref.Flags)}
	}
	rp, err := decodeBPF(ref.BPF)
	if err != nil {
		t.Fatal(err)
	}
	op, err := decodeBPF(ours.BPF)
	if err != nil {
		t.Fatal(err)
	}
	if len(op) > bpfMaxInsns {
		return []string{fmt.Sprintf("%s: %d instructions", name, len(op))}
	}
	var bad []string
	for _, d := range inputs(f, rnd, thorough) {
		st.inputs++
		want, rs, err := interpret(rp, &d)
		if err != nil {
			t.Fatalf("%s: libseccomp's program: %v", name, err)
		}
		got, os, err := interpret(op, &d)
		if err != nil {
			t.Fatalf("%s: our program: %v\n%s", name, err, disasm(op))
		}
		st.steps[0] += os
		st.steps[1] += rs
		if got == want {
			continue
		}
		if !strict {
			if meant, ok := expect(f, d); ok && got == meant {
				st.libseccompWrong++
				continue
			}
			if int32(got&unix.SECCOMP_RET_ACTION_FULL) < int32(want&unix.SECCOMP_RET_ACTION_FULL) {
				st.stricter++
				continue
			}
		}
		if len(bad) < 5 {
			bad = append(bad, fmt.Sprintf("%s: %+v: %#x, libseccomp %#x", name, d, got, want))
		}
	}
	return bad
}

func reportDiff(t *testing.T, st diffStats, bad []string) {
	t.Helper()
	t.Logf("%d profiles (%d refused by libseccomp), %d inputs; instructions executed: ours %d, libseccomp %d; "+
		"libseccomp not what the profile means %d, ours stricter %d",
		st.profiles, st.refused, st.inputs, st.steps[0], st.steps[1], st.libseccompWrong, st.stricter)
	for _, b := range bad {
		t.Error(b)
	}
}

func TestDiffDocker(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	var st diffStats
	var bad []string
	for _, p := range []struct {
		name string
		s    *specs.LinuxSeccomp
	}{{"docker", dockerProfile(t)}, {"docker-admin", dockerProfileAdmin(t)}} {
		bad = append(bad, diffOne(t, p.name, p.s, rnd, 50, &st, true)...)
		// Each other architecture family next to the native one.
		for _, fam := range [][]specs.Arch{
			nil, {specs.ArchX86}, {specs.ArchX32}, {specs.ArchARM}, {specs.ArchAARCH64},
			{specs.ArchMIPSEL, specs.ArchMIPSEL64, specs.ArchMIPSEL64N32}, {specs.ArchMIPSEL64N32},
			{specs.ArchPPC64LE}, {specs.ArchRISCV64},
			{specs.ArchX86, specs.ArchX32, specs.ArchARM, specs.ArchAARCH64, specs.ArchRISCV64, specs.ArchPPC64LE},
			{specs.ArchS390X}, {specs.ArchPPC64}, {specs.ArchLOONGARCH64},
		} {
			s := *p.s
			s.Architectures = fam
			bad = append(bad, diffOne(t, fmt.Sprintf("%s%v", p.name, fam), &s, rnd, 10, &st, true)...)
		}
	}
	reportDiff(t, st, bad)
}

// libseccompHangs is the random "overlap" profile on which libseccomp 2.5.4
// never returns from seccomp_rule_add (a loop merging the rules of accept on
// ARM); the old runtime would have hung on it.
const libseccompHangs = 294

// TestDiffCases covers each action, operator and architecture case by hand.
func TestDiffCases(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 4))
	arg := func(i uint, op specs.LinuxSeccompOperator, v, two uint64) specs.LinuxSeccompArg {
		return specs.LinuxSeccompArg{Index: i, Op: op, Value: v, ValueTwo: two}
	}
	var cases []*specs.LinuxSeccomp
	acts := []specs.LinuxSeccompAction{specs.ActAllow, specs.ActErrno, specs.ActTrace, specs.ActKill,
		specs.ActKillThread, specs.ActKillProcess, specs.ActTrap, specs.ActLog, specs.ActNotify}
	archSets := [][]specs.Arch{nil, {specs.ArchX86}, {specs.ArchX32}, {specs.ArchX86, specs.ArchX32},
		{specs.ArchAARCH64, specs.ArchARM}, {specs.ArchMIPSEL64N32, specs.ArchMIPSEL}}
	for _, def := range acts {
		if def == specs.ActNotify {
			continue
		}
		for _, archs := range archSets {
			s := &specs.LinuxSeccomp{DefaultAction: def, Architectures: archs, ListenerPath: "/x"}
			if def == specs.ActErrno {
				s.DefaultErrnoRet = uptr(38)
			}
			for i, a := range acts {
				sc := specs.LinuxSyscall{Names: []string{[]string{"getcwd", "read", "socket", "semop", "accept", "mmap2", "socketcall", "kill", "x_unknown"}[i]}, Action: a}
				if a == specs.ActErrno || a == specs.ActTrace {
					sc.ErrnoRet = uptr(uint(100 + i))
				}
				s.Syscalls = append(s.Syscalls, sc)
			}
			cases = append(cases, s)
		}
	}
	ops := []specs.LinuxSeccompOperator{specs.OpEqualTo, specs.OpNotEqual, specs.OpLessThan, specs.OpLessEqual,
		specs.OpGreaterEqual, specs.OpGreaterThan, specs.OpMaskedEqual}
	for _, archs := range archSets {
		for _, op := range ops {
			for _, v := range []uint64{0, 5, 0xffffffff, 1 << 32, 5 | 7<<32, ^uint64(0)} {
				two := uint64(0)
				if op == specs.OpMaskedEqual {
					two = v & 0x0000ffff0000ffff
				}
				cases = append(cases, &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Architectures: archs, Syscalls: []specs.LinuxSyscall{
					{Names: []string{"kill", "socket", "shmat"}, Action: specs.ActErrno, Args: []specs.LinuxSeccompArg{arg(1, op, v, two)}},
					{Names: []string{"getcwd", "socket"}, Action: specs.ActLog, Args: []specs.LinuxSeccompArg{arg(0, op, v, two), arg(3, specs.OpEqualTo, 9, 0)}},
				}})
			}
		}
	}
	var st diffStats
	var bad []string
	for i, s := range cases {
		b, _ := json.Marshal(s)
		bad = append(bad, diffOne(t, fmt.Sprintf("case %d %s", i, b), s, rnd, 30, &st, false)...)
	}
	reportDiff(t, st, bad)
}

func TestDiffRandom(t *testing.T) {
	for _, mode := range []string{"single", "same-action", "overlap"} {
		t.Run(mode, func(t *testing.T) {
			// Profiles come from their own stream, so that the
			// profiles do not change with the inputs.
			prnd := rand.New(rand.NewPCG(5, 6))
			rnd := rand.New(rand.NewPCG(7, 8))
			var st diffStats
			var bad []string
			for i := range 400 {
				s := randomProfile(prnd, mode)
				if os.Getenv("UNHA_TRACE") != "" {
					b, _ := json.Marshal(s)
					fmt.Fprintln(os.Stderr, mode, i, string(b))
				}
				b, _ := json.Marshal(s)
				if mode == "overlap" && i == libseccompHangs {
					// Ours must still compile it.
					if f, err := Plan(s); err == nil {
						_, _ = f.Compile(nil)
					}
					continue
				}
				bad = append(bad, diffOne(t, fmt.Sprintf("random %d %s", i, b), s, rnd, 20, &st, false)...)
			}
			reportDiff(t, st, bad)
		})
	}
}

// TestDockerInstructionCounts reports, for Docker's profile, the
// instructions executed for typical syscalls by both programs, and checks
// that ours stays within the kernel's limit on every architecture family.
func TestDockerInstructionCounts(t *testing.T) {
	s := dockerProfile(t)
	f, err := Plan(s)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := f.refCompile(nil)
	if err != nil {
		t.Fatal(err)
	}
	ours, err := f.Compile(nil)
	if err != nil {
		t.Fatal(err)
	}
	rp, _ := decodeBPF(ref.BPF)
	op, _ := decodeBPF(ours.BPF)
	t.Logf("Docker's profile (x86_64, x86, x32): %d instructions, libseccomp %d", len(op), len(rp))
	var lines []string
	for _, name := range []string{"read", "write", "futex", "epoll_pwait", "openat", "mmap", "close", "getpid",
		"socket", "clone", "personality", "ptrace", "reboot", "fchmodat2"} {
		nr, _ := archByName(specs.ArchX86_64).nr(name)
		d := seccompData{nr: nr, arch: unix.AUDIT_ARCH_X86_64}
		o, os, _ := interpret(op, &d)
		r, rs, _ := interpret(rp, &d)
		lines = append(lines, fmt.Sprintf("%-12s ours %3d libseccomp %3d (%#x %#x)", name, os, rs, o, r))
	}
	t.Log("instructions executed per syscall:\n" + strings.Join(lines, "\n"))
	for _, fam := range [][]specs.Arch{{specs.ArchAARCH64, specs.ArchARM}, {specs.ArchMIPSEL, specs.ArchMIPSEL64, specs.ArchMIPSEL64N32},
		{specs.ArchPPC64LE}, {specs.ArchRISCV64}, {specs.ArchX86, specs.ArchX32, specs.ArchARM, specs.ArchAARCH64, specs.ArchMIPSEL,
			specs.ArchMIPSEL64, specs.ArchMIPSEL64N32, specs.ArchPPC64LE, specs.ArchRISCV64}} {
		s2 := *s
		s2.Architectures = fam
		f, _ := Plan(&s2)
		p, err := f.Compile(nil)
		r, rerr := f.refCompile(nil)
		if rerr != nil {
			t.Fatalf("%v: libseccomp: %v", fam, rerr)
		}
		rn := len(r.BPF) / sockFilterSize
		if err != nil {
			// Only the one filter with every family at once is
			// known to exceed the limit, where libseccomp (4052)
			// just fits.
			if rn <= bpfMaxInsns && len(fam) < 9 {
				t.Errorf("%v: %v (libseccomp: %d instructions)", fam, err, rn)
			}
			t.Logf("Docker's profile with %v: %v; libseccomp %d instructions", fam, err, rn)
			continue
		}
		t.Logf("Docker's profile with %v: %d instructions, libseccomp %d", fam, len(p.BPF)/sockFilterSize, rn)
	}
}

// BenchmarkCompileDocker compiles Docker's default profile with this
// package's compiler and with libseccomp (what a runtime pays when its
// cache of compiled filters misses).
func BenchmarkCompileDocker(b *testing.B) {
	s, err := profiles.GetDefaultProfile(&specs.Spec{Process: &specs.Process{Capabilities: &specs.LinuxCapabilities{}}})
	if err != nil {
		b.Fatal(err)
	}
	f, err := Plan(s)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("ours", func(b *testing.B) {
		for b.Loop() {
			if _, err := f.Compile(nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("libseccomp", func(b *testing.B) {
		for b.Loop() {
			if _, err := f.refCompile(nil); err != nil {
				b.Fatal(err)
			}
		}
	})
}
