package process

import (
	"errors"
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// SetAffinity sets the CPU affinity of thread tid (0: the calling thread).
// A thread's affinity is inherited by the threads and processes it creates
// and kept across execve.
func SetAffinity(tid int, set *unix.CPUSet) error {
	if err := unix.SchedSetaffinity(tid, set); err != nil {
		hint := ""
		if errors.Is(err, unix.EINVAL) {
			hint = " (no cpu of the list is online and allowed by the cpuset cgroup)"
		}
		return fmt.Errorf("process.execCPUAffinity: sched_setaffinity %s%s: %w", FormatCPUList(set), hint,
			os.NewSyscallError("sched_setaffinity", err))
	}
	return nil
}

// SetAffinityAll sets the affinity of every thread of process pid, for the
// runtime applying execCPUAffinity.initial to an init that is a Go program
// and so already has several threads. A thread created while this runs
// inherits its creator's mask, old or new.
func SetAffinityAll(pid int, set *unix.CPUSet) error {
	dir := "/proc/" + strconv.Itoa(pid) + "/task"
	// Two passes catch threads created from a thread not yet updated.
	for range 2 {
		ents, err := os.ReadDir(dir)
		if err != nil {
			return fmt.Errorf("process.execCPUAffinity: %w", err)
		}
		for _, e := range ents {
			tid, err := strconv.Atoi(e.Name())
			if err != nil {
				continue
			}
			if err := SetAffinity(tid, set); err != nil && !errors.Is(err, unix.ESRCH) {
				return err
			}
		}
	}
	return nil
}
