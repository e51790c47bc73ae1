package rootfs

import (
	"os"
	"path"

	"golang.org/x/sys/unix"
)

// openInRoot opens p below root as openat2(2) resolves it with
// RESOLVE_IN_ROOT: ".." and absolute symlinks cannot climb out of root
// (the kernel checks the walk itself and fails with EAGAIN or EXDEV when a
// rename or mount races with it), and magic links such as /proc/self/root
// are refused. This is the lookup pathrs-lite's OpenatInRoot makes on any
// kernel with openat2; pathrs-lite then reads /proc/self/fd/N back only to
// give the *os.File its real name, eight more syscalls per lookup that the
// apply step, which asks for the path when it needs it (containerPath),
// does not want. extra adds RESOLVE_* flags (RESOLVE_NO_SYMLINKS) and flags
// adds O_* flags (O_DIRECTORY) to O_PATH|O_CLOEXEC.
func openInRoot(root *os.File, p string, extra uint64, flags int) (*os.File, error) {
	how := unix.OpenHow{
		Flags:   uint64(unix.O_PATH | unix.O_CLOEXEC | flags),
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS | extra,
	}
	var err error
	// Bounded retries, as pathrs-lite does: a spurious EAGAIN comes from
	// any mount or rename on the system, a persistent one from an attack.
	for range 128 {
		var fd int
		fd, err = unix.Openat2(int(root.Fd()), p, &how)
		if err == nil {
			return os.NewFile(uintptr(fd), path.Join(root.Name(), p)), nil
		}
		if err != unix.EAGAIN && err != unix.EXDEV {
			break
		}
	}
	return nil, &os.PathError{Op: "openat2", Path: p, Err: err}
}

// followed opens dest below the root following symlinks (inside it) and
// asks the kernel where that led (/proc/self/fd): what openDest does when
// RESOLVE_NO_SYMLINKS met a symlink.
func (a *applier) followed(dest string, flags int) (*os.File, string, error) {
	f, err := openInRoot(a.root, dest, 0, flags)
	if err != nil {
		return nil, "", err
	}
	p, err := a.containerPath(f)
	if err != nil {
		f.Close()
		return nil, "", err
	}
	return f, p, nil
}

// createPlain makes the last component of dest (a directory, or an empty
// file) when its parent exists and no symlink leads there: then nothing
// needs resolving and the lexical path is the real one. It reports false
// (and no error) when that is not so, and the caller takes the general
// way.
func (a *applier) createPlain(dest string, dir bool) (*os.File, bool, error) {
	dest = cleanPath(dest)
	if dest == "/" {
		return nil, false, nil
	}
	parent, err := openInRoot(a.root, path.Dir(dest), unix.RESOLVE_NO_SYMLINKS, unix.O_DIRECTORY)
	if err != nil {
		return nil, false, nil
	}
	defer parent.Close()
	name := path.Base(dest)
	if !dir {
		f, err := createFile(parent, name)
		return f, true, err
	}
	if err := unix.Mkdirat(int(parent.Fd()), name, 0o755); err != nil {
		// EEXIST: made meanwhile, perhaps as a symlink; look again the
		// general way.
		return nil, false, nil
	}
	f, err := openNoFollow(parent, name, unix.O_PATH|unix.O_DIRECTORY)
	if err != nil {
		return nil, false, nil
	}
	return f, true, nil
}
