package process

import (
	"errors"
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// SetOOMScoreAdj writes process.oomScoreAdj for process pid (0: the caller)
// to /proc/<pid>/oom_score_adj. The value belongs to the whole process and
// is inherited across fork and execve.
func SetOOMScoreAdj(pid, v int) error {
	if err := CheckOOMScoreAdj(v); err != nil {
		return err
	}
	who := "self"
	if pid != 0 {
		who = strconv.Itoa(pid)
	}
	path := "/proc/" + who + "/oom_score_adj"
	f, err := openProcFile(path, unix.O_WRONLY)
	if err != nil {
		return fmt.Errorf("process.oomScoreAdj: %w", err)
	}
	defer f.Close()
	if _, err := f.WriteString(strconv.Itoa(v)); err != nil {
		return OOMScoreAdjError(v, err)
	}
	return nil
}

// CheckOOMScoreAdj refuses a value proc(5) does not take.
func CheckOOMScoreAdj(v int) error {
	if v < -1000 || v > 1000 {
		return fmt.Errorf("process.oomScoreAdj: %d is outside -1000..1000", v)
	}
	return nil
}

// OOMScoreAdjError is the error of writing v to oom_score_adj failing
// with err.
func OOMScoreAdjError(v int, err error) error {
	// proc(5): lowering the value below the one the process was given
	// by a privileged writer needs CAP_SYS_RESOURCE.
	if errors.Is(err, unix.EACCES) {
		return fmt.Errorf("process.oomScoreAdj: set %d: %w: lowering it needs CAP_SYS_RESOURCE", v, err)
	}
	return fmt.Errorf("process.oomScoreAdj: set %d: %w", v, err)
}

// openProcFile opens a file that must be on procfs, refusing a final
// symlink and anything that is not procfs (a bind mount over it, say).
func openProcFile(path string, flags int) (*os.File, error) {
	fd, err := unix.Open(path, flags|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	f := os.NewFile(uintptr(fd), path)
	if err := checkProcfs(fd, path); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

func checkProcfs(fd int, path string) error {
	var st unix.Statfs_t
	if err := unix.Fstatfs(fd, &st); err != nil {
		return &os.PathError{Op: "fstatfs", Path: path, Err: err}
	}
	if st.Type != unix.PROC_SUPER_MAGIC {
		return fmt.Errorf("%s is not on procfs (filesystem type %#x)", path, st.Type)
	}
	return nil
}
