package seccomp

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// A profile's default action applies to every syscall it does not list,
// including ones newer than the profile (or than libseccomp, which skips
// names it does not know). libc probes new syscalls and falls back only on
// ENOSYS, so a default of EPERM breaks it: glibc's fchmodat(AT_SYMLINK_NOFOLLOW)
// tries fchmodat2 first, for one. runc therefore puts a stub in front of
// libseccomp's program that answers ENOSYS for any syscall numbered above the
// highest one the profile names, per architecture; so does this package.
// The stub is left out when the default lets calls through anyway (ALLOW,
// LOG, and TRACE, whose tracer should handle new syscalls itself) or already
// is ENOSYS. Like runc's, it cannot see holes in the syscall table below the
// bound.

// x32SyscallBit is __X32_SYSCALL_BIT: x32 syscalls arrive tagged as x86_64
// (AUDIT_ARCH_X86_64) with this bit set in the number.
const x32SyscallBit = 0x40000000

// archBound is the highest syscall number a profile names on one AUDIT_ARCH.
type archBound struct {
	auditArch uint32
	max       uint32
	// x32Max is the bound for x32 calls (with x32SyscallBit) on
	// AUDIT_ARCH_X86_64, 0 when x32 is not in the filter.
	x32Max uint32
}

// needsENOSYSStub reports whether unlisted syscalls would otherwise fail
// with something other than ENOSYS.
func needsENOSYSStub(def Action) bool {
	switch def.Kind {
	case specs.ActAllow, specs.ActLog, specs.ActTrace:
		return false
	case specs.ActErrno:
		return def.Ret != uint16(unix.ENOSYS)
	}
	return true
}

func bpfStmt(code uint16, k uint32) unix.SockFilter { return unix.SockFilter{Code: code, K: k} }

func bpfJump(code uint16, k uint32, jt, jf uint8) unix.SockFilter {
	return unix.SockFilter{Code: code, Jt: jt, Jf: jf, K: k}
}

// Offsets into struct seccomp_data (include/uapi/linux/seccomp.h).
const (
	offNr   = 0
	offArch = 4
)

// enosysStub returns the instructions to run before the main program: each
// known architecture branches to its section, which returns ENOSYS above the
// bound and otherwise jumps to the first instruction after the stub, as does
// any other architecture (libseccomp's program handles those).
func enosysStub(bounds []archBound) ([]unix.SockFilter, error) {
	const (
		ldArch = unix.BPF_LD | unix.BPF_W | unix.BPF_ABS
		jeq    = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
		jgt    = unix.BPF_JMP | unix.BPF_JGT | unix.BPF_K
		jset   = unix.BPF_JMP | unix.BPF_JSET | unix.BPF_K
		ja     = unix.BPF_JMP | unix.BPF_JA
		ret    = unix.BPF_RET | unix.BPF_K
	)
	enosys := bpfStmt(ret, unix.SECCOMP_RET_ERRNO|uint32(unix.ENOSYS))
	// toMain is patched into the jumps to the end once the length is known.
	const toMain = ^uint32(0)
	var sections [][]unix.SockFilter
	for _, b := range bounds {
		s := []unix.SockFilter{bpfStmt(ldArch, offNr)}
		if b.auditArch == unix.AUDIT_ARCH_X86_64 {
			// x32 numbers are above any x86_64 bound; send them to their
			// own check, or to the main program when x32 is not in it.
			skip := uint8(3)
			if b.x32Max == 0 {
				skip = 2
			}
			s = append(s, bpfJump(jset, x32SyscallBit, skip, 0))
		}
		s = append(s, bpfJump(jgt, b.max, 0, 1), enosys, bpfStmt(ja, toMain))
		if b.auditArch == unix.AUDIT_ARCH_X86_64 && b.x32Max != 0 {
			s = append(s, bpfJump(jgt, b.x32Max, 0, 1), enosys, bpfStmt(ja, toMain))
		}
		sections = append(sections, s)
	}
	// Dispatch: ld arch; one jeq per architecture; ja main.
	prog := []unix.SockFilter{bpfStmt(ldArch, offArch)}
	offset := 0 // of section i from the first section
	for i, b := range bounds {
		// Over the jeqs after this one, the ja, then earlier sections.
		jt := len(bounds) - i + offset
		if jt > 255 {
			return nil, fmt.Errorf("seccomp: enosys stub: jump of %d instructions", jt)
		}
		prog = append(prog, bpfJump(jeq, b.auditArch, uint8(jt), 0))
		offset += len(sections[i])
	}
	prog = append(prog, bpfStmt(ja, toMain))
	for _, s := range sections {
		prog = append(prog, s...)
	}
	for i := range prog {
		if prog[i].Code == ja && prog[i].K == toMain {
			prog[i].K = uint32(len(prog) - i - 1)
		}
	}
	return prog, nil
}
