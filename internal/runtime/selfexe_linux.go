package runtime

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// sealedSelf returns a handle on the running binary that nobody can write
// through, from which init and exec helpers are started.
//
// CVE-2019-5736: a process in the container can open /proc/PID/exe of a
// runtime process that entered the container and, once that process is
// gone, write through it to the host's runtime binary. Two ways close it:
//   - a detached, read-only bind mount of the binary (open_tree +
//     mount_setattr): /proc/PID/exe then resolves through a read-only mount
//     that belongs to no mount table and vanishes with the last user, so a
//     write fails with EROFS. It costs two syscalls, which matters: this is
//     on every create and exec.
//   - where that is not allowed (no CAP_SYS_ADMIN: rootless), a sealed
//     memfd copy, F_SEAL_WRITE|GROW|SHRINK|SEAL, at the price of copying
//     the binary each time.
func sealedSelf() (*os.File, error) {
	if f, err := readonlySelf(); err == nil {
		return f, nil
	}
	return memfdSelf()
}

func readonlySelf() (*os.File, error) {
	fd, err := unix.OpenTree(unix.AT_FDCWD, "/proc/self/exe", unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("open_tree", err)
	}
	attr := &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV}
	if err := unix.MountSetattr(fd, "", unix.AT_EMPTY_PATH, attr); err != nil {
		unix.Close(fd)
		return nil, os.NewSyscallError("mount_setattr", err)
	}
	return os.NewFile(uintptr(fd), "unha-runtime (read-only)"), nil
}

func memfdSelf() (*os.File, error) {
	src, err := os.Open("/proc/self/exe")
	if err != nil {
		return nil, err
	}
	defer src.Close()
	fi, err := src.Stat()
	if err != nil {
		return nil, err
	}
	fd, err := unix.MemfdCreate("unha-runtime", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING|unix.MFD_EXEC)
	if err == unix.EINVAL {
		// MFD_EXEC arrived in 6.3; older kernels reject the flag.
		fd, err = unix.MemfdCreate("unha-runtime", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	}
	if err != nil {
		return nil, os.NewSyscallError("memfd_create", err)
	}
	mem := os.NewFile(uintptr(fd), "unha-runtime (sealed)")
	size := fi.Size()
	var off int64
	for off < size {
		// sendfile stays in the kernel: no copy of the binary through our
		// memory on the hot path.
		n, err := unix.Sendfile(fd, int(src.Fd()), &off, int(size-off))
		if err != nil {
			mem.Close()
			return nil, os.NewSyscallError("sendfile", err)
		}
		if n == 0 {
			break
		}
	}
	if off != size {
		mem.Close()
		return nil, fmt.Errorf("copy runtime binary: short copy %d of %d bytes", off, size)
	}
	const seals = unix.F_SEAL_SEAL | unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_ADD_SEALS, seals); err != nil {
		mem.Close()
		return nil, os.NewSyscallError("fcntl F_ADD_SEALS", err)
	}
	return mem, nil
}
