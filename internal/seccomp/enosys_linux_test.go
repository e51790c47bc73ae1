package seccomp

import (
	"fmt"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// runBPF interprets the classic BPF subset the stub uses over a
// seccomp_data of (arch, nr) and returns the value of the RET it reaches.
func runBPF(t *testing.T, prog []unix.SockFilter, arch, nr uint32) uint32 {
	t.Helper()
	var a uint32
	for pc := 0; pc < len(prog); pc++ {
		in := prog[pc]
		switch in.Code {
		case unix.BPF_LD | unix.BPF_W | unix.BPF_ABS:
			switch in.K {
			case offNr:
				a = nr
			case offArch:
				a = arch
			default:
				t.Fatalf("pc %d: load of offset %d", pc, in.K)
			}
		case unix.BPF_JMP | unix.BPF_JA:
			pc += int(in.K)
		case unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, unix.BPF_JMP | unix.BPF_JGT | unix.BPF_K, unix.BPF_JMP | unix.BPF_JSET | unix.BPF_K:
			var ok bool
			switch in.Code &^ (unix.BPF_JMP | unix.BPF_K) {
			case unix.BPF_JEQ:
				ok = a == in.K
			case unix.BPF_JGT:
				ok = a > in.K
			case unix.BPF_JSET:
				ok = a&in.K != 0
			}
			if ok {
				pc += int(in.Jt)
			} else {
				pc += int(in.Jf)
			}
		case unix.BPF_RET | unix.BPF_K:
			return in.K
		default:
			t.Fatalf("pc %d: unexpected instruction %#v", pc, in)
		}
	}
	t.Fatal("ran off the end of the program")
	return 0
}

func TestENOSYSStub(t *testing.T) {
	const (
		main   = 0xdead0000 // the main program: a single RET with a marker
		enosys = unix.SECCOMP_RET_ERRNO | uint32(unix.ENOSYS)
	)
	tests := []struct {
		name   string
		bounds []archBound
		cases  map[[2]uint32]uint32 // (arch, nr) -> result
	}{
		{
			name:   "x86_64 alone: x32 calls go to the main program",
			bounds: []archBound{{auditArch: unix.AUDIT_ARCH_X86_64, max: 450}},
			cases: map[[2]uint32]uint32{
				{unix.AUDIT_ARCH_X86_64, 0}:                   main,
				{unix.AUDIT_ARCH_X86_64, 450}:                 main,
				{unix.AUDIT_ARCH_X86_64, 451}:                 enosys,
				{unix.AUDIT_ARCH_X86_64, x32SyscallBit | 1}:   main,
				{unix.AUDIT_ARCH_X86_64, x32SyscallBit | 999}: main,
				{unix.AUDIT_ARCH_I386, 999}:                   main,
			},
		},
		{
			name: "x86_64, x32 and i386",
			bounds: []archBound{
				{auditArch: unix.AUDIT_ARCH_X86_64, max: 450, x32Max: x32SyscallBit | 547},
				{auditArch: unix.AUDIT_ARCH_I386, max: 460},
				{auditArch: unix.AUDIT_ARCH_AARCH64, max: 10},
			},
			cases: map[[2]uint32]uint32{
				{unix.AUDIT_ARCH_X86_64, 450}:                 main,
				{unix.AUDIT_ARCH_X86_64, 451}:                 enosys,
				{unix.AUDIT_ARCH_X86_64, x32SyscallBit | 547}: main,
				{unix.AUDIT_ARCH_X86_64, x32SyscallBit | 548}: enosys,
				{unix.AUDIT_ARCH_I386, 460}:                   main,
				{unix.AUDIT_ARCH_I386, 461}:                   enosys,
				{unix.AUDIT_ARCH_AARCH64, 10}:                 main,
				{unix.AUDIT_ARCH_AARCH64, 11}:                 enosys,
				{unix.AUDIT_ARCH_ARM, 9999}:                   main,
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stub, err := enosysStub(tc.bounds)
			if err != nil {
				t.Fatal(err)
			}
			prog := append(stub, bpfStmt(unix.BPF_RET|unix.BPF_K, main))
			for in, want := range tc.cases {
				if got := runBPF(t, prog, in[0], in[1]); got != want {
					t.Errorf("arch %#x nr %#x: %#x, want %#x", in[0], in[1], got, want)
				}
			}
		})
	}
}

func TestNeedsENOSYSStub(t *testing.T) {
	for _, tc := range []struct {
		def  Action
		want bool
	}{
		{Action{Kind: specs.ActAllow}, false},
		{Action{Kind: specs.ActLog}, false},
		{Action{Kind: specs.ActTrace, Ret: 1}, false},
		{Action{Kind: specs.ActErrno, Ret: uint16(unix.ENOSYS)}, false},
		{Action{Kind: specs.ActErrno, Ret: uint16(unix.EPERM)}, true},
		{Action{Kind: specs.ActKillProcess}, true},
		{Action{Kind: specs.ActKillThread}, true},
		{Action{Kind: specs.ActTrap}, true},
	} {
		t.Run(fmt.Sprint(tc.def), func(t *testing.T) {
			if got := needsENOSYSStub(tc.def); got != tc.want {
				t.Fatalf("needsENOSYSStub(%v) = %v, want %v", tc.def, got, tc.want)
			}
		})
	}
}
