package nsenter

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// spawnEnv is a spawn of the host's /bin/sh running script, as uid 1000
// with a few of every kind of setting, reporting into dir/out.
func spawnEnv(t *testing.T, script string) (*Spawn, string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	if runtime.GOARCH != "amd64" {
		t.Skip("the spawner is written for amd64")
	}
	dir := t.TempDir()
	// t.TempDir's parent is 0700: uid 1000 must get through it too.
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o777); err != nil {
			t.Fatal(err)
		}
	}
	proc, err := unix.Open("/proc", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(proc) })
	oom := 123
	pers := uint32(0x0040000) // ADDR_NO_RANDOMIZE
	return &Spawn{
		Cgroup2: -1, ProcFd: proc, OOMScoreAdj: &oom, Personality: &pers,
		Rlimits:  []Rlimit{{Resource: unix.RLIMIT_NOFILE, Soft: 321, Hard: 654}},
		Args:     []string{"sh", "-c", "{ " + script + "\n} > " + dir + "/out 2>&1"},
		Env:      []string{"PATH=/usr/bin:/bin", "K=V"},
		NeedHome: true, Path: "/usr/bin:/bin", Cwd: dir,
		UID: 1000, GID: 1001, Umask: 0o027, Groups: []uint32{1002, 1003},
		Bounding: 1<<unix.CAP_CHOWN | 1<<unix.CAP_KILL, Effective: 1 << unix.CAP_KILL, Permitted: 1 << unix.CAP_KILL,
		// A non-root process keeps across execve only its ambient set.
		Inheritable: 1 << unix.CAP_KILL, Ambient: 1 << unix.CAP_KILL,
		LastCap: lastCap(t), NoNewPrivs: true, KeepFds: 3,
	}, dir
}

func lastCap(t *testing.T) int {
	b, err := os.ReadFile("/proc/sys/kernel/cap_last_cap")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range strings.TrimSpace(string(b)) {
		n = n*10 + int(c-'0')
	}
	return n
}

func ownSigIgn(t *testing.T) string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "SigIgn:") {
			return l
		}
	}
	t.Fatal("no SigIgn in /proc/self/status")
	return ""
}

func waitExit(t *testing.T, pid int) int {
	t.Helper()
	var ws unix.WaitStatus
	if _, err := unix.Wait4(pid, &ws, 0, nil); err != nil {
		t.Fatalf("wait4 %d: %v", pid, err)
	}
	return ws.ExitStatus()
}

// noChildren fails if a spawn left a process for us to reap.
func noChildren(t *testing.T) {
	t.Helper()
	var ws unix.WaitStatus
	if pid, err := unix.Wait4(-1, &ws, unix.WNOHANG|unix.WALL, nil); !errors.Is(err, unix.ECHILD) {
		t.Errorf("a child is left: wait4 = %d, %v", pid, err)
	}
}

