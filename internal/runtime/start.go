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
	return r.startRefreshed(st)
}

// startRefreshed is start for a state whose status is known: Run's, which
// has held the lock since it created the container (releaseInit still
// finds an init that died meanwhile, through its pidfd).
func (r *Runtime) startRefreshed(st *State) error {
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
	if hs := st.hooks(); hs != nil && len(hs.Poststart) > 0 {
		state := st.State
		state.Status = specs.StateRunning
		// runtime-spec lifecycle step 9: a failing poststart hook is an
		// error, and the container is stopped (delete does the rest).
		if err := hooks.Run(context.Background(), hs.Poststart, &state); err != nil {
			if kerr := r.killAll(st); kerr != nil {
				r.Log.Warn("stop container after poststart failure", "err", kerr)
			}
			return fmt.Errorf("poststart hook: %w", err)
		}
	}
	return nil
}

// releaseInit opens the exec fifo's read side, which completes init's
// blocked open of the write side, and waits for the byte init writes just
// before execve. A blocking open would hang for ever if init died in the
// meantime, so the open is non-blocking and the wait polls init's pidfd too.
func (r *Runtime) releaseInit(st *State) error {
	// The pidfd first: once the fifo is open, init may exec and its
	// process exit at any moment, and we must still tell "ran" from "died".
	pfd, err := pidfdOf(st.Pid, st.InitStart)
	if err != nil {
		return errors.New("cannot start a container that has stopped")
	}
	defer unix.Close(pfd)
	fifoPath := filepath.Join(r.Store.dir(st.ID), fifoName)
	fd, err := unix.Open(fifoPath, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
	if err != nil {
		return fmt.Errorf("open exec fifo: %w", &os.PathError{Op: "open", Path: fifoPath, Err: err})
	}
	defer unix.Close(fd)
	for {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}, {Fd: int32(pfd), Events: unix.POLLIN}}
		if _, err := unix.Poll(fds, -1); err != nil {
			if err == unix.EINTR {
				continue
			}
			return os.NewSyscallError("poll", err)
		}
		if fds[0].Revents&unix.POLLIN != 0 {
			// One byte 0 means "about to execve"; anything else is the
			// error text of a failed startContainer hook, written in one
			// write (shorter than PIPE_BUF, so it arrives whole).
			buf := make([]byte, 4096)
			n, _ := unix.Read(fd, buf)
			if n >= 1 && buf[0] == 0 {
				break
			}
			if n > 0 {
				os.Remove(fifoPath)
				return errors.New(string(buf[:n]))
			}
		}
		if fds[1].Revents != 0 || fds[0].Revents&(unix.POLLHUP|unix.POLLERR) != 0 {
			return errors.New("container init exited before start")
		}
	}
	// The write side is close-on-exec: it goes away when init's execve
	// succeeds (or init dies). Waiting for that hang-up makes "started"
	// mean what runtime-spec says poststart hooks follow: the user's
	// process has been executed.
	for {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		if _, err := unix.Poll(fds, -1); err == unix.EINTR {
			continue
		} else if err != nil {
			return os.NewSyscallError("poll", err)
		}
		if fds[0].Revents&(unix.POLLHUP|unix.POLLERR) != 0 {
			break
		}
		// Data after the go byte would be a bug of init; drain it so
		// poll does not spin.
		if n, _ := unix.Read(fd, make([]byte, 64)); n <= 0 {
			break
		}
	}
	if err := os.Remove(fifoPath); err != nil {
		return err
	}
	return nil
}
