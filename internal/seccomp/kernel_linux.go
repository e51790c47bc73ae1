package seccomp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"runtime"
	"unsafe"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Program is a compiled filter: what init hands to seccomp(2). The runtime
// can compile in the parent and send it to init.
type Program struct {
	// BPF is the struct sock_filter array, native byte order.
	BPF []byte `json:"bpf"`
	// Flags are the SECCOMP_FILTER_FLAG_* bits for seccomp(2), already
	// checked against this kernel.
	Flags uint `json:"flags"`
}

// Notify reports whether loading p returns a notify fd.
func (p *Program) Notify() bool { return p.Flags&unix.SECCOMP_FILTER_FLAG_NEW_LISTENER != 0 }

// bpfMaxInsns is BPF_MAXINSNS (include/uapi/linux/bpf_common.h), the longest
// classic BPF program the kernel accepts.
const bpfMaxInsns = 4096

const sockFilterSize = int(unsafe.Sizeof(unix.SockFilter{}))

// Load installs p on every thread of the calling process (TSYNC) and returns
// the notify fd (close-on-exec, as the kernel creates it), or -1 when p has
// no SCMP_ACT_NOTIFY rule. The caller must have set no_new_privs or hold
// CAP_SYS_ADMIN; the kernel refuses with EACCES otherwise. Everything the Go
// runtime and the caller do from here to execve is filtered too.
func (p *Program) Load() (int, error) {
	n := len(p.BPF) / sockFilterSize
	if n == 0 || len(p.BPF)%sockFilterSize != 0 {
		return -1, fmt.Errorf("seccomp: bpf program of %d bytes is not a whole number of instructions", len(p.BPF))
	}
	if n > bpfMaxInsns {
		return -1, fmt.Errorf("seccomp: filter has %d instructions, the kernel accepts at most %d", n, bpfMaxInsns)
	}
	insns := make([]unix.SockFilter, n)
	for i := range insns {
		b := p.BPF[i*sockFilterSize:]
		insns[i] = unix.SockFilter{Code: binary.NativeEndian.Uint16(b), Jt: b[2], Jf: b[3], K: binary.NativeEndian.Uint32(b[4:])}
	}
	prog := unix.SockFprog{Len: uint16(n), Filter: &insns[0]}
	r, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER,
		uintptr(p.Flags), uintptr(unsafe.Pointer(&prog)))
	runtime.KeepAlive(insns)
	switch {
	case errno != 0:
		return -1, LoadError(errno, p.Flags)
	case p.Notify():
		return int(r), nil
	case r != 0:
		// Without TSYNC_ESRCH a TSYNC failure returns the tid that could
		// not be synchronised (seccomp(2)).
		return -1, fmt.Errorf("seccomp: load filter: thread %d could not be synchronised (TSYNC)", r)
	}
	return -1, nil
}

// LoadError words seccomp(2) refusing a filter loaded with flags: Load's
// error, and the exec spawner's, which loads the same program in C.
func LoadError(errno unix.Errno, flags uint) error {
	sys := os.NewSyscallError("seccomp", errno)
	switch {
	case errno == unix.EACCES:
		return fmt.Errorf("seccomp: load filter (set no_new_privs or hold CAP_SYS_ADMIN): %w", sys)
	case errno == unix.ESRCH && flags&unix.SECCOMP_FILTER_FLAG_TSYNC_ESRCH != 0:
		return fmt.Errorf("seccomp: load filter: a thread could not be synchronised (TSYNC): %w", sys)
	}
	return fmt.Errorf("seccomp: load filter: %w", sys)
}

var flagBits = map[specs.LinuxSeccompFlag]uint{
	FlagTsync:                              unix.SECCOMP_FILTER_FLAG_TSYNC,
	specs.LinuxSeccompFlagLog:              unix.SECCOMP_FILTER_FLAG_LOG,
	specs.LinuxSeccompFlagSpecAllow:        unix.SECCOMP_FILTER_FLAG_SPEC_ALLOW,
	specs.LinuxSeccompFlagWaitKillableRecv: unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV,
}

