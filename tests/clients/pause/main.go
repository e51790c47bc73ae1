// Command pause is the sandbox process of the CRI test's pod, the tests' own stand-in for
// Kubernetes' pause image (there is no registry to pull one from): it waits for SIGTERM or
// SIGINT and exits 0, and reaps the children reparented to it when the pod's containers share
// its PID namespace. As PID 1 of a namespace it would ignore signals it has no handler for,
// which is why it installs them.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGCHLD)
	for s := range sigs {
		if s != syscall.SIGCHLD {
			os.Exit(0)
		}
		for {
			var ws syscall.WaitStatus
			if pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil); pid <= 0 || err != nil {
				break
			}
		}
	}
}
