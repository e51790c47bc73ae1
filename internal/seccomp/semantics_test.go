package seccomp

// The compiler's semantics, checked without libseccomp: for random profiles
// and many seccomp_data, the program returns what the profile means. A rule
// matches a call when the name is the call's syscall on the call's
// architecture and every condition holds (on 32-bit architectures, on the
// low words of argument and values; SCMP_CMP_MASKED_EQ masks the datum too,
// as libseccomp does); of the matching rules the most restrictive action
// wins, ties to the earlier rule (see precede); no match is the default
// action; an architecture not in the filter is killed. The differential
// tests (diff_cgo_test.go) compare with libseccomp where cgo is available.

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// inputs builds the seccomp_data to try on f: every architecture of the
// tables and a few unknown ones; every syscall number of the tables and
// boundaries around them, with and without the x32 bit; for the syscalls
// the rules name, argument values on and around every condition's value in
// either word.
func inputs(f *Filter, rnd *rand.Rand, thorough int) []seccompData {
	audits := []uint32{0, 1, 0xffffffff, unix.AUDIT_ARCH_X86_64 ^ 0x1}
	for _, t := range archTables {
		if !slices.Contains(audits, t.auditArch) {
			audits = append(audits, t.auditArch)
		}
	}
	var vals []uint64
	for _, r := range f.Rules {
		for _, c := range r.Conditions {
			for _, v := range []uint64{c.Value, c.ValueTwo, c.Value & c.ValueTwo} {
				vals = append(vals, v, v-1, v+1, v^1<<32, v+1<<32, v-1<<32, v&0xffffffff,
					v|0xffffffff00000000, v&0xffffffff00000000, v+0xffffffff, ^v)
			}
		}
		vals = append(vals, 1, 2, 3, 5, 8, 9, 10, 11, 14, 20, 21, 24) // socketcall/ipc call numbers
	}
	vals = append(vals, 0, 1, 0xffffffff, 1<<32, ^uint64(0), 0x7fffffff, 0x80000000)
	slices.Sort(vals)
	vals = slices.Compact(vals)
	pick := func() uint64 {
		if rnd.IntN(8) == 0 {
			return rnd.Uint64() >> (rnd.IntN(2) * 32)
		}
		return vals[rnd.IntN(len(vals))]
	}
	var out []seccompData
	for _, audit := range audits {
		var nrs, named []int32
		for _, t := range archTables {
			if t.auditArch != audit || t.nrs == nil {
				continue
			}
			for _, nr := range t.nrs {
				nrs = append(nrs, nr)
				if nr >= 0 {
					nrs = append(nrs, nr+1, nr-1)
				}
			}
			if t.direct != nil {
				// Pseudo-syscalls too: libseccomp's program must
				// not match them (the kernel passes any number).
				nrs = append(nrs, t.direct[:]...)
			}
			for _, name := range append(slices.Clone(f.Listed), "socketcall", "ipc") {
				if nr, ok := t.nr(name); ok {
					named = append(named, nr)
				}
				if i := slices.Index(muxCalls[:], name); i >= 0 && t.direct != nil {
					named = append(named, t.direct[i])
				}
			}
		}
		nrs = append(nrs, 0, -1, -2, 0x3fffffff, x32SyscallBit, x32SyscallBit-1, x32SyscallBit|1,
			0x7fffffff, -0x7fffffff-1, 1000, 4095, 4096, 6000, 0x0f0001, 0x900000)
		for range 20 {
			nrs = append(nrs, rnd.Int32N(1024), int32(rnd.Uint32()), x32SyscallBit|rnd.Int32N(1024))
		}
		slices.Sort(nrs)
		nrs = slices.Compact(nrs)
		for _, nr := range nrs {
			d := seccompData{nr: nr, arch: audit, ip: rnd.Uint64()}
			out = append(out, d)
			for i := range d.args {
				d.args[i] = pick()
			}
			out = append(out, d)
		}
		slices.Sort(named)
		for _, nr := range slices.Compact(named) {
			for range thorough {
				d := seccompData{nr: nr, arch: audit}
				// Mostly one argument varies, the others
				// sit at zero: most conditions test one.
				if rnd.IntN(3) == 0 {
					for i := range d.args {
						d.args[i] = pick()
					}
				} else {
					d.args[rnd.IntN(6)] = pick()
					d.args[rnd.IntN(6)] = pick()
				}
				out = append(out, d)
			}
			for i := range 6 {
				for _, v := range vals {
					d := seccompData{nr: nr, arch: audit}
					d.args[i] = v
					out = append(out, d)
				}
			}
		}
	}
	return out
}

