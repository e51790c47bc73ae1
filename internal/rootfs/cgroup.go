package rootfs

import (
	"bufio"
	"fmt"
	"io"
	"path"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// cgroupHierarchy is a cgroup v1 hierarchy mounted on the host.
type cgroupHierarchy struct {
	Mountpoint string   // e.g. /sys/fs/cgroup/cpu,cpuacct
	Root       string   // the part of the hierarchy mounted there
	Subsystems []string // controllers, and name=X for named hierarchies
}

// hostCgroups is the host's cgroup layout as seen by init.
type hostCgroups struct {
	Unified           bool // /sys/fs/cgroup is a cgroup2 mount
	UnifiedMountpoint string
	UnifiedRoot       string
	V1                []cgroupHierarchy
	// Own maps each controller (and "" for v2) to init's cgroup path.
	Own map[string]string
}

// cgroupV1Opts are super options of a v1 cgroup mount that do not name a
// hierarchy.
var cgroupV1Opts = map[string]bool{
	"rw": true, "ro": true, "none": true, "xattr": true, "noprefix": true,
	"clone_children": true, "cpuset_v2_mode": true, "favordynmods": true, "nofavordynmods": true,
}

func cgroupHierarchies(mounts []mountInfo) []cgroupHierarchy {
	var out []cgroupHierarchy
	seen := map[string]bool{}
	for _, m := range mounts {
		if m.FSType != "cgroup" {
			continue
		}
		var subs []string
		for _, o := range strings.Split(m.SuperOpts, ",") {
			if o == "" || cgroupV1Opts[o] || strings.HasPrefix(o, "release_agent=") {
				continue
			}
			subs = append(subs, o)
		}
		key := strings.Join(subs, ",")
		if len(subs) == 0 || seen[key] {
			continue // a second mount of the same hierarchy
		}
		seen[key] = true
		out = append(out, cgroupHierarchy{Mountpoint: m.Mountpoint, Root: m.Root, Subsystems: subs})
	}
	return out
}

// parseProcCgroup reads /proc/self/cgroup ("id:controllers:path" lines)
// into controller -> path, with "" for the v2 line.
func parseProcCgroup(r io.Reader) (map[string]string, error) {
	out := map[string]string{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) != 3 {
			continue
		}
		if parts[1] == "" {
			out[""] = parts[2]
			continue
		}
		for _, c := range strings.Split(parts[1], ",") {
			out[c] = parts[2]
		}
	}
	return out, sc.Err()
}

// ownCgroupDir finds the host directory of the container's cgroup in h.
func ownCgroupDir(h cgroupHierarchy, host hostCgroups, paths map[string]string) (string, error) {
	for _, s := range h.Subsystems {
		for _, k := range []string{s, strings.TrimPrefix(s, "name=")} {
			if d := paths[k]; d != "" {
				if !within(filepath.Clean(d), h.Mountpoint) {
					return "", fmt.Errorf("cgroup path %q for %s is not inside %s", d, k, h.Mountpoint)
				}
				return filepath.Clean(d), nil
			}
		}
	}
	for _, s := range h.Subsystems {
		if p, ok := host.Own[s]; ok {
			return joinCgroup(h.Mountpoint, h.Root, p), nil
		}
	}
	return "", fmt.Errorf("cgroup hierarchy %s is not in /proc/self/cgroup", strings.Join(h.Subsystems, ","))
}

// joinCgroup maps a cgroup path to a directory under a mount of the
// hierarchy whose root is root. A path outside that root (init sees a
// bigger part of the hierarchy than is mounted) falls back to the mount
// itself, which is all the host exposes anyway.
func joinCgroup(mountpoint, root, p string) string {
	rel, err := filepath.Rel(root, p)
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		rel = "."
	}
	return filepath.Join(mountpoint, rel)
}

func within(p, dir string) bool {
	return p == dir || strings.HasPrefix(p, strings.TrimSuffix(dir, "/")+"/")
}

// cgroupV1Plan is runc's emulation of a "cgroup" mount on a v1 host: a
// tmpfs, one directory per hierarchy with the container's own cgroup
// bound onto it (or, in a cgroup namespace, the hierarchy mounted afresh,
// whose root is then the container's cgroup), and symlinks for co-mounted
// controllers (cpu -> cpu,cpuacct).
type cgroupV1Plan struct {
	Tmpfs    MountOp
	Subs     []MountOp
	Links    []devSymlink // relative to the tmpfs
	ReadOnly bool         // the tmpfs is made read-only once populated
}

const defaultMountAttr = unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV | unix.MOUNT_ATTR_NOEXEC

func planCgroupV1(op MountOp, host hostCgroups, paths map[string]string, cgroupns bool) (cgroupV1Plan, error) {
	pl := cgroupV1Plan{
		Tmpfs: MountOp{
			Index: op.Index, Kind: KindFS, Type: "tmpfs", Source: "tmpfs",
			Destination: op.Destination, Data: []string{"mode=755"},
			Attr: Attr{Set: defaultMountAttr}, Propagation: op.Propagation,
		},
		ReadOnly: op.Attr.Set&unix.MOUNT_ATTR_RDONLY != 0,
	}
	for _, h := range host.V1 {
		name := path.Base(h.Mountpoint)
		sub := MountOp{Index: op.Index, Destination: path.Join(op.Destination, name)}
		if cgroupns {
			// A fresh mount of the hierarchy; only per-mount flags, because
			// the superblock is the host's hierarchy itself.
			sub.Kind, sub.Type, sub.Source = KindFS, "cgroup", "cgroup"
			sub.Data = append([]string(nil), h.Subsystems...)
			sub.Attr = Attr{Set: defaultMountAttr | op.Attr.Set&unix.MOUNT_ATTR_RDONLY}
		} else {
			dir, err := ownCgroupDir(h, host, paths)
			if err != nil {
				return pl, err
			}
			sub.Kind, sub.Source, sub.Recursive = KindBind, dir, true
			sub.Attr, sub.RecAttr, sub.Propagation = op.Attr, op.RecAttr, op.Propagation
		}
		pl.Subs = append(pl.Subs, sub)
		if strings.Contains(name, ",") {
			for _, ss := range strings.Split(name, ",") {
				if ss != "" && ss != name {
					pl.Links = append(pl.Links, devSymlink{name: ss, target: name})
				}
			}
		}
	}
	return pl, nil
}

// planCgroupV2 is a cgroup2 mount, and the bind mount used when the kernel
// refuses it (EPERM/EBUSY: a user namespace without its own cgroup
// namespace). Like runc, the fallback binds the container's own cgroup
// only when there is a cgroup namespace to emulate, the whole hierarchy
// otherwise (which is what a cgroup2 mount without cgroupns shows).
func planCgroupV2(op MountOp, host hostCgroups, paths map[string]string, cgroupns bool) (MountOp, MountOp) {
	m := op
	m.Kind, m.Type = KindFS, "cgroup2"
	if m.Source == "" {
		m.Source = "cgroup2"
	}
	// Per-mount flags only: the superblock is the host's hierarchy.
	m.SbFlags = nil
	fb := MountOp{
		Index: op.Index, Kind: KindBind, Source: host.UnifiedMountpoint, Destination: op.Destination,
		Attr: op.Attr, RecAttr: op.RecAttr, Propagation: op.Propagation,
	}
	if cgroupns {
		if d := paths[""]; d != "" {
			fb.Source = filepath.Clean(d)
		} else if p, ok := host.Own[""]; ok {
			fb.Source = joinCgroup(host.UnifiedMountpoint, host.UnifiedRoot, p)
		}
	}
	return m, fb
}
