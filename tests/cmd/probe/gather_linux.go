package main

import (
	"bufio"
	"fmt"
	"os"
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
