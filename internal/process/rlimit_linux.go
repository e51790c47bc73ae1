package process

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// SetRlimits sets each limit on process pid (0: the caller) with the raw
// prlimit64(2), and allocates nothing unless it fails: init calls it right
// before execve, when an RLIMIT_AS or RLIMIT_DATA may leave the Go runtime no
// room to map more memory.
//
// Being raw, it does not tell the syscall package, so syscall.Exec would
// put back the RLIMIT_NOFILE soft limit Go saved at start-up: a caller that
// execs with syscall.Exec must not rely on it for RLIMIT_NOFILE (init execs
// with its own raw execve, see initproc).
func SetRlimits(pid int, limits []Rlimit) error {
	for i := range limits {
		lim := unix.Rlimit{Cur: limits[i].Soft, Max: limits[i].Hard}
		if _, _, e := unix.RawSyscall6(unix.SYS_PRLIMIT64, uintptr(pid), uintptr(limits[i].Resource),
			uintptr(unsafe.Pointer(&lim)), 0, 0, 0); e != 0 {
			return RlimitError(pid, limits[i], e)
		}
	}
	return nil
}

// RaiseHardRlimits raises the hard limit of each of limits the caller's
// current one is below, and nothing else: the privileged half of setting
// them (raising a hard limit needs CAP_SYS_RESOURCE), done while init still
// has its capabilities. The exact values are set at the very end, right
// before execve (SetRlimits, which then needs no privilege): a Go process
// reserves more address space as it goes, and an RLIMIT_AS or RLIMIT_DATA
// set early would make the runtime itself fail ("out of memory").
func RaiseHardRlimits(limits []Rlimit) error {
	for _, r := range limits {
		var cur unix.Rlimit
		if err := unix.Prlimit(0, r.Resource, nil, &cur); err != nil {
			return RlimitError(0, r, err)
		}
		if r.Hard <= cur.Max {
			continue
		}
		if err := unix.Prlimit(0, r.Resource, &unix.Rlimit{Cur: cur.Cur, Max: r.Hard}, nil); err != nil {
			return RlimitError(0, r, err)
		}
	}
	return nil
}

// rlimitError explains the two ways a root runtime gets EPERM here.
func RlimitError(pid int, r Rlimit, err error) error {
	base := fmt.Errorf("process.rlimits: setrlimit %s (soft %s, hard %s): %w",
		r.Type, limitString(r.Soft), limitString(r.Hard), err)
	if !errors.Is(err, unix.EPERM) {
		return base
	}
	if r.Resource == unix.RLIMIT_NOFILE {
		// Even CAP_SYS_RESOURCE cannot go past fs.nr_open (unlimited
		// included), getrlimit(2).
		if nrOpen, ok := readNrOpen(); ok && r.Hard > nrOpen {
			return fmt.Errorf("%w: RLIMIT_NOFILE cannot exceed fs.nr_open (%d)", base, nrOpen)
		}
	}
	var cur unix.Rlimit
	if unix.Prlimit(pid, r.Resource, nil, &cur) == nil && r.Hard > cur.Max {
		return fmt.Errorf("%w: raising a hard limit needs CAP_SYS_RESOURCE (current hard limit %s)", base, limitString(cur.Max))
	}
	return base
}

func readNrOpen() (uint64, bool) {
	b, err := os.ReadFile("/proc/sys/fs/nr_open")
	if err != nil {
		return 0, false
	}
	n, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	return n, err == nil
}
