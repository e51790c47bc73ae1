package process

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// SetIOPriority sets the I/O priority of thread tid (0: the calling
// thread; IOPRIO_WHO_PROCESS names a thread despite its name).
// IOPRIO_CLASS_RT needs CAP_SYS_ADMIN (or CAP_SYS_NICE on 5.7+).
func SetIOPriority(tid int, p IOPriority) error {
	_, _, errno := unix.Syscall(unix.SYS_IOPRIO_SET, ioprioWhoProcess, uintptr(tid), uintptr(p))
	if errno != 0 {
		return IOPriorityError(p, errno)
	}
	return nil
}

// IOPriorityError is the error of ioprio_set(2) failing with err for p.
func IOPriorityError(p IOPriority, err error) error {
	return fmt.Errorf("process.ioPriority: ioprio_set class %d priority %d: %w", p.Class(), p.Level(),
		os.NewSyscallError("ioprio_set", err))
}

// GetIOPriority returns the I/O priority of thread tid (0: the caller).
func GetIOPriority(tid int) (IOPriority, error) {
	r, _, errno := unix.Syscall(unix.SYS_IOPRIO_GET, ioprioWhoProcess, uintptr(tid), 0)
	if errno != 0 {
		return 0, os.NewSyscallError("ioprio_get", errno)
	}
	return IOPriority(r), nil
}
