package app

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// memoryCgroup is the host directory of a container's memory cgroup, where
// the kernel counts OOM kills: memory.oom_control's oom_kill on cgroup v1,
// memory.events' oom_kill on v2 (Linux 4.13+; both in
// Documentation/admin-guide/cgroup-v*/).
//
// unha finds it from where the runtime placed the container's init, read
// from /proc/PID/cgroup after `create` (init then waits on the exec fifo in
// its final cgroup), and reads the counter after init exited but before
// `delete` removes the cgroup. That works with any OCI runtime, needs no
// verb beyond the lifecycle ones, and cannot miss a kill the way a stream
// of `events` racing the container's exit could; the counter is
// incremented before the victim can even handle its SIGKILL.
type memoryCgroup struct {
	dir string
	v2  bool
}

// findMemoryCgroup locates pid's memory cgroup; nil when there is none
// (no memory controller mounted).
func findMemoryCgroup(pid int) (*memoryCgroup, error) {
	mounts, err := cgroupMounts("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		return nil, err
	}
	var unified string
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		if parts[1] == "" {
			unified = parts[2]
			continue
		}
		for _, c := range strings.Split(parts[1], ",") {
			if m, ok := mounts["memory"]; ok && c == "memory" {
				return &memoryCgroup{dir: m.dir(parts[2])}, nil
			}
		}
	}
	if m, ok := mounts[""]; ok && unified != "" {
		dir := m.dir(unified)
		if _, err := os.Stat(filepath.Join(dir, "memory.events")); err == nil {
			return &memoryCgroup{dir: dir, v2: true}, nil
		}
	}
	return nil, nil
}

// oomKills returns the counter and the cgroup's memory limit (0: none).
func (m *memoryCgroup) oomKills() (kills uint64, limit int64, err error) {
	file, limFile := "memory.oom_control", "memory.limit_in_bytes"
	if m.v2 {
		file, limFile = "memory.events", "memory.max"
	}
	data, err := os.ReadFile(filepath.Join(m.dir, file))
	if err != nil {
		return 0, 0, err
	}
	found := false
	for _, l := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(l, "oom_kill "); ok {
			if kills, err = strconv.ParseUint(strings.TrimSpace(v), 10, 64); err != nil {
				return 0, 0, fmt.Errorf("parse %s: %w", filepath.Join(m.dir, file), err)
			}
			found = true
		}
	}
	if !found {
		return 0, 0, errors.New("no oom_kill counter in " + filepath.Join(m.dir, file))
	}
	if b, err := os.ReadFile(filepath.Join(m.dir, limFile)); err == nil {
		// "max" on v2; v1's "unlimited" is PAGE_COUNTER_MAX pages, near 2^63.
		if n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err == nil && n < 1<<62 {
			limit = n
		}
	}
	return kills, limit, nil
}

// cgroupMount is one hierarchy's mount: what part of the hierarchy it
// shows (root) and where.
type cgroupMount struct{ root, point string }

// dir maps a path from /proc/PID/cgroup to a host directory.
func (m cgroupMount) dir(p string) string {
	if m.root != "/" {
		p = strings.TrimPrefix(p, m.root)
	}
	return filepath.Join(m.point, p)
}

// cgroupMounts maps each v1 controller to its mount, and "" to cgroup2's.
func cgroupMounts(mountinfo string) (map[string]cgroupMount, error) {
	f, err := os.Open(mountinfo)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]cgroupMount{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// proc(5): ID PARENT MAJ:MIN ROOT POINT OPTS [TAGS...] - FSTYPE SOURCE SUPER
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		a, b := strings.Fields(pre), strings.Fields(post)
		if !ok || len(a) < 5 || len(b) < 3 {
			continue
		}
		m := cgroupMount{root: unescapeMount(a[3]), point: unescapeMount(a[4])}
		switch b[0] {
		case "cgroup2":
			if _, seen := out[""]; !seen {
				out[""] = m
			}
		case "cgroup":
			for _, o := range strings.Split(b[2], ",") {
				if _, seen := out[o]; !seen {
					out[o] = m
				}
			}
		}
	}
	return out, sc.Err()
}

// unescapeMount undoes mountinfo's octal escapes (\040 for a space).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var sb strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				sb.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		sb.WriteByte(s[i])
	}
	return sb.String()
}
