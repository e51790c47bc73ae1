package main

import (
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// leftoverCgroups looks for the bench's cgroup (a relative cgroupsPath, so
// beneath our own cgroup in every hierarchy) once every container is gone,
// removes what it finds with rmdir(2) and returns it: a runtime that leaves
// its cgroup behind has a bug worth reporting.
func leftoverCgroups(name string) []string {
	self, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return nil
	}
	mi, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	var points []string
	for _, line := range strings.Split(string(mi), "\n") {
		pre, post, ok := strings.Cut(line, " - ")
		f, g := strings.Fields(pre), strings.Fields(post)
		if ok && len(f) >= 5 && len(g) >= 1 && (g[0] == "cgroup" || g[0] == "cgroup2") {
			points = append(points, f[4])
		}
	}
	var left []string
	for _, line := range strings.Split(strings.TrimSpace(string(self)), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		// Trying every mount is simpler than matching controllers, and a
		// directory with this pid-specific name is ours wherever it is.
		for _, mnt := range points {
			p := filepath.Join(mnt, parts[2], name)
			if _, err := os.Stat(p); err == nil && !contains(left, p) {
				left = append(left, p)
				_ = unix.Rmdir(p)
			}
		}
	}
	return left
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
