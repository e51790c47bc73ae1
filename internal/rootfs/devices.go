package rootfs

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Device is one node to create in the container.
type Device struct {
	Path  string `json:"path"` // clean, absolute, inside the container
	Type  uint32 `json:"type"` // S_IFCHR, S_IFBLK or S_IFIFO
	Major int64  `json:"major"`
	Minor int64  `json:"minor"`
	Mode  uint32 `json:"mode"` // permission bits
	UID   uint32 `json:"uid"`
	GID   uint32 `json:"gid"`
}

// Dev is the node's device number.
func (d Device) Dev() uint64 { return unix.Mkdev(uint32(d.Major), uint32(d.Minor)) }

// defaultDevices are the nodes every container gets (runc's list; the
// runtime-spec requires them).
var defaultDevices = []Device{
	{Path: "/dev/null", Type: unix.S_IFCHR, Major: 1, Minor: 3, Mode: 0o666},
	{Path: "/dev/zero", Type: unix.S_IFCHR, Major: 1, Minor: 5, Mode: 0o666},
	{Path: "/dev/full", Type: unix.S_IFCHR, Major: 1, Minor: 7, Mode: 0o666},
	{Path: "/dev/random", Type: unix.S_IFCHR, Major: 1, Minor: 8, Mode: 0o666},
	{Path: "/dev/urandom", Type: unix.S_IFCHR, Major: 1, Minor: 9, Mode: 0o666},
	{Path: "/dev/tty", Type: unix.S_IFCHR, Major: 5, Minor: 0, Mode: 0o666},
}

// PlanDevices lists the default devices followed by linux.devices; a spec
// device replaces a default one with the same path.
func PlanDevices(spec *specs.Spec) ([]Device, error) {
	var extra []Device
	if spec.Linux != nil {
		for _, d := range spec.Linux.Devices {
			dev, err := planDevice(d)
			if err != nil {
				return nil, err
			}
			// /dev/ptmx is always the symlink to pts/ptmx: a host ptmx node
			// would allocate ptys on the host's devpts.
			if dev.Path == "/dev/ptmx" {
				continue
			}
			extra = append(extra, dev)
		}
	}
	out := make([]Device, 0, len(defaultDevices)+len(extra))
	for _, d := range defaultDevices {
		replaced := false
		for _, e := range extra {
			replaced = replaced || e.Path == d.Path
		}
		if !replaced {
			out = append(out, d)
		}
	}
	return append(out, extra...), nil
}

func planDevice(d specs.LinuxDevice) (Device, error) {
	dev := Device{Path: cleanPath(d.Path), Major: d.Major, Minor: d.Minor, Mode: 0o666}
	if d.Path == "" || dev.Path == "/" {
		return dev, fmt.Errorf("device %q: invalid path", d.Path)
	}
	switch d.Type {
	case "c", "u":
		dev.Type = unix.S_IFCHR
	case "b":
		dev.Type = unix.S_IFBLK
	case "p":
		dev.Type, dev.Major, dev.Minor = unix.S_IFIFO, 0, 0
	default:
		return dev, fmt.Errorf("device %s: invalid type %q", d.Path, d.Type)
	}
	if dev.Major < 0 || dev.Minor < 0 || dev.Major > 0xfff || dev.Minor > 0xfffff {
		return dev, fmt.Errorf("device %s: invalid number %d:%d", d.Path, d.Major, d.Minor)
	}
	if d.FileMode != nil {
		// Clients send either bare permissions or st_mode with the type
		// bits (8630 = S_IFCHR|0666); only the permissions are ours to use.
		dev.Mode = uint32(*d.FileMode) & 0o7777
	}
	if d.UID != nil {
		dev.UID = *d.UID
	}
	if d.GID != nil {
		dev.GID = *d.GID
	}
	return dev, nil
}

// devSymlink is a symlink created in the container's /dev.
type devSymlink struct{ name, target string }

// devSymlinks are the links every container gets. They point at
// /proc/self, not thread-self, because that is what distributions ship.
// /dev/core exists only when the kernel has /proc/kcore (CONFIG_PROC_KCORE).
func devSymlinks(kcore bool) []devSymlink {
	l := []devSymlink{
		{"fd", "/proc/self/fd"},
		{"stdin", "/proc/self/fd/0"},
		{"stdout", "/proc/self/fd/1"},
		{"stderr", "/proc/self/fd/2"},
	}
	if kcore {
		l = append(l, devSymlink{"core", "/proc/kcore"})
	}
	return l
}

// needsDev is runc's rule: /dev is populated unless it is bind-mounted
// from somewhere (then it already has whatever nodes it should have).
func needsDev(ops []MountOp) bool {
	for _, op := range ops {
		if op.Kind == KindBind && op.Destination == "/dev" {
			return false
		}
	}
	return true
}
