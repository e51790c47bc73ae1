package rootfs

import (
	"errors"
	"fmt"
	"os"
	"path"

	"golang.org/x/sys/unix"
)

// setupDev creates the device nodes, /dev/ptmx and the /dev symlinks.
func (a *applier) setupDev(devs []Device, kcore bool) error {
	dev, err := a.mkdirAll("/dev")
	if err != nil {
		return err
	}
	defer dev.Close()
	// The spec's fileMode is exact: no umask (process-wide, but init runs
	// nothing else concurrently that creates files).
	old := unix.Umask(0)
	defer unix.Umask(old)
	// Most nodes live in /dev itself: open each parent once.
	parents := map[string]*os.File{"/dev": dev}
	defer func() {
		for p, f := range parents {
			if p != "/dev" {
				f.Close()
			}
		}
	}()
	for _, d := range devs {
		dir := path.Dir(cleanPath(d.Path))
		parent, ok := parents[dir]
		if !ok {
			if parent, err = a.mkdirAll(dir); err != nil {
				return fmt.Errorf("create device %s: %w", d.Path, err)
			}
			parents[dir] = parent
		}
		if err := a.createDevice(parent, d); err != nil {
			return fmt.Errorf("create device %s: %w", d.Path, err)
		}
	}
	// /dev/ptmx must reach the container's own devpts, whatever the image
	// put there.
	if err := unix.Unlinkat(int(dev.Fd()), "ptmx", 0); errors.Is(err, unix.EISDIR) {
		err = unix.Unlinkat(int(dev.Fd()), "ptmx", unix.AT_REMOVEDIR)
		if err != nil {
			return &os.PathError{Op: "rmdir", Path: "/dev/ptmx", Err: err}
		}
	} else if err != nil && !errors.Is(err, unix.ENOENT) {
		return &os.PathError{Op: "unlink", Path: "/dev/ptmx", Err: err}
	}
	if err := unix.Symlinkat("pts/ptmx", int(dev.Fd()), "ptmx"); err != nil {
		return &os.PathError{Op: "symlink", Path: "/dev/ptmx", Err: err}
	}
	for _, l := range devSymlinks(kcore) {
		if err := unix.Symlinkat(l.target, int(dev.Fd()), l.name); err != nil && !errors.Is(err, unix.EEXIST) {
			return &os.PathError{Op: "symlink", Path: "/dev/" + l.name, Err: err}
		}
	}
	return nil
}

func (a *applier) createDevice(parent *os.File, d Device) error {
	name := path.Base(d.Path)
	if !a.opts.InUserNS {
		err := a.mknod(parent, name, d)
		if !errors.Is(err, unix.EPERM) {
			return err
		}
		// No CAP_MKNOD after all (we run in a user namespace nobody told
		// us about): bind the host's node, as runc does.
		a.log.Debug("mknod refused, binding the host device", "path", d.Path)
	}
	return a.bindDevice(parent, name, d)
}

// mknod creates the node. An existing node of the right kind is kept
// (runc); anything else is removed first, so a symlink planted at
// /dev/null is replaced, never written through.
func (a *applier) mknod(parent *os.File, name string, d Device) error {
	for range 3 {
		err := a.m.Mknod(parent, name, d.Type|d.Mode, d.Dev(), d.UID, d.GID)
		if !errors.Is(err, unix.EEXIST) {
			return err
		}
		var st unix.Stat_t
		if err := unix.Fstatat(int(parent.Fd()), name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			if errors.Is(err, unix.ENOENT) {
				continue
			}
			return &os.PathError{Op: "fstatat", Path: d.Path, Err: err}
		}
		switch {
		case st.Mode&unix.S_IFMT == d.Type && (d.Type == unix.S_IFIFO || st.Rdev == d.Dev()):
			return nil
		case st.Mode&unix.S_IFMT == unix.S_IFDIR:
			return &os.PathError{Op: "mknod", Path: d.Path, Err: unix.EISDIR}
		}
		if err := unix.Unlinkat(int(parent.Fd()), name, 0); err != nil && !errors.Is(err, unix.ENOENT) {
			return &os.PathError{Op: "unlink", Path: d.Path, Err: err}
		}
	}
	return &os.PathError{Op: "mknod", Path: d.Path, Err: unix.EEXIST}
}

// bindDevice binds the host's node at the same path onto an empty file,
// after checking that it is the device the spec describes.
func (a *applier) bindDevice(parent *os.File, name string, d Device) error {
	src, err := os.OpenFile(d.Path, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer src.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(src.Fd()), &st); err != nil {
		return &os.PathError{Op: "fstat", Path: d.Path, Err: err}
	}
	if st.Mode&unix.S_IFMT != d.Type || (d.Type != unix.S_IFIFO && st.Rdev != d.Dev()) {
		return fmt.Errorf("host %s is not the device %d:%d of the spec", d.Path, d.Major, d.Minor)
	}
	target, err := createFile(parent, name)
	if err != nil {
		return err
	}
	defer target.Close()
	return a.bindOnto(MountOp{Index: -1, Kind: KindBind, Source: d.Path, Destination: d.Path}, src, target)
}

// BindConsole binds the pty slave (opened from the container's devpts)
// onto <rootfs>/dev/console. The target is created as an empty file; a
// symlink there is removed, never followed. rootfs may be "/" after Enter.
func BindConsole(rootfs string, slave *os.File) error {
	return newApplier(kernel{}, Options{}).bindConsole(rootfs, slave)
}

func (a *applier) bindConsole(rootfs string, slave *os.File) error {
	var st unix.Stat_t
	if err := unix.Fstat(int(slave.Fd()), &st); err != nil {
		return &os.PathError{Op: "fstat", Path: slave.Name(), Err: err}
	}
	// UNIX98_PTY_SLAVE_MAJOR is 136, with up to 8 majors of slaves.
	if major := unix.Major(st.Rdev); st.Mode&unix.S_IFMT != unix.S_IFCHR || major < 136 || major > 143 {
		return fmt.Errorf("console %s is not a pty slave", slave.Name())
	}
	if t, err := a.m.FSType(slave); err != nil {
		return err
	} else if t != unix.DEVPTS_SUPER_MAGIC {
		return fmt.Errorf("console %s is not on a devpts", slave.Name())
	}
	if err := a.setRoot(rootfs); err != nil {
		return err
	}
	defer func() { a.root.Close() }() // verify may replace a.root
	dev, err := a.mkdirAll("/dev")
	if err != nil {
		return err
	}
	defer dev.Close()
	target, err := createFile(dev, "console")
	if err != nil {
		return err
	}
	defer target.Close()
	op := MountOp{Index: -1, Kind: KindBind, Source: slave.Name(), Destination: "/dev/console"}
	if err := a.bindOnto(op, slave, target); err != nil {
		return fmt.Errorf("bind console: %w", err)
	}
	return nil
}
