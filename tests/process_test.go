package tests

import (
	"os"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/unha/unha/tests/harness"
)

func TestProcessArgsEnvCwd(t *testing.T) {
	e := newEnv(t)
	b := e.NewBundle("/probe", "print", "a b  c", "json")
	env := []string{"PATH=/bin", "FOO=bar baz", "EMPTY=", "HOME=/custom"}
	b.Spec.Process.Env = env
	b.Spec.Process.Cwd = "/etc"
	_, r := e.RunContainer(b)
	if !r.OK() {
		t.Fatal(r)
	}
	wantLines(t, harness.Lines(r.Stdout), "a b  c")
	rep, err := harness.ParseReport(r.Stdout)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rep.Args, "|") != strings.Join(b.Spec.Process.Args, "|") {
		t.Errorf("args %q, want %q", rep.Args, b.Spec.Process.Args)
	}
	if strings.Join(rep.Env, "\n") != strings.Join(env, "\n") {
		t.Errorf("env %q, want exactly %q", rep.Env, env)
	}
	if rep.Cwd != "/etc" {
		t.Errorf("cwd %q, want /etc", rep.Cwd)
	}
}

func TestProcessHomeDefault(t *testing.T) {
	e := newEnv(t)
	for uid, home := range map[uint32]string{0: "/root", 1000: "/home/user"} {
		b := e.NewBundle()
		b.Spec.Process.Env = []string{"PATH=/bin"}
		b.Spec.Process.User = specs.User{UID: uid, GID: uid}
		rep := e.Probe(b)
		// runc fills in HOME from the rootfs's /etc/passwd when the spec has none; shells and
		// many images rely on it.
		want := []string{"PATH=/bin", "HOME=" + home}
		sort.Strings(rep.Env)
		sort.Strings(want)
		if strings.Join(rep.Env, " ") != strings.Join(want, " ") {
			t.Errorf("uid %d: env %q, want %q", uid, rep.Env, want)
		}
	}
}

func TestProcessUser(t *testing.T) {
	e := newEnv(t)
	b := e.NewBundle("/probe", "json", "write", "/root/x", "write", "/tmp/x")
	b.Spec.Process.User = specs.User{UID: 1000, GID: 1000, AdditionalGids: []uint32{20, 10}}
	_, r := e.RunContainer(b)
	if !r.OK() {
		t.Fatal(r)
	}
	rep, err := harness.ParseReport(r.Stdout)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Uid != 1000 || rep.Euid != 1000 || rep.Gid != 1000 || rep.Egid != 1000 {
		t.Errorf("uid/euid/gid/egid %d/%d/%d/%d, want 1000", rep.Uid, rep.Euid, rep.Gid, rep.Egid)
	}
	groups := append([]int{}, rep.Groups...)
	sort.Ints(groups)
	if len(groups) != 2 || groups[0] != 10 || groups[1] != 20 {
		t.Errorf("supplementary groups %v, want [10 20]", rep.Groups)
	}
	// Really unprivileged: root's home (0755 root) is not writable, sticky /tmp is.
	wantLines(t, harness.Lines(r.Stdout), "EACCES", "ok")
}

func TestUmask(t *testing.T) {
	e := newEnv(t)
	b := e.NewBundle()
	if rep := e.Probe(b); rep.Umask != "0022" {
		t.Errorf("default umask %q, want 0022", rep.Umask)
	}
	m := uint32(0o027)
	b.Spec.Process.User.Umask = &m
	if rep := e.Probe(b); rep.Umask != "0027" {
		t.Errorf("umask %q, want 0027", rep.Umask)
	}
}