func TestSpawnSettings(t *testing.T) {
	// fd 42 is not close-on-exec: the spawner must keep it from the process.
	leak, err := unix.Open("/dev/null", unix.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Dup2(leak, 42); err != nil {
		t.Fatal(err)
	}
	unix.Close(leak)
	defer unix.Close(42)
	sp, dir := spawnEnv(t, `id -u; id -g; id -G; umask; pwd; echo "$HOME $K"; ulimit -n; ulimit -Hn;
		cat /proc/self/oom_score_adj; grep -E '^(CapEff|CapBnd|CapInh|CapAmb|NoNewPrivs|SigBlk|SigIgn)' /proc/self/status;
		[ -e /proc/self/fd/42 ] && echo leaked; cat /proc/self/personality`)
	pid, execFailed, err := sp.Start()
	if err != nil || execFailed || pid <= 0 {
		t.Fatalf("Start = %d, %v, %v", pid, execFailed, err)
	}
	if st := waitExit(t, pid); st != 0 {
		out, _ := os.ReadFile(filepath.Join(dir, "out"))
		t.Fatalf("exit %d: %s", st, out)
	}
	b, err := os.ReadFile(filepath.Join(dir, "out"))
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Split(strings.TrimSpace(string(b)), "\n")
	home := "/"
	if pw, _ := os.ReadFile("/etc/passwd"); strings.Contains(string(pw), ":1000:") {
		for _, l := range strings.Split(string(pw), "\n") {
			if f := strings.Split(l, ":"); len(f) >= 6 && f[2] == "1000" && f[5] != "" {
				home = f[5]
				break
			}
		}
	}
	want := []string{"1000", "1001", "1001 1002 1003", "0027", dir, home + " V", "321", "654", "123",
		"SigBlk:\t0000000000000000",
		// What we ignore stays ignored, as across execve: a caller may
		// run us with some signal ignored (`make test` has signal 32).
		ownSigIgn(t),
		"CapInh:\t0000000000000020",
		"CapEff:\t0000000000000020",
		"CapBnd:\t0000000000000021",
		"CapAmb:\t0000000000000020",
		"NoNewPrivs:\t1",
		"00040000",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("the process reports\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The spawner makes the shared memory non-dumpable while the children
	// run (CVE-2019-5736) and must give the caller its flag back.
	if d, err := unix.PrctlRetInt(unix.PR_GET_DUMPABLE, 0, 0, 0, 0); err != nil || d != 1 {
		t.Errorf("caller's dumpable flag after a spawn: %d, %v", d, err)
	}
	noChildren(t)
}

func TestSpawnFailures(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edit  func(*Spawn)
		step  Step
		errno unix.Errno
	}{
		{"not in PATH", func(s *Spawn) { s.Args = []string{"no-such-command"} }, StepLookupPath, unix.ENOENT},
		{"missing path", func(s *Spawn) { s.Args = []string{"/no/such/file"} }, StepLookupStat, unix.ENOENT},
		{"directory", func(s *Spawn) { s.Args = []string{"/tmp"} }, StepLookupAccess, unix.EACCES},
		{"cwd", func(s *Spawn) { s.Cwd = "/no/such/dir" }, StepChdir, unix.ENOENT},
		{"rlimit", func(s *Spawn) { s.Rlimits = []Rlimit{{Resource: unix.RLIMIT_NOFILE, Soft: 10, Hard: 1 << 40}} }, StepRlimit, unix.EPERM},
		// An O_PATH fd is no namespace to setns(2).
		{"bad setns fd", func(s *Spawn) { s.NsFds, s.NsFlags = []int{s.ProcFd}, []uintptr{unix.CLONE_NEWNET} }, StepSetns, unix.EBADF},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sp, _ := spawnEnv(t, "true")
			tc.edit(sp)
			pid, _, err := sp.Start()
			var se *Error
			if !errors.As(err, &se) || se.Step != tc.step || se.Errno != tc.errno {
				t.Fatalf("Start = %d, %v; want step %d errno %v", pid, err, tc.step, tc.errno)
			}
			noChildren(t)
			if d, _ := unix.PrctlRetInt(unix.PR_GET_DUMPABLE, 0, 0, 0, 0); d != 1 {
				t.Errorf("caller's dumpable flag after a failed spawn: %d", d)
			}
		})
	}
}

// TestSpawnPidNamespace takes the two-child path: a joined pid namespace
// (here our own) applies to children only, so the first child clones the
// process with CLONE_PARENT, and the process is ours to reap.
func TestSpawnPidNamespace(t *testing.T) {
	sp, dir := spawnEnv(t, "echo $$")
	f, err := os.Open("/proc/self/ns/pid")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sp.NsFds, sp.NsFlags, sp.Fork = []int{int(f.Fd())}, []uintptr{unix.CLONE_NEWPID}, true
	pid, _, err := sp.Start()
	if err != nil {
		t.Fatal(err)
	}
	if st := waitExit(t, pid); st != 0 {
		t.Fatalf("exit %d", st)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "out"))
	if strings.TrimSpace(string(b)) != itoa(pid) {
		t.Errorf("the process says it is %q, Start said %d", b, pid)
	}
	noChildren(t)
}
