package cgroups

import (
	"errors"
	"os"
	"sort"
	"strconv"
	"strings"
)

// statReader reads stat files, treating a missing file as empty: which
// files exist depends on kernel version and configuration (swap
// accounting, BFQ), and a missing one just leaves its numbers zero.
type statReader struct {
	fs  fsys
	err error // first real (not ENOENT) error
}

func (s *statReader) str(dir, file string) string {
	v, err := s.fs.read(dir, file)
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) && s.err == nil {
			s.err = err
		}
		return ""
	}
	return v
}

// num reads a single number; "max" and v1's huge "unlimited" values are
// reported as they read (runc does the same), except "max" which has no
// number and reads as the largest uint64.
func (s *statReader) num(dir, file string) uint64 {
	v := s.str(dir, file)
	if v == "" {
		return 0
	}
	n, err := parseUint(v)
	if err != nil && s.err == nil {
		s.err = err
	}
	return n
}

// keyed parses "key value" lines (cpu.stat, memory.stat, memory.events).
func (s *statReader) keyed(dir, file string) map[string]uint64 {
	out := map[string]uint64{}
	for _, l := range strings.Split(s.str(dir, file), "\n") {
		f := strings.Fields(l)
		if len(f) != 2 {
			continue
		}
		if n, err := strconv.ParseUint(f[1], 10, 64); err == nil {
			out[f[0]] = n
		}
	}
	return out
}

// list parses space-separated numbers (cpuacct.usage_percpu).
func (s *statReader) list(dir, file string) []uint64 {
	var out []uint64
	for _, f := range strings.Fields(s.str(dir, file)) {
		n, err := strconv.ParseUint(f, 10, 64)
		if err != nil {
			if s.err == nil {
				s.err = err
			}
			return nil
		}
		out = append(out, n)
	}
	return out
}

// blkioEntries parses v1 blkio stat lines: "MAJ:MIN Op value", or
// "MAJ:MIN value"; "Total N" lines are dropped.
func blkioEntries(text string) []BlkioEntry {
	var out []BlkioEntry
	for _, l := range strings.Split(text, "\n") {
		f := strings.Fields(l)
		if len(f) < 2 || f[0] == "Total" {
			continue
		}
		maj, min, ok := parseDev(f[0])
		if !ok {
			continue
		}
		e := BlkioEntry{Major: maj, Minor: min}
		v := f[1]
		if len(f) == 3 {
			e.Op, v = f[1], f[2]
		}
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			continue
		}
		e.Value = n
		out = append(out, e)
	}
	return out
}

func parseDev(s string) (uint64, uint64, bool) {
	a, b, ok := strings.Cut(s, ":")
	if !ok {
		return 0, 0, false
	}
	maj, err1 := strconv.ParseUint(a, 10, 64)
	min, err2 := strconv.ParseUint(b, 10, 64)
	return maj, min, err1 == nil && err2 == nil
}

// ioStatV2 turns io.stat ("MAJ:MIN rbytes=N wbytes=N rios=N wios=N ...")
// into the v1-shaped entries runc reports.
func ioStatV2(text string) Blkio {
	var b Blkio
	for _, l := range strings.Split(text, "\n") {
		f := strings.Fields(l)
		if len(f) < 2 {
			continue
		}
		maj, min, ok := parseDev(f[0])
		if !ok {
			continue
		}
		for _, kv := range f[1:] {
			k, v, _ := strings.Cut(kv, "=")
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				continue
			}
			e := BlkioEntry{Major: maj, Minor: min, Value: n}
			switch k {
			case "rbytes":
				e.Op = "Read"
				b.IoServiceBytesRecursive = append(b.IoServiceBytesRecursive, e)
			case "wbytes":
				e.Op = "Write"
				b.IoServiceBytesRecursive = append(b.IoServiceBytesRecursive, e)
			case "rios":
				e.Op = "Read"
				b.IoServicedRecursive = append(b.IoServicedRecursive, e)
			case "wios":
				e.Op = "Write"
				b.IoServicedRecursive = append(b.IoServicedRecursive, e)
			}
		}
	}
	return b
}

// cpuList parses a cpuset list ("0-3,5").
func cpuList(s string) []uint16 {
	var out []uint16
	for _, part := range strings.Split(strings.TrimSpace(s), ",") {
		if part == "" {
			continue
		}
		a, b, isRange := strings.Cut(part, "-")
		lo, err := strconv.ParseUint(a, 10, 16)
		if err != nil {
			return nil
		}
		hi := lo
		if isRange {
			if hi, err = strconv.ParseUint(b, 10, 16); err != nil || hi < lo {
				return nil
			}
		}
		for i := lo; i <= hi; i++ {
			out = append(out, uint16(i))
		}
	}
	return out
}

// hugePageSizes lists the page sizes that have a file with the given
// suffix in dir ("hugetlb.2MB.limit_in_bytes" -> "2MB").
func hugePageSizes(dir, suffix string) []string {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range ents {
		n := e.Name()
		if strings.HasPrefix(n, "hugetlb.") && strings.HasSuffix(n, suffix) {
			size := strings.TrimSuffix(strings.TrimPrefix(n, "hugetlb."), suffix)
			if validPageSize(size) {
				out = append(out, size)
			}
		}
	}
	sort.Strings(out)
	return out
}
