package console

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"golang.org/x/term"
)

func newPty(t *testing.T) (*os.File, *os.File) {
	t.Helper()
	m, s, err := NewPty("/dev/ptmx")
	if err != nil {
		t.Fatalf("NewPty: %v", err)
	}
	t.Cleanup(func() { m.Close(); s.Close() })
	return m, s
}

// readFull reads until want bytes arrived or the reader fails.
func readN(t *testing.T, r io.Reader, n int) string {
	t.Helper()
	buf := make([]byte, n)
	if _, err := io.ReadFull(r, buf); err != nil {
		t.Fatalf("read: %v (got %q)", err, buf)
	}
	return string(buf)
}

func TestNewPtyRoundTrip(t *testing.T) {
	m, s := newPty(t)
	if !term.IsTerminal(int(s.Fd())) {
		t.Fatal("slave is not a terminal")
	}
	if !strings.HasPrefix(s.Name(), "/dev/pts/") {
		t.Errorf("slave name %q, want /dev/pts/N", s.Name())
	}
	// The name must be the slave's real device: compare with the fd's link.
	link, err := os.Readlink("/proc/self/fd/" + itoa(int(s.Fd())))
	if err != nil || link != s.Name() {
		t.Errorf("slave fd links to %q (%v), name %q", link, err, s.Name())
	}
	// The master must be non-blocking (pollable), the slave blocking.
	if fl, _ := unix.FcntlInt(uintptr(s.Fd()), unix.F_GETFL, 0); fl&unix.O_NONBLOCK != 0 {
		t.Error("slave is non-blocking")
	}
	for _, f := range []*os.File{m, s} {
		var fd int
		_ = withFd(f, func(x int) error { fd = x; return nil })
		if fl, _ := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); fl&unix.FD_CLOEXEC == 0 {
			t.Errorf("%s is not close-on-exec", f.Name())
		}
	}

	if _, err := s.Write([]byte("hello\n")); err != nil {
		t.Fatal(err)
	}
	// The default line discipline turns \n into \r\n (ONLCR).
	if got := readN(t, m, 7); got != "hello\r\n" {
		t.Errorf("master read %q", got)
	}
	if _, err := m.Write([]byte("world\n")); err != nil {
		t.Fatal(err)
	}
	if got := readN(t, s, 6); got != "world\n" {
		t.Errorf("slave read %q", got)
	}
}

func TestNewPtyRejectsNonPtmx(t *testing.T) {
	for _, p := range []string{"/dev/null", filepath.Join(t.TempDir(), "missing")} {
		if m, s, err := NewPty(p); err == nil {
			m.Close()
			s.Close()
			t.Errorf("NewPty(%s) succeeded", p)
		}
	}
}

func TestPtsDir(t *testing.T) {
	for in, want := range map[string]string{
		"/dev/ptmx":               "/dev/pts",
		"/dev/pts/ptmx":           "/dev/pts",
		"/run/c/rootfs/dev/ptmx":  "/run/c/rootfs/dev/pts",
		"/run/c/rootfs/dev/pts/x": "/run/c/rootfs/dev/pts",
	} {
		if got := ptsDir(in); got != want {
			t.Errorf("ptsDir(%s) = %s, want %s", in, got, want)
		}
	}
}

func TestOpenSlaveByName(t *testing.T) {
	m, s := newPty(t)
	var n uint32
	_ = withFd(m, func(fd int) (err error) { n, err = unix.IoctlGetUint32(fd, unix.TIOCGPTN); return })
	fd, err := openSlaveByName(s.Name(), n)
	if err != nil {
		t.Fatalf("openSlaveByName: %v", err)
	}
	unix.Close(fd)
	// The wrong index must be refused even though the path is a real slave.
	if fd, err := openSlaveByName(s.Name(), n+1); err == nil {
		unix.Close(fd)
		t.Error("slave with the wrong index accepted")
	}
	dir := t.TempDir()
	link := filepath.Join(dir, "0")
	if err := os.Symlink(s.Name(), link); err != nil {
		t.Fatal(err)
	}
	if fd, err := openSlaveByName(link, n); !errors.Is(err, unix.ELOOP) {
		if err == nil {
			unix.Close(fd)
		}
		t.Errorf("symlinked slave: err %v, want ELOOP", err)
	}
}

