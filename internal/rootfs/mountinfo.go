package rootfs

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// mountInfo is one line of /proc/<pid>/mountinfo (proc_pid_mountinfo(5)).
type mountInfo struct {
	ID         uint64
	Parent     uint64
	Root       string
	Mountpoint string
	Options    string // per-mount options
	Optional   []string
	FSType     string
	Source     string
	SuperOpts  string
}

func (m mountInfo) shared() bool {
	for _, o := range m.Optional {
		if strings.HasPrefix(o, "shared:") {
			return true
		}
	}
	return false
}

func parseMountinfo(r io.Reader) ([]mountInfo, error) {
	var out []mountInfo
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			continue
		}
		f := strings.Fields(line)
		sep := -1
		for i := 6; i < len(f); i++ {
			if f[i] == "-" {
				sep = i
				break
			}
		}
		if len(f) < 7 || sep < 0 || len(f) < sep+3 {
			return nil, fmt.Errorf("malformed mountinfo line %q", line)
		}
		id, err1 := strconv.ParseUint(f[0], 10, 64)
		parent, err2 := strconv.ParseUint(f[1], 10, 64)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("malformed mountinfo line %q", line)
		}
		m := mountInfo{
			ID: id, Parent: parent,
			Root: unescapeOctal(f[3]), Mountpoint: unescapeOctal(f[4]),
			Options: f[5], Optional: f[6:sep],
			FSType: f[sep+1], Source: unescapeOctal(f[sep+2]),
		}
		if len(f) > sep+3 {
			m.SuperOpts = f[sep+3]
		}
		out = append(out, m)
	}
	return out, sc.Err()
}

// unescapeOctal undoes the kernel's mangle of space, tab, newline and
// backslash as \040, \011, \012 and \134.
func unescapeOctal(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
