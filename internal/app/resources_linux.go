package app

import (
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/unha/unha/internal/specgen"
)

// resourceHost describes the host for the resource flags: the CPUs and
// memory nodes that are online (cpuset(7)), whether the kernel accounts
// swap and can disable the OOM killer per cgroup (as Docker's sysinfo
// finds out), and stat(2) for --device and --device-*-bps.
func resourceHost() specgen.ResourceHost {
	h := specgen.ResourceHost{
		NumCPU: runtime.NumCPU(),
		CPUs:   sysList("/sys/devices/system/cpu/online"),
		Mems:   sysList("/sys/devices/system/node/online"),
		Stat:   statNode,
	}
	mounts, err := cgroupMounts("/proc/self/mountinfo")
	if err != nil {
		return h
	}
	if m, ok := mounts["memory"]; ok {
		h.OOMControl = true
		_, err := os.Stat(filepath.Join(m.point, "memory.memsw.limit_in_bytes"))
		h.SwapLimit = err == nil
	} else if m, ok := mounts[""]; ok {
		// cgroup v2 accounts swap wherever the memory controller is
		// (memory.swap.max), as Docker's sysinfo assumes.
		ctrls, _ := os.ReadFile(filepath.Join(m.point, "cgroup.controllers"))
		h.SwapLimit = slices.Contains(strings.Fields(string(ctrls)), "memory")
	}
	return h
}

func sysList(p string) string {
	b, err := os.ReadFile(p)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// statNode follows symlinks, as Docker resolves --device paths.
func statNode(p string) (specgen.DeviceNode, error) {
	var st unix.Stat_t
	if err := unix.Stat(p, &st); err != nil {
		return specgen.DeviceNode{}, &fs.PathError{Op: "stat", Path: p, Err: err}
	}
	d := specgen.DeviceNode{Perm: fs.FileMode(st.Mode & 0o777), UID: st.Uid, GID: st.Gid}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFCHR:
		d.Type = "c"
	case unix.S_IFBLK:
		d.Type = "b"
	case unix.S_IFDIR:
		d.Dir = true
	}
	if d.Type != "" {
		d.Major, d.Minor = int64(unix.Major(st.Rdev)), int64(unix.Minor(st.Rdev))
	}
	return d, nil
}
