package cgroups

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/sys/unix"
)

func (m *manager) Create() error { return m.create(false) }

func (m *manager) CreateV2() error { return m.create(true) }

func (m *manager) create(v2Only bool) error {
	var made []string
	for _, d := range m.dirs {
		if v2Only && !d.h.v2 {
			continue
		}
		n, err := m.mkdirAll(d)
		made = append(made, n...)
		if err != nil {
			// Undo this call's work only; dirs from an earlier Create stay.
			if rerr := m.removeCreated(made, false); rerr != nil {
				err = errors.Join(err, rerr)
			}
			return err
		}
	}
	m.created = append(m.created, made...)
	return nil
}

// mkdirAll creates d.path and any missing parents below the mountpoint,
// returning the directories it made, parents first.
func (m *manager) mkdirAll(d cgDir) ([]string, error) {
	rel, err := filepath.Rel(d.h.mountpoint, d.path)
	if err != nil || rel == "." || strings.HasPrefix(rel, "..") {
		return nil, fmt.Errorf("cgroup %s is not below %s", d.path, d.h.mountpoint)
	}
	var made []string
	cur := d.h.mountpoint
	parts := strings.Split(rel, "/")
	for i, p := range parts {
		parent := cur
		cur = filepath.Join(cur, p)
		err := unix.Mkdir(cur, 0o755)
		if err == unix.EEXIST {
			// Never step through a symlink planted in a fake tree.
			if fi, serr := os.Lstat(cur); serr != nil || !fi.IsDir() {
				return made, fmt.Errorf("cgroup %s exists and is not a directory", cur)
			}
			continue
		}
		if err != nil {
			return made, &os.PathError{Op: "mkdir", Path: cur, Err: err}
		}
		made = append(made, cur)
		if err := m.initDir(d.h, parent, cur, i == len(parts)-1); err != nil {
			return made, err
		}
	}
	return made, nil
}

// initDir prepares a directory we just made.
func (m *manager) initDir(h hierarchy, parent, dir string, leaf bool) error {
	switch {
	case h.v2 && !leaf:
		// Our own intermediate directory: hand every controller it has
		// down to its children, as runc does, so the leaf can be limited
		// and accounted.
		return enableControllers(dir, nil)
	case hasController(h, "cpuset"):
		// A new v1 cpuset starts with empty cpus and mems, and the kernel
		// refuses to attach tasks to it (ENOSPC) until both are set.
		for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
			v, err := readFile(dir, f)
			if err != nil {
				return err
			}
			if v != "" {
				continue
			}
			pv, err := readFile(parent, f)
			if err != nil {
				return err
			}
			if err := writeFile(dir, f, pv); err != nil {
				return err
			}
		}
	}
	return nil
}

func hasController(h hierarchy, c string) bool {
	for _, x := range h.controllers {
		if x == c {
			return true
		}
	}
	return false
}

// enableControllers writes "+c" to dir's cgroup.subtree_control for every
// controller in want (nil: every controller in dir's cgroup.controllers)
// that is not enabled yet.
func enableControllers(dir string, want []string) error {
	avail, err := readFile(dir, "cgroup.controllers")
	if err != nil {
		return err
	}
	on, err := readFile(dir, "cgroup.subtree_control")
	if err != nil {
		return err
	}
	has := map[string]bool{}
	for _, c := range strings.Fields(avail) {
		has[c] = true
	}
	enabled := map[string]bool{}
	for _, c := range strings.Fields(on) {
		enabled[c] = true
	}
	if want == nil {
		want = strings.Fields(avail)
	}
	var add []string
	for _, c := range want {
		if enabled[c] {
			continue
		}
		if !has[c] {
			return fmt.Errorf("controller %s is not available in %s", c, dir)
		}
		add = append(add, "+"+c)
	}
	if len(add) == 0 {
		return nil
	}
	return writeFile(dir, "cgroup.subtree_control", strings.Join(add, " "))
}

// leaves are the container's own cgroup directories: those Create made,
// or all of them for a loaded cgroup that owns its leaves.
func (m *manager) leaves() []string {
	var leaves []string
	isCreated := map[string]bool{}
	for _, c := range m.created {
		isCreated[c] = true
	}
	for _, d := range m.dirs {
		if m.leafOwned || isCreated[d.path] {
			leaves = append(leaves, d.path)
		}
	}
	return leaves
}

// RemoveIfEmpty tries the common case first: every process gone, no child
// cgroups, so one rmdir per directory (the kernel refuses it with EBUSY
// otherwise), no listing and no waiting.
func (m *manager) RemoveIfEmpty() bool {
	for _, l := range m.leaves() {
		if err := unix.Rmdir(l); err != nil && err != unix.ENOENT {
			return false
		}
	}
	if m.removeCreated(m.created, true) != nil {
		return false
	}
	m.created = nil
	return true
}

func (m *manager) Destroy() error {
	leaves := m.leaves()
	var errs []error
	for _, l := range leaves {
		if err := removeTree(l); err != nil {
			errs = append(errs, err)
		}
	}
	if err := m.removeCreated(m.created, true); err != nil {
		errs = append(errs, err)
	}
	if len(errs) == 0 {
		m.created = nil
	}
	return errors.Join(errs...)
}

// removeCreated removes dirs (which we made) deepest first. A parent that
// is still busy or not empty now holds someone else's cgroup (a sibling
// container under the same parent) and is left alone.
func (m *manager) removeCreated(dirs []string, tolerateBusy bool) error {
	sorted := append([]string(nil), dirs...)
	sort.Slice(sorted, func(i, j int) bool { return len(sorted[i]) > len(sorted[j]) })
	leaf := map[string]bool{}
	for _, d := range m.dirs {
		leaf[d.path] = true
	}
	var errs []error
	for _, d := range sorted {
		if leaf[d] {
			if err := removeTree(d); err != nil {
				errs = append(errs, err)
			}
			continue
		}
		err := unix.Rmdir(d)
		if err == nil || err == unix.ENOENT {
			continue
		}
		if tolerateBusy && (err == unix.EBUSY || err == unix.ENOTEMPTY) {
			continue
		}
		errs = append(errs, &os.PathError{Op: "rmdir", Path: d, Err: err})
	}
	return errors.Join(errs...)
}

// removeTree removes a cgroup and the child cgroups processes made inside it,
// children first (a cgroup with children cannot be removed).
func removeTree(dir string) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return err
	}
	var errs []error
	for _, e := range ents {
		if e.IsDir() {
			if err := removeTree(filepath.Join(dir, e.Name())); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if err := rmdirRetry(dir); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
