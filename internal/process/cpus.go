//go:build linux

package process

import (
	"fmt"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// maxCPUs is the size of unix.CPUSet (glibc's CPU_SETSIZE).
const maxCPUs = 1024

// ParseCPUList parses a CPU list in the kernel's list format
// (Documentation/admin-guide/cgroup-v1/cpusets.rst), such as "0-3,7".
func ParseCPUList(s string) (unix.CPUSet, error) {
	var set unix.CPUSet
	if strings.TrimSpace(s) == "" {
		return set, fmt.Errorf("empty cpu list")
	}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		lo, hi, isRange := strings.Cut(part, "-")
		first, err := parseCPU(lo)
		if err != nil {
			return set, fmt.Errorf("cpu list %q: %w", s, err)
		}
		last := first
		if isRange {
			if last, err = parseCPU(hi); err != nil {
				return set, fmt.Errorf("cpu list %q: %w", s, err)
			}
			if last < first {
				return set, fmt.Errorf("cpu list %q: range %s is reversed", s, part)
			}
		}
		for c := first; c <= last; c++ {
			set.Set(c)
		}
	}
	return set, nil
}

func parseCPU(s string) (int, error) {
	n, err := strconv.ParseUint(strings.TrimSpace(s), 10, 32)
	if err != nil {
		return 0, fmt.Errorf("bad cpu number %q", s)
	}
	if n >= maxCPUs {
		return 0, fmt.Errorf("cpu %d is beyond the %d cpus an affinity mask holds", n, maxCPUs)
	}
	return int(n), nil
}

// CPUAffinity is process.execCPUAffinity parsed: nil for a field not set.
// Initial is applied by the runtime to the init process before it joins the
// container; Final by init just before execve.
type CPUAffinity struct {
	Initial *unix.CPUSet `json:"initial,omitempty"`
	Final   *unix.CPUSet `json:"final,omitempty"`
}

// ParseCPUAffinity parses process.execCPUAffinity.
func ParseCPUAffinity(a *specs.CPUAffinity) (CPUAffinity, error) {
	var out CPUAffinity
	if a == nil {
		return out, nil
	}
	if a.Initial != "" {
		s, err := ParseCPUList(a.Initial)
		if err != nil {
			return out, fmt.Errorf("process.execCPUAffinity.initial: %w", err)
		}
		out.Initial = &s
	}
	if a.Final != "" {
		s, err := ParseCPUList(a.Final)
		if err != nil {
			return out, fmt.Errorf("process.execCPUAffinity.final: %w", err)
		}
		out.Final = &s
	}
	return out, nil
}

// FormatCPUList is the inverse of ParseCPUList.
func FormatCPUList(set *unix.CPUSet) string {
	var parts []string
	for c := 0; c < maxCPUs; c++ {
		if !set.IsSet(c) {
			continue
		}
		end := c
		for end+1 < maxCPUs && set.IsSet(end+1) {
			end++
		}
		if end == c {
			parts = append(parts, strconv.Itoa(c))
		} else {
			parts = append(parts, strconv.Itoa(c)+"-"+strconv.Itoa(end))
		}
		c = end
	}
	return strings.Join(parts, ",")
}
