package tests

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/unha/unha/tests/cmd/probe/report"
	"github.com/unha/unha/tests/harness"
)

// allNS are the entries of /proc/PID/ns an exec'd process must share with the container's init.
var allNS = []string{"cgroup", "ipc", "mnt", "net", "pid", "pid_for_children", "time",
	"time_for_children", "user", "uts"}

// runningContainer creates and starts b with an init that waits for a signal, so that execs
// have a live container to join.
func runningContainer(t *testing.T, e *harness.Env, b *harness.Bundle) (*harness.Container, int) {
	t.Helper()
	b.Spec.Process.Args = []string{"/probe", "wait-signal"}
	c := e.Create(b)
	c.Start()
	c.WaitOutput("ready")
	return c, c.State().Pid
}

// execReport runs `exec FLAGS ID /probe json` in the foreground and decodes the report.
func execReport(t *testing.T, c *harness.Container, flags ...string) *report.Report {
	t.Helper()
	r := c.Exec(flags, "/probe", "json")
	if !r.OK() {
		t.Fatalf("exec: %s", r)
	}
	rep, err := harness.ParseReport(r.Stdout)
	if err != nil {
		t.Fatalf("%v\n%s", err, r)
	}
	return rep
}

// procNS reads /proc/PID/ns/* from the host; missing kinds (kernel without them) are left out.
func procNS(t *testing.T, pid int) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, name := range allNS {
		l, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", pid, name))
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		out[name] = l
	}
	return out
}

func sameNS(t *testing.T, what string, got, want map[string]string) {
	t.Helper()
	for _, name := range allNS {
		if w, ok := want[name]; ok && got[name] != w {
			t.Errorf("%s: %s namespace %s, want the init's %s", what, name, got[name], w)
		}
	}
}

func procFile(t *testing.T, pid int, name string) string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/%s", pid, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// onlyInit fails the test if the container's cgroup holds any live process but its init:
// a failed or refused exec must leave nothing behind in the container.
func onlyInit(t *testing.T, initPid int) {
	t.Helper()
	peers, err := harness.CgroupPeers(initPid)
	if err != nil {
		t.Fatal(err)
	}
	if len(peers) != 1 || peers[0] != initPid {
		t.Errorf("container cgroup holds %v, want only its init %d", peers, initPid)
	}
}

func TestExecJoinsNamespaces(t *testing.T) {
	e := newEnv(t)
	c, initPid := runningContainer(t, e, e.NewBundle())
	want := procNS(t, initPid)
	host := procNS(t, os.Getpid())
	for _, name := range []string{"pid", "net", "mnt", "ipc", "uts"} {
		if want[name] == host[name] {
			t.Fatalf("the container's init shares the host's %s namespace: nothing to join", name)
		}
	}
	rep := execReport(t, c)
	sameNS(t, "exec", rep.Namespaces, want)
	// A new process of the container's PID namespace, whose parent is outside it.
	if rep.Pid == 1 || rep.Ppid != 0 {
		t.Errorf("exec'd pid %d ppid %d, want a pid other than 1 and ppid 0", rep.Pid, rep.Ppid)
	}
	// The mount namespace really is the container's: its root and its /proc.
	if _, ok := harness.Mount(rep, "/"); !ok {
		t.Errorf("no root mount: %+v", rep.Mounts)
	}
	for _, m := range rep.Mounts {
		if strings.HasPrefix(m.Point, suite.Base) {
			t.Errorf("host path visible as a mount point: %+v", m)
		}
	}
	if rep.Hostname != c.Bundle.Spec.Hostname {
		t.Errorf("hostname %q, want the container's %q", rep.Hostname, c.Bundle.Spec.Hostname)
	}
}

func TestExecJoinsTimeNamespace(t *testing.T) {
	if _, err := os.Stat("/proc/self/ns/time"); err != nil {
		t.Skip("kernel without time namespaces")
	}
	skipIfRunc(t, "runc 1.1 does not know the time namespace")
	e := newEnv(t)
	b := e.NewBundle()
	b.SetNamespace(specs.TimeNamespace, "")
	b.Spec.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"monotonic": {Secs: 86400}}
	c, initPid := runningContainer(t, e, b)
	want := procNS(t, initPid)
	if want["time"] == procNS(t, os.Getpid())["time"] {
		t.Fatal("the container's init is in the host's time namespace")
	}
	sameNS(t, "exec", execReport(t, c).Namespaces, want)
}

