package cgroups

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// osFS reads the real files.
type osFS struct{}

func (osFS) read(dir, file string) (string, error) { return readFile(dir, file) }
func (osFS) exists(dir, file string) bool          { return exists(filepath.Join(dir, file)) }

func (m *manager) Set(r *specs.LinuxResources) error {
	if r == nil {
		return nil
	}
	fs := osFS{}
	ts, err := m.resolve(r, fs)
	if err != nil {
		return err
	}
	// v2 files appear only once the parent enables the controller, so
	// enable first and plan after (the plan looks at which files exist).
	keys := make([]string, 0, len(ts))
	for k := range ts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		t := ts[k]
		if t.v2 && t.ctrl != "" {
			if err := m.enableAncestors(fs, t.dir, t.ctrl); err != nil {
				f := fieldOf(k)
				if strings.HasPrefix(k, "unified:") {
					f = "unified"
				}
				return fieldError(f, err)
			}
		}
	}
	ops, err := m.plan(r, ts, fs)
	if err != nil {
		return err
	}
	return applyOps(ops, fs)
}

// enableAncestors makes controller c usable in dir by enabling it in the
// cgroup.subtree_control of every ancestor, from the hierarchy root down,
// that does not have it yet. These can be cgroups we did not create (the
// caller's parent, the root): cgroup v2 offers no other way to give a
// cgroup a controller, and a controller is enabled only when a limit
// needs it.
func (m *manager) enableAncestors(fs fsys, dir, c string) error {
	d := m.hierOf(dir)
	if d == nil {
		return fmt.Errorf("%s is not in a known hierarchy", dir)
	}
	root := d.h.mountpoint
	rel, err := filepath.Rel(root, filepath.Dir(dir))
	if err != nil {
		return err
	}
	chain := []string{root}
	if rel != "." {
		cur := root
		for _, part := range strings.Split(rel, "/") {
			cur = filepath.Join(cur, part)
			chain = append(chain, cur)
		}
	}
	for i, a := range chain {
		on, err := fs.read(a, "cgroup.subtree_control")
		if err != nil {
			return err
		}
		if slices.Contains(strings.Fields(on), c) {
			continue
		}
		if i == 0 {
			avail, err := fs.read(a, "cgroup.controllers")
			if err != nil {
				return err
			}
			if !slices.Contains(strings.Fields(avail), c) {
				return fmt.Errorf("the %s controller is not available in the cgroup2 hierarchy at %s", c, root)
			}
		}
		if err := writeFile(a, "cgroup.subtree_control", "+"+c); err != nil {
			if errors.Is(err, unix.EBUSY) {
				return fmt.Errorf("enable %s in %s: the cgroup holds processes (cgroup v2 \"no internal processes\" rule): %w", c, a, err)
			}
			return fmt.Errorf("enable %s: %w", c, err)
		}
	}
	return nil
}

func applyOps(ops []op, fs fsys) error {
	for _, o := range ops {
		if err := applyOp(o, fs); err != nil {
			return fieldError(o.field, err)
		}
	}
	return nil
}

func applyOp(o op, fs fsys) error {
	if o.kind == opBPF {
		return attachDeviceProgram(o.dir, o.prog)
	}
	err := writeFile(o.dir, o.file, o.value)
	switch {
	case err == nil:
	case o.tolerateEINVAL && errors.Is(err, unix.EINVAL):
		return nil // written again later in the plan
	case o.check == checkMemBusy && errors.Is(err, unix.EBUSY):
		usage, _ := fs.read(o.dir, "memory.usage_in_bytes")
		peak, _ := fs.read(o.dir, "memory.max_usage_in_bytes")
		return fmt.Errorf("unable to set memory limit to %s (current usage: %s, peak usage: %s): %w", o.value, usage, peak, err)
	case errors.Is(err, unix.ENOENT):
		return fmt.Errorf("%w (the kernel has no %s: controller or feature missing)", err, o.file)
	default:
		return err
	}
	if o.check == checkShares {
		got, err := readUint(fs, o.dir, o.file)
		if err != nil {
			return err
		}
		want, _ := parseUint(o.value)
		if want > got {
			return fmt.Errorf("the maximum allowed cpu-shares is %d", got)
		} else if want < got {
			return fmt.Errorf("the minimum allowed cpu-shares is %d", got)
		}
	}
	return nil
}
