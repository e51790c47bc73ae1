package rootfs

import (
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// copyUp copies the directory a tmpfs is about to cover into the new,
// still detached tmpfs (runc's "tmpcopyup"). The source is the image's,
// so nothing in it is followed: symlinks are copied as symlinks, every
// open is O_NOFOLLOW relative to a directory handle. Ownership, modes and
// times are kept; hard links, xattrs and sockets are not.
func copyUp(src, dst *os.File) error {
	s, err := unix.Openat(int(src.Fd()), ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: src.Name(), Err: err}
	}
	d, err := unix.Openat(int(dst.Fd()), ".", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		unix.Close(s)
		return &os.PathError{Op: "open", Path: dst.Name(), Err: err}
	}
	defer unix.Close(d)
	return copyDir(s, d, src.Name())
}

// copyDir copies the entries of directory s into directory d; it closes s.
func copyDir(s, d int, name string) error {
	dir := os.NewFile(uintptr(s), name)
	defer dir.Close()
	entries, err := dir.ReadDir(-1)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := copyEntry(s, d, e.Name(), name+"/"+e.Name()); err != nil {
			return err
		}
	}
	return nil
}

func copyEntry(s, d int, n, name string) error {
	var st unix.Stat_t
	if err := unix.Fstatat(s, n, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return &os.PathError{Op: "lstat", Path: name, Err: err}
	}
	perm := st.Mode & 0o7777
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		if err := unix.Mkdirat(d, n, 0o700); err != nil {
			return &os.PathError{Op: "mkdir", Path: name, Err: err}
		}
		sub, err := unix.Openat(s, n, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return &os.PathError{Op: "open", Path: name, Err: err}
		}
		dsub, err := unix.Openat(d, n, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			unix.Close(sub)
			return &os.PathError{Op: "open", Path: name, Err: err}
		}
		err = copyDir(sub, dsub, name)
		unix.Close(dsub)
		if err != nil {
			return err
		}
	case unix.S_IFREG:
		if err := copyFile(s, d, n, name, perm); err != nil {
			return err
		}
	case unix.S_IFLNK:
		target, err := readlinkat(s, n)
		if err != nil {
			return &os.PathError{Op: "readlink", Path: name, Err: err}
		}
		if err := unix.Symlinkat(target, d, n); err != nil {
			return &os.PathError{Op: "symlink", Path: name, Err: err}
		}
	case unix.S_IFCHR, unix.S_IFBLK, unix.S_IFIFO:
		if err := unix.Mknodat(d, n, st.Mode, int(st.Rdev)); err != nil {
			return &os.PathError{Op: "mknod", Path: name, Err: err}
		}
	default:
		return nil // sockets belong to whoever bound them
	}
	// Owner before mode: chown clears set-id bits. The new tree is detached
	// and only ours, so following nothing but our own entries is safe.
	if err := unix.Fchownat(d, n, int(st.Uid), int(st.Gid), unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return &os.PathError{Op: "chown", Path: name, Err: err}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFLNK {
		if err := unix.Fchmodat(d, n, perm, 0); err != nil {
			return &os.PathError{Op: "chmod", Path: name, Err: err}
		}
	}
	ts := []unix.Timespec{st.Atim, st.Mtim}
	if err := unix.UtimesNanoAt(d, n, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return &os.PathError{Op: "utimes", Path: name, Err: err}
	}
	return nil
}

func copyFile(s, d int, n, name string, perm uint32) error {
	in, err := unix.Openat(s, n, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: name, Err: err}
	}
	src := os.NewFile(uintptr(in), name)
	defer src.Close()
	out, err := unix.Openat(d, n, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, perm&0o777)
	if err != nil {
		return &os.PathError{Op: "create", Path: name, Err: err}
	}
	dst := os.NewFile(uintptr(out), name)
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return fmt.Errorf("copy %s: %w", name, err)
	}
	return dst.Close()
}

func readlinkat(dir int, name string) (string, error) {
	for size := 256; size <= 1<<16; size *= 2 {
		buf := make([]byte, size)
		n, err := unix.Readlinkat(dir, name, buf)
		if err != nil {
			return "", err
		}
		if n < size {
			return string(buf[:n]), nil
		}
	}
	return "", errors.New("symlink target too long")
}
