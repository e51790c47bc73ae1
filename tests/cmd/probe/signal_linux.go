package main

import (
	"os"
	"os/signal"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

func sleep(seconds int) {
	time.Sleep(time.Duration(seconds) * time.Second)
}

// signalSelf restores the default action for sig and sends it to ourselves. As pid 1 of a PID
// namespace the kernel drops signals with the default action that come from inside the
// namespace (pid_namespaces(7)), so in that case we are still alive afterwards: say so and
// exit 99 instead of pretending.
func signalSelf(n int) {
	sig := syscall.Signal(n)
	signal.Reset(sig)
	_ = unix.Kill(os.Getpid(), sig)
	time.Sleep(2 * time.Second)
	say("still alive")
	os.Exit(99)
}

// waitSignal installs a handler for every catchable signal before printing "ready": until a
// handler exists, pid 1 of a PID namespace ignores signals from the parent namespace too.
func waitSignal() int {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch)
	say("ready")
	for s := range ch {
		// SIGURG is used internally by the Go runtime for goroutine preemption.
		if s == syscall.SIGURG || s == syscall.SIGCHLD {
			continue
		}
		if ss, ok := s.(syscall.Signal); ok {
			return int(ss)
		}
	}
	return 0
}