// TestExecJoinsUserNamespace: exec must join the container's user namespace (before the
// others), so uid 0 inside is the mapped uid outside.
func TestExecJoinsUserNamespace(t *testing.T) {
	e := newEnv(t)
	b := e.NewBundle()
	b.SetNamespace(specs.UserNamespace, "")
	b.Spec.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
	b.Spec.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 200000, Size: 65536}}
	c, initPid := runningContainer(t, e, b)
	want := procNS(t, initPid)
	if want["user"] == procNS(t, os.Getpid())["user"] {
		t.Fatal("the container's init is in the host's user namespace")
	}
	d := c.ExecDetached(nil, "/probe", "json", "wait-signal")
	d.WaitOutput("ready")
	status := procFile(t, d.Pid, "status")
	for _, w := range []string{"Uid:\t100000\t100000\t100000\t100000\n", "Gid:\t200000\t200000\t200000\t200000\n"} {
		if !strings.Contains(status, w) {
			t.Errorf("host view of the exec'd process lacks %q:\n%s", w, status)
		}
	}
	sameNS(t, "exec (host view)", procNS(t, d.Pid), want)
	rep, err := harness.ParseReport(d.Output())
	if err != nil {
		t.Fatal(err)
	}
	sameNS(t, "exec", rep.Namespaces, want)
	if rep.Uid != 0 || rep.Euid != 0 || rep.Gid != 0 || rep.Egid != 0 {
		t.Errorf("inside: uid %d euid %d gid %d egid %d, want 0", rep.Uid, rep.Euid, rep.Gid, rep.Egid)
	}
	if rep.UIDMap != "0 100000 65536" || rep.GIDMap != "0 200000 65536" {
		t.Errorf("maps %q / %q", rep.UIDMap, rep.GIDMap)
	}
	// Root of the user namespace keeps the container's capabilities there.
	checkCaps(t, "effective", rep.Caps.Eff, capMask(t, b.Spec.Process.Capabilities.Bounding))
	if err := unix.Kill(d.Pid, unix.SIGTERM); err != nil {
		t.Fatal(err)
	}
	d.WaitOutput("signal 15")
}

// TestExecCgroup: the exec'd process lands in the container's cgroup on every hierarchy. The
// container has no cgroup namespace, so the probe sees the full paths.
func TestExecCgroup(t *testing.T) {
	e := newEnv(t)
	b := e.NewBundle()
	b.RemoveNamespace(specs.CgroupNamespace)
	c, initPid := runningContainer(t, e, b)
	want := strings.Split(strings.TrimSpace(procFile(t, initPid, "cgroup")), "\n")
	for _, line := range want {
		if !strings.HasSuffix(line, "/"+c.ID) {
			t.Fatalf("init's cgroup line %q is not the container's own cgroup", line)
		}
	}
	rep := execReport(t, c)
	if strings.Join(rep.Cgroup, "\n") != strings.Join(want, "\n") {
		t.Errorf("exec'd process cgroups\n%s\nwant init's\n%s", strings.Join(rep.Cgroup, "\n"), strings.Join(want, "\n"))
	}
}

// TestExecDetach: `exec --detach --pid-file` returns at once, leaving the process running in
// the container, and writes its host pid as bare digits.
func TestExecDetach(t *testing.T) {
	e := newEnv(t)
	c, initPid := runningContainer(t, e, e.NewBundle())
	d := c.ExecDetached(nil, "/probe", "json", "wait-signal")
	if !regexp.MustCompile(`^[0-9]+$`).MatchString(d.PidFileContent) {
		t.Errorf("pid file %q, want digits and no newline", d.PidFileContent)
	}
	d.WaitOutput("ready")
	if got := procFile(t, d.Pid, "cmdline"); got != "/probe\x00json\x00wait-signal\x00" {
		t.Errorf("pid %d runs %q, want the exec'd probe", d.Pid, got)
	}
	sameNS(t, "detached exec", procNS(t, d.Pid), procNS(t, initPid))
	if got, want := procFile(t, d.Pid, "cgroup"), procFile(t, initPid, "cgroup"); got != want {
		t.Errorf("detached exec cgroups\n%s\nwant init's\n%s", got, want)
	}
	rep, err := harness.ParseReport(d.Output())
	if err != nil {
		t.Fatal(err)
	}
	// NSpid lists the pid in every PID namespace, outermost first: the last is the one the
	// probe saw.
	var nspid []string
	for _, l := range strings.Split(procFile(t, d.Pid, "status"), "\n") {
		if v, ok := strings.CutPrefix(l, "NSpid:"); ok {
			nspid = strings.Fields(v)
		}
	}
	if len(nspid) != 2 || nspid[0] != fmt.Sprint(d.Pid) || nspid[1] != fmt.Sprint(rep.Pid) {
		t.Errorf("NSpid %v, want [%d %d]", nspid, d.Pid, rep.Pid)
	}
	if err := unix.Kill(d.Pid, unix.SIGTERM); err != nil {
		t.Fatal(err)
	}
	d.WaitOutput("signal 15")
	d.WaitGone()
	if st := c.State(); st.Status != "running" || st.Pid != initPid {
		t.Errorf("after the exec'd process ended the container is %s with pid %d", st.Status, st.Pid)
	}
}