func TestSize(t *testing.T) {
	m, s := newPty(t)
	if err := SetSize(m, 132, 43); err != nil {
		t.Fatal(err)
	}
	for _, f := range []*os.File{m, s} {
		w, h, err := GetSize(f)
		if err != nil || w != 132 || h != 43 {
			t.Errorf("GetSize(%s) = %d, %d, %v; want 132, 43", f.Name(), w, h, err)
		}
	}
	if err := SetSize(m, 70000, 1); err == nil {
		t.Error("SetSize accepted a width above 65535")
	}
	// GetSize must not turn the master blocking (Fd would).
	var fd int
	_ = withFd(m, func(x int) error { fd = x; return nil })
	if fl, _ := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0); fl&unix.O_NONBLOCK == 0 {
		t.Error("master became blocking")
	}
}

func socketpair(t *testing.T, typ int) (*net.UnixConn, *net.UnixConn) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, typ|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	conn := func(fd int) *net.UnixConn {
		f := os.NewFile(uintptr(fd), "sock")
		defer f.Close()
		c, err := net.FileConn(f)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c.(*net.UnixConn)
	}
	return conn(fds[0]), conn(fds[1])
}

// checkSameFile asserts that a and b are the same open file.
func checkSameFile(t *testing.T, a, b *os.File) {
	t.Helper()
	var sa, sb unix.Stat_t
	_ = withFd(a, func(fd int) error { return unix.Fstat(fd, &sa) })
	_ = withFd(b, func(fd int) error { return unix.Fstat(fd, &sb) })
	if sa.Dev != sb.Dev || sa.Ino != sb.Ino || sa.Rdev != sb.Rdev {
		t.Errorf("received file is not the sent one: %+v vs %+v", sa, sb)
	}
}

func TestSendRecvSocketpair(t *testing.T) {
	for name, typ := range map[string]int{"stream": unix.SOCK_STREAM, "seqpacket": unix.SOCK_SEQPACKET} {
		t.Run(name, func(t *testing.T) {
			a, b := socketpair(t, typ)
			m, s := newPty(t)
			if err := SendFdConn(a, m); err != nil {
				t.Fatal(err)
			}
			got, err := RecvFd(b)
			if err != nil {
				t.Fatal(err)
			}
			defer got.Close()
			if got.Name() != m.Name() {
				t.Errorf("name %q, want %q", got.Name(), m.Name())
			}
			checkSameFile(t, got, m)
			var fd int
			_ = withFd(got, func(x int) error { fd = x; return nil })
			if fl, _ := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); fl&unix.FD_CLOEXEC == 0 {
				t.Error("received fd is not close-on-exec")
			}
			// The received master drives the same pty.
			if _, err := got.Write([]byte("x\n")); err != nil {
				t.Fatal(err)
			}
			if r := readN(t, s, 2); r != "x\n" {
				t.Errorf("slave read %q", r)
			}
		})
	}
}

func TestRecvFdRejectsTwoFds(t *testing.T) {
	a, b := socketpair(t, unix.SOCK_SEQPACKET)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if _, _, err := a.WriteMsgUnix([]byte("two"), unix.UnixRights(int(r.Fd()), int(w.Fd())), nil); err != nil {
		t.Fatal(err)
	}
	if f, err := RecvFd(b); err == nil || !strings.Contains(err.Error(), "got 2 descriptors") {
		if f != nil {
			f.Close()
		}
		t.Errorf("RecvFd with two fds: %v", err)
	}
	// No message: the peer closed.
	a.Close()
	if _, err := RecvFd(b); err == nil {
		t.Error("RecvFd after close succeeded")
	}
}

