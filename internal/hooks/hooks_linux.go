package hooks

import (
	"fmt"
	"os"
	"os/exec"

	"golang.org/x/sys/unix"
)

// memFile returns an anonymous file holding data, positioned at its start.
// A file, unlike a pipe, needs no copying goroutine whose end the runtime
// would have to wait for.
func memFile(name string, data []byte) (*os.File, error) {
	fd, err := unix.MemfdCreate(name, unix.MFD_CLOEXEC)
	if err != nil {
		return tmpFile(data)
	}
	f := os.NewFile(uintptr(fd), "memfd:"+name)
	if err := fill(f, data); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// tmpFile is memFile for systems that refuse memfd_create (a seccomp
// profile around the runtime, say): an unlinked temporary file.
func tmpFile(data []byte) (*os.File, error) {
	f, err := os.CreateTemp("", "unha-hook-")
	if err != nil {
		return nil, fmt.Errorf("create temporary file: %w", err)
	}
	os.Remove(f.Name())
	if err := fill(f, data); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

func fill(f *os.File, data []byte) error {
	if _, err := f.Write(data); err != nil {
		return err
	}
	_, err := f.Seek(0, 0)
	return err
}

// setProcessGroup puts the hook in a process group of its own so that a
// timeout kills whatever the hook started too, not only the hook.
func setProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &unix.SysProcAttr{Setpgid: true}
}

// killGroup kills the hook's process group, whose id is the hook's pid
// (Setpgid with Pgid 0).
func killGroup(cmd *exec.Cmd) {
	_ = unix.Kill(-cmd.Process.Pid, unix.SIGKILL)
}

// waitExited blocks until pid has exited without reaping it (WNOWAIT), so
// that the pid stays ours until exec.Cmd.Wait reaps it.
func waitExited(pid int) {
	var info unix.Siginfo
	for {
		err := unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
		if err != unix.EINTR {
			return
		}
	}
}
