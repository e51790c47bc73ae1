package initproc

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// chdirInside changes to the process's cwd and checks that it is inside
// the container's root: CVE-2024-21626 set cwd to /proc/self/fd/N, an fd of
// the runtime's that pointed at the host, and getcwd then reports a path
// outside the root (the kernel prefixes it with "(unreachable)").
func chdirInside(cwd string) error {
	if cwd == "" {
		cwd = "/"
	}
	if err := unix.Chdir(cwd); err != nil {
		return fmt.Errorf("chdir to cwd (%q) set in config.json failed: %w", cwd, err)
	}
	wd, err := unix.Getwd()
	if err != nil || !strings.HasPrefix(wd, "/") {
		return fmt.Errorf("cwd %q is outside the container's root: %w", cwd, unix.EPERM)
	}
	return nil
}

// closeExecFrom marks every fd >= from close-on-exec, so nothing of the
// runtime's leaks into the container (CVE-2024-21626 leaked a cgroup fd
// that let `cwd` reach the host).
func closeExecFrom(from int) error {
	if err := unix.CloseRange(uint(from), ^uint(0), unix.CLOSE_RANGE_CLOEXEC); err == nil {
		return nil
	}
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return err
	}
	for _, e := range ents {
		fd, err := strconv.Atoi(e.Name())
		if err == nil && fd >= from {
			unix.CloseOnExec(fd)
		}
	}
	return nil
}

// lookPath resolves args[0] in the container as execve will, with the
// process's own PATH, and gives runc's error text, which Docker and podman
// map to exit codes 126 and 127.
func lookPath(p *specs.Process) (string, error) {
	name := p.Args[0]
	if strings.Contains(name, "/") {
		if err := checkExecutable(name); err != nil {
			return "", fmt.Errorf("exec: %q: %w", name, err)
		}
		return name, nil
	}
	path := "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	for _, e := range p.Env {
		if v, ok := strings.CutPrefix(e, "PATH="); ok {
			path = v
		}
	}
	var permErr error
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			dir = "."
		}
		c := filepath.Join(dir, name)
		err := checkExecutable(c)
		if err == nil {
			return c, nil
		}
		if errors.Is(err, unix.EACCES) && permErr == nil {
			permErr = err
		}
	}
	if permErr != nil {
		return "", fmt.Errorf("exec: %q: %w", name, permErr)
	}
	return "", fmt.Errorf("exec: %q: executable file not found in $PATH", name)
}

func checkExecutable(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if fi.IsDir() {
		return unix.EACCES
	}
	if err := unix.Faccessat(unix.AT_FDCWD, path, unix.X_OK, unix.AT_EACCESS); err != nil {
		return err
	}
	return nil
}
