package rootfs

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	securejoin "github.com/cyphar/filepath-securejoin"
	pathrs "github.com/cyphar/filepath-securejoin/pathrs-lite"
	"github.com/cyphar/filepath-securejoin/pathrs-lite/procfs"
	"golang.org/x/sys/unix"
)

// openDest resolves a mount destination inside the root and returns a
// handle on it and the path it leads to in the container, creating it
// when missing: a directory, or an empty file when a file is to be bound
// there. Symlinks are followed but can never leave the root (openat2
// RESOLVE_IN_ROOT resolves them as if root were "/").
func (a *applier) openDest(dest string, dir bool) (f *os.File, cpath string, created bool, err error) {
	f, err = openInRoot(a.root, dest, unix.RESOLVE_NO_SYMLINKS, 0)
	switch {
	case err == nil:
		cpath = cleanPath(dest)
	case errors.Is(err, unix.ENOENT):
		// No symlink on the way to what is missing (typically /dev/pts,
		// /dev/shm and /dev/mqueue in the fresh /dev): make it in place.
		if f, ok, err := a.createPlain(dest, dir); ok || err != nil {
			return f, cleanPath(dest), err == nil, err
		}
	case errors.Is(err, unix.ELOOP):
		f, cpath, err = a.followed(dest, 0)
	}
	if err == nil {
		isDir, err := isDirFile(f)
		if err != nil || isDir != dir {
			f.Close()
			if err == nil {
				err = map[bool]error{true: unix.ENOTDIR, false: unix.EISDIR}[dir]
			}
			return nil, "", false, &os.PathError{Op: "open mount destination", Path: dest, Err: err}
		}
		return f, cpath, false, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, "", false, err
	}
	rel := a.lexical(dest)
	if dir {
		f, err = pathrs.MkdirAllHandle(a.root, rel, 0o755)
	} else {
		var parent *os.File
		if parent, err = pathrs.MkdirAllHandle(a.root, path.Dir(rel), 0o755); err != nil {
			return nil, "", false, err
		}
		defer parent.Close()
		f, err = createFile(parent, path.Base(rel))
	}
	if err != nil {
		return nil, "", false, err
	}
	if cpath, err = a.containerPath(f); err != nil {
		f.Close()
		return nil, "", false, err
	}
	return f, cpath, true, nil
}

// lexical resolves the symlinks of a path that does not exist (yet) the
// way they will resolve inside the root, so that what a dangling symlink
// names (/etc/resolv.conf -> ../run/x, /dev -> /somewhere) is created
// inside the root; pathrs-lite's MkdirAll refuses dangling symlinks. The
// resolution can race, but it only picks which path inside the root to
// create: everything after it goes through handles below the root.
func (a *applier) lexical(p string) string {
	if a.rootPath == "" {
		return p
	}
	j, err := securejoin.SecureJoin(a.rootPath, p)
	if err != nil {
		return p
	}
	r, err := filepath.Rel(a.rootPath, j)
	if err != nil || r == ".." || strings.HasPrefix(r, "../") {
		return p
	}
	return cleanPath(r)
}

// mkdirAll returns a handle on directory p inside the root, creating it
// and any missing parents.
func (a *applier) mkdirAll(p string) (*os.File, error) {
	if f, err := openInRoot(a.root, p, unix.RESOLVE_NO_SYMLINKS, unix.O_DIRECTORY); err == nil {
		return f, nil
	}
	return pathrs.MkdirAllHandle(a.root, a.lexical(p), 0o755)
}

