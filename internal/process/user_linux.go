package process

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// DefaultUmask is the umask when process.user.umask is absent; the
// runtime-spec leaves it to the runtime and runc uses 0022.
const DefaultUmask = 0o022

// SetUser switches the process to u: supplementary groups, gid, uid (real,
// effective and saved), then umask.
//
// The credential calls are the syscall package's, which apply them to every
// thread of the process: with cgo through libc's setxid broadcast, without
// it through syscall.AllThreadsSyscall. x/sys/unix.Setgroups, by contrast,
// is the raw per-thread system call and would leave the runtime's other
// threads in their old groups. Capabilities stay per thread: call
// caps.SetKeepCaps before and caps.Apply after on the thread that will
// execve. The umask lives in the fs_struct, shared by all threads unless the
// thread did unshare(CLONE_FS).
func SetUser(u specs.User) error {
	mask := uint32(DefaultUmask)
	if u.Umask != nil {
		if *u.Umask > 0o777 {
			return fmt.Errorf("process.user.umask: %#o is not a permission mask", *u.Umask)
		}
		mask = *u.Umask
	}
	if err := setGroups(u.AdditionalGids); err != nil {
		return err
	}
	if err := syscall.Setresgid(int(u.GID), int(u.GID), int(u.GID)); err != nil {
		return fmt.Errorf("process.user.gid: setresgid %d: %w", u.GID, os.NewSyscallError("setresgid", err))
	}
	if err := syscall.Setresuid(int(u.UID), int(u.UID), int(u.UID)); err != nil {
		return fmt.Errorf("process.user.uid: setresuid %d: %w", u.UID, os.NewSyscallError("setresuid", err))
	}
	unix.Umask(int(mask))
	return nil
}

// setGroups sets exactly gids as the supplementary groups: an empty list
// drops the runtime's own groups. In a user namespace whose setgroups is
// "deny" (user_namespaces(7): needed for an unprivileged gid map) the
// kernel refuses any setgroups; an empty list is then the best we can do
// and is skipped, while a non-empty one is an error.
func setGroups(gids []uint32) error {
	list := make([]int, len(gids))
	for i, g := range gids {
		list[i] = int(g)
	}
	err := syscall.Setgroups(list)
	if err == nil {
		return nil
	}
	denied := errors.Is(err, unix.EPERM) && setgroupsDenied()
	if denied && len(gids) == 0 {
		return nil
	}
	if denied {
		return fmt.Errorf("process.user.additionalGids: setgroups is denied in this user namespace (/proc/self/setgroups)")
	}
	return fmt.Errorf("process.user.additionalGids: %w", os.NewSyscallError("setgroups", err))
}

func setgroupsDenied() bool {
	b, err := os.ReadFile("/proc/self/setgroups")
	return err == nil && strings.TrimSpace(string(b)) == "deny"
}
