package rootfs

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// mounter is every kernel call that changes the mount table, plus the two
// inspections the apply step uses to verify its work (so that a fake can
// model them too). Paths are used only for locations the runtime controls
// ("/", the rootfs itself, host mountpoints); everything inside the
// container is reached through file descriptors.
type mounter interface {
	Mount(source, target, fstype string, flags uintptr, data string) error
	Unmount(target string, flags int) error
	PivotRoot(newroot, putold string) error
	Chroot(path string) error

	// OpenTree clones the tree at from (open_tree OPEN_TREE_CLONE).
	OpenTree(from *os.File, recursive bool) (*os.File, error)
	FSOpen(fstype string) (*os.File, error)
	// FSConfig is fsconfig(2) with FSCONFIG_SET_FLAG, FSCONFIG_SET_STRING,
	// FSCONFIG_CMD_CREATE or FSCONFIG_CMD_RECONFIGURE.
	FSConfig(fs *os.File, cmd uint, key, value string) error
	FSMount(fs *os.File, attr uint64) (*os.File, error)
	FSPick(target *os.File) (*os.File, error)
	// MoveMount attaches mnt on top of target.
	MoveMount(mnt, target *os.File) error
	SetAttr(mnt *os.File, recursive bool, attr unix.MountAttr) error
	// Mknod creates a node in dir and gives it to uid:gid.
	Mknod(dir *os.File, name string, mode uint32, dev uint64, uid, gid uint32) error

	// MountID is statx's stx_mnt_id (the id in mountinfo).
	MountID(f *os.File) (uint64, error)
	// FSType is statfs's f_type.
	FSType(f *os.File) (int64, error)
}

// kernel is the real mounter.
type kernel struct{}

func (kernel) Mount(source, target, fstype string, flags uintptr, data string) error {
	if err := unix.Mount(source, target, fstype, flags, data); err != nil {
		return &os.PathError{Op: "mount", Path: target, Err: err}
	}
	return nil
}

func (kernel) Unmount(target string, flags int) error {
	if err := unix.Unmount(target, flags); err != nil {
		return &os.PathError{Op: "umount2", Path: target, Err: err}
	}
	return nil
}

func (kernel) PivotRoot(newroot, putold string) error {
	if err := unix.PivotRoot(newroot, putold); err != nil {
		return &os.PathError{Op: "pivot_root", Path: newroot, Err: err}
	}
	return nil
}

func (kernel) Chroot(path string) error {
	if err := unix.Chroot(path); err != nil {
		return &os.PathError{Op: "chroot", Path: path, Err: err}
	}
	return nil
}

func (kernel) OpenTree(from *os.File, recursive bool) (*os.File, error) {
	// OPEN_TREE_CLOEXEC is O_CLOEXEC (include/uapi/linux/mount.h).
	flags := unix.OPEN_TREE_CLONE | unix.O_CLOEXEC | unix.AT_EMPTY_PATH
	if recursive {
		flags |= unix.AT_RECURSIVE
	}
	fd, err := unix.OpenTree(int(from.Fd()), "", uint(flags))
	if err != nil {
		return nil, &os.PathError{Op: "open_tree", Path: from.Name(), Err: err}
	}
	return os.NewFile(uintptr(fd), "tree:"+from.Name()), nil
}

func (kernel) FSOpen(fstype string) (*os.File, error) {
	fd, err := unix.Fsopen(fstype, unix.FSOPEN_CLOEXEC)
	if err != nil {
		if errors.Is(err, unix.ENODEV) {
			return nil, fmt.Errorf("unknown filesystem type %q: %w", fstype, os.NewSyscallError("fsopen", err))
		}
		return nil, &os.PathError{Op: "fsopen", Path: fstype, Err: err}
	}
	return os.NewFile(uintptr(fd), "fs:"+fstype), nil
}

func (kernel) FSConfig(fs *os.File, cmd uint, key, value string) error {
	fd := int(fs.Fd())
	var err error
	what := key
	switch cmd {
	case unix.FSCONFIG_SET_FLAG:
		err = unix.FsconfigSetFlag(fd, key)
	case unix.FSCONFIG_SET_STRING:
		err = unix.FsconfigSetString(fd, key, value)
		what = key + "=" + value
	case unix.FSCONFIG_CMD_CREATE:
		err, what = unix.FsconfigCreate(fd), "create"
	case unix.FSCONFIG_CMD_RECONFIGURE:
		err, what = unix.FsconfigReconfigure(fd), "reconfigure"
	default:
		return fmt.Errorf("fsconfig: unsupported command %d", cmd)
	}
	if err != nil {
		if msg := fsLog(fd); msg != "" {
			return fmt.Errorf("fsconfig %s (%s): %w", what, msg, os.NewSyscallError("fsconfig", err))
		}
		return fmt.Errorf("fsconfig %s: %w", what, os.NewSyscallError("fsconfig", err))
	}
	return nil
}