// TestSendFdListener plays the part of go-runc's console socket: a
// listening stream socket that accepts one connection and reads name + fd.
func TestSendFdListener(t *testing.T) {
	dir := t.TempDir()
	// A path longer than sockaddr_un allows exercises the /proc/self/fd route.
	long := filepath.Join(dir, strings.Repeat("d", 100))
	if err := os.Mkdir(long, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{filepath.Join(dir, "console.sock"), filepath.Join(long, "console.sock")} {
		l, err := listenUnix(path)
		if err != nil {
			t.Fatalf("listen %s: %v", path, err)
		}
		got := make(chan *os.File, 1)
		errc := make(chan error, 1)
		go func() {
			c, err := l.AcceptUnix()
			if err != nil {
				errc <- err
				return
			}
			defer c.Close()
			f, err := RecvFd(c)
			if err != nil {
				errc <- err
				return
			}
			got <- f
		}()
		m, _ := newPty(t)
		if err := SendFd(path, m); err != nil {
			t.Fatalf("SendFd(%d-byte path): %v", len(path), err)
		}
		select {
		case f := <-got:
			if f.Name() != "/dev/ptmx" {
				t.Errorf("name %q", f.Name())
			}
			checkSameFile(t, f, m)
			f.Close()
		case err := <-errc:
			t.Fatal(err)
		}
		l.Close()
	}
}

// listenUnix listens at path, through /proc/self/fd of its directory when
// path is longer than sockaddr_un's 107 bytes.
func listenUnix(path string) (*net.UnixListener, error) {
	if len(path) <= 107 {
		return net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	}
	d, err := os.Open(filepath.Dir(path))
	if err != nil {
		return nil, err
	}
	defer d.Close()
	return net.ListenUnix("unix", &net.UnixAddr{Name: "/proc/self/fd/" + itoa(int(d.Fd())) + "/" + filepath.Base(path), Net: "unix"})
}

func TestSendFdNoListener(t *testing.T) {
	m, _ := newPty(t)
	err := SendFd(filepath.Join(t.TempDir(), "none.sock"), m)
	if err == nil || !strings.Contains(err.Error(), "console socket") {
		t.Errorf("SendFd to a missing socket: %v", err)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// TestProxy uses a second pty as the caller's terminal: the test types on
// its master, Proxy reads its slave (stdin/stdout), and the container pty's
// slave plays the container.
func TestProxy(t *testing.T) {
	callerM, callerS := newPty(t)
	contM, contS := newPty(t)
	if err := SetSize(callerM, 100, 30); err != nil {
		t.Fatal(err)
	}
	cooked, err := unix.IoctlGetTermios(int(callerS.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}

	// The container side is raw so that the bytes typed arrive verbatim
	// (a cooked line discipline would act on ^C).
	if _, err := term.MakeRaw(int(contS.Fd())); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- Proxy(ctx, contM, callerS, callerS) }()

	// Container -> caller.
	if _, err := contS.Write([]byte("out\n")); err != nil {
		t.Fatal(err)
	}
	// Both terminals are raw (no ONLCR): the bytes arrive unchanged; a
	// cooked caller terminal would have added \r.
	if got := readN(t, callerM, 4); got != "out\n" {
		t.Errorf("caller read %q", got)
	}
	// The caller's terminal is raw while Proxy runs.
	raw, err := unix.IoctlGetTermios(int(callerS.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	if raw.Lflag&unix.ICANON != 0 || raw.Lflag&unix.ECHO != 0 {
		t.Errorf("caller terminal not raw: lflag %#x", raw.Lflag)
	}
	// Caller -> container: a raw caller terminal passes ^C through as a byte.
	if _, err := callerM.Write([]byte("in\x03\n")); err != nil {
		t.Fatal(err)
	}
	if got := readN(t, contS, 4); got != "in\x03\n" {
		t.Errorf("container read %q", got)
	}

	// Initial window size, then a change relayed on SIGWINCH.
	waitSize(t, contM, 100, 30)
	if err := SetSize(callerM, 120, 40); err != nil {
		t.Fatal(err)
	}
	if err := unix.Kill(os.Getpid(), unix.SIGWINCH); err != nil {
		t.Fatal(err)
	}
	waitSize(t, contM, 120, 40)

	// The container hangs up: Proxy returns nil and restores the terminal.
	contS.Close()
	if err := <-done; err != nil {
		t.Fatalf("Proxy: %v", err)
	}
	after, err := unix.IoctlGetTermios(int(callerS.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	if after.Lflag != cooked.Lflag || after.Iflag != cooked.Iflag || after.Oflag != cooked.Oflag {
		t.Errorf("terminal not restored: %+v, want %+v", after, cooked)
	}
}

// waitSize waits for an asynchronous size relay; it asserts the outcome,
// not how long it took.
func waitSize(t *testing.T, f *os.File, w, h uint) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		gw, gh, err := GetSize(f)
		if err == nil && gw == w && gh == h {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("size %dx%d (%v), want %dx%d", gw, gh, err, w, h)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestProxyPipesAndCancel(t *testing.T) {
	contM, contS := newPty(t)
	inR, inW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer inR.Close()
	defer inW.Close()
	var out safeBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Proxy(ctx, contM, inR, &out) }()

	if _, err := term.MakeRaw(int(contS.Fd())); err != nil {
		t.Fatal(err)
	}
	if _, err := inW.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	if got := readN(t, contS, 4); got != "ping" {
		t.Errorf("container read %q", got)
	}
	if _, err := contS.Write([]byte("pong")); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for out.String() != "pong" && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if out.String() != "pong" {
		t.Errorf("stdout got %q", out.String())
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Proxy after cancel: %v", err)
	}
	// The caller's master is still usable after Proxy.
	if _, err := contM.Write([]byte("z")); err != nil {
		t.Errorf("master after Proxy: %v", err)
	}
}

type safeBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *safeBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *safeBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
