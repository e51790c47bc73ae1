package runtime

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/unha/unha/internal/hooks"
)

// Start releases a created container's init to execve the user's process.
func (r *Runtime) Start(id string) error {
	st, l, err := r.Store.Open(id, true)
	if err != nil {
		return err
	}
	defer l.Unlock()
	return r.start(st)
}

func (r *Runtime) start(st *State) error {
	r.refresh(st)
	switch st.Status {
	case specs.StateCreated:
	case specs.StateStopped:
		return errors.New("cannot start a container that has stopped")
	case specs.StateRunning:
		return errors.New("cannot start an already running container")
	default:
		return fmt.Errorf("cannot start a container in the %s state", st.Status)
	}
	if err := r.releaseInit(st); err != nil {
		return err
	}
	if hs := st.Config.Hooks; hs != nil && len(hs.Poststart) > 0 {
		state := st.State
		state.Status = specs.StateRunning
		// runtime-spec: a failing poststart hook is a warning; the
		// container keeps running.
		if err := hooks.Run(context.Background(), hs.Poststart, &state); err != nil {
			r.Log.Warn("poststart hook failed", "err", err)
		}
	}
	return nil
}

// releaseInit opens the exec fifo's read side, which completes init's
// blocked open of the write side, and waits for the byte init writes just
// before execve. A blocking open would hang for ever if init died in the
// meantime, so the open is non-blocking and the wait polls init's pidfd too.
func (r *Runtime) releaseInit(st *State) error {
	fifoPath := filepath.Join(r.Store.dir(st.ID), fifoName)
	fd, err := unix.Open(fifoPath, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
	if err != nil {
		return fmt.Errorf("open exec fifo: %w", &os.PathError{Op: "open", Path: fifoPath, Err: err})
	}
	defer unix.Close(fd)
	pfd, err := pidfdOf(st.Pid, st.InitStart)
	if err != nil {
		return errors.New("cannot start a container that has stopped")
	}
	defer unix.Close(pfd)
	for {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}, {Fd: int32(pfd), Events: unix.POLLIN}}
		if _, err := unix.Poll(fds, -1); err != nil {
			if err == unix.EINTR {
				continue
			}
			return os.NewSyscallError("poll", err)
		}
		if fds[0].Revents&unix.POLLIN != 0 {
			buf := make([]byte, 1)
			if n, _ := unix.Read(fd, buf); n == 1 {
				break
			}
		}
		if fds[1].Revents != 0 || fds[0].Revents&(unix.POLLHUP|unix.POLLERR) != 0 {
			return errors.New("container init exited before start")
		}
	}
	if err := os.Remove(fifoPath); err != nil {
		return err
	}
	return nil
}
