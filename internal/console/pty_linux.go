package console

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// Device numbers of the pty multiplexer and of the Unix98 pty slaves
// (Documentation/admin-guide/devices.txt): /dev/ptmx and every devpts
// instance's ptmx node are 5:2; slaves use majors 136-143.
const (
	ptmxMajor       = 5
	ptmxMinor       = 2
	ptsMajorFirst   = 136
	ptsMajorLast    = 143
	ptsMinorsPerMaj = 256
)

// NewPty allocates a new pseudo-terminal from the multiplexer at ptmx
// (typically the container's /dev/pts/ptmx, or /dev/ptmx) and returns its
// master and slave sides.
//
// The master is returned non-blocking and registered with Go's poller (the
// state os.OpenFile leaves a character device in), so reads on it can be
// interrupted by Close or a deadline. The slave is blocking, because it
// becomes the container process's stdio and most programs misbehave on a
// non-blocking terminal. Both are close-on-exec; dup2 onto 0-2 clears that.
func NewPty(ptmx string) (master, slave *os.File, err error) {
	mfd, err := unix.Open(ptmx, unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, &os.PathError{Op: "open", Path: ptmx, Err: err}
	}
	defer func() {
		if err != nil {
			unix.Close(mfd)
		}
	}()
	// ptmx may be reached through a symlink (/dev/ptmx -> pts/ptmx); make
	// sure what we opened really is a pty multiplexer and not some other
	// device or file a container planted there.
	var st unix.Stat_t
	if err := unix.Fstat(mfd, &st); err != nil {
		return nil, nil, &os.PathError{Op: "fstat", Path: ptmx, Err: err}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFCHR || unix.Major(st.Rdev) != ptmxMajor || unix.Minor(st.Rdev) != ptmxMinor {
		return nil, nil, fmt.Errorf("open %s: not a pty multiplexer (mode %o, device %d:%d)",
			ptmx, st.Mode, unix.Major(st.Rdev), unix.Minor(st.Rdev))
	}
	// unlockpt(3): a new pty starts locked so that nobody can open the
	// slave before its master is set up.
	if err := unix.IoctlSetPointerInt(mfd, unix.TIOCSPTLCK, 0); err != nil {
		return nil, nil, os.NewSyscallError("ioctl TIOCSPTLCK", err)
	}
	n, err := unix.IoctlGetUint32(mfd, unix.TIOCGPTN)
	if err != nil {
		return nil, nil, os.NewSyscallError("ioctl TIOCGPTN", err)
	}
	slaveName := filepath.Join(ptsDir(ptmx), strconv.FormatUint(uint64(n), 10))

	sfd, err := openPeer(mfd)
	if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOTTY) {
		// Kernels before 4.13 have no TIOCGPTPEER: open the slave by name,
		// refusing symlinks, and check it is the slave of this master.
		sfd, err = openSlaveByName(slaveName, n)
	}
	if err != nil {
		return nil, nil, err
	}
	if err := unix.SetNonblock(mfd, true); err != nil {
		unix.Close(sfd)
		return nil, nil, os.NewSyscallError("fcntl O_NONBLOCK", err)
	}
	return os.NewFile(uintptr(mfd), ptmx), os.NewFile(uintptr(sfd), slaveName), nil
}

// openPeer is TIOCGPTPEER: the kernel opens the slave belonging to this very
// master, in the devpts instance the master came from, without a path lookup.
func openPeer(mfd int) (int, error) {
	r, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(mfd), unix.TIOCGPTPEER,
		uintptr(unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC))
	if errno != 0 {
		return -1, os.NewSyscallError("ioctl TIOCGPTPEER", errno)
	}
	return int(r), nil
}

func openSlaveByName(name string, n uint32) (int, error) {
	fd, err := unix.Open(name, unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
	if err != nil {
		return -1, &os.PathError{Op: "open", Path: name, Err: err}
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return -1, &os.PathError{Op: "fstat", Path: name, Err: err}
	}
	maj, min := unix.Major(st.Rdev), unix.Minor(st.Rdev)
	if st.Mode&unix.S_IFMT != unix.S_IFCHR || maj < ptsMajorFirst || maj > ptsMajorLast ||
		(maj-ptsMajorFirst)*ptsMinorsPerMaj+min != n {
		unix.Close(fd)
		return -1, fmt.Errorf("open %s: not pty slave %d (device %d:%d)", name, n, maj, min)
	}
	return fd, nil
}

// ptsDir is the devpts directory a multiplexer belongs to: the directory of
// a devpts ptmx node, or the pts directory next to /dev/ptmx.
func ptsDir(ptmx string) string {
	dir := filepath.Dir(ptmx)
	if filepath.Base(dir) == "pts" {
		return dir
	}
	return filepath.Join(dir, "pts")
}

// SetSize sets the window size of the terminal f (master or slave).
func SetSize(f *os.File, width, height uint) error {
	if width > 0xffff || height > 0xffff {
		return fmt.Errorf("set console size %dx%d: dimensions exceed 65535", width, height)
	}
	ws := &unix.Winsize{Col: uint16(width), Row: uint16(height)}
	err := withFd(f, func(fd int) error { return unix.IoctlSetWinsize(fd, unix.TIOCSWINSZ, ws) })
	if err != nil {
		return os.NewSyscallError("ioctl TIOCSWINSZ", err)
	}
	return nil
}

// GetSize returns the window size of the terminal f.
func GetSize(f *os.File) (width, height uint, err error) {
	var ws *unix.Winsize
	err = withFd(f, func(fd int) (err error) {
		ws, err = unix.IoctlGetWinsize(fd, unix.TIOCGWINSZ)
		return err
	})
	if err != nil {
		return 0, 0, os.NewSyscallError("ioctl TIOCGWINSZ", err)
	}
	return uint(ws.Col), uint(ws.Row), nil
}

// withFd runs fn on f's descriptor without (*os.File).Fd, which would
// switch a pollable file back to blocking mode for good.
func withFd(f *os.File, fn func(fd int) error) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) { ferr = fn(int(fd)) }); err != nil {
		return err
	}
	return ferr
}
