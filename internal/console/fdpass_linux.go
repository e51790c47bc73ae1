package console

import (
	"errors"
	"fmt"
	"os"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/unha/unha/internal/unixsock"
)

// maxNameLen is the largest payload a receiver must accept. runc sends the
// file's name as the message's data, and go-runc (containerd) reads it into a
// 4096-byte buffer and rejects a message that fills it; conmon reads the
// name the same way.
const maxNameLen = 4095

// SendFd connects to the unix socket at socketPath (the --console-socket of
// the OCI command line) and sends f over it with SendFdConn.
func SendFd(socketPath string, f *os.File) error {
	conn, err := unixsock.Dial(socketPath)
	if err != nil {
		return fmt.Errorf("connect to console socket %s: %w", socketPath, err)
	}
	defer conn.Close()
	if err := SendFdConn(conn, f); err != nil {
		return fmt.Errorf("send console to %s: %w", socketPath, err)
	}
	return nil
}

// SendFdConn sends f over conn as a single SCM_RIGHTS message whose data is
// f's name, the framing runc uses and go-runc and conmon expect: exactly one
// descriptor, name shorter than 4096 bytes.
//
// On a SOCK_STREAM socket the kernel may glue earlier data to the name;
// sockets that also carry other messages should be SOCK_SEQPACKET.
func SendFdConn(conn syscall.Conn, f *os.File) error {
	name := f.Name()
	if len(name) > maxNameLen {
		name = name[:maxNameLen]
	}
	if name == "" {
		// A zero-length message on a stream socket reads as end of file.
		name = "fd"
	}
	var werr error
	err := withFd(f, func(fd int) error {
		_, werr = unixsock.SendRights(conn, []byte(name), fd)
		return nil
	})
	if err != nil {
		return err
	}
	if werr != nil {
		return fmt.Errorf("send fd %s: %w", name, werr)
	}
	return nil
}

// RecvFd receives one descriptor sent by SendFdConn (or runc) and returns it
// as a file named by the message's data. The descriptor arrives close-on-exec
// (MSG_CMSG_CLOEXEC). A message carrying more than one descriptor,
// or a truncated one, is an error and every received descriptor is closed.
func RecvFd(conn syscall.Conn) (*os.File, error) {
	name := make([]byte, maxNameLen+1)
	// Room for a few descriptors so that a sender passing more than one is
	// detected rather than silently truncated.
	oob := make([]byte, unix.CmsgSpace(4*4))
	n, oobn, flags, err := unixsock.Recv(conn, name, oob)
	if err != nil {
		return nil, fmt.Errorf("receive fd: %w", err)
	}
	fds, perr := parseRights(oob[:oobn])
	closeAll := func() {
		for _, fd := range fds {
			unix.Close(fd)
		}
	}
	switch {
	case perr != nil:
		closeAll()
		return nil, fmt.Errorf("receive fd: %w", perr)
	case flags&unix.MSG_CTRUNC != 0:
		closeAll()
		return nil, errors.New("receive fd: control message truncated")
	case n == 0 && oobn == 0:
		return nil, fmt.Errorf("receive fd: %w", unix.ECONNRESET)
	case len(fds) != 1:
		closeAll()
		return nil, fmt.Errorf("receive fd: got %d descriptors, want 1", len(fds))
	}
	return os.NewFile(uintptr(fds[0]), string(name[:n])), nil
}

func parseRights(oob []byte) ([]int, error) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil, err
	}
	var fds []int
	var bad error
	for i := range msgs {
		got, err := unix.ParseUnixRights(&msgs[i])
		if err != nil {
			bad = fmt.Errorf("unexpected control message (level %d, type %d)", msgs[i].Header.Level, msgs[i].Header.Type)
			continue
		}
		fds = append(fds, got...)
	}
	return fds, bad
}
