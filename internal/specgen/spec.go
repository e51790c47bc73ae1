package specgen

import (
	"errors"
	"fmt"
	"path"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/unha/unha/internal/spec"
)

// Network modes. "none" (a new network namespace with only lo) is the
// default until unha has networking; Docker's default is a bridge.
const (
	NetworkNone = "none"
	NetworkHost = "host"
)

// DefaultPath is the PATH Docker gives a container whose image sets none.
const DefaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// DefaultCaps is Docker's default capability set (moby's
// oci/caps.DefaultCapabilities): what a typical image's package scripts
// need, without CAP_SYS_ADMIN, CAP_NET_ADMIN or anything that reaches the
// host kernel.
var DefaultCaps = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
	"CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
	"CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
}

// Options is one container, already resolved by the caller: the user and
// the environment are final, paths are absolute.
type Options struct {
	Root        string // root.path: an absolute directory
	ReadOnly    bool   // --read-only
	Args        []string
	Env         []string
	Cwd         string // absolute; "" means /
	User        specs.User
	TTY         bool       // -t
	ConsoleSize *specs.Box // initial pty size with TTY
	Hostname    string
	Network     string        // NetworkNone ("" too) or NetworkHost
	Mounts      []specs.Mount // the image's own mounts, after the standard ones
	Security    Security      // capabilities, seccomp, --privileged, --security-opt
	Resources   *ResourceSpec // limits and host devices (Resources.Spec); nil for none
	// UserNS, when set, runs the container in a user namespace of its own
	// with these maps: rootless unha maps the caller to root (RootlessUserNS).
	UserNS *UserNS
}

// UserNS are the maps of a container's user namespace.
type UserNS struct {
	UIDMappings, GIDMappings []specs.LinuxIDMapping
}

// RootlessUserNS maps an unprivileged caller's uid and gid to root, the
// one mapping it may write without newuidmap: the container's root is the
// caller, and no other id exists inside.
func RootlessUserNS(uid, gid uint32) *UserNS {
	return &UserNS{
		UIDMappings: []specs.LinuxIDMapping{{ContainerID: 0, HostID: uid, Size: 1}},
		GIDMappings: []specs.LinuxIDMapping{{ContainerID: 0, HostID: gid, Size: 1}},
	}
}

// mapsID reports whether container id is mapped.
func mapsID(maps []specs.LinuxIDMapping, id uint32) bool {
	for _, m := range maps {
		if id >= m.ContainerID && id-m.ContainerID < m.Size {
			return true
		}
	}
	return false
}

