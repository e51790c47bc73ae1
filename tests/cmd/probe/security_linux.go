package main

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// The security commands (seccomp and escape attempts). Each prints one line: "ok" (with the
// return value for syscall) or the bare errno name, like the file commands.
//
//	syscall NAME ARG...     the raw syscall NAME (see syscallTable, which also says how many
//	                        numeric arguments, 0x for hex, follow): "ok RET" or the errno name
//	unshare FLAGS           unshare(FLAGS) in a freshly forked child (CLONE_NEWUSER refuses a
//	                        multi-threaded caller, and every Go program is one), which then
//	                        execs the probe to exit 0: "ok" or the errno name
//	ptrace-attach PID       PTRACE_ATTACH to PID, and if that worked wait for the stop and
//	                        PTRACE_DETACH: "ok" or the errno name
//	mount-tmpfs DIR         mount a tmpfs on DIR and unmount it again: "ok" or the errno name
func runSecurity(args []string) (n int, handled bool, err error) {
	need := func(k int) error {
		if len(args) < k+1 {
			return fmt.Errorf("%s needs %d argument(s)", args[0], k)
		}
		return nil
	}
	num := func(s string) (uint64, error) {
		v, err := strconv.ParseUint(s, 0, 64)
		if err != nil {
			return 0, fmt.Errorf("%s: bad number %q", args[0], s)
		}
		return v, nil
	}
	switch args[0] {
	case "syscall":
		if err := need(1); err != nil {
			return 0, true, err
		}
		sc, ok := syscallTable[args[1]]
		if !ok {
			return 0, true, fmt.Errorf("syscall: unknown syscall %q", args[1])
		}
		if err := need(1 + sc.nargs); err != nil {
			return 0, true, err
		}
		var a [6]uintptr
		for i, s := range args[2 : 2+sc.nargs] {
			v, err := num(s)
			if err != nil {
				return 0, true, err
			}
			a[i] = uintptr(v)
		}
		r, _, errno := unix.Syscall6(sc.nr, a[0], a[1], a[2], a[3], a[4], a[5])
		if errno != 0 {
			say(errnoName(errno))
		} else {
			say(fmt.Sprintf("ok %d", r))
		}
		return 2 + sc.nargs, true, nil
	case "unshare":
		if err := need(1); err != nil {
			return 0, true, err
		}
		flags, err := num(args[1])
		if err != nil {
			return 0, true, err
		}
		say(result(unshareChild(uintptr(flags)), ""))
		return 2, true, nil
	case "ptrace-attach":
		if err := need(1); err != nil {
			return 0, true, err
		}
		pid, err := strconv.Atoi(args[1])
		if err != nil {
			return 0, true, fmt.Errorf("ptrace-attach: bad pid %q", args[1])
		}
		say(result(ptraceAttach(pid), ""))
		return 2, true, nil
	case "mount-tmpfs":
		if err := need(1); err != nil {
			return 0, true, err
		}
		err := unix.Mount("tmpfs", args[1], "tmpfs", 0, "size=64k")
		if err == nil {
			err = unix.Unmount(args[1], unix.MNT_DETACH)
		}
		say(result(err, ""))
		return 2, true, nil
	}
	return 0, false, nil
}

// syscallTable lists the syscalls `syscall` can make, with their argument counts: ones that
// neither the Go runtime nor a runtime's init calls on its own, so a profile can single them
// out without breaking the container, and the ones escape tests try.
var syscallTable = map[string]struct {
	nr    uintptr
	nargs int
}{
	"getpgid":     {unix.SYS_GETPGID, 1},
	"getsid":      {unix.SYS_GETSID, 1},
	"personality": {unix.SYS_PERSONALITY, 1},
	"keyctl":      {unix.SYS_KEYCTL, 3},
	"unshare":     {unix.SYS_UNSHARE, 1},
	"setns":       {unix.SYS_SETNS, 2},
	"syslog":      {unix.SYS_SYSLOG, 3},
}

func unshareChild(flags uintptr) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.Command(self, "exit", "0")
	cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: flags}
	// The error of a failed unshare in the child comes back from Start as the errno.
	return cmd.Run()
}

func ptraceAttach(pid int) error {
	// ptrace requests are per thread: the tracer is the thread that attached.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := unix.PtraceAttach(pid); err != nil {
		return err
	}
	var ws unix.WaitStatus
	if _, err := unix.Wait4(pid, &ws, unix.WALL, nil); err != nil {
		return fmt.Errorf("wait for the tracee: %w", err)
	}
	return unix.PtraceDetach(pid)
}