// randomProfile makes a profile from a few syscalls, values and operators
// so that rules collide often: several rules per syscall, several
// conditions per rule, all operators, actions and architectures.
func randomProfile(rnd *rand.Rand, mode string) *specs.LinuxSeccomp {
	overlap := mode == "overlap"
	names := []string{"read", "write", "kill", "socket", "connect", "accept", "semop", "shmat", "ipc",
		"socketcall", "mmap2", "x_no_such", "getcwd", "recvmmsg", "arch_prctl", "personality", "clone"}
	acts := []specs.LinuxSeccompAction{specs.ActAllow, specs.ActErrno, specs.ActTrace, specs.ActKillThread,
		specs.ActKillProcess, specs.ActTrap, specs.ActLog, specs.ActNotify}
	ops := []specs.LinuxSeccompOperator{specs.OpEqualTo, specs.OpNotEqual, specs.OpLessThan, specs.OpLessEqual,
		specs.OpGreaterEqual, specs.OpGreaterThan, specs.OpMaskedEqual}
	vals := []uint64{0, 1, 2, 7, 0xff, 0xffffffff, 1 << 32, 3<<32 | 7, ^uint64(0)}
	archs := []specs.Arch{specs.ArchX86, specs.ArchX32, specs.ArchAARCH64, specs.ArchARM, specs.ArchMIPSEL64N32}
	s := &specs.LinuxSeccomp{DefaultAction: acts[rnd.IntN(len(acts)-1)], ListenerPath: "/x"}
	if s.DefaultAction == specs.ActErrno && rnd.IntN(2) == 0 {
		s.DefaultErrnoRet = uptr(uint(rnd.IntN(100)))
	}
	for _, a := range archs {
		if rnd.IntN(3) == 0 {
			s.Architectures = append(s.Architectures, a)
		}
	}
	// Without overlap, each syscall gets rules of one action only, as in
	// real profiles; libseccomp's ordering of siblings then cannot matter.
	actOf := map[string]specs.LinuxSeccompAction{}
	seen := map[string]bool{}
	for range 1 + rnd.IntN(8) {
		sc := specs.LinuxSyscall{Action: acts[rnd.IntN(len(acts))]}
		for range 1 + rnd.IntN(3) {
			sc.Names = append(sc.Names, names[rnd.IntN(len(names))])
		}
		if !overlap {
			sc.Names = sc.Names[:1]
			if a, ok := actOf[sc.Names[0]]; ok {
				sc.Action = a
			}
			actOf[sc.Names[0]] = sc.Action
		}
		if sc.Action == specs.ActNotify && slices.Contains(sc.Names, "write") {
			sc.Action = specs.ActLog
		}
		if sc.Action == specs.ActErrno || sc.Action == specs.ActTrace {
			sc.ErrnoRet = uptr(uint(rnd.IntN(3)))
		}
		if mode == "single" {
			if _, dup := seen[sc.Names[0]]; dup {
				continue
			}
			seen[sc.Names[0]] = true
		}
		used := map[uint]bool{}
		for range rnd.IntN(4) {
			i := uint(rnd.IntN(4))
			if used[i] && (mode == "single" || rnd.IntN(4) != 0) {
				continue
			}
			used[i] = true
			a := specs.LinuxSeccompArg{Index: i, Op: ops[rnd.IntN(len(ops))], Value: vals[rnd.IntN(len(vals))]}
			if a.Op == specs.OpMaskedEqual {
				a.ValueTwo = vals[rnd.IntN(len(vals))]
			}
			sc.Args = append(sc.Args, a)
		}
		s.Syscalls = append(s.Syscalls, sc)
	}
	return s
}

