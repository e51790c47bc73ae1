package main

/*
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

// bench_launch runs before the Go runtime starts when the bench is
// re-executed with _UNHA_BENCH_LAUNCH set, as `bench-launch PATH ARGS...`
// (see spawn): it forks, execs PATH with ARGS and the inherited stdio,
// reaps it, writes "STATUS MAXRSS NANOSECONDS" to fd 3 and exits. At that
// point this process has touched a few hundred KiB, which is all the
// child's old mm can pass on. The arguments come from /proc/self/cmdline:
// musl, unlike glibc, gives constructors no argc and argv.
__attribute__((constructor)) static void bench_launch(void) {
	if (getenv("_UNHA_BENCH_LAUNCH") == NULL)
		return;
	unsetenv("_UNHA_BENCH_LAUNCH");
	static char cmdline[1 << 16];
	static char *argv[256];
	int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
	size_t len = 0;
	ssize_t n;
	while (fd >= 0 && len < sizeof(cmdline) - 1 &&
	       ((n = read(fd, cmdline + len, sizeof(cmdline) - 1 - len)) > 0 || (n < 0 && errno == EINTR)))
		if (n > 0)
			len += n;
	if (fd >= 0)
		close(fd);
	int argc = 0;
	for (size_t i = 0; i < len && argc < 255; i += strlen(cmdline + i) + 1)
		argv[argc++] = cmdline + i;
	argv[argc] = NULL;
	if (argc < 2) {
		dprintf(3, "launch: no command in /proc/self/cmdline\n");
		_exit(1);
	}
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid_t pid = fork();
	if (pid == 0) {
		close(3);
		execve(argv[1], argv + 1, environ);
		_exit(127);
	}
	if (pid < 0) {
		dprintf(3, "fork: %s\n", strerror(errno));
		_exit(1);
	}
	int st;
	struct rusage ru;
	while (wait4(pid, &st, 0, &ru) < 0) {
		if (errno != EINTR) {
			dprintf(3, "wait4: %s\n", strerror(errno));
			_exit(1);
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	long long ns = (t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec);
	dprintf(3, "%d %ld %lld\n", st, ru.ru_maxrss, ns);
	_exit(0);
}
*/
import "C"

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// spawn runs path with argv (argv[0] included) through the launcher,
// with stdin in and stdout and stderr out, and returns its wait status,
// ru_maxrss in KiB and the time from fork to reaping.
//
// The runtime is not started by the bench itself because Go's os/exec
// clones with CLONE_VM|CLONE_VFORK, and execve(2) records the old mm's
// high-water RSS in the new process's ru_maxrss: every runtime would read
// at least the bench's own peak (6 to 8 MiB after some iterations), more
// than unha-runtime uses. A plain fork is no better: the child's mm starts
// as a copy of the parent's, resident pages counted. The launcher is the
// bench binary stopped in a C constructor, before the Go runtime maps
// anything.
func spawn(path string, argv []string, in, out *os.File) (ws unix.WaitStatus, maxrss int64, d time.Duration, err error) {
	self, err := os.Executable()
	if err != nil {
		return 0, 0, 0, err
	}
	r, w, err := os.Pipe()
	if err != nil {
		return 0, 0, 0, err
	}
	defer r.Close()
	cmd := exec.Command(self, append([]string{path}, argv[1:]...)...)
	cmd.Args[0] = "bench-launch"
	cmd.Env = append(os.Environ(), "_UNHA_BENCH_LAUNCH=1")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = in, out, out
	cmd.ExtraFiles = []*os.File{w}
	err = cmd.Start()
	w.Close()
	if err != nil {
		return 0, 0, 0, err
	}
	report := make([]byte, 256)
	n, _ := r.Read(report)
	if err := cmd.Wait(); err != nil {
		return 0, 0, 0, fmt.Errorf("launcher: %w: %s", err, strings.TrimSpace(string(report[:n])))
	}
	var st int
	var ns int64
	if _, err := fmt.Sscanf(string(report[:n]), "%d %d %d", &st, &maxrss, &ns); err != nil {
		return 0, 0, 0, fmt.Errorf("launcher: %s", strings.TrimSpace(string(report[:n])))
	}
	return unix.WaitStatus(st), maxrss, time.Duration(ns), nil
}
