package cgroups

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

func (m *manager) OpenFD() (*os.File, error) {
	d, ok := m.dir("")
	if !ok {
		return nil, nil
	}
	fd, err := unix.Open(d, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: d, Err: err}
	}
	return os.NewFile(uintptr(fd), d), nil
}

func (m *manager) AddProc(pid int) error {
	if pid <= 0 {
		return fmt.Errorf("add process to cgroup: invalid pid %d", pid)
	}
	for _, d := range m.dirs {
		if err := writeFile(d.path, "cgroup.procs", strconv.Itoa(pid)); err != nil {
			return fmt.Errorf("add pid %d to cgroup: %w", pid, err)
		}
	}
	return nil
}

// OpenTasks is for a process to enter the cgroup itself, by writing "0"
// to each file before it has a second thread. Of all the ways into a v1
// cgroup, a thread moving itself is the one the kernel makes without
// taking cgroup_threadgroup_rwsem for writing (kernel/cgroup/cgroup.c,
// cgroup_procs_write_start): that percpu rwsem's writer first waits for an
// RCU grace period, 1 to 8 ms on this kind of host (HZ=250, more while the
// namespaces of earlier containers are torn down), which is what writing a
// pid to cgroup.procs costs each time. The permission check of a v1 tasks
// write uses the opener's credentials.
func (m *manager) OpenTasks() ([]*os.File, error) {
	var out []*os.File
	for _, d := range m.dirs {
		if d.h.v2 {
			continue
		}
		p := filepath.Join(d.path, "tasks")
		fd, err := unix.Open(p, unix.O_WRONLY|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
		if err != nil {
			for _, f := range out {
				f.Close()
			}
			return nil, &os.PathError{Op: "open", Path: p, Err: err}
		}
		out = append(out, os.NewFile(uintptr(fd), p))
	}
	return out, nil
}

func (m *manager) Pids() ([]int, error) {
	seen := map[int]bool{}
	for _, d := range m.dirs {
		if err := collectPids(d.path, seen); err != nil {
			return nil, err
		}
	}
	out := make([]int, 0, len(seen))
	for p := range seen {
		out = append(out, p)
	}
	sort.Ints(out)
	return out, nil
}

// collectPids adds the pids of dir and of every cgroup below it.
func collectPids(dir string, seen map[int]bool) error {
	s, err := readFile(dir, "cgroup.procs")
	if err != nil {
		if errors.Is(err, os.ErrNotExist) && !exists(dir) {
			return nil // removed while we walked
		}
		return err
	}
	for _, f := range strings.Fields(s) {
		p, err := strconv.Atoi(f)
		if err != nil {
			return fmt.Errorf("parse %s: %w", filepath.Join(dir, "cgroup.procs"), err)
		}
		seen[p] = true
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return err
	}
	for _, e := range ents {
		if e.IsDir() {
			if err := collectPids(filepath.Join(dir, e.Name()), seen); err != nil {
				return err
			}
		}
	}
	return nil
}

func (m *manager) Signal(sig unix.Signal) error {
	if sig == unix.SIGKILL {
		if d, ok := m.dir(""); ok && exists(filepath.Join(d, "cgroup.kill")) {
			// cgroup.kill (Linux 5.14) kills the whole subtree atomically,
			// forks included.
			if err := writeFile(d, "cgroup.kill", "1"); err != nil {
				return err
			}
			if m.v2 {
				return nil
			}
			// Hybrid: a process could have left the unified cgroup while
			// staying in the v1 ones; catch those below.
		}
	}
	// Freeze first so a process cannot fork a child we would not see,
	// then signal, then restore the previous state. A frozen v1 task
	// handles a pending SIGKILL only once thawed, so thaw for SIGKILL
	// even when the container was paused.
	paused, perr := m.Paused()
	canFreeze := perr == nil
	if canFreeze && !paused {
		if err := m.Freeze(); err != nil {
			return fmt.Errorf("freeze before signal: %w", err)
		}
	}
	pids, err := m.Pids()
	var errs []error
	if err != nil {
		errs = append(errs, err)
	}
	for _, p := range pids {
		if err := unix.Kill(p, sig); err != nil && err != unix.ESRCH {
			errs = append(errs, fmt.Errorf("signal %d: %w", p, os.NewSyscallError("kill", err)))
		}
	}
	if canFreeze && (!paused || sig == unix.SIGKILL) {
		if err := m.Thaw(); err != nil {
			errs = append(errs, fmt.Errorf("thaw after signal: %w", err))
		}
	}
	return errors.Join(errs...)
}
