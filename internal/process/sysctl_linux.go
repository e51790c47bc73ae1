package process

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// Sysctl writes linux.sysctl below /proc/sys. It must run inside the
// container's namespaces with the container's /proc mounted (after
// pivot_root): /proc/sys/net, kernel.hostname and the IPC keys answer for
// the namespaces of the task that opens them.
func Sysctl(m map[string]string) error {
	entries, err := ParseSysctl(m)
	if err != nil {
		return err
	}
	return writeSysctls("/proc/sys", entries, true)
}

// writeSysctls writes entries below root; wantProc is false only in tests
// that use a temporary directory as the root.
func writeSysctls(root string, entries []SysctlEntry, wantProc bool) error {
	if len(entries) == 0 {
		return nil
	}
	dir, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("linux.sysctl: %w", &os.PathError{Op: "open", Path: root, Err: err})
	}
	defer unix.Close(dir)
	if wantProc {
		if err := checkProcfs(dir, root); err != nil {
			return fmt.Errorf("linux.sysctl: %w", err)
		}
	}
	for _, e := range entries {
		if err := writeSysctl(dir, root, e, wantProc); err != nil {
			return err
		}
	}
	return nil
}

func writeSysctl(dir int, root string, e SysctlEntry, wantProc bool) error {
	path := filepath.Join(root, e.Path)
	fd, err := openBeneath(dir, e.Path)
	if err != nil {
		hint := ""
		switch {
		case errors.Is(err, unix.ENOENT):
			hint = " (no such sysctl in this kernel, or it belongs to a namespace the container does not own)"
		case errors.Is(err, unix.ELOOP):
			hint = " (a component is a symlink)"
		case errors.Is(err, unix.EXDEV):
			hint = " (a component is a mount point)"
		}
		return fmt.Errorf("linux.sysctl[%s]%s: %w", e.Key, hint, &os.PathError{Op: "open", Path: path, Err: err})
	}
	f := os.NewFile(uintptr(fd), path)
	defer f.Close()
	if wantProc {
		if err := checkProcfs(fd, path); err != nil {
			return fmt.Errorf("linux.sysctl[%s]: %w", e.Key, err)
		}
	}
	// One write: sysctl handlers parse the whole value from a single call.
	if _, err := f.Write([]byte(e.Value)); err != nil {
		return fmt.Errorf("linux.sysctl[%s]: set %q: %w", e.Key, e.Value, err)
	}
	return nil
}

// openBeneath opens rel below dir for writing without following any
// symlink or crossing any mount point (openat2 RESOLVE_NO_SYMLINKS |
// RESOLVE_NO_XDEV | RESOLVE_BENEATH): a bind mount of a host procfs file
// over a container sysctl passes a procfs check but not this one. Kernels
// before 5.6 lack openat2; there each component is opened with O_NOFOLLOW.
func openBeneath(dir int, rel string) (int, error) {
	how := unix.OpenHow{
		Flags:   unix.O_WRONLY | unix.O_CLOEXEC | unix.O_NOFOLLOW,
		Resolve: unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_XDEV | unix.RESOLVE_BENEATH | unix.RESOLVE_NO_MAGICLINKS,
	}
	for {
		fd, err := unix.Openat2(dir, rel, &how)
		switch err {
		case nil:
			return fd, nil
		case unix.EINTR, unix.EAGAIN:
			// EAGAIN: a concurrent rename raced the lookup; retry.
			continue
		case unix.ENOSYS, unix.EPERM:
			// EPERM: a seccomp profile refusing the unknown syscall.
			return openByComponents(dir, rel)
		}
		return -1, err
	}
}

func openByComponents(dir int, rel string) (int, error) {
	parts := strings.Split(rel, "/")
	cur := dir
	for i, p := range parts {
		last := i == len(parts)-1
		flags := unix.O_PATH | unix.O_DIRECTORY | unix.O_NOFOLLOW | unix.O_CLOEXEC
		if last {
			flags = unix.O_WRONLY | unix.O_NOFOLLOW | unix.O_CLOEXEC
		}
		fd, err := unix.Openat(cur, p, flags, 0)
		if cur != dir {
			unix.Close(cur)
		}
		if err != nil {
			return -1, err
		}
		if last {
			return fd, nil
		}
		cur = fd
	}
	return -1, unix.EINVAL
}