func TestExecUserAndGroups(t *testing.T) {
	e := newEnv(t)
	c, _ := runningContainer(t, e, e.NewBundle())
	rep := execReport(t, c, "-u", "1000:1000", "-g", "10")
	if rep.Uid != 1000 || rep.Euid != 1000 || rep.Gid != 1000 || rep.Egid != 1000 {
		t.Errorf("uid/euid/gid/egid %d/%d/%d/%d, want 1000", rep.Uid, rep.Euid, rep.Gid, rep.Egid)
	}
	if len(rep.Groups) != 1 || rep.Groups[0] != 10 {
		t.Errorf("supplementary groups %v, want [10]", rep.Groups)
	}
	// The container's own process stays what the config says.
	rep = execReport(t, c)
	if rep.Uid != 0 || rep.Gid != 0 || len(rep.Groups) != 0 {
		t.Errorf("plain exec: uid %d gid %d groups %v, want root without groups", rep.Uid, rep.Gid, rep.Groups)
	}
}

func TestExecCwd(t *testing.T) {
	e := newEnv(t)
	b := e.NewBundle()
	b.Spec.Process.Cwd = "/tmp"
	c, _ := runningContainer(t, e, b)
	if rep := execReport(t, c); rep.Cwd != "/tmp" {
		t.Errorf("cwd %q, want the container's /tmp", rep.Cwd)
	}
	if rep := execReport(t, c, "--cwd", "/etc"); rep.Cwd != "/etc" {
		t.Errorf("--cwd /etc: cwd %q", rep.Cwd)
	}
}

// envOf returns the values of key in env, in order (more than one is a duplicate).
func envOf(env []string, key string) []string {
	var out []string
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok && k == key {
			out = append(out, v)
		}
	}
	return out
}

func wantEnv(t *testing.T, env []string, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if got := envOf(env, k); len(got) != 1 || got[0] != v {
			t.Errorf("%s is %q in %q, want exactly %q", k, got, env, v)
		}
	}
}

