package unixsock

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// listen binds a stream socket at path the way a client would, through the
// directory's /proc/self/fd entry when path is too long for sockaddr_un.
func listen(t *testing.T, path string) int {
	t.Helper()
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	addr := path
	if len(path) > maxSunPath {
		d, err := os.Open(filepath.Dir(path))
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		addr = "/proc/self/fd/" + strconv.Itoa(int(d.Fd())) + "/" + filepath.Base(path)
	}
	if err := unix.Bind(fd, &unix.SockaddrUnix{Name: addr}); err != nil {
		t.Fatal(err)
	}
	if err := unix.Listen(fd, 1); err != nil {
		t.Fatal(err)
	}
	return fd
}

func TestDialSendRecv(t *testing.T) {
	dir := t.TempDir()
	long := filepath.Join(dir, strings.Repeat("d", 110))
	if err := os.Mkdir(long, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{filepath.Join(dir, "s.sock"), filepath.Join(long, "s.sock")} {
		l := listen(t, path)
		c, err := Dial(path)
		if err != nil {
			t.Fatalf("Dial(%d-byte path): %v", len(path), err)
		}
		if fl, _ := unix.FcntlInt(c.Fd(), unix.F_GETFD, 0); fl&unix.FD_CLOEXEC == 0 {
			t.Error("dialled socket is not close-on-exec")
		}
		afd, _, err := unix.Accept4(l, unix.SOCK_CLOEXEC)
		if err != nil {
			t.Fatal(err)
		}
		a := os.NewFile(uintptr(afd), "accepted")
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		if n, err := SendRights(c, []byte("hello"), int(w.Fd())); err != nil || n != 5 {
			t.Fatalf("SendRights = %d, %v", n, err)
		}
		buf, oob := make([]byte, 16), make([]byte, unix.CmsgSpace(4))
		n, oobn, _, err := Recv(a, buf, oob)
		if err != nil || string(buf[:n]) != "hello" {
			t.Fatalf("Recv = %q, %v", buf[:n], err)
		}
		msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
		if err != nil || len(msgs) != 1 {
			t.Fatalf("control messages %v, %v", msgs, err)
		}
		fds, err := unix.ParseUnixRights(&msgs[0])
		if err != nil || len(fds) != 1 {
			t.Fatalf("rights %v, %v", fds, err)
		}
		if fl, _ := unix.FcntlInt(uintptr(fds[0]), unix.F_GETFD, 0); fl&unix.FD_CLOEXEC == 0 {
			t.Error("received fd is not close-on-exec")
		}
		// The received fd is the pipe's write end.
		got := os.NewFile(uintptr(fds[0]), "got")
		if _, err := got.Write([]byte("x")); err != nil {
			t.Fatal(err)
		}
		if _, err := r.Read(buf[:1]); err != nil || buf[0] != 'x' {
			t.Errorf("pipe read %q, %v", buf[:1], err)
		}
		for _, f := range []*os.File{got, r, w, a, c} {
			f.Close()
		}
	}
}

func TestDialErrors(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "none.sock")
	_, err := Dial(missing)
	if !errors.Is(err, unix.ENOENT) || err.Error() != "dial unix "+missing+": connect: no such file or directory" {
		t.Errorf("Dial(missing) = %v", err)
	}
	tooLong := "/" + strings.Repeat("x", 200)
	if _, err := Dial(tooLong); !errors.Is(err, unix.EINVAL) {
		t.Errorf("Dial(200-byte name) = %v, want EINVAL", err)
	}
}
