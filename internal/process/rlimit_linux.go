package process

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// SetRlimits sets each limit on process pid (0: the caller) with prlimit(2).
//
// x/sys/unix.Prlimit goes through the syscall package, which then stops
// restoring Go's saved RLIMIT_NOFILE soft limit in exec'ed children; a raw
// setrlimit would have been silently undone by syscall.Exec.
func SetRlimits(pid int, limits []Rlimit) error {
	for _, r := range limits {
		lim := unix.Rlimit{Cur: r.Soft, Max: r.Hard}
		if err := unix.Prlimit(pid, r.Resource, &lim, nil); err != nil {
			return rlimitError(pid, r, err)
		}
	}
	return nil
}

// rlimitError explains the two ways a root runtime gets EPERM here.
func rlimitError(pid int, r Rlimit, err error) error {
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
