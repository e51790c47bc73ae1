package rootfs

import (
	"errors"
	"fmt"
	"os"

	pathrs "github.com/cyphar/filepath-securejoin/pathrs-lite"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Finish runs after Enter (and after sysctls, which write to /proc/sys):
// it applies linux.rootfsPropagation to the new /, makes the delayed
// read-only mounts read-only, then root.readonly, readonlyPaths and
// maskedPaths. Read-only is set with mount_setattr, which changes that one
// flag and keeps every other flag of the mount, including the ones locked
// in a user namespace.
func Finish(spec *specs.Spec, opts Options) error {
	return newApplier(kernel{}, opts).finish(spec, "/")
}

// finish works below root, which is "/" except in the fake tests.
func (a *applier) finish(spec *specs.Spec, root string) error {
	ops, err := Plan(spec, a.opts)
	if err != nil {
		return err
	}
	if err := a.setRoot(root); err != nil {
		return err
	}
	defer func() { a.root.Close() }() // verify may replace a.root
	var linux specs.Linux
	if spec.Linux != nil {
		linux = *spec.Linux
	}
	if !a.opts.NoMountNS && linux.RootfsPropagation != "" {
		// It must be set on the new root, which did not exist as / before.
		prop, err := rootPropagation(linux.RootfsPropagation)
		if err != nil {
			return err
		}
		if err := a.m.Mount("", a.rootPath, "", uintptr(prop), ""); err != nil {
			return fmt.Errorf("set propagation of /: %w", err)
		}
	}
	ro := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}
	for _, op := range ops {
		if !op.DelayRO {
			continue
		}
		f, err := pathrs.OpenatInRoot(a.root, op.Destination)
		if err != nil {
			return fmt.Errorf("make %s read-only: %w", op.Destination, err)
		}
		err = a.m.SetAttr(f, false, ro)
		f.Close()
		if err != nil {
			return fmt.Errorf("make %s read-only: %w", op.Destination, err)
		}
	}
	if spec.Root != nil && spec.Root.Readonly {
		if err := a.m.SetAttr(a.root, false, ro); err != nil {
			return fmt.Errorf("make / read-only: %w", err)
		}
	}
	for _, p := range linux.ReadonlyPaths {
		if err := a.readonlyPath(cleanPath(p)); err != nil {
			return fmt.Errorf("make %s read-only: %w", p, err)
		}
	}
	for _, p := range linux.MaskedPaths {
		if err := a.maskPath(cleanPath(p)); err != nil {
			return fmt.Errorf("mask %s: %w", p, err)
		}
	}
	return nil
}

// readonlyPath binds p onto itself read-only (runc's readonlyPath).
func (a *applier) readonlyPath(p string) error {
	f, err := pathrs.OpenatInRoot(a.root, p)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	op := MountOp{Index: -1, Kind: KindBind, Source: p, Destination: p, Recursive: true,
		Attr: Attr{Set: unix.MOUNT_ATTR_RDONLY}}
	return a.bindOnto(op, f, f)
}

// maskPath covers a directory with an empty read-only tmpfs and anything
// else with the container's /dev/null.
func (a *applier) maskPath(p string) error {
	f, err := pathrs.OpenatInRoot(a.root, p)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	dir, err := isDirFile(f)
	if err != nil {
		return err
	}
	if dir {
		op := MountOp{Index: -1, Kind: KindFS, Type: "tmpfs", Source: "tmpfs", Destination: p,
			SbFlags: []string{"ro"}, Attr: Attr{Set: unix.MOUNT_ATTR_RDONLY}}
		mnt, err := a.createFS(op, nil)
		if err != nil {
			return err
		}
		defer mnt.Close()
		return a.attach(op, mnt, f)
	}
	null, err := a.devNull()
	if err != nil {
		return err
	}
	defer null.Close()
	return a.bindOnto(MountOp{Index: -1, Kind: KindBind, Source: "/dev/null", Destination: p}, null, f)
}

// devNull opens the container's /dev/null and checks it is the null
// device: a container-made /dev/null symlink (CVE-2025-31133) would turn
// masking into binding an arbitrary file.
func (a *applier) devNull() (*os.File, error) {
	f, err := pathrs.OpenatInRoot(a.root, "/dev/null")
	if err != nil {
		return nil, err
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		f.Close()
		return nil, &os.PathError{Op: "fstat", Path: "/dev/null", Err: err}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFCHR || st.Rdev != unix.Mkdev(1, 3) {
		f.Close()
		return nil, errors.New("/dev/null in the container is not the null device")
	}
	return f, nil
}
