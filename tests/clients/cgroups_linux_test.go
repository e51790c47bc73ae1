package clients

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

const cgroupRoot = "/sys/fs/cgroup"

// hierarchy is one cgroup hierarchy and the suite's cgroup in it.
type hierarchy struct {
	// FSType is "cgroup" (v1) or "cgroup2".
	FSType string
	// Options is the mount data that mounts this v1 hierarchy again ("cpu", "none,name=systemd").
	Options string
	// Name is the entry under /sys/fs/cgroup it is mounted on ("cpu", "unified"); "" when the
	// hierarchy is mounted on /sys/fs/cgroup itself (a host with only cgroup v2).
	Name string
	// Dir is the suite's cgroup as the outer stage sees it.
	Dir string
	// Made is set once the outer stage created Dir, so only what it made is removed.
	Made bool
}

// mountPoint is where the hierarchy is mounted, in either stage.
func (h hierarchy) mountPoint() string { return filepath.Join(cgroupRoot, h.Name) }

// discoverCgroups finds every hierarchy mounted at or below /sys/fs/cgroup, the caller's
// cgroup in it, and names the suite's cgroup beneath that.
func discoverCgroups(p *plan) error {
	own, err := ownCgroups()
	if err != nil {
		return err
	}
	mounts, err := readMountinfo()
	if err != nil {
		return err
	}
	var suffix [4]byte
	if _, err := rand.Read(suffix[:]); err != nil {
		return err
	}
	name := fmt.Sprintf("unha-clients-%d-%s", os.Getpid(), hex.EncodeToString(suffix[:]))
	seen := map[string]bool{}
	for _, m := range mounts {
		if m.Point == cgroupRoot {
			// The last mount on a point is the one in effect.
			p.CgroupTop = m.FSType
		}
		if m.FSType != "cgroup" && m.FSType != "cgroup2" {
			continue
		}
		if m.Point != cgroupRoot && filepath.Dir(m.Point) != cgroupRoot {
			continue
		}
		key, ok := "", m.FSType == "cgroup2"
		if !ok {
			key, ok = v1Key(m.SuperOpts, own)
		}
		if !ok || seen[key] {
			continue
		}
		path, in := own[key]
		if !in {
			continue
		}
		rel := path
		if m.Root != "/" {
			if path != m.Root && !strings.HasPrefix(path, m.Root+"/") {
				return fmt.Errorf("own cgroup %s is outside the mount of %s (root %s)", path, m.Point, m.Root)
			}
			rel = strings.TrimPrefix(path, m.Root)
		}
		h := hierarchy{FSType: m.FSType, Dir: filepath.Join(m.Point, rel, name)}
		if m.Point != cgroupRoot {
			h.Name = filepath.Base(m.Point)
		}
		if m.FSType == "cgroup" {
			h.Options = key
			if !strings.Contains(key, ",") && strings.HasPrefix(key, "name=") {
				h.Options = "none," + key
			}
		}
		seen[key] = true
		p.Hierarchies = append(p.Hierarchies, h)
	}
	if len(p.Hierarchies) == 0 {
		return errors.New("no cgroup hierarchy mounted under /sys/fs/cgroup")
	}
	if p.CgroupTop != "tmpfs" && p.CgroupTop != "cgroup2" {
		return fmt.Errorf("/sys/fs/cgroup is %q; want tmpfs (v1 or hybrid) or cgroup2", p.CgroupTop)
	}
	entries, err := os.ReadDir(cgroupRoot)
	if err != nil {
		return err
	}
	p.Links = map[string]string{}
	for _, ent := range entries {
		if ent.Type()&os.ModeSymlink != 0 {
			if target, err := os.Readlink(filepath.Join(cgroupRoot, ent.Name())); err == nil {
				p.Links[ent.Name()] = target
			}
		}
	}
	return nil
}

// v1Key finds the /proc/self/cgroup entry whose controllers are all in a v1 mount's options.
func v1Key(superOpts string, own map[string]string) (string, bool) {
	opts := map[string]bool{}
	for _, o := range strings.Split(superOpts, ",") {
		opts[o] = true
	}
	for key := range own {
		if key == "" {
			continue
		}
		all := true
		for _, c := range strings.Split(key, ",") {
			all = all && opts[c]
		}
		if all {
			return key, true
		}
	}
	return "", false
}

// createCgroups makes the suite's cgroup in every hierarchy. A new v1 cpuset cgroup has empty
// cpuset.cpus and cpuset.mems, and joining it fails with ENOSPC: copy the parent's.
func createCgroups(p *plan) error {
	for i := range p.Hierarchies {
		h := &p.Hierarchies[i]
		if err := os.Mkdir(h.Dir, 0o755); err != nil {
			return err
		}
		h.Made = true
		for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
			if h.FSType != "cgroup" {
				break
			}
			v, err := os.ReadFile(filepath.Join(filepath.Dir(h.Dir), f))
			if errors.Is(err, os.ErrNotExist) {
				break
			}
			if err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(h.Dir, f), v, 0o644); err != nil {
				return fmt.Errorf("copy %s into %s: %w", f, h.Dir, err)
			}
		}
	}
	return nil
}

