package initproc

import (
	"context"
	"os"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/unha/unha/internal/hooks"
)

// waitStart blocks until `start` opens the exec fifo, runs the
// startContainer hooks, and writes the byte that tells start we are about to
// execve, or the hook's error for start to report.
func (is *initState) waitStart() error {
	fd, err := unix.Openat(is.procFd, strconv.Itoa(is.cfg.FifoFd), unix.O_WRONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	unix.Close(is.procFd)
	unix.Close(is.cfg.FifoFd)
	if s := is.spec; s.Hooks != nil && len(s.Hooks.StartContainer) > 0 {
		state := is.cfg.State
		state.Status = specs.StateCreated
		state.Pid = os.Getpid()
		if err := hooks.Run(context.Background(), s.Hooks.StartContainer, &state); err != nil {
			msg := "startContainer hook: " + err.Error()
			if len(msg) > 4000 {
				msg = msg[:4000]
			}
			_, _ = unix.Write(fd, []byte(msg))
			return err
		}
	}
	// fd is close-on-exec: the writer goes away at execve.
	_, err = unix.Write(fd, []byte{0})
	return err
}