// createFile returns an O_PATH handle on dir/name, creating an empty
// regular file there if it does not exist. A symlink in the way is
// removed, never followed (anything else that is not a directory can be
// mounted over as it is).
func createFile(dir *os.File, name string) (*os.File, error) {
	for range 3 {
		var st unix.Stat_t
		err := unix.Fstatat(int(dir.Fd()), name, &st, unix.AT_SYMLINK_NOFOLLOW)
		switch {
		case errors.Is(err, unix.ENOENT):
			fd, err := unix.Openat(int(dir.Fd()), name, unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_WRONLY|unix.O_CLOEXEC, 0o644)
			if errors.Is(err, unix.EEXIST) {
				continue // somebody raced us; look again
			}
			if err != nil {
				return nil, &os.PathError{Op: "create", Path: dir.Name() + "/" + name, Err: err}
			}
			unix.Close(fd)
		case err != nil:
			return nil, &os.PathError{Op: "fstatat", Path: dir.Name() + "/" + name, Err: err}
		case st.Mode&unix.S_IFMT == unix.S_IFDIR:
			return nil, &os.PathError{Op: "create", Path: dir.Name() + "/" + name, Err: unix.EISDIR}
		case st.Mode&unix.S_IFMT == unix.S_IFLNK:
			if err := unix.Unlinkat(int(dir.Fd()), name, 0); err != nil && !errors.Is(err, unix.ENOENT) {
				return nil, &os.PathError{Op: "unlinkat", Path: dir.Name() + "/" + name, Err: err}
			}
			continue
		}
		f, err := openNoFollow(dir, name, unix.O_PATH)
		if err != nil {
			return nil, err
		}
		var fst unix.Stat_t
		if err := unix.Fstat(int(f.Fd()), &fst); err != nil || fst.Mode&unix.S_IFMT == unix.S_IFLNK || fst.Mode&unix.S_IFMT == unix.S_IFDIR {
			f.Close()
			continue // swapped under us
		}
		return f, nil
	}
	return nil, &os.PathError{Op: "create", Path: dir.Name() + "/" + name, Err: unix.EAGAIN}
}

func openNoFollow(dir *os.File, name string, flags int) (*os.File, error) {
	fd, err := unix.Openat(int(dir.Fd()), name, flags|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "openat", Path: dir.Name() + "/" + name, Err: err}
	}
	return os.NewFile(uintptr(fd), dir.Name()+"/"+name), nil
}

// openRealDir is for procfs and sysfs: their destination must be a real
// directory reached without any symlink, or a mount "on /proc" could be
// sent elsewhere by the image (CVE-2019-19921, runc's
// "must be mounted on ordinary directory").
func (a *applier) openRealDir(dest, what string) (*os.File, string, bool, error) {
	how := unix.OpenHow{
		Flags:   unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS,
	}
	created := false
	for {
		fd, err := unix.Openat2(int(a.root.Fd()), dest, &how)
		switch {
		case err == nil:
			// No symlink on the way: the path is the one asked for.
			return os.NewFile(uintptr(fd), dest), cleanPath(dest), created, nil
		case errors.Is(err, unix.ENOENT) && !created:
			d, err := pathrs.MkdirAllHandle(a.root, dest, 0o755)
			if err != nil {
				return nil, "", false, err
			}
			d.Close()
			created = true
		case errors.Is(err, unix.ELOOP), errors.Is(err, unix.ENOTDIR), errors.Is(err, unix.EXDEV):
			return nil, "", false, fmt.Errorf("%s must be mounted on an ordinary directory: %w",
				what, &os.PathError{Op: "openat2", Path: dest, Err: err})
		default:
			return nil, "", false, &os.PathError{Op: "openat2", Path: dest, Err: err}
		}
	}
}

// containerPath turns a handle below the root into the path the container
// will see, from the kernel's own record of where it is.
func (a *applier) containerPath(f *os.File) (string, error) {
	p, err := procfs.ProcSelfFdReadlink(f)
	if err != nil {
		return "", err
	}
	if !within(p, a.rootReal) {
		return "", fmt.Errorf("%s resolved to %s, outside the rootfs %s", f.Name(), p, a.rootReal)
	}
	return cleanPath(strings.TrimPrefix(p, a.rootReal)), nil
}

func isDirFile(f *os.File) (bool, error) {
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return false, &os.PathError{Op: "fstat", Path: f.Name(), Err: err}
	}
	return st.Mode&unix.S_IFMT == unix.S_IFDIR, nil
}
