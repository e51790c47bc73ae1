package console

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"

	"golang.org/x/sys/unix"
	"golang.org/x/term"
)

// Proxy relays a container's pty master to the caller's terminal until the
// container side hangs up: stdin is copied to master and master to stdout.
//
// When stdin is a terminal it is put in raw mode, so that keystrokes such as
// ^C reach the container's line discipline instead of the runtime, and it is
// restored on every return path (including a panic in this goroutine). The
// window size of the caller's terminal (stdin, else stdout) is copied to
// master at start and on every SIGWINCH.
//
// Proxy returns nil when master reports end of file or EIO, which is what
// Linux returns once every slave descriptor is closed; it returns ctx.Err()
// when ctx is cancelled first. It leaves master non-blocking.
//
// Limitation: a Read on stdin cannot be interrupted, so the goroutine copying
// stdin stays blocked until the next byte arrives (or stdin is closed); that
// byte is then dropped. A runtime exits right after Proxy, so this only
// matters to long-lived callers. End of file on stdin is not forwarded: a
// pty has no half-close.
func Proxy(ctx context.Context, master *os.File, stdin io.Reader, stdout io.Writer) (err error) {
	// Work on a pollable duplicate so that closing it interrupts the read
	// loop whatever mode the caller's master is in.
	m, err := pollableDup(master)
	if err != nil {
		return err
	}
	defer m.Close()

	tty := callerTerminal(stdin, stdout)
	if in, ok := stdin.(*os.File); ok {
		restore, rerr := makeRaw(in)
		if rerr != nil {
			return rerr
		}
		defer func() {
			if rerr := restore(); rerr != nil {
				err = errors.Join(err, rerr)
			}
		}()
	}

	winch := make(chan os.Signal, 1)
	if tty != nil {
		signal.Notify(winch, unix.SIGWINCH)
		defer signal.Stop(winch)
		copySize(tty, m)
	}

	if stdin != nil {
		go func() {
			// Errors here end only the input direction: the output
			// direction decides when the session is over.
			_, _ = io.Copy(m, stdin)
		}()
	}

	if stdout == nil {
		stdout = io.Discard
	}
	done := make(chan error, 1)
	go func() { done <- copyOutput(stdout, m) }()

	for {
		select {
		case err := <-done:
			return err
		case <-winch:
			copySize(tty, m)
		case <-ctx.Done():
			// Closing the duplicate interrupts the pending read; the
			// copier exits on its own even if stdout is stuck.
			m.Close()
			return ctx.Err()
		}
	}
}

// copyOutput copies master to w until the slave side hangs up.
func copyOutput(w io.Writer, m *os.File) error {
	buf := make([]byte, 32*1024)
	for {
		n, rerr := m.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return fmt.Errorf("copy console output: %w", werr)
			}
		}
		switch {
		case rerr == nil:
		case errors.Is(rerr, io.EOF), errors.Is(rerr, unix.EIO):
			// EIO: all slave descriptors are closed (pty(7)).
			return nil
		case errors.Is(rerr, os.ErrClosed):
			return rerr
		default:
			return fmt.Errorf("read console: %w", rerr)
		}
	}
}

// makeRaw puts in into raw mode if it is a terminal and returns the function
// that restores it exactly once.
func makeRaw(in *os.File) (func() error, error) {
	var fd int
	_ = withFd(in, func(f int) error { fd = f; return nil })
	if !term.IsTerminal(fd) {
		return func() error { return nil }, nil
	}
	state, err := term.MakeRaw(fd)
	if err != nil {
		return nil, fmt.Errorf("set terminal raw: %w", err)
	}
	var once sync.Once
	return func() error {
		var rerr error
		once.Do(func() {
			rerr = withFd(in, func(fd int) error { return term.Restore(fd, state) })
			if rerr != nil {
				rerr = fmt.Errorf("restore terminal: %w", rerr)
			}
		})
		return rerr
	}, nil
}

// callerTerminal is the terminal whose window size the container follows.
func callerTerminal(stdin io.Reader, stdout io.Writer) *os.File {
	for _, v := range []any{stdin, stdout} {
		f, ok := v.(*os.File)
		if !ok || f == nil {
			continue
		}
		tty := false
		_ = withFd(f, func(fd int) error { tty = term.IsTerminal(fd); return nil })
		if tty {
			return f
		}
	}
	return nil
}

func copySize(from, to *os.File) {
	// Best effort: a failure leaves the container with its previous size.
	if w, h, err := GetSize(from); err == nil && (w > 0 || h > 0) {
		_ = SetSize(to, w, h)
	}
}

func pollableDup(f *os.File) (*os.File, error) {
	var nfd int
	err := withFd(f, func(fd int) (err error) {
		nfd, err = unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
		return err
	})
	if err != nil {
		return nil, os.NewSyscallError("fcntl F_DUPFD_CLOEXEC", err)
	}
	// O_NONBLOCK belongs to the open file description, shared with f.
	if err := unix.SetNonblock(nfd, true); err != nil {
		unix.Close(nfd)
		return nil, os.NewSyscallError("fcntl O_NONBLOCK", err)
	}
	return os.NewFile(uintptr(nfd), f.Name()), nil
}