// fsLog drains the filesystem context's message log: with fsopen the
// kernel explains a refusal there ("e tmpfs: Bad value for 'mode'")
// rather than in dmesg.
func fsLog(fd int) string {
	var msgs []string
	buf := make([]byte, 1024)
	for range 16 {
		n, err := unix.Read(fd, buf)
		if err != nil || n <= 0 {
			break
		}
		// Each message is "e ", "w " or "i " and the text.
		m := strings.TrimSpace(string(buf[:n]))
		if len(m) > 2 && m[1] == ' ' {
			m = m[2:]
		}
		msgs = append(msgs, m)
	}
	return strings.Join(msgs, "; ")
}

func (kernel) FSMount(fs *os.File, attr uint64) (*os.File, error) {
	fd, err := unix.Fsmount(int(fs.Fd()), unix.FSMOUNT_CLOEXEC, int(attr))
	if err != nil {
		if msg := fsLog(int(fs.Fd())); msg != "" {
			return nil, fmt.Errorf("fsmount (%s): %w", msg, os.NewSyscallError("fsmount", err))
		}
		return nil, os.NewSyscallError("fsmount", err)
	}
	return os.NewFile(uintptr(fd), "mnt:"+strings.TrimPrefix(fs.Name(), "fs:")), nil
}

func (kernel) FSPick(target *os.File) (*os.File, error) {
	fd, err := unix.Fspick(int(target.Fd()), "", unix.FSPICK_CLOEXEC|unix.FSPICK_EMPTY_PATH)
	if err != nil {
		return nil, &os.PathError{Op: "fspick", Path: target.Name(), Err: err}
	}
	return os.NewFile(uintptr(fd), "fs:"+target.Name()), nil
}

func (kernel) MoveMount(mnt, target *os.File) error {
	err := unix.MoveMount(int(mnt.Fd()), "", int(target.Fd()), "",
		unix.MOVE_MOUNT_F_EMPTY_PATH|unix.MOVE_MOUNT_T_EMPTY_PATH)
	if err != nil {
		return &os.PathError{Op: "move_mount", Path: target.Name(), Err: err}
	}
	return nil
}

func (kernel) SetAttr(mnt *os.File, recursive bool, attr unix.MountAttr) error {
	flags := uint(unix.AT_EMPTY_PATH)
	if recursive {
		flags |= unix.AT_RECURSIVE
	}
	if err := unix.MountSetattr(int(mnt.Fd()), "", flags, &attr); err != nil {
		return &os.PathError{Op: "mount_setattr", Path: mnt.Name(), Err: err}
	}
	return nil
}

func (kernel) Mknod(dir *os.File, name string, mode uint32, dev uint64, uid, gid uint32) error {
	if err := unix.Mknodat(int(dir.Fd()), name, mode, int(dev)); err != nil {
		return &os.PathError{Op: "mknodat", Path: dir.Name() + "/" + name, Err: err}
	}
	// AT_SYMLINK_NOFOLLOW: if the node was swapped for a symlink in the
	// meantime, the symlink is chowned, not what it points to.
	if err := unix.Fchownat(int(dir.Fd()), name, int(uid), int(gid), unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return &os.PathError{Op: "fchownat", Path: dir.Name() + "/" + name, Err: err}
	}
	return nil
}

func (kernel) MountID(f *os.File) (uint64, error) {
	var stx unix.Statx_t
	if err := unix.Statx(int(f.Fd()), "", unix.AT_EMPTY_PATH|unix.AT_SYMLINK_NOFOLLOW, unix.STATX_MNT_ID, &stx); err != nil {
		return 0, &os.PathError{Op: "statx", Path: f.Name(), Err: err}
	}
	if stx.Mask&unix.STATX_MNT_ID == 0 {
		return 0, &os.PathError{Op: "statx", Path: f.Name(), Err: unix.ENOTSUP}
	}
	return stx.Mnt_id, nil
}

func (kernel) FSType(f *os.File) (int64, error) {
	var st unix.Statfs_t
	if err := unix.Fstatfs(int(f.Fd()), &st); err != nil {
		return 0, &os.PathError{Op: "fstatfs", Path: f.Name(), Err: err}
	}
	return st.Type, nil
}
