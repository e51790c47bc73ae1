package app

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
	"golang.org/x/term"
)

// consoleSocket is the --console-socket a runtime connects to, to send the
// pty master of a container created with a terminal (SCM_RIGHTS, as runc's
// `recvtty` receives it). It lives in a private temporary directory: the
// bundle path may be longer than a socket address allows (108 bytes).
type consoleSocket struct {
	dir string
	ln  *net.UnixListener
	res chan consoleResult
}

type consoleResult struct {
	master *os.File
	err    error
}

func newConsoleSocket() (*consoleSocket, error) {
	dir, err := os.MkdirTemp("", "unha-tty-")
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, "console.sock")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	c := &consoleSocket{dir: dir, ln: ln, res: make(chan consoleResult, 1)}
	go func() { c.res <- receiveMaster(ln) }()
	return c, nil
}

func (c *consoleSocket) path() string { return filepath.Join(c.dir, "console.sock") }

// master returns the pty master once `create` has returned; a runtime that
// succeeded has sent it by then, so the wait is short.
func (c *consoleSocket) master(timeout time.Duration) (*os.File, error) {
	select {
	case r := <-c.res:
		return r.master, r.err
	case <-time.After(timeout):
		c.ln.Close()
		if r := <-c.res; r.master != nil {
			return r.master, nil
		}
		return nil, errors.New("the runtime created the container but sent no console over --console-socket")
	}
}

func (c *consoleSocket) close() {
	c.ln.Close()
	os.RemoveAll(c.dir)
}

func receiveMaster(ln *net.UnixListener) consoleResult {
	conn, err := ln.AcceptUnix()
	if err != nil {
		return consoleResult{err: fmt.Errorf("console socket: %w", err)}
	}
	defer conn.Close()
	buf := make([]byte, 4096) // runc sends the pty's name as the data
	oob := make([]byte, unix.CmsgSpace(4*4))
	// Go's ReadMsgUnix passes MSG_CMSG_CLOEXEC: the fd arrives O_CLOEXEC.
	_, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
	if err != nil {
		return consoleResult{err: fmt.Errorf("console socket: %w", err)}
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil {
		return consoleResult{err: fmt.Errorf("console socket: %w", os.NewSyscallError("recvmsg", err))}
	}
	var fds []int
	for _, m := range msgs {
		if got, err := unix.ParseUnixRights(&m); err == nil {
			fds = append(fds, got...)
		}
	}
	if len(fds) == 0 {
		return consoleResult{err: errors.New("console socket: the runtime sent no file descriptor")}
	}
	for _, fd := range fds[1:] {
		unix.Close(fd)
	}
	// Non-blocking, so that os.File uses the poller and Close ends a
	// pending Read (see ttyProxy.finish).
	if err := unix.SetNonblock(fds[0], true); err != nil {
		unix.Close(fds[0])
		return consoleResult{err: os.NewSyscallError("fcntl", err)}
	}
	return consoleResult{master: os.NewFile(uintptr(fds[0]), "pty-master")}
}

// terminalSize is the size of whichever of our stdio is a terminal.
func terminalSize(files ...*os.File) *specs.Box {
	for _, f := range files {
		if w, h, err := term.GetSize(int(f.Fd())); err == nil && w > 0 && h > 0 {
			return &specs.Box{Width: uint(w), Height: uint(h)}
		}
	}
	return nil
}

// ttyProxy copies between unha's stdio and the container's pty master.
type ttyProxy struct {
	master  *os.File
	stdin   *os.File
	stdout  *os.File
	restore func()
	done    chan struct{}
}

// startTTY puts unha's terminal in raw mode when input is attached (the
// container's pty does the line editing and turns ^C into SIGINT for the
// container's foreground job, as with `docker run -it`), and starts the
// copies.
func startTTY(master, stdin, stdout *os.File, interactive bool) (*ttyProxy, error) {
	p := &ttyProxy{master: master, stdin: stdin, stdout: stdout, restore: func() {}, done: make(chan struct{})}
	if interactive && term.IsTerminal(int(stdin.Fd())) {
		old, err := term.MakeRaw(int(stdin.Fd()))
		if err != nil {
			return nil, fmt.Errorf("set terminal raw: %w", err)
		}
		p.restore = func() { term.Restore(int(stdin.Fd()), old) }
	}
	p.resize()
	go func() {
		defer close(p.done)
		// Reading the master fails with EIO once no process holds the
		// slave: that is the end of output, not an error. A failed
		// write keeps draining, so the container never blocks on us.
		if _, err := io.Copy(stdout, master); err != nil && !errors.Is(err, unix.EIO) {
			io.Copy(io.Discard, master)
		}
	}()
	if interactive {
		go io.Copy(master, stdin)
	}
	return p, nil
}

// resize gives the pty our terminal's size (at start and on SIGWINCH).
func (p *ttyProxy) resize() {
	if b := terminalSize(p.stdout, p.stdin); b != nil {
		ws := &unix.Winsize{Row: uint16(b.Height), Col: uint16(b.Width)}
		unix.IoctlSetWinsize(int(p.master.Fd()), unix.TIOCSWINSZ, ws)
	}
}

// finish drains the container's last output (bounded, see pipes.finish),
// closes the master and gives the terminal back.
func (p *ttyProxy) finish(timeout time.Duration) {
	select {
	case <-p.done:
	case <-time.After(timeout):
	}
	p.master.Close()
	p.restore()
}
