package main

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// runUserNS handles the commands for the user- and time-namespace tests:
//
//	stat PATH   "ok UID GID MODE" (lstat, ids as this process sees them, mode in octal),
//	            or the errno name
//	mkfile PATH create PATH (0644, O_EXCL) and print "ok UID GID" of the new file, or the errno
//	clocks      "clocks MONOTONIC BOOTTIME": clock_gettime(2) in whole seconds
func runUserNS(args []string) (n int, handled bool, err error) {
	switch args[0] {
	case "stat":
		if len(args) < 2 {
			return 0, true, fmt.Errorf("stat needs 1 argument")
		}
		var st unix.Stat_t
		if err := unix.Lstat(args[1], &st); err != nil {
			say(errnoName(err))
		} else {
			say(fmt.Sprintf("ok %d %d %o", st.Uid, st.Gid, st.Mode&0o7777))
		}
		return 2, true, nil
	case "mkfile":
		if len(args) < 2 {
			return 0, true, fmt.Errorf("mkfile needs 1 argument")
		}
		fd, err := unix.Open(args[1], unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_CLOEXEC, 0o644)
		if err != nil {
			say(errnoName(err))
			return 2, true, nil
		}
		var st unix.Stat_t
		err = unix.Fstat(fd, &st)
		unix.Close(fd)
		if err != nil {
			say(errnoName(err))
		} else {
			say(fmt.Sprintf("ok %d %d", st.Uid, st.Gid))
		}
		return 2, true, nil
	case "clocks":
		var mono, boot unix.Timespec
		if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &mono); err != nil {
			return 0, true, err
		}
		if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &boot); err != nil {
			return 0, true, err
		}
		say(fmt.Sprintf("clocks %d %d", mono.Sec, boot.Sec))
		return 1, true, nil
	}
	return 0, false, nil
}
