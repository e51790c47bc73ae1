package initproc

import (
	"syscall"
	"unsafe"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/unha/unha/internal/nsenter"
	"github.com/unha/unha/internal/process"
)

// preparedExec is the final execve(2) with everything it needs converted in
// advance: between setting the process's rlimits and execve nothing may
// allocate. An RLIMIT_AS or RLIMIT_DATA below what the Go runtime has
// already reserved (it reserves hundreds of MiB of address space) makes any
// allocation that needs a new mapping fatal ("runtime: out of memory"), so
// the limits are set last, by a raw prlimit64, then execve, also raw.
type preparedExec struct {
	argv0  *byte
	argv   []*byte
	env    []*byte
	limits []process.Rlimit
}

func prepareExec(argv0 string, p *specs.Process, env []string) (*preparedExec, error) {
	ex := &preparedExec{}
	var err error
	if ex.argv0, err = syscall.BytePtrFromString(argv0); err != nil {
		return nil, err
	}
	if ex.argv, err = syscall.SlicePtrFromStrings(p.Args); err != nil {
		return nil, err
	}
	if ex.env, err = syscall.SlicePtrFromStrings(env); err != nil {
		return nil, err
	}
	if ex.limits, err = process.ParseRlimits(p.Rlimits); err != nil {
		return nil, err
	}
	// Not calling syscall.Exec, we must do what it does for
	// RLIMIT_NOFILE: the Go runtime raised its own soft limit at start-up,
	// and the container's process gets the one init started with unless
	// the config sets another.
	set := false
	for _, l := range ex.limits {
		set = set || l.Resource == unix.RLIMIT_NOFILE
	}
	if soft, hard, ok := nsenter.StartNofile(); ok && !set {
		ex.limits = append(ex.limits, process.Rlimit{Type: "RLIMIT_NOFILE", Resource: unix.RLIMIT_NOFILE, Soft: soft, Hard: hard})
	}
	return ex, nil
}

// run sets the limits and execs; it returns only on failure.
func (ex *preparedExec) run() error {
	if err := process.SetRlimits(0, ex.limits); err != nil {
		return err
	}
	_, _, e := unix.RawSyscall(unix.SYS_EXECVE, uintptr(unsafe.Pointer(ex.argv0)),
		uintptr(unsafe.Pointer(&ex.argv[0])), uintptr(unsafe.Pointer(&ex.env[0])))
	return e
}
