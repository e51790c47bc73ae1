package rootfs

import (
	"fmt"
	"os"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Prepare does everything before pivot_root, in init's new mount
// namespace: / becomes rslave (or linux.rootfsPropagation), root.path is
// bound onto itself, spec.mounts are performed in order, then /dev gets
// its default and configured nodes and symlinks. Without a mount
// namespace (Options.NoMountNS) it works in the caller's namespace as runc
// does, but leaves the propagation of the caller's / alone.
func Prepare(spec *specs.Spec, opts Options) error {
	return newApplier(kernel{}, opts).prepare(spec)
}

func (a *applier) prepare(spec *specs.Spec) error {
	ops, err := Plan(spec, a.opts)
	if err != nil {
		return err
	}
	devs, err := PlanDevices(spec)
	if err != nil {
		return err
	}
	rootfs := filepath.Clean(spec.Root.Path)
	a.cgroupns = hasNamespace(spec, specs.CgroupNamespace)
	var propStr string
	if spec.Linux != nil {
		propStr = spec.Linux.RootfsPropagation
	}
	prop, err := rootPropagation(propStr)
	if err != nil {
		return err
	}
	if !a.opts.NoMountNS {
		// First of all, so that nothing below can propagate to the host.
		if err := a.m.Mount("", "/", "", uintptr(prop), ""); err != nil {
			return fmt.Errorf("set propagation of /: %w", err)
		}
	}
	host, err := a.hostInfo()
	if err != nil {
		return err
	}
	if spec.Linux != nil && spec.Linux.MountLabel != "" && host.selinux {
		a.label = spec.Linux.MountLabel
	}
	if !a.opts.NoMountNS {
		if err := a.unshareParent(rootfs, host, prop); err != nil {
			return err
		}
	}
	// pivot_root needs the new root to be a mount; the recursive bind also
	// gives every later mount a parent that is ours.
	if err := a.m.Mount(rootfs, rootfs, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("bind rootfs %s: %w", rootfs, err)
	}
	if a.opts.NoMountNS {
		// In the caller's namespace: keep the container's mounts from
		// propagating anywhere else.
		if err := a.m.Mount("", rootfs, "", unix.MS_PRIVATE|unix.MS_REC, ""); err != nil {
			return err
		}
	}
	if err := a.setRoot(rootfs); err != nil {
		return err
	}
	defer func() { a.root.Close() }() // verify may replace a.root
	for _, op := range ops {
		if err := a.apply(op); err != nil {
			return fmt.Errorf("mount %s on %s: %w", op.Source, op.Destination, err)
		}
	}
	if needsDev(ops) {
		if err := a.setupDev(devs, host.kcore); err != nil {
			return err
		}
	}
	return nil
}

// unshareParent makes the mount holding the rootfs private (slave for a
// slave-like rootfsPropagation) when it is shared: pivot_root refuses a
// new root whose parent is shared, and the rootfs bind would otherwise
// propagate to the parent's peers.
func (a *applier) unshareParent(rootfs string, host *hostInfo, prop uint64) error {
	f, err := os.OpenFile(rootfs, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	id, err := a.m.MountID(f)
	if err != nil {
		return err
	}
	for _, m := range host.mounts {
		if m.ID != id {
			continue
		}
		if !m.shared() {
			return nil
		}
		flag := uintptr(unix.MS_PRIVATE)
		if prop&unix.MS_SLAVE != 0 {
			// runc#5192: keep receiving the host's mounts under the rootfs.
			flag = unix.MS_SLAVE
		}
		if err := a.m.Mount("", m.Mountpoint, "", flag, ""); err != nil {
			return fmt.Errorf("make parent mount of rootfs private: %w", err)
		}
		return nil
	}
	return fmt.Errorf("the mount holding %s (id %d) is not in mountinfo", rootfs, id)
}
