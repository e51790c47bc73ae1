package harness

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/unha/unha/tests/cmd/probe/report"
)

// procStartTime is field 22 of /proc/PID/stat; with the pid it identifies a process across
// pid reuse.
func procStartTime(pid int) (uint64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may contain spaces and parentheses: split after the last ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, errors.New("malformed stat")
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 20 {
		return 0, errors.New("short stat")
	}
	return strconv.ParseUint(f[19], 10, 64)
}

// procState is field 3 of /proc/PID/stat (R, S, Z, ...).
func procState(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ""
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+2 >= len(s) {
		return ""
	}
	return s[i+2 : i+3]
}

// alive reports whether pid is still the process that started at st and has not exited.
func alive(pid int, st uint64) bool {
	now, err := procStartTime(pid)
	return err == nil && now == st && procState(pid) != "Z"
}

// ProcessAlive reports whether pid exists and is not a zombie.
func ProcessAlive(pid int) bool {
	st := procState(pid)
	return st != "" && st != "Z"
}

// killAndReap SIGKILLs a process we started (directly or through the runtime) and waits a
// little for it to go away. It is only used on processes identified as ours.
func killAndReap(pid int, st uint64) {
	if !alive(pid, st) {
		return
	}
	_ = unix.Kill(pid, unix.SIGKILL)
	for i := 0; i < 200 && alive(pid, st); i++ {
		time.Sleep(10 * time.Millisecond)
	}
}

// ReadMountinfo parses /proc/self/mountinfo (or another pid's).
func ReadMountinfo(path string) ([]report.Mount, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []report.Mount
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		a, b := strings.Fields(pre), strings.Fields(post)
		if !ok || len(a) < 6 || len(b) < 3 {
			continue
		}
		id, _ := strconv.Atoi(a[0])
		parent, _ := strconv.Atoi(a[1])
		out = append(out, report.Mount{ID: id, Parent: parent, Root: unescape(a[3]),
			Point: unescape(a[4]), Options: a[5], FSType: b[0], Source: unescape(b[1]), Super: b[2]})
	}
	return out, sc.Err()
}

func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var sb strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				sb.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		sb.WriteByte(s[i])
	}
	return sb.String()
}

// CgroupDirs returns, for every hierarchy the caller belongs to, the directory of the caller's
// own cgroup: /sys/fs/cgroup/<ctrl>/<own path> for v1 and the cgroup2 mount for the "0::" line.
// A runtime given no cgroupsPath puts containers beneath these.
func CgroupDirs() ([]string, error) {
	mounts, err := ReadMountinfo("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return nil, err
	}
	var dirs []string
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		ctrls, own := parts[1], parts[2]
		for _, m := range mounts {
			if m.Root != "/" {
				continue
			}
			if ctrls == "" && m.FSType == "cgroup2" || ctrls != "" && m.FSType == "cgroup" && hasAll(m.Super, ctrls) {
				dirs = append(dirs, filepath.Join(m.Point, own))
				break
			}
		}
	}
	return dirs, nil
}

func hasAll(super, ctrls string) bool {
	have := map[string]bool{}
	for _, o := range strings.Split(super, ",") {
		have[o] = true
	}
	for _, c := range strings.Split(ctrls, ",") {
		if !have[c] {
			return false
		}
	}
	return true
}

// findDirsNamed walks at most depth levels below root for directories named one of names.
func findDirsNamed(root string, names map[string]bool, depth int) []string {
	if depth == 0 {
		return nil
	}
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		p := filepath.Join(root, e.Name())
		if names[e.Name()] {
			out = append(out, p)
		}
		out = append(out, findDirsNamed(p, names, depth-1)...)
	}
	return out
}

// listPids returns every numeric entry of /proc.
func listPids() []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range entries {
		if pid, err := strconv.Atoi(e.Name()); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}
