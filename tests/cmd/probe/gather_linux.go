package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/unha/unha/tests/cmd/probe/report"
)

// rlimitNames are indexed by resource number (asm-generic/resource.h).
var rlimitNames = []string{
	"RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_DATA", "RLIMIT_STACK", "RLIMIT_CORE", "RLIMIT_RSS",
	"RLIMIT_NPROC", "RLIMIT_NOFILE", "RLIMIT_MEMLOCK", "RLIMIT_AS", "RLIMIT_LOCKS",
	"RLIMIT_SIGPENDING", "RLIMIT_MSGQUEUE", "RLIMIT_NICE", "RLIMIT_RTPRIO", "RLIMIT_RTTIME",
}

// listFds reads /proc/self/fd with raw syscalls (see the package comment for why).
func listFds() map[int]string {
	fds := map[int]string{}
	dfd, err := unix.Open("/proc/self/fd", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		fds[-1] = "open /proc/self/fd: " + err.Error()
		return fds
	}
	defer unix.Close(dfd)
	buf := make([]byte, 8192)
	var names []string
	for {
		n, err := unix.ReadDirent(dfd, buf)
		if err != nil || n <= 0 {
			break
		}
		_, _, names = unix.ParseDirent(buf[:n], -1, names)
	}
	for _, name := range names {
		fd, err := strconv.Atoi(name)
		if err != nil || fd == dfd {
			continue
		}
		target, err := os.Readlink("/proc/self/fd/" + name)
		if err != nil {
			target = "?" + err.Error()
		}
		fds[fd] = target
	}
	return fds
}

func gather(fds map[int]string) *report.Report {
	r := &report.Report{Args: os.Args, Fds: fds, Rlimits: map[string]report.Rlimit{}}
	fail := func(what string, err error) {
		r.Errors = append(r.Errors, fmt.Sprintf("%s: %v", what, err))
	}
	r.Pid, r.Ppid = os.Getpid(), os.Getppid()
	r.Uid, r.Gid, r.Euid, r.Egid = unix.Getuid(), unix.Getgid(), unix.Geteuid(), unix.Getegid()
	if g, err := unix.Getgroups(); err == nil {
		r.Groups = append([]int{}, g...)
	} else {
		fail("getgroups", err)
	}
	var uts unix.Utsname
	if err := unix.Uname(&uts); err == nil {
		r.Hostname = unix.ByteSliceToString(uts.Nodename[:])
		r.Domainname = unix.ByteSliceToString(uts.Domainname[:])
	} else {
		fail("uname", err)
	}
	// unix.Getwd is the getcwd syscall; os.Getwd would trust $PWD.
	if wd, err := unix.Getwd(); err == nil {
		r.Cwd = wd
	} else {
		fail("getcwd", err)
	}
	r.Env = os.Environ()
	readStatus(r, fail)
	for i, name := range rlimitNames {
		var lim unix.Rlimit
		if err := unix.Prlimit(0, i, nil, &lim); err == nil {
			r.Rlimits[name] = report.Rlimit{Soft: lim.Cur, Hard: lim.Max}
		}
	}
	if b, err := os.ReadFile("/proc/self/oom_score_adj"); err == nil {
		r.OOMScoreAdj, _ = strconv.Atoi(strings.TrimSpace(string(b)))
	} else {
		fail("oom_score_adj", err)
	}
	for fd := 0; fd < 3; fd++ {
		_, err := unix.IoctlGetTermios(fd, unix.TCGETS)
		r.Tty[fd] = err == nil
	}
	r.Mounts = readMounts(fail)
	r.Dev = walkDev(fail)
	r.Namespaces = readNamespaces()
	if b, err := os.ReadFile("/proc/self/cgroup"); err == nil {
		r.Cgroup = strings.Split(strings.TrimSpace(string(b)), "\n")
	} else {
		fail("cgroup", err)
	}
	r.UIDMap = readTrim("/proc/self/uid_map")
	r.GIDMap = readTrim("/proc/self/gid_map")
	r.Net = readNet(fail)
	const ioprioWhoProcess = 1
	if v, _, errno := unix.Syscall(unix.SYS_IOPRIO_GET, ioprioWhoProcess, 0, 0); errno == 0 {
		r.Ioprio = int(v)
	} else {
		fail("ioprio_get", errno)
	}
	if v, _, errno := unix.Syscall(unix.SYS_PERSONALITY, 0xffffffff, 0, 0); errno == 0 {
		r.Personality = int(v)
	} else {
		fail("personality", errno)
	}
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err == nil {
		for cpu := 0; cpu < len(set)*64; cpu++ {
			if set.IsSet(cpu) {
				r.CPUAffinity = append(r.CPUAffinity, cpu)
			}
		}
	} else {
		fail("sched_getaffinity", err)
	}
	if v, _, errno := unix.Syscall(unix.SYS_SCHED_GETSCHEDULER, 0, 0, 0); errno == 0 {
		r.SchedPolicy = int(v)
	} else {
		fail("sched_getscheduler", errno)
	}
	return r
}

func readStatus(r *report.Report, fail func(string, error)) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		fail("status", err)
		return
	}
	defer f.Close()
	hex := func(v string) uint64 {
		n, _ := strconv.ParseUint(v, 16, 64)
		return n
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		switch k {
		case "Umask":
			r.Umask = v
		case "CapInh":
			r.Caps.Inh = hex(v)
		case "CapPrm":
			r.Caps.Prm = hex(v)
		case "CapEff":
			r.Caps.Eff = hex(v)
		case "CapBnd":
			r.Caps.Bnd = hex(v)
		case "CapAmb":
			r.Caps.Amb = hex(v)
		case "NoNewPrivs":
			r.NoNewPrivs, _ = strconv.Atoi(v)
		case "Seccomp":
			r.Seccomp, _ = strconv.Atoi(v)
		}
	}
}

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

func printJSON(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		fmt.Fprintf(os.Stderr, "probe: marshal: %v\n", err)
		os.Exit(125)
	}
	os.Stdout.Write(append(b, '\n'))
}

func errnoName(err error) string {
	var errno unix.Errno
	if errors.As(err, &errno) {
		if name := unix.ErrnoName(errno); name != "" {
			return name
		}
		return "errno " + strconv.Itoa(int(errno))
	}
	return "error " + strconv.Quote(err.Error())
}

func writeFile(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write([]byte("probe\n"))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func lsDir(path string) string {
	entries, err := os.ReadDir(path)
	if err != nil {
		return errnoName(err)
	}
	names := []string{}
	for _, e := range entries {
		names = append(names, e.Name())
	}
	b, _ := json.Marshal(names)
	return "ok " + string(b)
}

// hook records one OCI hook invocation. The runtime passes the state on stdin.
func hook(name, dir string) error {
	var stdin bytes.Buffer
	if _, err := stdin.ReadFrom(os.Stdin); err != nil {
		return fmt.Errorf("hook %s: read stdin: %w", name, err)
	}
	rec := report.HookRecord{Name: name, State: stdin.String(), Args: os.Args, Env: os.Environ(),
		Pid: os.Getpid(), Namespaces: readNamespaces()}
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, "."+name+".tmp")
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(dir, name+".json")); err != nil {
		return err
	}
	f, err := os.OpenFile(filepath.Join(dir, "order"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	_, err = f.WriteString(name + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
