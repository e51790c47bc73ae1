package main

import (
	"bufio"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
)

// Mount is the part of a /proc/self/mountinfo line the driver needs.
type Mount struct {
	Point     string
	FSType    string
	SuperOpts string
	Shared    bool // has a "shared:N" peer group: mounts below propagate
}

// ParseMountinfo parses proc_pid_mountinfo(5). Fields are separated by single
// spaces; the optional fields end at a lone "-", and paths escape space, tab,
// newline and backslash as octal.
func ParseMountinfo(r io.Reader) ([]Mount, error) {
	var out []Mount
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		f := strings.Split(sc.Text(), " ")
		sep := -1
		for i := 6; i < len(f); i++ {
			if f[i] == "-" {
				sep = i
				break
			}
		}
		if sep < 0 || sep+3 >= len(f) {
			return nil, fmt.Errorf("malformed mountinfo line %q", sc.Text())
		}
		m := Mount{Point: unescapeOctal(f[4]), FSType: f[sep+1], SuperOpts: f[sep+3]}
		for _, opt := range f[6:sep] {
			if strings.HasPrefix(opt, "shared:") {
				m.Shared = true
			}
		}
		out = append(out, m)
	}
	return out, sc.Err()
}

func unescapeOctal(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// MountsUnder returns the mount points at or below dir, last mounted first,
// which is the order they can be detached in (a child is listed after its
// parent in mountinfo).
func MountsUnder(mounts []Mount, dir string) []string {
	dir = filepath.Clean(dir)
	var out []string
	for i := len(mounts) - 1; i >= 0; i-- {
		p := mounts[i].Point
		if p == dir || strings.HasPrefix(p, dir+"/") {
			out = append(out, p)
		}
	}
	return out
}
