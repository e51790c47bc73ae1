package process

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// SetScheduler applies s to thread tid (0: the calling thread) with
// sched_setattr(2). The new policy is inherited by threads and processes the
// thread creates afterwards, and kept across execve.
func SetScheduler(tid int, s Sched) error {
	attr := unix.SchedAttr{
		Policy: s.Policy, Flags: s.Flags, Nice: s.Nice, Priority: s.Priority,
		Runtime: s.Runtime, Deadline: s.Deadline, Period: s.Period,
	}
	if err := unix.SchedSetAttr(tid, &attr, 0); err != nil {
		return SchedError(s, err)
	}
	return nil
}

// SchedError is the error of sched_setattr(2) failing with err for s.
func SchedError(s Sched, err error) error {
	return fmt.Errorf("process.scheduler: sched_setattr %s%s: %w", s.Name, schedHint(s, err),
		os.NewSyscallError("sched_setattr", err))
}

func schedHint(s Sched, err error) string {
	switch {
	case s.Name == "SCHED_ISO" && errors.Is(err, unix.EINVAL):
		return " (not implemented by Linux)"
	case s.Policy == policyDeadline && errors.Is(err, unix.EBUSY):
		return " (not enough deadline bandwidth: sched_rt_runtime_us and admission control)"
	case s.Policy == policyDeadline && errors.Is(err, unix.EPERM):
		return " (SCHED_DEADLINE needs CAP_SYS_NICE and an affinity spanning the whole root domain)"
	case s.Flags&0x60 != 0 && errors.Is(err, unix.EOPNOTSUPP):
		return " (utilization clamping needs CONFIG_UCLAMP_TASK)"
	}
	return ""
}
