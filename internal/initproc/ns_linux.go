package initproc

import (
	"errors"
	"fmt"
	"os"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// setupTimeNS creates (or keeps, when joined by the constructor) the time
// namespace: unshare puts only future children in it, and execve counts as
// entering, so offsets written now apply to the container's process.
func setupTimeNS(s *specs.Spec) error {
	path, listed := nsPath(s, specs.TimeNamespace)
	if !listed || path != "" {
		if len(s.Linux.TimeOffsets) > 0 && path != "" {
			return errors.New("timeOffsets cannot be set for a joined time namespace")
		}
		return nil
	}
	if err := unix.Unshare(unix.CLONE_NEWTIME); err != nil {
		return os.NewSyscallError("unshare time namespace", err)
	}
	if len(s.Linux.TimeOffsets) == 0 {
		return nil
	}
	var b strings.Builder
	for clock, off := range s.Linux.TimeOffsets {
		switch clock {
		case "monotonic", "boottime":
		default:
			return fmt.Errorf("timeOffsets: unknown clock %q", clock)
		}
		fmt.Fprintf(&b, "%s %d %d\n", clock, off.Secs, off.Nanosecs)
	}
	if err := os.WriteFile("/proc/self/timens_offsets", []byte(b.String()), 0); err != nil {
		return fmt.Errorf("write time namespace offsets: %w", err)
	}
	return nil
}

func nsPath(s *specs.Spec, t specs.LinuxNamespaceType) (string, bool) {
	for _, ns := range s.Linux.Namespaces {
		if ns.Type == t {
			return ns.Path, true
		}
	}
	return "", false
}

func hasMountNS(s *specs.Spec) bool {
	_, ok := nsPath(s, specs.MountNamespace)
	return ok
}

func inUserNS(s *specs.Spec) bool {
	_, ok := nsPath(s, specs.UserNamespace)
	return ok
}

func isProcfs(fd int) bool {
	var st unix.Statfs_t
	return unix.Fstatfs(fd, &st) == nil && st.Type == unix.PROC_SUPER_MAGIC
}