// Generate returns the spec for o, or an error naming the option that
// cannot be honoured.
func Generate(o Options) (*specs.Spec, error) {
	if !path.IsAbs(o.Root) {
		return nil, fmt.Errorf("root %q is not an absolute path", o.Root)
	}
	if len(o.Args) == 0 || o.Args[0] == "" {
		return nil, errors.New("no command given")
	}
	cwd := o.Cwd
	if cwd == "" {
		cwd = "/"
	}
	// Docker's wording: `docker run -w rel` fails with this.
	if !path.IsAbs(cwd) {
		return nil, fmt.Errorf("the working directory %q is invalid, it needs to be an absolute path", o.Cwd)
	}
	ns := []specs.LinuxNamespace{
		{Type: specs.PIDNamespace}, {Type: specs.IPCNamespace}, {Type: specs.UTSNamespace},
		{Type: specs.MountNamespace}, {Type: specs.CgroupNamespace},
	}
	switch o.Network {
	case "", NetworkNone:
		ns = append(ns, specs.LinuxNamespace{Type: specs.NetworkNamespace})
	case NetworkHost:
	default:
		return nil, fmt.Errorf("network %q is not supported: use %q or %q", o.Network, NetworkNone, NetworkHost)
	}

	capNames, err := capList(o.Security)
	if err != nil {
		return nil, err
	}
	caps := &specs.LinuxCapabilities{Bounding: clone(capNames)}
	// A non-root user gets no effective or permitted capabilities, as in
	// Docker 20.10+ (CVE-2022-24769): otherwise `-u 1000` would still hold
	// CAP_DAC_OVERRIDE and friends after the runtime's setuid.
	if o.User.UID == 0 {
		caps.Effective = clone(capNames)
		caps.Permitted = clone(capNames)
	}
	proc := &specs.Process{
		Terminal:     o.TTY,
		User:         o.User,
		Args:         clone(o.Args),
		Env:          clone(o.Env),
		Cwd:          path.Clean(cwd),
		Capabilities: caps,
	}
	if o.TTY && o.ConsoleSize != nil {
		b := *o.ConsoleSize
		proc.ConsoleSize = &b
	}
	mounts := append(StandardMounts(), o.Mounts...)
	s := &specs.Spec{
		Version:  specs.Version,
		Root:     &specs.Root{Path: o.Root, Readonly: o.ReadOnly},
		Process:  proc,
		Hostname: o.Hostname,
		Mounts:   mounts,
		Linux: &specs.Linux{
			Namespaces:    ns,
			Resources:     &specs.LinuxResources{Devices: DeviceRules()},
			MaskedPaths:   clone(spec.DefaultMaskedPaths),
			ReadonlyPaths: clone(spec.DefaultReadonlyPaths),
		},
	}
	if u := o.UserNS; u != nil {
		if !mapsID(u.UIDMappings, o.User.UID) || !mapsID(u.GIDMappings, o.User.GID) {
			return nil, fmt.Errorf("user %d:%d does not exist in the container's user namespace (only the mapped ids do: rootless, that is root)", o.User.UID, o.User.GID)
		}
		s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
		s.Linux.UIDMappings, s.Linux.GIDMappings = u.UIDMappings, u.GIDMappings
		for i, m := range s.Mounts {
			// devpts refuses a gid= that the user namespace does not map.
			if m.Type == "devpts" && !mapsID(u.GIDMappings, 5) {
				var opts []string
				for _, opt := range m.Options {
					if opt != "gid=5" {
						opts = append(opts, opt)
					}
				}
				s.Mounts[i].Options = opts
			}
		}
	}
	applyResources(s, o.Resources)
	// Last: the seccomp profile depends on the final capabilities.
	if err := applySecurity(s, o.Security); err != nil {
		return nil, err
	}
	return s, nil
}

// StandardMounts are the kernel filesystems every container gets, with
// Docker's options.
func StandardMounts() []specs.Mount {
	return []specs.Mount{
		{Destination: "/proc", Type: "proc", Source: "proc", Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
		{Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}},
		{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", "ro"}},
		{Destination: "/dev/mqueue", Type: "mqueue", Source: "mqueue", Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/dev/shm", Type: "tmpfs", Source: "shm", Options: []string{"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
	}
}

// DeviceRules is Docker's device cgroup: deny everything, allow mknod of
// any node (harmless without access) and the devices every runtime creates
// in /dev. Listed explicitly rather than left to the runtime, which need
// not add them.
func DeviceRules() []specs.LinuxDeviceCgroup {
	dev := func(major int64, minor *int64) specs.LinuxDeviceCgroup {
		return specs.LinuxDeviceCgroup{Allow: true, Type: "c", Major: &major, Minor: minor, Access: "rwm"}
	}
	n := func(v int64) *int64 { return &v }
	return []specs.LinuxDeviceCgroup{
		{Allow: false, Access: "rwm"},
		{Allow: true, Type: "c", Access: "m"},
		{Allow: true, Type: "b", Access: "m"},
		dev(1, n(3)), dev(1, n(5)), dev(1, n(7)), dev(1, n(8)), dev(1, n(9)), // null zero full random urandom
		dev(5, n(0)), dev(5, n(2)), dev(136, nil), // tty ptmx pts/*
	}
}

func clone(s []string) []string { return append([]string(nil), s...) }
