package initmsg

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// maxPacket bounds one message. A config with a large seccomp profile is
// tens of KiB; both ends raise their socket buffers to fit it.
const maxPacket = 4 << 20

// Conn is one end of the sync socketpair.
type Conn struct {
	f *os.File
}

// Pair makes a connected SOCK_SEQPACKET pair: packets keep their bounds, so
// a message never arrives torn or glued to the next.
func Pair() (parent, child *os.File, err error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, os.NewSyscallError("socketpair", err)
	}
	for _, fd := range fds {
		// SO_SNDBUFFORCE needs CAP_NET_ADMIN; rootless falls back to the
		// capped SO_SNDBUF, still large enough for ordinary configs.
		if unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUFFORCE, maxPacket) != nil {
			_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, maxPacket)
		}
		if unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, maxPacket) != nil {
			_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, maxPacket)
		}
	}
	return os.NewFile(uintptr(fds[0]), "sync-parent"), os.NewFile(uintptr(fds[1]), "sync-child"), nil
}

// NewConn wraps a socket.
func NewConn(f *os.File) *Conn { return &Conn{f: f} }

// File returns the socket.
func (c *Conn) File() *os.File { return c.f }

// Close closes the socket.
func (c *Conn) Close() error { return c.f.Close() }

// Send writes one message, with fd attached when fd >= 0.
func (c *Conn) Send(m *Msg, fd int) error {
	b, err := marshal(m)
	if err != nil {
		return err
	}
	var oob []byte
	if fd >= 0 {
		oob = unix.UnixRights(fd)
	}
	for {
		err = unix.Sendmsg(int(c.f.Fd()), b, oob, nil, unix.MSG_NOSIGNAL)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("send %s message: %w", m.Type, os.NewSyscallError("sendmsg", err))
	}
	return nil
}

// Recv reads one message and the fd it carries, if any (else nil). It
// returns io.EOF when the other end closed.
func (c *Conn) Recv() (*Msg, *os.File, error) {
	// Peek with MSG_TRUNC for the packet's real size, so a small message
	// does not cost a maxPacket buffer.
	var size int
	var err error
	for {
		size, _, err = unix.Recvfrom(int(c.f.Fd()), make([]byte, 1), unix.MSG_PEEK|unix.MSG_TRUNC)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		return nil, nil, os.NewSyscallError("recvmsg", err)
	}
	buf := make([]byte, max(size, 1))
	oob := make([]byte, unix.CmsgSpace(4*4))
	var n, oobn int
	for {
		n, oobn, _, _, err = unix.Recvmsg(int(c.f.Fd()), buf, oob, unix.MSG_CMSG_CLOEXEC)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		return nil, nil, os.NewSyscallError("recvmsg", err)
	}
	var file *os.File
	if oobn > 0 {
		cmsgs, err := unix.ParseSocketControlMessage(oob[:oobn])
		if err == nil {
			for _, cm := range cmsgs {
				fds, err := unix.ParseUnixRights(&cm)
				if err != nil {
					continue
				}
				for i, fd := range fds {
					if i == 0 && file == nil {
						file = os.NewFile(uintptr(fd), "received")
					} else {
						unix.Close(fd)
					}
				}
			}
		}
	}
	if n == 0 {
		if file != nil {
			file.Close()
		}
		return nil, nil, io.EOF
	}
	var m Msg
	// The constructor (C) speaks JSON; init and the runtime, wire.go.
	if buf[0] == '{' {
		err = json.Unmarshal(buf[:n], &m)
	} else {
		err = unmarshal(buf[:n], &m)
	}
	if err != nil {
		if file != nil {
			file.Close()
		}
		return nil, nil, fmt.Errorf("decode sync message: %w", err)
	}
	return &m, file, nil
}

// Expect receives the next message that is not a log line (log lines go to
// logf), turns an "error" message into an error, and checks the type.
func (c *Conn) Expect(want string, logf func(level, text string)) (*Msg, *os.File, error) {
	for {
		m, f, err := c.Recv()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil, nil, fmt.Errorf("waiting for %s: %w", want, io.ErrUnexpectedEOF)
			}
			return nil, nil, err
		}
		switch m.Type {
		case TypeLog:
			if logf != nil {
				logf(m.Level, m.Text)
			}
			continue
		case TypeError:
			if f != nil {
				f.Close()
			}
			return nil, nil, errors.New(m.Error)
		case want:
			return m, f, nil
		}
		if f != nil {
			f.Close()
		}
		return nil, nil, fmt.Errorf("sync: got %q message while waiting for %q", m.Type, want)
	}
}
