package process

import (
	"errors"
	"fmt"
	"os"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// DefaultUmask is the umask when process.user.umask is absent; the
// runtime-spec leaves it to the runtime and runc uses 0022.
const DefaultUmask = 0o022

// SetUser switches the calling thread to u: supplementary groups, gid, uid
// (real, effective and saved), then umask.
//
// The credential calls are the raw, per-thread system calls, as runc's init
// makes them: call SetUser on the locked OS thread that will execve, since
// execve gives the new program the credentials of the thread that calls it
// and ends every other. The syscall package's Setresuid and friends would
// instead stop every thread of the runtime, three times (libc's setxid
// broadcast with cgo, syscall.AllThreadsSyscall without): 0.3 to 0.7 ms of
// a container start here, for threads that run only the Go runtime and
// never act for the container. Capabilities are per thread too: call
// caps.SetKeepCaps before and caps.Apply after, on the same thread. The
// umask lives in the fs_struct, shared by all threads unless the thread
// did unshare(CLONE_FS).
func SetUser(u specs.User) error {
	mask, err := Umask(u)
	if err != nil {
		return err
	}
	if err := setGroups(u.AdditionalGids); err != nil {
		return err
	}
	if err := threadSetres(unix.SYS_SETRESGID, u.GID); err != nil {
		return fmt.Errorf("process.user.gid: setresgid %d: %w", u.GID, os.NewSyscallError("setresgid", err))
	}
	if err := threadSetres(unix.SYS_SETRESUID, u.UID); err != nil {
		return fmt.Errorf("process.user.uid: setresuid %d: %w", u.UID, os.NewSyscallError("setresuid", err))
	}
	unix.Umask(int(mask))
	return nil
}

// Umask is u's umask, DefaultUmask when it has none.
func Umask(u specs.User) (uint32, error) {
	if u.Umask == nil {
		return DefaultUmask, nil
	}
	if *u.Umask > 0o777 {
		return 0, fmt.Errorf("process.user.umask: %#o is not a permission mask", *u.Umask)
	}
	return *u.Umask, nil
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
	err := unix.Setgroups(list) // the raw, per-thread call
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

// threadSetres is setresuid(2) or setresgid(2) with id for all three ids,
// for the calling thread only.
func threadSetres(nr uintptr, id uint32) error {
	if _, _, e := unix.RawSyscall(nr, uintptr(id), uintptr(id), uintptr(id)); e != 0 {
		return e
	}
	return nil
}

func setgroupsDenied() bool {
	b, err := os.ReadFile("/proc/self/setgroups")
	return err == nil && strings.TrimSpace(string(b)) == "deny"
}