func TestRlimits(t *testing.T) {
	e := newEnv(t)
	b := e.NewBundle()
	// NOFILE has soft == hard because the Go runtime of the probe raises its own soft NOFILE
	// limit to the hard one at startup (os/rlimit.go), so a lower soft limit cannot be seen.
	b.Spec.Process.Rlimits = []specs.POSIXRlimit{
		{Type: "RLIMIT_NOFILE", Soft: 512, Hard: 512},
		{Type: "RLIMIT_CORE", Soft: 0, Hard: 4096},
		{Type: "RLIMIT_MSGQUEUE", Soft: 4096, Hard: 8192},
	}
	rep := e.Probe(b)
	for _, l := range b.Spec.Process.Rlimits {
		got := rep.Rlimits[l.Type]
		if got.Soft != l.Soft || got.Hard != l.Hard {
			t.Errorf("%s is %d/%d, want %d/%d", l.Type, got.Soft, got.Hard, l.Soft, l.Hard)
		}
	}
}

// TestRlimitAddressSpace: RLIMIT_AS and RLIMIT_DATA far below what a Go init has already
// reserved (hundreds of MiB of address space) reach the container's process; set any
// earlier than execve, init itself dies at its next allocation that needs a mapping.
func TestRlimitAddressSpace(t *testing.T) {
	e := newEnv(t)
	b := e.NewBundle("/bin/sh", "-c", "ulimit -Sv; ulimit -Hv; ulimit -Sd; ulimit -Hd")
	b.Spec.Process.Rlimits = []specs.POSIXRlimit{
		{Type: "RLIMIT_AS", Soft: 48 << 20, Hard: 64 << 20},
		{Type: "RLIMIT_DATA", Soft: 32 << 20, Hard: 32 << 20},
	}
	_, r := e.RunContainer(b)
	if !r.OK() {
		t.Fatal(r)
	}
	// busybox's ulimit speaks KiB.
	wantLines(t, harness.Lines(r.Stdout), "49152", "65536", "32768", "32768")
}

// TestRlimitNofileInherited: without RLIMIT_NOFILE in the config the container keeps the
// caller's soft limit, not the one the Go runtime raises for itself at start-up (init
// execs with a raw execve, so it must put the start-up value back as syscall.Exec would).
func TestRlimitNofileInherited(t *testing.T) {
	e := newEnv(t)
	var old unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &old); err != nil {
		t.Fatal(err)
	}
	if old.Max < 1000 {
		t.Skipf("hard RLIMIT_NOFILE %d too low", old.Max)
	}
	// The runtime is our child: it starts with our limit (syscall.Setrlimit also tells
	// os/exec not to put back the one this test binary started with).
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &syscall.Rlimit{Cur: 777, Max: old.Max}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &syscall.Rlimit{Cur: old.Cur, Max: old.Max}) })
	b := e.NewBundle("/bin/sh", "-c", "ulimit -Sn; ulimit -Hn")
	b.Spec.Process.Rlimits = nil // the default config sets RLIMIT_NOFILE 1024
	_, r := e.RunContainer(b)
	if !r.OK() {
		t.Fatal(r)
	}
	wantLines(t, harness.Lines(r.Stdout), "777", strconv.FormatUint(old.Max, 10))
}

func TestNoNewPrivileges(t *testing.T) {
	e := newEnv(t)
	for _, nnp := range []bool{true, false} {
		b := e.NewBundle()
		b.Spec.Process.NoNewPrivileges = nnp
		want := 0
		if nnp {
			want = 1
		}
		if rep := e.Probe(b); rep.NoNewPrivs != want {
			t.Errorf("noNewPrivileges %v: NoNewPrivs %d", nnp, rep.NoNewPrivs)
		}
	}
}

func TestOOMScoreAdj(t *testing.T) {
	e := newEnv(t)
	b := e.NewBundle()
	v := 123
	b.Spec.Process.OOMScoreAdj = &v
	if rep := e.Probe(b); rep.OOMScoreAdj != 123 {
		t.Errorf("oom_score_adj %d, want 123", rep.OOMScoreAdj)
	}
	own, err := os.ReadFile("/proc/self/oom_score_adj")
	if err != nil {
		t.Fatal(err)
	}
	b.Spec.Process.OOMScoreAdj = nil
	if rep := e.Probe(b); strconv.Itoa(rep.OOMScoreAdj) != strings.TrimSpace(string(own)) {
		t.Errorf("unset oomScoreAdj: %d, want the caller's %s", rep.OOMScoreAdj, own)
	}
}
