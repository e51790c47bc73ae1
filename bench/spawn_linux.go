package main

/*
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

// bench_launch runs before the Go runtime starts when the bench is
// re-executed as `bench -launch PATH ARGS...` (see spawn): it forks, execs
// PATH with ARGS and the inherited stdio, reaps it, writes "STATUS MAXRSS
// NANOSECONDS" to fd 3 and exits. At that point this process has touched
// a few hundred KiB, which is all the child's old mm can pass on.
__attribute__((constructor)) static void bench_launch(int argc, char **argv, char **envp) {
	if (argc < 3 || strcmp(argv[1], "-launch") != 0)
		return;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid_t pid = fork();
	if (pid == 0) {
		close(3);
		execve(argv[2], argv + 2, envp);
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

// spawn runs path with argv (argv[0] included) through `bench -launch`,
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
	cmd := exec.Command(self, append([]string{"-launch", path}, argv[1:]...)...)
	cmd.Args[0] = "bench-launch"
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
