package runtime

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

// procStat returns the state letter and start time (in clock ticks since
// boot) of pid from /proc/PID/stat. The comm field may hold spaces and
// parentheses, so parsing starts after the last ')'.
func procStat(pid int) (state byte, start uint64, err error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, err
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return 0, 0, fmt.Errorf("parse /proc/%d/stat", pid)
	}
	fields := bytes.Fields(b[i+2:])
	// fields[0] is field 3 (state); starttime is field 22.
	if len(fields) < 20 {
		return 0, 0, fmt.Errorf("parse /proc/%d/stat", pid)
	}
	start, err = strconv.ParseUint(string(fields[19]), 10, 64)
	if err != nil {
		return 0, 0, fmt.Errorf("parse /proc/%d/stat: %w", pid, err)
	}
	return fields[0][0], start, nil
}

// alive reports whether pid is still the process that started at start and
// has not exited (a zombie has exited).
func alive(pid int, start uint64) bool {
	if pid <= 0 {
		return false
	}
	st, s, err := procStat(pid)
	if err != nil {
		return false
	}
	if start != 0 && s != start {
		return false
	}
	return st != 'Z' && st != 'X'
}

// pidfdOf opens a pidfd for pid and checks, after opening, that the pid is
// still the process we recorded: from then on the pidfd cannot be recycled.
func pidfdOf(pid int, start uint64) (int, error) {
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		if errors.Is(err, unix.ESRCH) {
			return -1, ErrNotRunning
		}
		return -1, os.NewSyscallError("pidfd_open", err)
	}
	if !alive(pid, start) {
		unix.Close(fd)
		return -1, ErrNotRunning
	}
	return fd, nil
}

// signalProcess sends sig to the recorded init through a pidfd.
func signalProcess(pid int, start uint64, sig unix.Signal) error {
	fd, err := pidfdOf(pid, start)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	if err := unix.PidfdSendSignal(fd, sig, nil, 0); err != nil {
		if errors.Is(err, unix.ESRCH) {
			return ErrNotRunning
		}
		return os.NewSyscallError("pidfd_send_signal", err)
	}
	return nil
}

// waitGone waits until the process is gone (or a zombie), up to d. It works
// for processes that are not our children: a pidfd polls readable when its
// process exits.
func waitGone(pid int, start uint64, d time.Duration) error {
	fd, err := pidfdOf(pid, start)
	if err != nil {
		return nil
	}
	defer unix.Close(fd)
	deadline := time.Now().Add(d)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return fmt.Errorf("process %d did not exit within %s", pid, d)
		}
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Poll(fds, int(left/time.Millisecond)+1)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return os.NewSyscallError("poll", err)
		}
		if n > 0 {
			return nil
		}
	}
}