// expect is what f means for d, and false for the calls it does not model:
// nr -1 and numbers above the x32 range on x86_64, and numbers the ENOSYS
// stub answers. On the architectures that multiplex socket and IPC calls
// (socketcall, ipc), a rule for such a call also matches the multiplexer
// with the call's number as first argument, as libseccomp's rule hooks
// make it.
func expect(f *Filter, d seccompData) (uint32, bool) {
	native := nativeArch()
	var tabs []*archTable
	tabs = append(tabs, native)
	for _, a := range f.Architectures {
		if t := archByName(a); t != nil && !slices.Contains(tabs, t) {
			tabs = append(tabs, t)
		}
	}
	var t *archTable
	for _, c := range tabs {
		if c.auditArch == d.arch && c.arch != specs.ArchX32 {
			t = c
		}
	}
	if t == nil {
		return badArchAction, true
	}
	top := func(t *archTable) uint32 {
		top := uint32(0)
		for _, name := range f.Listed {
			if nr, ok := t.nr(name); ok && nr >= 0 && uint32(nr) > top {
				top = uint32(nr)
			}
		}
		return top
	}
	stub := needsENOSYSStub(f.DefaultAction)
	if d.arch == unix.AUDIT_ARCH_X86_64 && uint32(d.nr) >= x32SyscallBit {
		// x32 numbers (libseccomp's test: nr >= the x32 bit): a bad
		// architecture unless x32 is in the filter; nr -1, which
		// libseccomp lets through, and numbers above the x32 range
		// are not modelled.
		i := slices.IndexFunc(tabs, func(c *archTable) bool { return c.arch == specs.ArchX32 })
		switch {
		case d.nr == -1:
			return 0, false
		case i < 0:
			if stub && uint32(d.nr)&x32SyscallBit == 0 && uint32(d.nr) > top(t) {
				return 0, false // the stub answers first
			}
			return badArchAction, true
		case uint32(d.nr)&x32SyscallBit == 0 || uint32(d.nr) >= 2*x32SyscallBit:
			return 0, false
		}
		t = tabs[i]
	}
	// The stub answers numbers above the profile's highest before the
	// filter proper.
	if stub && uint32(d.nr) > top(t) {
		return 0, false
	}
	if d.nr == -1 {
		return 0, false
	}
	word := func(v uint64) uint64 {
		if t.is32 {
			return uint64(uint32(v))
		}
		return v
	}
	best, matched := uint32(0), false
	for _, r := range f.Rules {
		if _, ok := native.nr(r.Syscall); !ok {
			continue // skipped as unknown
		}
		conds := r.Conditions
		if mux, call, direct, ok := t.demux(r.Syscall); ok {
			// A multiplexed call: its own number (where the kernel
			// has one), or the multiplexer with the call number as
			// its first argument, the other conditions on the
			// multiplexer's arguments (libseccomp's rule hooks).
			switch {
			case direct >= 0 && d.nr == direct:
			case d.nr == mux:
				if word(d.args[0]) != call {
					continue
				}
				conds = slices.DeleteFunc(slices.Clone(conds), func(c Condition) bool { return c.Index == 0 })
			default:
				continue
			}
		} else if nr, ok := t.nr(r.Syscall); !ok || nr < 0 || nr != d.nr {
			// A pseudo-syscall (a negative number) is a name this
			// architecture does not have: its rules match nothing.
			continue
		}
		all := true
		for _, c := range conds {
			a, v, two := word(d.args[c.Index]), word(c.Value), word(c.ValueTwo)
			var ok bool
			switch c.Op {
			case specs.OpEqualTo:
				ok = a == v
			case specs.OpNotEqual:
				ok = a != v
			case specs.OpLessThan:
				ok = a < v
			case specs.OpLessEqual:
				ok = a <= v
			case specs.OpGreaterEqual:
				ok = a >= v
			case specs.OpGreaterThan:
				ok = a > v
			case specs.OpMaskedEqual:
				ok = a&v == two&v
			}
			all = all && ok
		}
		if !all {
			continue
		}
		v, err := retValue(r.Action)
		if err != nil {
			panic(err)
		}
		if !matched || int32(v&unix.SECCOMP_RET_ACTION_FULL) < int32(best&unix.SECCOMP_RET_ACTION_FULL) {
			best, matched = v, true
		}
	}
	if !matched {
		v, err := retValue(f.DefaultAction)
		if err != nil {
			panic(err)
		}
		return v, true
	}
	return best, true
}

// checkSemantics compiles s and runs it over inputs; it returns the inputs
// whose result is not what the profile means (at most five), and how many
// it checked.
func checkSemantics(t *testing.T, name string, s *specs.LinuxSeccomp, rnd *rand.Rand, thorough int) ([]string, int) {
	t.Helper()
	f, err := Plan(s)
	if err != nil || f == nil {
		t.Fatalf("%s: plan: %v", name, err)
	}
	p, err := f.Compile(nil)
	if err != nil {
		return nil, 0 // refusals are compared in the differential tests
	}
	prog, err := decodeBPF(p.BPF)
	if err != nil {
		t.Fatal(err)
	}
	var bad []string
	n := 0
	for _, d := range inputs(f, rnd, thorough) {
		want, ok := expect(f, d)
		if !ok {
			continue
		}
		n++
		got, _, err := interpret(prog, &d)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got != want && len(bad) < 5 {
			bad = append(bad, fmt.Sprintf("%s: %+v: %#x, want %#x", name, d, got, want))
		}
	}
	return bad, n
}

// TestCompileSemantics: random profiles, each input's result is what the
// profile means.
func TestCompileSemantics(t *testing.T) {
	if nativeArch() == nil {
		t.Skip("no syscall table for this machine's architecture")
	}
	for _, mode := range []string{"single", "same-action", "overlap"} {
		t.Run(mode, func(t *testing.T) {
			prnd := rand.New(rand.NewPCG(9, 10))
			rnd := rand.New(rand.NewPCG(11, 12))
			checked := 0
			for i := range 300 {
				s := randomProfile(prnd, mode)
				bad, n := checkSemantics(t, fmt.Sprintf("%s %d", mode, i), s, rnd, 10)
				checked += n
				for _, b := range bad {
					t.Error(b)
				}
			}
			if checked < 100000 {
				t.Errorf("only %d inputs checked: the oracle models too little", checked)
			}
			t.Logf("%d inputs checked", checked)
		})
	}
}
