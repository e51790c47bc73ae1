package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// suiteCgroupNames are the fixed names runtime-tools' cgroup tests use
// (cgroups.AbsCgroupPath "/cgrouptest", RelCgroupPath
// "testdir/cgrouptest/container", delete_only_create_resources'
// pids/cgrouptest). Where a runtime puts a relative path differs (runc: below
// its own cgroup), so both the hierarchy roots and the driver's own cgroups are
// searched.
var suiteCgroupNames = []string{"cgrouptest", "testdir"}

// suiteCgroupCandidates lists the directories the suite may create, given the
// cgroup mounts and the driver's /proc/self/cgroup.
func suiteCgroupCandidates(mounts []Mount, selfCgroup string) []string {
	var own []string
	for _, line := range strings.Split(selfCgroup, "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) == 3 && parts[2] != "/" && parts[2] != "" {
			own = append(own, parts[2])
		}
	}
	seen := map[string]bool{}
	var out []string
	add := func(p string) {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	for _, m := range mounts {
		if m.FSType != "cgroup" && m.FSType != "cgroup2" {
			continue
		}
		for _, n := range suiteCgroupNames {
			add(filepath.Join(m.Point, n))
			for _, o := range own {
				add(filepath.Join(m.Point, o, n))
			}
		}
	}
	return out
}

// existing returns the subset of paths that are directories now.
func existing(paths []string) map[string]bool {
	out := map[string]bool{}
	for _, p := range paths {
		if fi, err := os.Lstat(p); err == nil && fi.IsDir() {
			out[p] = true
		}
	}
	return out
}

// removeCgroupTree removes a cgroup directory and its children with rmdir(2)
// only: a cgroup directory holds nothing but kernel interface files, and
// rmdir never deletes anything that is not an empty cgroup. Processes still
// inside (containers of a test that timed out) are killed by pid first.
func removeCgroupTree(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return err
	}
	for _, e := range entries {
		if e.IsDir() {
			if err := removeCgroupTree(filepath.Join(dir, e.Name())); err != nil {
				return err
			}
		}
	}
	for attempt := 0; ; attempt++ {
		err := unix.Rmdir(dir)
		if err == nil || errors.Is(err, unix.ENOENT) {
			return nil
		}
		if !errors.Is(err, unix.EBUSY) || attempt == 20 {
			return &os.PathError{Op: "rmdir", Path: dir, Err: err}
		}
		killCgroupProcs(dir)
		time.Sleep(100 * time.Millisecond)
	}
}

func killCgroupProcs(dir string) {
	for _, name := range []string{"cgroup.procs", "tasks"} {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if pid, err := strconv.Atoi(strings.TrimSpace(sc.Text())); err == nil && pid > 1 && pid != os.Getpid() {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		f.Close()
		return
	}
}

// cleanSuiteCgroups removes the candidates that did not exist before the run
// and returns what it removed.
func cleanSuiteCgroups(candidates []string, before map[string]bool) ([]string, error) {
	var removed []string
	var errs []error
	for p := range existing(candidates) {
		if before[p] {
			continue
		}
		if err := removeCgroupTree(p); err != nil {
			errs = append(errs, fmt.Errorf("remove suite cgroup %s: %w", p, err))
			continue
		}
		removed = append(removed, p)
	}
	return removed, errors.Join(errs...)
}
