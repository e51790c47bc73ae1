package rootfs

import (
	"errors"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// Enter makes rootfs the process's root and leaves the cwd at "/":
// pivot_root and detach the old root; with NoPivot, MS_MOVE the rootfs
// onto / and chroot; without a mount namespace, only chroot. Afterwards
// stdio fds open on the host's /dev/null are reopened on the container's.
func Enter(rootfs string, opts Options) error {
	return newApplier(kernel{}, opts).enter(rootfs)
}

func (a *applier) enter(rootfs string) error {
	var err error
	switch {
	case a.opts.NoMountNS:
		err = a.chroot(rootfs)
	case a.opts.NoPivot:
		err = a.moveRoot(rootfs)
	default:
		err = a.pivot(rootfs)
	}
	if err != nil {
		return err
	}
	reopenDevNull()
	return nil
}

func (a *applier) pivot(rootfs string) error {
	oldroot, err := os.OpenFile("/", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer oldroot.Close()
	newroot, err := os.OpenFile(rootfs, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer newroot.Close()
	if err := unix.Fchdir(int(newroot.Fd())); err != nil {
		return &os.PathError{Op: "fchdir", Path: rootfs, Err: err}
	}
	// pivot_root(".", ".") stacks the old root on top of the new one, so no
	// directory for it is needed in the rootfs (pivot_root(2), from LXC).
	if err := a.m.PivotRoot(".", "."); err != nil {
		return err
	}
	if err := unix.Fchdir(int(oldroot.Fd())); err != nil {
		return &os.PathError{Op: "fchdir", Path: "old root", Err: err}
	}
	// rslave before detaching: the unmount must not travel to the host
	// through shared peers (rprivate would race with host tools holding
	// references, runc found).
	if err := a.m.Mount("", ".", "", unix.MS_SLAVE|unix.MS_REC, ""); err != nil {
		return err
	}
	if err := a.m.Unmount(".", unix.MNT_DETACH); err != nil {
		return err
	}
	return chdir("/")
}

// moveRoot is --no-pivot. With chroot the old root stays reachable in the
// namespace, and the kernel lets a container mount procfs or sysfs as long
// as a fully visible one exists there, so first the host's full procfs and
// sysfs mounts are detached (or covered when that is refused), as runc does.
func (a *applier) moveRoot(rootfs string) error {
	real, err := filepath.EvalSymlinks(rootfs)
	if err != nil {
		return err
	}
	mounts, err := readMountinfo()
	if err != nil {
		return err
	}
	for _, m := range mounts {
		if m.Root != "/" || (m.FSType != "proc" && m.FSType != "sysfs") || within(m.Mountpoint, real) {
			continue
		}
		if err := a.m.Mount("", m.Mountpoint, "", unix.MS_SLAVE|unix.MS_REC, ""); err != nil {
			if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.EINVAL) {
				continue // already gone with a parent we detached
			}
			return err
		}
		if err := a.m.Unmount(m.Mountpoint, unix.MNT_DETACH); err != nil {
			if !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.EPERM) {
				return err
			}
			if err := a.m.Mount("tmpfs", m.Mountpoint, "tmpfs", 0, ""); err != nil {
				return err
			}
		}
	}
	if err := chdir(rootfs); err != nil {
		return err
	}
	if err := a.m.Mount(rootfs, "/", "", unix.MS_MOVE, ""); err != nil {
		return err
	}
	return a.chrootDot()
}

func (a *applier) chroot(rootfs string) error {
	if err := chdir(rootfs); err != nil {
		return err
	}
	return a.chrootDot()
}

func (a *applier) chrootDot() error {
	if err := a.m.Chroot("."); err != nil {
		return err
	}
	return chdir("/")
}

func chdir(p string) error {
	if err := unix.Chdir(p); err != nil {
		return &os.PathError{Op: "chdir", Path: p, Err: err}
	}
	return nil
}

// reopenDevNull points stdio fds that are open on the host's /dev/null at
// the container's, so the container holds no handle on the host's /dev.
// It is best effort: a container without /dev/null keeps what it has.
func reopenDevNull() {
	root, err := unix.Open("/", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return
	}
	defer unix.Close(root)
	how := unix.OpenHow{
		Flags:   unix.O_RDWR | unix.O_CLOEXEC | unix.O_NOFOLLOW,
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS,
	}
	fd, err := unix.Openat2(root, "dev/null", &how)
	if err != nil {
		return
	}
	defer unix.Close(fd)
	var null unix.Stat_t
	if unix.Fstat(fd, &null) != nil || null.Mode&unix.S_IFMT != unix.S_IFCHR || null.Rdev != unix.Mkdev(1, 3) {
		return
	}
	for i := 0; i < 3; i++ {
		var st unix.Stat_t
		if unix.Fstat(i, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFCHR && st.Rdev == null.Rdev &&
			(st.Dev != null.Dev || st.Ino != null.Ino) {
			_ = unix.Dup3(fd, i, 0)
		}
	}
}
