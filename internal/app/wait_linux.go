package app

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// becomeSubreaper makes orphaned descendants re-parent to unha rather than
// to the host's init: the runtime's `create` exits after setting the
// container up, and its init must stay unha's child for wait4 to return the
// container's exit status (prctl(2) PR_SET_CHILD_SUBREAPER).
func becomeSubreaper() error {
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("become child subreaper: %w", err)
	}
	return nil
}

// waitInit waits for the container's init, which must be our child.
// ECHILD means the runtime kept it to itself (or daemonised it elsewhere).
func waitInit(pid int) (unix.WaitStatus, error) {
	var ws unix.WaitStatus
	for {
		_, err := unix.Wait4(pid, &ws, 0, nil)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if errors.Is(err, unix.ECHILD) {
			return ws, fmt.Errorf("container init %d is not a child of unha: the runtime must leave it to its caller's subreaper after create", pid)
		}
		if err != nil {
			return ws, fmt.Errorf("wait for container init %d: %w", pid, err)
		}
		return ws, nil
	}
}

// ExitStatus is the exit code `unha run` reports for the container's init:
// its own status, or 128+N when signal N killed it, as a shell and Docker
// report it.
func ExitStatus(ws unix.WaitStatus) int {
	switch {
	case ws.Exited():
		return ws.ExitStatus()
	case ws.Signaled():
		return 128 + int(ws.Signal())
	}
	return 255
}

// killInit SIGKILLs a container's init directly, without the runtime: it is
// our unreaped child, so its pid cannot have been reused, and this works
// even when the runtime misbehaves.
func killInit(pid int) error {
	if err := unix.Kill(pid, unix.SIGKILL); err != nil && !errors.Is(err, unix.ESRCH) {
		return os.NewSyscallError("kill", err)
	}
	return nil
}