// joinCgroups moves the calling process (all its threads: cgroup.procs takes a thread group)
// into the suite's cgroups.
func joinCgroups(p *plan) error {
	pid := strconv.Itoa(os.Getpid())
	for _, h := range p.Hierarchies {
		if !h.Made {
			return fmt.Errorf("cgroup %s was not created", h.Dir)
		}
		if err := os.WriteFile(filepath.Join(h.Dir, "cgroup.procs"), []byte(pid), 0o644); err != nil {
			return fmt.Errorf("join %s: %w", h.Dir, err)
		}
	}
	return nil
}

// removeCgroups runs in the outer stage after the inner one exited: anything still in the
// suite's cgroups descends from the suite, so it is killed by PID; then the cgroups are removed,
// children first. Everything it had to do is reported.
func removeCgroups(p *plan) error {
	var errs []error
	for _, h := range p.Hierarchies {
		if !h.Made {
			continue
		}
		dirs := cgroupSubtree(h.Dir)
		for _, d := range dirs {
			if d != h.Dir {
				errs = append(errs, fmt.Errorf("cgroup %s", d))
			}
			for _, pid := range cgroupPids(d) {
				errs = append(errs, fmt.Errorf("process %d %s in %s", pid, cmdline(pid), d))
			}
			killCgroup(d)
		}
		for i := len(dirs) - 1; i >= 0; i-- {
			if err := rmdirCgroup(dirs[i]); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// cgroupSubtree lists dir and every cgroup below it, parents before children.
func cgroupSubtree(dir string) []string {
	out := []string{dir}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return out
	}
	for _, ent := range entries {
		if ent.IsDir() {
			out = append(out, cgroupSubtree(filepath.Join(dir, ent.Name()))...)
		}
	}
	return out
}

// cgroupPids lists the live processes in one cgroup (zombies stay listed in v1 until reaped).
func cgroupPids(dir string) []int {
	b, err := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
	if err != nil {
		return nil
	}
	var out []int
	for _, f := range strings.Fields(string(b)) {
		if pid, err := strconv.Atoi(f); err == nil {
			if st := procState(pid); st != "Z" && st != "" {
				out = append(out, pid)
			}
		}
	}
	return out
}

// killCgroup thaws a cgroup the suite owns (a frozen process cannot die) and SIGKILLs what is
// in it, waiting a bounded time for it to go.
func killCgroup(dir string) {
	if b, err := os.ReadFile(filepath.Join(dir, "freezer.state")); err == nil && strings.TrimSpace(string(b)) != "THAWED" {
		_ = os.WriteFile(filepath.Join(dir, "freezer.state"), []byte("THAWED"), 0o644)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "cgroup.freeze")); err == nil && strings.TrimSpace(string(b)) != "0" {
		_ = os.WriteFile(filepath.Join(dir, "cgroup.freeze"), []byte("0"), 0o644)
	}
	for _, pid := range cgroupPids(dir) {
		killPid(pid)
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(cgroupPids(dir)) > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
}

// rmdirCgroup removes an empty cgroup, retrying briefly: a process that just died can keep a
// v1 cgroup busy (EBUSY) for a moment.
func rmdirCgroup(dir string) error {
	var err error
	for i := 0; i < 50; i++ {
		if err = unix.Rmdir(dir); err == nil || errors.Is(err, unix.ENOENT) {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return &os.PathError{Op: "rmdir", Path: dir, Err: err}
}

// nsCgroupDirs lists every cgroup directory of every hierarchy as the inner stage sees them
// (beneath the suite's cgroup, which is "/" there), as "NAME:/path".
func nsCgroupDirs(p *plan) map[string]string {
	out := map[string]string{}
	for _, h := range p.Hierarchies {
		mp := h.mountPoint()
		for _, d := range cgroupSubtree(mp) {
			rel := strings.TrimPrefix(d, mp)
			if rel == "" {
				continue
			}
			out[h.Name+":"+rel] = d
		}
	}
	return out
}

// nsPids lists the live processes in the suite's cgroups, other than the test binary.
func nsPids(p *plan) []int {
	seen := map[int]bool{os.Getpid(): true}
	var out []int
	for _, h := range p.Hierarchies {
		for _, d := range cgroupSubtree(h.mountPoint()) {
			for _, pid := range cgroupPids(d) {
				if !seen[pid] {
					seen[pid] = true
					out = append(out, pid)
				}
			}
		}
	}
	sort.Ints(out)
	return out
}
