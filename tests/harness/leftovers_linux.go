package harness

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// checkLeftovers reports everything the tracked containers left behind. With fix set it then
// removes it (unmounts, kills by pid, rmdirs), so one broken test does not poison the next and
// os.RemoveAll never recurses through a leftover bind mount into a host directory.
func (e *Env) checkLeftovers(fix bool) {
	e.T.Helper()
	ids, _ := e.snapshot()
	idSet := map[string]bool{}
	for _, id := range ids {
		idSet[id] = true
	}
	self := os.Getpid()

	// State: runc keeps <root>/<id>; look a little deeper for any entry naming an id, so a
	// different layout of the runtime's state root is checked too.
	for _, p := range findEntriesNaming(e.Root, ids, 3) {
		e.T.Errorf("leftover: state directory entry %s", p)
		if fix {
			os.RemoveAll(p)
		}
	}

	// Processes that mention the test directory or an id, or live in a container's cgroup.
	for _, pid := range listPids() {
		if pid == self || procState(pid) == "Z" {
			continue
		}
		why := ""
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); err == nil {
			cmdline := strings.ReplaceAll(strings.TrimRight(string(b), "\x00"), "\x00", " ")
			if strings.Contains(cmdline, e.Dir) || mentionsAny(cmdline, ids) {
				why = "cmdline " + strconv.Quote(cmdline)
			}
		}
		if why == "" {
			if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid)); err == nil {
				for _, line := range strings.Split(string(b), "\n") {
					parts := strings.SplitN(line, ":", 3)
					if len(parts) == 3 && pathHasComponent(parts[2], idSet) {
						why = "cgroup " + line
						break
					}
				}
			}
		}
		if why != "" {
			e.T.Errorf("leftover: process %d (%s)", pid, why)
			if fix {
				if st, err := procStartTime(pid); err == nil {
					killAndReap(pid, st)
				}
			}
		}
	}

	// Mounts beneath the test directory (bundles, rootfs, state root).
	if mounts, err := ReadMountinfo("/proc/self/mountinfo"); err == nil {
		var points []string
		for _, m := range mounts {
			if m.Point == e.Dir || strings.HasPrefix(m.Point, e.Dir+"/") {
				points = append(points, m.Point)
			}
		}
		sort.Sort(sort.Reverse(sort.StringSlice(points)))
		for _, p := range points {
			e.T.Errorf("leftover: mount on %s", p)
			if fix {
				_ = unix.Unmount(p, unix.MNT_DETACH)
			}
		}
	} else {
		e.T.Errorf("leftover check: %v", err)
	}

	// Cgroup directories named after an id, beneath the caller's own cgroups.
	if len(idSet) > 0 {
		dirs, err := CgroupDirs()
		if err != nil {
			e.T.Errorf("leftover check: %v", err)
		}
		for _, d := range dirs {
			for _, cg := range findDirsNamed(d, idSet, 3) {
				e.T.Errorf("leftover: cgroup %s", cg)
				if fix {
					removeCgroup(cg)
				}
			}
		}
	}
}

// findEntriesNaming walks at most depth levels below root for entries whose name contains an id.
func findEntriesNaming(root string, ids []string, depth int) []string {
	if depth == 0 {
		return nil
	}
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil
	}
	var out []string
	for _, ent := range entries {
		p := filepath.Join(root, ent.Name())
		if mentionsAny(ent.Name(), ids) {
			out = append(out, p)
			continue
		}
		if ent.IsDir() {
			out = append(out, findEntriesNaming(p, ids, depth-1)...)
		}
	}
	return out
}

func mentionsAny(s string, ids []string) bool {
	for _, id := range ids {
		if strings.Contains(s, id) {
			return true
		}
	}
	return false
}

func pathHasComponent(p string, names map[string]bool) bool {
	for _, c := range strings.Split(p, "/") {
		if names[c] {
			return true
		}
	}
	return false
}

// removeCgroup kills the processes of a cgroup the test's container owned and removes it,
// children first (rmdir only succeeds on an empty leaf).
func removeCgroup(dir string) {
	entries, _ := os.ReadDir(dir)
	for _, ent := range entries {
		if ent.IsDir() {
			removeCgroup(filepath.Join(dir, ent.Name()))
		}
	}
	if b, err := os.ReadFile(filepath.Join(dir, "cgroup.procs")); err == nil {
		for _, f := range strings.Fields(string(b)) {
			if pid, err := strconv.Atoi(f); err == nil {
				if st, err := procStartTime(pid); err == nil {
					killAndReap(pid, st)
				}
			}
		}
	}
	_ = unix.Rmdir(dir)
}