// flagProbe is the bits that must accompany a flag for the kernel to accept
// it: WAIT_KILLABLE_RECV is EINVAL without NEW_LISTENER.
func flagProbe(fl specs.LinuxSeccompFlag) uint {
	if fl == specs.LinuxSeccompFlagWaitKillableRecv {
		return flagBits[fl] | unix.SECCOMP_FILTER_FLAG_NEW_LISTENER
	}
	return flagBits[fl]
}

// probeFlags asks the kernel whether it accepts a flag combination: with a
// NULL program seccomp(2) fails with EFAULT once the flags have passed
// validation and EINVAL before (kernel/seccomp.c, seccomp_set_mode_filter),
// and nothing is installed either way. No privilege is needed.
func probeFlags(flags uint) error {
	_, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, uintptr(flags), 0)
	if errno == unix.EFAULT {
		return nil
	}
	if errno == 0 {
		return errors.New("seccomp: probe unexpectedly succeeded")
	}
	return os.NewSyscallError("seccomp", errno)
}

// kernelFlags works out the seccomp(2) flags for f. notify says whether a
// NOTIFY rule made it into the program; probe is probeFlags outside tests.
func kernelFlags(f *Filter, notify bool, probe func(uint) error) (uint, error) {
	flags := uint(unix.SECCOMP_FILTER_FLAG_TSYNC)
	if notify {
		// TSYNC reports failure by returning a tid, NEW_LISTENER success by
		// returning the fd; the kernel takes both only with TSYNC_ESRCH,
		// which turns the TSYNC failure into ESRCH (Linux 5.7).
		flags |= unix.SECCOMP_FILTER_FLAG_NEW_LISTENER | unix.SECCOMP_FILTER_FLAG_TSYNC_ESRCH
	}
	for _, fl := range f.Flags {
		if fl == specs.LinuxSeccompFlagWaitKillableRecv && !notify {
			// It only changes how a listener's notifications wait, and
			// the kernel refuses it without one.
			continue
		}
		if err := probe(flagProbe(fl)); err != nil {
			return 0, fmt.Errorf("seccomp: flag %s is not supported by this kernel: %w", fl, err)
		}
		flags |= flagBits[fl]
	}
	if f.FlagsUnset && probe(flagBits[specs.LinuxSeccompFlagSpecAllow]) == nil {
		flags |= unix.SECCOMP_FILTER_FLAG_SPEC_ALLOW
	}
	if err := probe(flags); err != nil {
		return 0, fmt.Errorf("seccomp: the kernel refuses filter flags %#x: %w", flags, err)
	}
	return flags, nil
}

// actionAvailable asks the kernel whether it knows a SECCOMP_RET_* action.
func actionAvailable(ret uint32) bool {
	_, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_GET_ACTION_AVAIL, 0, uintptr(unsafe.Pointer(&ret)))
	return errno == 0
}

// kernelActions maps each profile action to the SECCOMP_RET_* it becomes.
var kernelActions = map[specs.LinuxSeccompAction]uint32{
	specs.ActKill:        unix.SECCOMP_RET_KILL_THREAD,
	specs.ActKillThread:  unix.SECCOMP_RET_KILL_THREAD,
	specs.ActKillProcess: unix.SECCOMP_RET_KILL_PROCESS,
	specs.ActTrap:        unix.SECCOMP_RET_TRAP,
	specs.ActErrno:       unix.SECCOMP_RET_ERRNO,
	specs.ActTrace:       unix.SECCOMP_RET_TRACE,
	specs.ActAllow:       unix.SECCOMP_RET_ALLOW,
	specs.ActLog:         unix.SECCOMP_RET_LOG,
	specs.ActNotify:      unix.SECCOMP_RET_USER_NOTIF,
}
