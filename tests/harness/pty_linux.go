package harness

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// OpenPty allocates a pseudo-terminal on the host, standing in for the terminal of a user who
// runs the runtime by hand. The master is non-blocking and pollable (so Close interrupts a
// read), the slave blocking, as a shell's terminal is. Both are close-on-exec.
func OpenPty() (master, slave *os.File, err error) {
	mfd, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, &os.PathError{Op: "open", Path: "/dev/ptmx", Err: err}
	}
	// unlockpt(3), then TIOCGPTPEER (Linux 4.13) opens the slave of this very master.
	if err := unix.IoctlSetPointerInt(mfd, unix.TIOCSPTLCK, 0); err != nil {
		unix.Close(mfd)
		return nil, nil, os.NewSyscallError("ioctl TIOCSPTLCK", err)
	}
	sfd, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(mfd), unix.TIOCGPTPEER,
		uintptr(unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC))
	if errno != 0 {
		unix.Close(mfd)
		return nil, nil, os.NewSyscallError("ioctl TIOCGPTPEER", errno)
	}
	if err := unix.SetNonblock(mfd, true); err != nil {
		unix.Close(mfd)
		unix.Close(int(sfd))
		return nil, nil, os.NewSyscallError("fcntl O_NONBLOCK", err)
	}
	// os.NewFile sees O_NONBLOCK and registers the master with the poller.
	return os.NewFile(uintptr(mfd), "pty-master"), os.NewFile(sfd, "pty-slave"), nil
}

// SetPtySize sets the window size of a pty (either side) with TIOCSWINSZ.
func SetPtySize(f *os.File, rows, cols uint16) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ierr error
	if err := rc.Control(func(fd uintptr) {
		ierr = unix.IoctlSetWinsize(int(fd), unix.TIOCSWINSZ, &unix.Winsize{Row: rows, Col: cols})
	}); err != nil {
		return err
	}
	return os.NewSyscallError("ioctl TIOCSWINSZ", ierr)
}

// PtyOutput collects, in the background, everything read from a pty master until the slave
// side hangs up (EIO: every slave fd is closed) or the master is closed.
type PtyOutput struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	err  error // nil after a hang-up, the read error otherwise
	done chan struct{}
}

// ReadPtyAsync starts collecting master's output.
func ReadPtyAsync(master *os.File) *PtyOutput {
	o := &PtyOutput{done: make(chan struct{})}
	go func() {
		defer close(o.done)
		b := make([]byte, 4096)
		for {
			n, err := master.Read(b)
			o.mu.Lock()
			o.buf.Write(b[:n])
			if err != nil && !errors.Is(err, unix.EIO) {
				o.err = err
			}
			o.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	return o
}

// String is the output so far.
func (o *PtyOutput) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

// WaitCount waits until s occurs at least n times in the output. The deadline only guards
// against a hang.
func (o *PtyOutput) WaitCount(s string, n int) error {
	deadline := time.After(DefaultTimeout)
	for {
		if strings.Count(o.String(), s) >= n {
			return nil
		}
		select {
		case <-o.done:
			if strings.Count(o.String(), s) >= n {
				return nil
			}
			return fmt.Errorf("pty hung up before %q appeared %d time(s); output %q", s, n, o.String())
		case <-deadline:
			return fmt.Errorf("%q never appeared %d time(s) on the pty; output %q", s, n, o.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// WaitFor waits until s appears in the output.
func (o *PtyOutput) WaitFor(s string) error { return o.WaitCount(s, 1) }

// WaitHangup waits until every slave fd is closed and returns the whole output.
func (o *PtyOutput) WaitHangup() (string, error) {
	select {
	case <-o.done:
		o.mu.Lock()
		defer o.mu.Unlock()
		return o.buf.String(), o.err
	case <-time.After(DefaultTimeout):
		return o.String(), errors.New("the pty's slave side never hung up")
	}
}

// TermSession is the runtime running in the foreground with a test-owned pty as its stdin,
// stdout, stderr and controlling terminal, as under an interactive shell.
type TermSession struct {
	Out    *PtyOutput
	master *os.File
	cmd    *exec.Cmd
	exited chan struct{}
	code   int
	e      *Env
}

// StartOnTerminal starts the runtime (with --root) in a new session whose controlling terminal
// is a fresh pty of rows x cols. Cleanup kills the runtime if the test did not wait for it.
func (e *Env) StartOnTerminal(rows, cols uint16, args ...string) *TermSession {
	e.T.Helper()
	master, slave, err := OpenPty()
	if err != nil {
		e.T.Fatal(err)
	}
	if err := SetPtySize(master, rows, cols); err != nil {
		master.Close()
		slave.Close()
		e.T.Fatal(err)
	}
	full := append([]string{"--root", e.Root}, args...)
	cmd := exec.Command(e.S.Runtime, full...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	// Setctty makes child fd Ctty (its stdin) the controlling terminal of the new session.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	err = cmd.Start()
	// Only the runtime may hold the slave: the master reports the hang-up once it is gone.
	slave.Close()
	if err != nil {
		master.Close()
		e.T.Fatal(err)
	}
	s := &TermSession{Out: ReadPtyAsync(master), master: master, cmd: cmd, exited: make(chan struct{}), e: e}
	go func() {
		_ = cmd.Wait()
		s.code = exitCode(cmd.ProcessState)
		close(s.exited)
	}()
	e.T.Cleanup(func() {
		select {
		case <-s.exited:
		default:
			e.T.Errorf("runtime %d on the terminal still running at cleanup; killing it", cmd.Process.Pid)
			_ = cmd.Process.Kill()
			<-s.exited
		}
		master.Close()
		<-s.Out.done
	})
	return s
}

// Pid is the runtime's pid.
func (s *TermSession) Pid() int { return s.cmd.Process.Pid }

// Type writes text to the terminal as if typed.
func (s *TermSession) Type(text string) {
	s.e.T.Helper()
	if _, err := s.master.Write([]byte(text)); err != nil {
		s.e.T.Fatalf("typing %q: %v", text, err)
	}
}

// Resize changes the terminal's window size the way a terminal emulator does: TIOCSWINSZ on
// the master (the kernel signals the terminal's foreground process group) and, in case the
// runtime put itself in another group, an explicit SIGWINCH to the runtime.
func (s *TermSession) Resize(rows, cols uint16) {
	s.e.T.Helper()
	if err := SetPtySize(s.master, rows, cols); err != nil {
		s.e.T.Fatal(err)
	}
	_ = unix.Kill(s.cmd.Process.Pid, unix.SIGWINCH)
}

// Wait waits for the runtime to exit and for the terminal to hang up, and returns the exit
// status (128+N for a death by signal N) and everything the terminal showed.
func (s *TermSession) Wait() (int, string) {
	s.e.T.Helper()
	select {
	case <-s.exited:
	case <-time.After(DefaultTimeout):
		s.e.T.Fatalf("runtime on the terminal did not exit; output %q", s.Out.String())
	}
	out, err := s.Out.WaitHangup()
	if err != nil {
		s.e.T.Errorf("reading the terminal: %v", err)
	}
	return s.code, out
}
