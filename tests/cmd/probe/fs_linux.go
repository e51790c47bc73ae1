package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/unha/unha/tests/cmd/probe/report"
)

// unescapeMount undoes the octal escapes (\040 for space) of /proc/self/mountinfo.
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
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

func readMounts(fail func(string, error)) []report.Mount {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		fail("mountinfo", err)
		return nil
	}
	var out []report.Mount
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		pre, post, ok := strings.Cut(line, " - ")
		f, g := strings.Fields(pre), strings.Fields(post)
		if !ok || len(f) < 6 || len(g) < 3 {
			continue
		}
		id, _ := strconv.Atoi(f[0])
		parent, _ := strconv.Atoi(f[1])
		out = append(out, report.Mount{
			ID: id, Parent: parent, Root: unescapeMount(f[3]), Point: unescapeMount(f[4]),
			Options: f[5], FSType: g[0], Source: unescapeMount(g[1]), Super: g[2],
		})
	}
	return out
}

func walkDev(fail func(string, error)) []report.DevEntry {
	var out []report.DevEntry
	err := filepath.WalkDir("/dev", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			fail("walk "+path, err)
			return nil
		}
		if path == "/dev" {
			return nil
		}
		var st unix.Stat_t
		if err := unix.Lstat(path, &st); err != nil {
			fail("lstat "+path, err)
			return nil
		}
		e := report.DevEntry{Path: path, Mode: st.Mode & 0o7777, Uid: int(st.Uid), Gid: int(st.Gid)}
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFCHR:
			e.Type = "c"
		case unix.S_IFBLK:
			e.Type = "b"
		case unix.S_IFDIR:
			e.Type = "d"
		case unix.S_IFLNK:
			e.Type = "l"
			e.Target, _ = os.Readlink(path)
		case unix.S_IFIFO:
			e.Type = "p"
		case unix.S_IFSOCK:
			e.Type = "s"
		default:
			e.Type = "f"
		}
		if e.Type == "c" || e.Type == "b" {
			e.Major, e.Minor = unix.Major(st.Rdev), unix.Minor(st.Rdev)
		}
		out = append(out, e)
		if d.IsDir() && strings.Count(path, "/") >= 3 {
			return fs.SkipDir
		}
		return nil
	})
	if err != nil {
		fail("walk /dev", err)
	}
	return out
}

func readNamespaces() map[string]string {
	ns := map[string]string{}
	for _, name := range []string{"cgroup", "ipc", "mnt", "net", "pid", "pid_for_children",
		"time", "time_for_children", "user", "uts"} {
		if t, err := os.Readlink("/proc/self/ns/" + name); err == nil {
			ns[name] = t
		}
	}
	return ns
}

func readTrim(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return strings.Join(strings.Fields(string(b)), " ")
}

func readNet(fail func(string, error)) []report.NetIf {
	entries, err := os.ReadDir("/sys/class/net")
	if err != nil {
		// Without /sys, /proc/net/dev still names the interfaces of our netns.
		data, perr := os.ReadFile("/proc/net/dev")
		if perr != nil {
			fail("net", err)
			return nil
		}
		var out []report.NetIf
		for _, line := range strings.Split(string(data), "\n") {
			if name, _, ok := strings.Cut(line, ":"); ok && !strings.Contains(name, "|") {
				out = append(out, report.NetIf{Name: strings.TrimSpace(name)})
			}
		}
		return out
	}
	var out []report.NetIf
	for _, e := range entries {
		n := report.NetIf{Name: e.Name()}
		dir := "/sys/class/net/" + e.Name()
		n.Flags, _ = strconv.ParseUint(strings.TrimPrefix(readTrim(dir+"/flags"), "0x"), 16, 64)
		n.Operstate = readTrim(dir + "/operstate")
		out = append(out, n)
	}
	return out
}
