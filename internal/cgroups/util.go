package cgroups

import (
	"fmt"
	"strconv"
	"strings"
)

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func containsAny(s, chars string) bool { return strings.ContainsAny(s, chars) }

// readUint reads a single unsigned number; "max" reads as the largest
// value, as cgroup v2 prints no limit.
func readUint(fs fsys, dir, file string) (uint64, error) {
	s, err := fs.read(dir, file)
	if err != nil {
		return 0, err
	}
	return parseUint(s)
}

func parseUint(s string) (uint64, error) {
	s = strings.TrimSpace(s)
	if s == "max" {
		return ^uint64(0), nil
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		// v1 prints -1 in some files for "no limit".
		if i, ierr := strconv.ParseInt(s, 10, 64); ierr == nil && i < 0 {
			return ^uint64(0), nil
		}
		return 0, fmt.Errorf("parse %q: %w", s, err)
	}
	return v, nil
}

// checkUsage refuses a limit below the current usage
// (memory.checkBeforeUpdate): on v2 the kernel would reclaim and then
// OOM-kill instead of failing the write.
func checkUsage(fs fsys, dir, file string, limit int64) error {
	usage, err := readUint(fs, dir, file)
	if err != nil {
		return err
	}
	if uint64(limit) < usage {
		return fmt.Errorf("unable to set memory limit to %d (current usage: %d)", limit, usage)
	}
	return nil
}
