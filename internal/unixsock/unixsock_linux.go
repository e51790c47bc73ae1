// Package unixsock is the little of AF_UNIX the runtime needs: connecting to
// a client's socket (--console-socket, a seccomp agent's listenerPath) and
// passing descriptors with SCM_RIGHTS. It is raw socket(2), connect(2) and
// sendmsg(2) instead of package net, which would add ~200 KB to a binary
// whose size is most of its resident memory (every page of it is mapped by
// the time a container runs), for two blocking calls per container.
package unixsock

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// maxSunPath is the room for a path in sockaddr_un (108 bytes with its NUL).
const maxSunPath = 107

// Dial connects a close-on-exec, blocking SOCK_STREAM socket to path. A path
// longer than sockaddr_un allows is reached through /proc/self/fd/N of its
// parent directory, which keeps deep bundle and state directories usable.
// Errors read as net's: "dial unix PATH: connect: ...".
func Dial(path string) (*os.File, error) {
	addr := path
	if len(path) > maxSunPath {
		dir, err := unix.Open(filepath.Dir(path), unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return nil, &os.PathError{Op: "open", Path: filepath.Dir(path), Err: err}
		}
		defer unix.Close(dir)
		addr = "/proc/self/fd/" + strconv.Itoa(dir) + "/" + filepath.Base(path)
		if len(addr) > maxSunPath {
			return nil, fmt.Errorf("dial unix %s: name too long for sockaddr_un: %w", path, unix.EINVAL)
		}
	}
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("dial unix %s: %w", path, os.NewSyscallError("socket", err))
	}
	sa := &unix.SockaddrUnix{Name: addr}
	for {
		err = unix.Connect(fd, sa)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("dial unix %s: %w", path, os.NewSyscallError("connect", err))
	}
	return os.NewFile(uintptr(fd), path), nil
}

// SendRights sends data with fds as one SCM_RIGHTS message on conn (a
// socket as *os.File or *net.UnixConn) and returns how much of data went:
// on a stream socket the kernel may take less, and the rest must go without
// the descriptors.
func SendRights(conn syscall.Conn, data []byte, fds ...int) (int, error) {
	rc, err := conn.SyscallConn()
	if err != nil {
		return 0, err
	}
	oob := unix.UnixRights(fds...)
	var n int
	var serr error
	err = rc.Write(func(fd uintptr) bool {
		n, serr = unix.SendmsgN(int(fd), data, oob, nil, unix.MSG_NOSIGNAL)
		// A non-blocking socket (net's) that is full: wait and retry.
		return serr != unix.EAGAIN
	})
	if err == nil {
		err = serr
	}
	if err != nil {
		return 0, os.NewSyscallError("sendmsg", err)
	}
	return n, nil
}

// Recv reads one message and its control data from conn, receiving any
// descriptors close-on-exec (MSG_CMSG_CLOEXEC).
func Recv(conn syscall.Conn, p, oob []byte) (n, oobn, flags int, err error) {
	rc, err := conn.SyscallConn()
	if err != nil {
		return 0, 0, 0, err
	}
	var rerr error
	err = rc.Read(func(fd uintptr) bool {
		n, oobn, flags, _, rerr = unix.Recvmsg(int(fd), p, oob, unix.MSG_CMSG_CLOEXEC)
		return rerr != unix.EAGAIN
	})
	if err == nil {
		err = rerr
	}
	if err != nil {
		return 0, 0, 0, os.NewSyscallError("recvmsg", err)
	}
	return n, oobn, flags, nil
}