func TestExecEnv(t *testing.T) {
	e := newEnv(t)
	b := e.NewBundle()
	b.Spec.Process.Env = []string{"PATH=/bin", "TERM=xterm", "KEEP=container"}
	c, _ := runningContainer(t, e, b)
	// -e adds to the container's environment; a variable given again replaces the old value,
	// it does not leave two (getenv would see the first).
	rep := execReport(t, c, "-e", "FOO=bar baz", "-e", "TERM=dumb", "-e", "EMPTY=")
	wantEnv(t, rep.Env, map[string]string{"PATH": "/bin", "KEEP": "container", "FOO": "bar baz",
		"TERM": "dumb", "EMPTY": ""})

	t.Run("env-file", func(t *testing.T) {
		skipIfRunc(t, "runc 1.1 has no --env-file")
		f := filepath.Join(e.Dir, "exec.env")
		content := "# a comment\nFROMFILE=yes it is\n\nSHARED=file\nKEEP=file\n"
		if err := os.WriteFile(f, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		// The file overrides the container, -e overrides the file.
		rep := execReport(t, c, "--env-file", f, "-e", "SHARED=flag")
		wantEnv(t, rep.Env, map[string]string{"PATH": "/bin", "FROMFILE": "yes it is", "SHARED": "flag",
			"KEEP": "file"})
		if r := c.Exec([]string{"--env-file", filepath.Join(e.Dir, "missing.env")}, "/probe", "json"); r.OK() {
			t.Errorf("exec with a missing --env-file succeeded: %s", r)
		}
	})
}

func TestExecCapabilities(t *testing.T) {
	e := newEnv(t)
	b := e.NewBundle()
	caps := []string{"CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW"}
	b.Spec.Process.Capabilities = &specs.LinuxCapabilities{Bounding: caps, Effective: caps, Permitted: caps}
	c, _ := runningContainer(t, e, b)
	base := capMask(t, caps)

	// By default: the container's process capabilities, and never any inheritable
	// (CVE-2022-29162: runc exec used to grant inheritable capabilities).
	rep := execReport(t, c)
	checkCaps(t, "default: bounding", rep.Caps.Bnd, base)
	checkCaps(t, "default: permitted", rep.Caps.Prm, base)
	checkCaps(t, "default: effective", rep.Caps.Eff, base)
	checkCaps(t, "default: inheritable", rep.Caps.Inh, 0)
	checkCaps(t, "default: ambient", rep.Caps.Amb, 0)

	// --cap adds a capability, still not inheritable.
	rep = execReport(t, c, "--cap", "CAP_SYS_ADMIN")
	more := base | capMask(t, []string{"CAP_SYS_ADMIN"})
	checkCaps(t, "--cap: bounding", rep.Caps.Bnd, more)
	checkCaps(t, "--cap: permitted", rep.Caps.Prm, more)
	checkCaps(t, "--cap: effective", rep.Caps.Eff, more)
	checkCaps(t, "--cap: inheritable", rep.Caps.Inh, 0)
}

func TestExecRlimits(t *testing.T) {
	e := newEnv(t)
	b := e.NewBundle()
	// NOFILE soft == hard: the probe's Go runtime raises its soft NOFILE limit to the hard one.
	b.Spec.Process.Rlimits = []specs.POSIXRlimit{
		{Type: "RLIMIT_NOFILE", Soft: 512, Hard: 512},
		{Type: "RLIMIT_CORE", Soft: 0, Hard: 4096},
		{Type: "RLIMIT_MSGQUEUE", Soft: 4096, Hard: 8192},
	}
	c, _ := runningContainer(t, e, b)
	rep := execReport(t, c)
	for _, l := range b.Spec.Process.Rlimits {
		if got := rep.Rlimits[l.Type]; got.Soft != l.Soft || got.Hard != l.Hard {
			t.Errorf("%s is %d/%d, want the container's %d/%d", l.Type, got.Soft, got.Hard, l.Soft, l.Hard)
		}
	}
}

func TestExecNoNewPrivs(t *testing.T) {
	e := newEnv(t)
	b := e.NewBundle()
	b.Spec.Process.NoNewPrivileges = false
	c, _ := runningContainer(t, e, b)
	if rep := execReport(t, c); rep.NoNewPrivs != 0 {
		t.Errorf("container without noNewPrivileges: exec'd NoNewPrivs %d", rep.NoNewPrivs)
	}
	if rep := execReport(t, c, "--no-new-privs"); rep.NoNewPrivs != 1 {
		t.Errorf("--no-new-privs: NoNewPrivs %d", rep.NoNewPrivs)
	}

	b2 := e.NewBundle()
	b2.Spec.Process.NoNewPrivileges = true
	c2, _ := runningContainer(t, e, b2)
	if rep := execReport(t, c2); rep.NoNewPrivs != 1 {
		t.Errorf("container with noNewPrivileges: exec'd NoNewPrivs %d", rep.NoNewPrivs)
	}
}

// TestExecProcessFile: `exec --process F` (what containerd and podman send) runs exactly the
// process F describes, not the container's.
func TestExecProcessFile(t *testing.T) {
	e := newEnv(t)
	b := e.NewBundle()
	b.Spec.Process.NoNewPrivileges = false
	b.Spec.Process.Env = []string{"PATH=/bin", "FROMCONFIG=1"}
	c, _ := runningContainer(t, e, b)
	umask := uint32(0o027)
	p := specs.Process{
		Args: []string{"/probe", "print", "from file", "json"},
		Env:  []string{"PATH=/bin", "FROMFILE=yes", "HOME=/nowhere"},
		Cwd:  "/tmp",
		User: specs.User{UID: 1000, GID: 1000, AdditionalGids: []uint32{20, 10}, Umask: &umask},
		Capabilities: &specs.LinuxCapabilities{
			Bounding:    []string{"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"},
			Effective:   []string{"CAP_NET_BIND_SERVICE"},
			Permitted:   []string{"CAP_NET_BIND_SERVICE"},
			Inheritable: []string{"CAP_NET_BIND_SERVICE"},
			Ambient:     []string{"CAP_NET_BIND_SERVICE"},
		},
		Rlimits:         []specs.POSIXRlimit{{Type: "RLIMIT_CORE", Soft: 1024, Hard: 2048}},
		NoNewPrivileges: true,
	}
	data, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	pf := filepath.Join(e.Dir, "process.json")
	if err := os.WriteFile(pf, data, 0o644); err != nil {
		t.Fatal(err)
	}
	r := e.Run("exec", "--process", pf, c.ID)
	if !r.OK() {
		t.Fatal(r)
	}
	wantLines(t, harness.Lines(r.Stdout), "from file")
	rep, err := harness.ParseReport(r.Stdout)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rep.Args, "|") != strings.Join(p.Args, "|") {
		t.Errorf("args %q, want %q", rep.Args, p.Args)
	}
	env := append([]string{}, rep.Env...)
	sort.Strings(env)
	if want := []string{"FROMFILE=yes", "HOME=/nowhere", "PATH=/bin"}; strings.Join(env, " ") != strings.Join(want, " ") {
		t.Errorf("env %q, want exactly %q", rep.Env, want)
	}
	if rep.Cwd != "/tmp" {
		t.Errorf("cwd %q, want /tmp", rep.Cwd)
	}
	groups := append([]int{}, rep.Groups...)
	sort.Ints(groups)
	if rep.Uid != 1000 || rep.Gid != 1000 || fmt.Sprint(groups) != "[10 20]" {
		t.Errorf("uid %d gid %d groups %v, want 1000 1000 [10 20]", rep.Uid, rep.Gid, rep.Groups)
	}
	t.Run("umask", func(t *testing.T) {
		skipIfRunc(t, "runc 1.1 applies user.umask to the container's init only, not to exec")
		if rep.Umask != "0027" {
			t.Errorf("umask %q, want 0027", rep.Umask)
		}
	})
	pc := p.Capabilities
	amb := capMask(t, pc.Ambient)
	checkCaps(t, "bounding", rep.Caps.Bnd, capMask(t, pc.Bounding))
	checkCaps(t, "inheritable", rep.Caps.Inh, capMask(t, pc.Inheritable))
	checkCaps(t, "ambient", rep.Caps.Amb, amb)
	// Non-root execve without file capabilities: permitted and effective are the ambient set.
	checkCaps(t, "permitted", rep.Caps.Prm, amb)
	checkCaps(t, "effective", rep.Caps.Eff, amb)
	if got := rep.Rlimits["RLIMIT_CORE"]; got.Soft != 1024 || got.Hard != 2048 {
		t.Errorf("RLIMIT_CORE %d/%d, want 1024/2048", got.Soft, got.Hard)
	}
	if rep.NoNewPrivs != 1 {
		t.Errorf("NoNewPrivs %d, want 1", rep.NoNewPrivs)
	}
	if rep.Tty != [3]bool{} {
		t.Errorf("isatty %v without a terminal", rep.Tty)
	}

	bad := filepath.Join(e.Dir, "bad.json")
	if err := os.WriteFile(bad, []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := e.Run("exec", "--process", bad, c.ID); r.OK() {
		t.Errorf("exec with a malformed process file succeeded: %s", r)
	}
}

// TestExecExitStatus: the foreground exec exits as its process did, 128+N for signal N.
func TestExecExitStatus(t *testing.T) {
	e := newEnv(t)
	c, initPid := runningContainer(t, e, e.NewBundle())
	r := c.Exec(nil, "/probe", "print", "hi", "exit", "7")
	if r.Code != 7 || r.Stdout != "hi\n" {
		t.Errorf("want exit 7 and the process's stdout: %s", r)
	}
	// Not pid 1 of the PID namespace: the probe can kill itself.
	if r := c.Exec(nil, "/probe", "signal-self", "9"); r.Code != 128+9 {
		t.Errorf("want exit 137 for SIGKILL: %s", r)
	}
	if r := c.Exec(nil, "/bin/sh", "-c", "exit 0"); !r.OK() {
		t.Errorf("want exit 0: %s", r)
	}
	if st := c.State(); st.Status != "running" || st.Pid != initPid {
		t.Errorf("after the execs the container is %s with pid %d", st.Status, st.Pid)
	}
	onlyInit(t, initPid)
}

func TestExecPreserveFds(t *testing.T) {
	e := newEnv(t)
	c, _ := runningContainer(t, e, e.NewBundle())
	rd, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	ino := pipeIno(t, w)
	res := c.ExecWith(harness.RunOpts{ExtraFiles: []*os.File{w}}, []string{"--preserve-fds", "1"},
		"/probe", "json", "writefd", "3", "through-fd-3")
	w.Close()
	if !res.OK() {
		t.Fatal(res)
	}
	rep, err := harness.ParseReport(res.Stdout)
	if err != nil {
		t.Fatal(err)
	}
	checkFds(t, rep.Fds, "[0 1 2 3]")
	if rep.Fds[3] != ino {
		t.Errorf("exec'd fd 3 is %s, want the pipe %s", rep.Fds[3], ino)
	}
	if data, err := io.ReadAll(rd); err != nil || string(data) != "through-fd-3" {
		t.Errorf("read from the preserved pipe: %q %v", data, err)
	}

	// Without --preserve-fds an fd the caller leaves open does not reach the process.
	_, w2, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer w2.Close()
	res = c.ExecWith(harness.RunOpts{ExtraFiles: []*os.File{w2}}, nil, "/probe", "json")
	if !res.OK() {
		t.Fatal(res)
	}
	if rep, err = harness.ParseReport(res.Stdout); err != nil {
		t.Fatal(err)
	}
	checkFds(t, rep.Fds, "[0 1 2]")
}

func TestExecStopped(t *testing.T) {
	e := newEnv(t)
	c := e.Create(e.NewBundle("/probe", "print", "done"))
	c.Start()
	c.WaitStatus("stopped")
	r := c.Exec(nil, "/probe", "json")
	if r.OK() || !strings.Contains(r.Stderr, "stopped") || strings.Contains(r.Stdout, "{") {
		t.Errorf("exec into a stopped container: want a failure naming it stopped: %s", r)
	}
	c.Delete(false)
	e.AssertClean()
}

func TestExecPaused(t *testing.T) {
	e := newEnv(t)
	c, initPid := runningContainer(t, e, e.NewBundle())
	if r := e.Run("pause", c.ID); !r.OK() {
		t.Fatal(r)
	}
	c.WaitStatus("paused")
	r := c.Exec(nil, "/probe", "json")
	if r.OK() || !strings.Contains(r.Stderr, "paused") {
		t.Errorf("exec into a paused container: want a failure naming it paused: %s", r)
	}
	onlyInit(t, initPid)
	if r := e.Run("resume", c.ID); !r.OK() {
		t.Fatal(r)
	}
	c.WaitStatus("running")
	// Once resumed, exec works again.
	execReport(t, c)
}

func TestExecMissingContainer(t *testing.T) {
	e := newEnv(t)
	id := e.NewID()
	r := e.Run("exec", id, "/probe", "json")
	if r.OK() || !strings.Contains(r.Stderr, "container does not exist") {
		t.Errorf("exec into a missing container: want \"container does not exist\": %s", r)
	}
	e.AssertClean()
}

func TestExecNotFound(t *testing.T) {
	e := newEnv(t)
	c, initPid := runningContainer(t, e, e.NewBundle())
	for _, args0 := range []string{"/nonexistent", "no-such-command"} {
		r := c.Exec(nil, args0, "arg")
		if r.OK() || !strings.Contains(r.Stderr, args0) {
			t.Errorf("exec %s: want a failure naming it: %s", args0, r)
		}
	}
	if r := c.Exec(nil, "/etc/passwd"); r.OK() {
		t.Errorf("exec of a non-executable file succeeded: %s", r)
	}
	onlyInit(t, initPid)
	if st := c.State(); st.Status != "running" || st.Pid != initPid {
		t.Errorf("after the failed execs the container is %s with pid %d", st.Status, st.Pid)
	}
}

func TestExecUsage(t *testing.T) {
	e := newEnv(t)
	c, initPid := runningContainer(t, e, e.NewBundle())
	if r := e.Run("exec", c.ID); r.OK() {
		t.Errorf("exec without a command succeeded: %s", r)
	}
	if r := c.Exec([]string{"-u", "nobody:x"}, "/probe", "json"); r.OK() {
		t.Errorf("exec -u nobody:x succeeded: %s", r)
	}
	onlyInit(t, initPid)
}
