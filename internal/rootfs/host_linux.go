package rootfs

import (
	"bytes"
	"os"

	pathrs "github.com/cyphar/filepath-securejoin/pathrs-lite"
	"github.com/cyphar/filepath-securejoin/pathrs-lite/procfs"
	"golang.org/x/sys/unix"
)

// hostInfo is what init learns about the system it runs on, before
// pivot_root, from its own view of /proc.
type hostInfo struct {
	mounts  []mountInfo
	cgroups hostCgroups
	selinux bool // selinuxfs is mounted
	kcore   bool // /proc/kcore exists (CONFIG_PROC_KCORE)
}

// readProcSelf reads /proc/thread-self/<name> through pathrs-lite's procfs
// handle, which refuses a /proc that is not a real, unobstructed procfs.
func readProcSelf(name string) ([]byte, error) {
	proc, err := procfs.OpenProcRoot()
	if err != nil {
		return nil, err
	}
	defer proc.Close()
	h, closer, err := proc.OpenThreadSelf(name)
	if err != nil {
		return nil, err
	}
	defer closer()
	defer h.Close()
	// The handle is O_PATH; reopen it for reading (through the same safe
	// procfs).
	f, err := pathrs.Reopen(h, unix.O_RDONLY|unix.O_CLOEXEC)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var buf bytes.Buffer
	_, err = buf.ReadFrom(f)
	return buf.Bytes(), err
}

func readMountinfo() ([]mountInfo, error) {
	b, err := readProcSelf("mountinfo")
	if err != nil {
		return nil, err
	}
	return parseMountinfo(bytes.NewReader(b))
}

func readHostInfo() (*hostInfo, error) {
	mounts, err := readMountinfo()
	if err != nil {
		return nil, err
	}
	b, err := readProcSelf("cgroup")
	if err != nil {
		return nil, err
	}
	own, err := parseProcCgroup(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	h := &hostInfo{mounts: mounts}
	h.cgroups = hostCgroups{V1: cgroupHierarchies(mounts), Own: own}
	// runc's test for a unified host: /sys/fs/cgroup itself is cgroup2.
	var st unix.Statfs_t
	if unix.Statfs("/sys/fs/cgroup", &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
		h.cgroups.Unified, h.cgroups.UnifiedMountpoint, h.cgroups.UnifiedRoot = true, "/sys/fs/cgroup", "/"
		for _, m := range mounts {
			if m.Mountpoint == "/sys/fs/cgroup" && m.FSType == "cgroup2" {
				h.cgroups.UnifiedRoot = m.Root
			}
		}
	}
	for _, m := range mounts {
		h.selinux = h.selinux || m.FSType == "selinuxfs"
	}
	_, err = os.Stat("/proc/kcore")
	h.kcore = err == nil
	return h, nil
}
