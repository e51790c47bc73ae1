package cgroups

import (
	"bufio"
	"fmt"
	"io"
	"path/filepath"
	"strings"
)

// parseSelfCgroup reads proc(7) /proc/self/cgroup ("hier-id:controllers:path")
// into controller -> path, with "" for the cgroup2 entry ("0::/path").
func parseSelfCgroup(r io.Reader) (map[string]string, error) {
	out := map[string]string{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) != 3 {
			continue
		}
		p := parts[2]
		if parts[1] == "" {
			out[""] = p
			continue
		}
		for _, c := range strings.Split(parts[1], ",") {
			out[c] = p
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read self cgroup: %w", err)
	}
	return out, nil
}

// isSystemdForm reports whether p looks like the systemd driver's
// "slice:prefix:name" cgroupsPath.
func isSystemdForm(p string) bool {
	return !strings.HasPrefix(p, "/") && strings.Count(p, ":") == 2
}

// innerPath is the container's cgroup as the kernel names it inside one
// hierarchy (the form /proc/PID/cgroup shows). self is the caller's cgroup
// in that hierarchy.
//
// A relative cgroupsPath is cleaned as if it were absolute before joining, so
// "../x" cannot climb above the caller's cgroup.
func innerPath(cgroupsPath, id, self string) string {
	switch {
	case strings.HasPrefix(cgroupsPath, "/"):
		return filepath.Clean(cgroupsPath)
	case cgroupsPath == "":
		return filepath.Join(self, filepath.Join("/", id))
	default:
		return filepath.Join(self, filepath.Join("/", cgroupsPath))
	}
}

// dirOf maps an inner cgroup path to its directory under the hierarchy's
// mount, taking away the part of the path the mount does not show (a bind
// mount of a sub-tree, or a cgroup namespace root).
func dirOf(h hierarchy, inner string) string {
	rel := inner
	if h.mountRoot != "/" && h.mountRoot != "" {
		if inner == h.mountRoot {
			rel = "/"
		} else if strings.HasPrefix(inner, h.mountRoot+"/") {
			rel = strings.TrimPrefix(inner, h.mountRoot)
		}
	}
	return filepath.Join(h.mountpoint, rel)
}

// computeDirs returns the container's directory in each hierarchy of l.
func computeDirs(l *layout, self map[string]string, cgroupsPath, id string) ([]cgDir, error) {
	if cgroupsPath == "" && (id == "" || strings.Contains(id, "/") || id == "." || id == "..") {
		return nil, fmt.Errorf("container id %q cannot name a cgroup", id)
	}
	var out []cgDir
	for _, h := range l.hier {
		s, ok := self[h.key()]
		if !ok && !strings.HasPrefix(cgroupsPath, "/") {
			return nil, fmt.Errorf("caller's cgroup for hierarchy %q not found in self cgroup file", h.key())
		}
		if s == "" {
			s = "/"
		}
		if l.v2 {
			// runc (libcontainer/cgroups/fs2/defaultpath.go) nests under the
			// *parent* of the caller's cgroup on v2: the caller's own cgroup
			// holds processes, and the "no internal processes" rule
			// (cgroup-v2.rst) then forbids enabling controllers in its
			// cgroup.subtree_control, so no limit could ever be applied.
			s = filepath.Dir(s)
		}
		in := innerPath(cgroupsPath, id, s)
		if in == s && !strings.HasPrefix(cgroupsPath, "/") {
			return nil, fmt.Errorf("cgroupsPath %q names the caller's own cgroup", cgroupsPath)
		}
		d := dirOf(h, in)
		if d == h.mountpoint {
			return nil, fmt.Errorf("cgroupsPath %q names the root of the hierarchy at %s", cgroupsPath, h.mountpoint)
		}
		out = append(out, cgDir{h: h, path: d})
	}
	return out, nil
}
