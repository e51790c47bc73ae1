package rootfs

import (
	"errors"
	"fmt"
	"os"

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
		f, err := openInRoot(a.root, op.Destination, 0, 0)
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
	var m masks
	defer m.close()
	for _, p := range linux.MaskedPaths {
		if err := a.maskPath(cleanPath(p), &m); err != nil {
			return fmt.Errorf("mask %s: %w", p, err)
		}
	}
	return nil
}

// masks holds what masking is done with, made once for all of
// maskedPaths: the empty read-only tmpfs on the first masked directory
// (the others get clones of that mount: read-only and empty, they have
// nothing to tell apart but their mount ids) and the container's checked
// /dev/null.
type masks struct {
	tmpfs, null *os.File
}

func (m *masks) close() {
	for _, f := range []*os.File{m.tmpfs, m.null} {
		if f != nil {
			f.Close()
		}
	}
}

// readonlyPath binds p onto itself read-only (runc's readonlyPath).
func (a *applier) readonlyPath(p string) error {
	f, err := openInRoot(a.root, p, 0, 0)
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
func (a *applier) maskPath(p string, m *masks) error {
	f, err := openInRoot(a.root, p, 0, 0)
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
		if m.tmpfs == nil {
			if m.tmpfs, err = a.createFS(op, nil); err != nil {
				return err
			}
			return a.attach(op, m.tmpfs, f)
		}
		// The next ones get a clone (open_tree) of the first, now
		// attached (kernels before 6.15 clone no detached mount), rather
		// than a superblock each; read-only again on the clone.
		op.Kind = KindBind
		return a.bindOnto(op, m.tmpfs, f)
	}
	if m.null == nil {
		if m.null, err = a.devNull(); err != nil {
			return err
		}
	}
	return a.bindOnto(MountOp{Index: -1, Kind: KindBind, Source: "/dev/null", Destination: p}, m.null, f)
}

// devNull opens the container's /dev/null and checks it is the null
// device: a container-made /dev/null symlink (CVE-2025-31133) would turn
// masking into binding an arbitrary file.
func (a *applier) devNull() (*os.File, error) {
	f, err := openInRoot(a.root, "/dev/null", 0, 0)
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
