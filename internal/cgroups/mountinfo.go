package cgroups

import (
	"bufio"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// hierarchy is one mounted cgroup hierarchy.
type hierarchy struct {
	// controllers are the v1 controllers (and "name=X" for a named
	// hierarchy) bound to this mount; empty for cgroup2.
	controllers []string
	// mountpoint is where the hierarchy is mounted.
	mountpoint string
	// mountRoot is the cgroup shown at mountpoint (field 4 of mountinfo):
	// "/" normally, deeper inside a cgroup namespace or for a bind mount.
	mountRoot string
	v2        bool
}

// key is the Paths() key of the hierarchy's first controller; "" for cgroup2.
func (h hierarchy) key() string {
	if h.v2 {
		return ""
	}
	return h.controllers[0]
}

// layout is the set of hierarchies found under Options.Root.
type layout struct {
	// v2 is true for a pure cgroup2 host (Root itself is cgroup2).
	v2 bool
	// hier holds the v1 hierarchies, then the cgroup2 one (v2, or hybrid's
	// unified mount) if any.
	hier []hierarchy
}

// v1Controllers are the names the kernel accepts as v1 mount options
// (kernel/cgroup/cgroup-v1.c parses controllers by name; everything else
// in the superblock options is a flag such as noprefix or xattr).
var v1Controllers = map[string]bool{
	"cpu": true, "cpuacct": true, "cpuset": true, "memory": true, "devices": true,
	"freezer": true, "net_cls": true, "net_prio": true, "blkio": true, "perf_event": true,
	"hugetlb": true, "pids": true, "rdma": true, "misc": true, "debug": true,
}

// parseLayout reads mountinfo and returns the cgroup hierarchies mounted
// under root. Root itself being cgroup2 means v2; otherwise every cgroup
// (v1) mount under root is a hierarchy and a cgroup2 mount under root is the
// unified hierarchy of the hybrid layout.
func parseLayout(r io.Reader, root string) (*layout, error) {
	root = filepath.Clean(root)
	l := &layout{}
	seen := map[string]bool{} // first mount of a hierarchy wins (later ones are bind mounts)
	var unified, rootV2 *hierarchy
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		m, ok := parseMountinfoLine(sc.Text())
		if !ok {
			continue
		}
		if m.fstype != "cgroup" && m.fstype != "cgroup2" {
			continue
		}
		if m.mountpoint != root && !strings.HasPrefix(m.mountpoint, root+"/") {
			continue
		}
		if m.fstype == "cgroup2" {
			h := hierarchy{mountpoint: m.mountpoint, mountRoot: m.root, v2: true}
			if m.mountpoint == root {
				// A later mount on the same point hides earlier ones.
				rootV2 = &h
			} else if unified == nil {
				unified = &h
			}
			continue
		}
		var ctrls []string
		for _, o := range strings.Split(m.superOpts, ",") {
			if v1Controllers[o] || strings.HasPrefix(o, "name=") {
				ctrls = append(ctrls, o)
			}
		}
		if len(ctrls) == 0 {
			continue
		}
		sort.Strings(ctrls)
		id := strings.Join(ctrls, ",")
		if seen[id] {
			continue
		}
		seen[id] = true
		l.hier = append(l.hier, hierarchy{controllers: ctrls, mountpoint: m.mountpoint, mountRoot: m.root})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read mountinfo: %w", err)
	}
	if rootV2 != nil {
		l.v2 = true
		l.hier = []hierarchy{*rootV2}
		return l, nil
	}
	if unified != nil {
		l.hier = append(l.hier, *unified)
	}
	if len(l.hier) == 0 {
		return nil, fmt.Errorf("no cgroup hierarchy mounted under %s", root)
	}
	return l, nil
}

type mountEntry struct {
	root, mountpoint, fstype, superOpts string
}

// parseMountinfoLine splits one proc(5) mountinfo line:
// id parent maj:min root mountpoint opts [optional...] - fstype source superopts
func parseMountinfoLine(line string) (mountEntry, bool) {
	f := strings.Fields(line)
	sep := -1
	for i := 6; i < len(f); i++ {
		if f[i] == "-" {
			sep = i
			break
		}
	}
	if sep < 0 {
		return mountEntry{}, false
	}
	e := mountEntry{root: unescapeMount(f[3]), mountpoint: unescapeMount(f[4])}
	if sep+1 < len(f) {
		e.fstype = f[sep+1]
	}
	if sep+3 < len(f) {
		e.superOpts = f[sep+3]
	}
	return e, true
}

// unescapeMount undoes the octal escapes (\040 for space, \011, \012, \134)
// the kernel's show_path/mangle applies to mountinfo paths.
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
