package harness

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

// ConsoleSocket plays the caller's side of --console-socket: it listens on a unix socket and
// receives the pty master the runtime sends with SCM_RIGHTS.
type ConsoleSocket struct {
	Path string
	ln   *net.UnixListener
	got  chan consoleResult
}

type consoleResult struct {
	f   *os.File
	err error
}

// NewConsoleSocket listens in a fresh short directory: sun_path holds at most 108 bytes, and
// test directories named after long test names would not fit.
func (e *Env) NewConsoleSocket() *ConsoleSocket {
	e.T.Helper()
	dir, err := os.MkdirTemp("", "ucs-")
	if err != nil {
		e.T.Fatal(err)
	}
	path := filepath.Join(dir, "console.sock")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		os.RemoveAll(dir)
		e.T.Fatal(err)
	}
	cs := &ConsoleSocket{Path: path, ln: ln, got: make(chan consoleResult, 1)}
	e.T.Cleanup(func() {
		ln.Close()
		os.RemoveAll(dir)
	})
	go cs.accept()
	return cs
}

func (cs *ConsoleSocket) accept() {
	conn, err := cs.ln.AcceptUnix()
	if err != nil {
		cs.got <- consoleResult{err: err}
		return
	}
	defer conn.Close()
	buf := make([]byte, 4096)
	oob := make([]byte, unix.CmsgSpace(4*4))
	_, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
	if err != nil {
		cs.got <- consoleResult{err: fmt.Errorf("recvmsg: %w", err)}
		return
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil {
		cs.got <- consoleResult{err: err}
		return
	}
	for _, m := range msgs {
		fds, err := unix.ParseUnixRights(&m)
		if err != nil || len(fds) == 0 {
			continue
		}
		for _, extra := range fds[1:] {
			unix.Close(extra)
		}
		// Non-blocking so that os.File uses the poller and read deadlines work.
		if err := unix.SetNonblock(fds[0], true); err != nil {
			unix.Close(fds[0])
			cs.got <- consoleResult{err: err}
			return
		}
		unix.CloseOnExec(fds[0])
		cs.got <- consoleResult{f: os.NewFile(uintptr(fds[0]), "pty-master")}
		return
	}
	cs.got <- consoleResult{err: errors.New("no fd received over the console socket")}
}

// Master waits for the runtime to send the pty master.
func (cs *ConsoleSocket) Master() (*os.File, error) {
	select {
	case r := <-cs.got:
		return r.f, r.err
	case <-time.After(DefaultTimeout):
		return nil, errors.New("no connection on the console socket")
	}
}

// ReadPty reads from a pty master until every slave fd is closed (the kernel then returns
// EIO), i.e. until the container's processes have gone.
func ReadPty(master *os.File) (string, error) {
	var out bytes.Buffer
	buf := make([]byte, 4096)
	if err := master.SetReadDeadline(time.Now().Add(DefaultTimeout)); err != nil {
		return "", err
	}
	for {
		n, err := master.Read(buf)
		out.Write(buf[:n])
		if err != nil {
			if errors.Is(err, unix.EIO) {
				return out.String(), nil
			}
			return out.String(), err
		}
	}
}
