package cgroups

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// writeFile writes value to dir/name in a single write(2): cgroupfs parses
// each write on its own, so a value split across writes would be two
// commands. O_NOFOLLOW because cgroupfs never has symlinks and a fake tree in
// a test must not lead the write elsewhere; no O_CREAT because a missing
// file means the kernel lacks the knob, which the caller reports.
func writeFile(dir, name, value string) error {
	p := filepath.Join(dir, name)
	fd, err := unix.Open(p, unix.O_WRONLY|unix.O_TRUNC|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: p, Err: err}
	}
	defer unix.Close(fd)
	for {
		_, err = unix.Write(fd, []byte(value))
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		return &os.PathError{Op: "write " + strings.TrimSpace(value), Path: p, Err: err}
	}
	return nil
}

// readFile returns dir/name with surrounding white space removed.
func readFile(dir, name string) (string, error) {
	p := filepath.Join(dir, name)
	fd, err := unix.Open(p, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
	if err != nil {
		return "", &os.PathError{Op: "open", Path: p, Err: err}
	}
	f := os.NewFile(uintptr(fd), p)
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

// rmdirRetry removes a cgroup directory. The kernel answers EBUSY while the
// last processes of a killed container are still exiting (their css is not
// yet released), so EBUSY is retried for a short while.
func rmdirRetry(p string) error {
	delay := 5 * time.Millisecond
	var err error
	for i := 0; i < 12; i++ {
		err = unix.Rmdir(p)
		if err == nil || err == unix.ENOENT {
			return nil
		}
		if err != unix.EBUSY {
			break
		}
		time.Sleep(delay)
		if delay < 200*time.Millisecond {
			delay *= 2
		}
	}
	return &os.PathError{Op: "rmdir", Path: p, Err: err}
}
