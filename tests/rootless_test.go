package tests

// The runtime run as an unprivileged user (uid 65534, or a temporary user with subordinate ids),
// the way rootless podman or `runc --rootless` users run it: config from `spec --rootless`, state
// under $XDG_RUNTIME_DIR, a user namespace mapping the caller to root, no cgroups unless
// delegated. The test process stays root to look from the host side and to check leftovers.

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/unha/unha/tests/harness"
)

func newRootlessEnv(t *testing.T) *harness.Env {
	t.Helper()
	skipIfRunc(t, "runc's rootless mode is not what these tests validate")
	return harness.NewAs(t, suite, harness.Nobody)
}

// hostIDs returns the Uid: and Gid: lines of /proc/PID/status, as the host sees them.
func hostIDs(t *testing.T, pid int) (string, string) {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	var uid, gid string
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "Uid:"); ok {
			uid = strings.Join(strings.Fields(v), " ")
		}
		if v, ok := strings.CutPrefix(l, "Gid:"); ok {
			gid = strings.Join(strings.Fields(v), " ")
		}
	}
	return uid, gid
}

func ownerOf(t *testing.T, path string) (uint32, uint32) {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Lstat(path, &st); err != nil {
		t.Fatal(err)
	}
	return st.Uid, st.Gid
}

// TestRootlessSpecRun is the rootless contract in one: `spec --rootless`, a busybox rootfs
// owned by the user, `run` as the user with no --root: `id` prints 0 inside, and the state
// lives under $XDG_RUNTIME_DIR/unha-runtime while the container exists.
func TestRootlessSpecRun(t *testing.T) {
	e := newRootlessEnv(t)
	b := e.NewBundle("/bin/sh", "-c", "id -u; id -g; cat /proc/self/uid_map")
	s := b.Spec
	if !b.HasNamespace(specs.UserNamespace) || b.HasNamespace(specs.NetworkNamespace) {
		t.Errorf("spec --rootless namespaces %+v: want a user namespace and no network namespace", s.Linux.Namespaces)
	}
	want := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 65534, Size: 1}}
	if fmt.Sprint(s.Linux.UIDMappings) != fmt.Sprint(want) || fmt.Sprint(s.Linux.GIDMappings) != fmt.Sprint(want) {
		t.Errorf("spec --rootless maps %v / %v, want %v", s.Linux.UIDMappings, s.Linux.GIDMappings, want)
	}
	if s.Linux.Resources != nil {
		t.Errorf("spec --rootless asks for resources %+v", s.Linux.Resources)
	}
	id := e.NewID()
	stateDir := filepath.Join(e.As.RuntimeDir(), "unha-runtime", id)
	r := e.RunWith(harness.RunOpts{NoRoot: true}, "run", "--keep", "--bundle", b.Dir, id)
	if !r.OK() {
		t.Fatal(r)
	}
	if got := harness.Lines(r.Stdout); len(got) < 3 || got[0] != "0" || got[1] != "0" || strings.Join(strings.Fields(got[2]), " ") != "0 65534 1" {
		t.Errorf("inside: %q, want uid 0, gid 0 and the map 0 65534 1", got)
	}
	if _, err := os.Stat(stateDir); err != nil {
		t.Errorf("state of a kept container is not under $XDG_RUNTIME_DIR: %v", err)
	} else if u, _ := ownerOf(t, stateDir); u != 65534 {
		t.Errorf("state dir %s belongs to uid %d", stateDir, u)
	}
	if r := e.RunWith(harness.RunOpts{NoRoot: true}, "state", id); !r.OK() || !strings.Contains(r.Stdout, `"stopped"`) {
		t.Errorf("state without --root: %s", r)
	}
	if r := e.RunWith(harness.RunOpts{NoRoot: true}, "delete", id); !r.OK() {
		t.Fatal(r)
	}
	if _, err := os.Stat(stateDir); err == nil {
		t.Errorf("delete left %s", stateDir)
	}
}

func TestRootlessLifecycle(t *testing.T) {
	e := newRootlessEnv(t)
	b := e.NewBundle("/probe", "wait-signal")
	c := e.Create(b)
	st := c.State()
	if st.Status != "created" || st.Pid <= 0 {
		t.Fatalf("after create: %+v", st)
	}
	if uid, gid := hostIDs(t, st.Pid); uid != "65534 65534 65534 65534" || gid != "65534 65534 65534 65534" {
		t.Errorf("host view of init: Uid %q Gid %q, want the caller's 65534", uid, gid)
	}
	if n := strings.Count(c.Stderr(), "rootless:"); n != 1 {
		t.Errorf("create printed %d rootless warnings, want exactly one: %q", n, c.Stderr())
	}
	c.Start()
	c.WaitOutput("ready")
	if st := c.State(); st.Status != "running" {
		t.Errorf("after start: %s", st.Status)
	}
	r := e.Run("ps", "--format", "json", c.ID)
	var pids []int
	if !r.OK() || json.Unmarshal([]byte(r.Stdout), &pids) != nil || len(pids) != 1 || pids[0] != st.Pid {
		t.Errorf("ps without cgroups: %s, want [%d]", r, st.Pid)
	}
	if r := e.Run("pause", c.ID); r.OK() || !strings.Contains(r.Stderr, "no cgroup") {
		t.Errorf("pause without a freezer cgroup: %s", r)
	}
	c.Kill("TERM")
	c.WaitStatus("stopped")
	if !strings.Contains(c.Stdout(), "signal 15") {
		t.Errorf("init did not get SIGTERM: %q", c.Stdout())
	}
	c.Delete(false)
	if _, err := c.TryState(); err == nil {
		t.Error("state still works after delete")
	}
	e.AssertClean()
}

// TestRootlessKillAll: without cgroups, kill --all reaches every process of the container's
// own pid namespace. The shell is the namespace's init, which the kernel shields from SIGTERM
// (it installs no handler): only --all reaches the two probes, and once they exit the shell's
// wait returns and the container stops.
func TestRootlessKillAll(t *testing.T) {
	e := newRootlessEnv(t)
	b := e.NewBundle("/bin/sh", "-c", "/probe wait-signal & /probe wait-signal & wait")
	c := e.Create(b)
	c.Start()
	var pids []int
	waitFor(t, "three processes, two probes ready", func() bool {
		r := e.Run("ps", "--format", "json", c.ID)
		pids = nil
		return r.OK() && json.Unmarshal([]byte(r.Stdout), &pids) == nil && len(pids) == 3 &&
			strings.Count(c.Stdout(), "ready") == 2
	})
	trackAll(e, pids)
	if r := e.Run("kill", "--all", c.ID, "TERM"); !r.OK() {
		t.Fatal(r)
	}
	waitAllGone(t, "container processes", pids)
	c.WaitStatus("stopped")
	if n := strings.Count(c.Stdout(), "signal 15"); n != 2 {
		t.Errorf("%d probes got SIGTERM, want 2: %q", n, c.Stdout())
	}
	if r := e.Run("kill", "--all", c.ID, "KILL"); !r.OK() {
		t.Errorf("kill --all on a stopped container: %s", r)
	}
}

func TestRootlessNamespaces(t *testing.T) {
	e := newRootlessEnv(t)
	b := e.NewBundle()
	b.Spec.Hostname = "rootless-host"
	b.SetNamespace(specs.NetworkNamespace, "")
	// spec --rootless binds the host's /sys; with a network namespace of its own the
	// container may mount a sysfs, which shows that namespace's devices.
	for i, m := range b.Spec.Mounts {
		if m.Destination == "/sys" {
			b.Spec.Mounts[i] = specs.Mount{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", "ro"}}
		}
	}
	rep := e.Probe(b)
	for _, name := range []string{"pid", "uts", "ipc", "mnt", "net", "user"} {
		if rep.Namespaces[name] == hostNS(t, "self", name) {
			t.Errorf("%s namespace is the host's", name)
		}
	}
	if rep.Pid != 1 {
		t.Errorf("pid %d, want 1", rep.Pid)
	}
	if rep.Hostname != "rootless-host" {
		t.Errorf("hostname %q", rep.Hostname)
	}
	if len(rep.Net) != 1 || rep.Net[0].Name != "lo" || rep.Net[0].Flags&unix.IFF_UP == 0 {
		t.Errorf("interfaces %+v, want lo, up", rep.Net)
	}
	if rep.UIDMap != "0 65534 1" || rep.GIDMap != "0 65534 1" {
		t.Errorf("maps %q / %q", rep.UIDMap, rep.GIDMap)
	}
	for _, m := range rep.Mounts {
		if strings.HasPrefix(m.Point, b.Dir) || strings.HasPrefix(m.Point, suite.Base) {
			t.Errorf("host path visible as a mount point inside: %+v", m)
		}
	}
	if m, _ := harness.Mount(rep, "/sys"); m.FSType != "sysfs" || !harness.HasOption(m.Options, "ro") {
		t.Errorf("/sys is %+v, want a read-only sysfs", m)
	}
	if d, ok := harness.Dev(rep, "/dev/null"); !ok || d.Type != "c" || d.Major != 1 || d.Minor != 3 {
		t.Errorf("/dev/null is %+v", d)
	}
	t.Run("no-netns", func(t *testing.T) {
		// spec --rootless as it is: the host's network namespace, /sys bound from the host.
		e := newRootlessEnv(t)
		rep := e.Probe(e.NewBundle())
		if rep.Namespaces["net"] != hostNS(t, "self", "net") {
			t.Error("net namespace differs although spec --rootless has none")
		}
		if m, _ := harness.Mount(rep, "/sys"); m.FSType != "sysfs" || !harness.HasOption(m.Options, "ro") {
			t.Errorf("/sys is %+v, want a read-only sysfs", m)
		}
	})
}

func TestRootlessRootfs(t *testing.T) {
	e := newRootlessEnv(t)
	rw, ro := filepath.Join(e.Dir, "host-rw"), filepath.Join(e.Dir, "host-ro")
	for _, d := range []string{rw, ro} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "hello"), []byte("hello"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := e.As.Chown(d); err != nil {
			t.Fatal(err)
		}
	}
	b := e.NewBundle("/probe", "write", "/x", "write", "/dev/shm/x",
		"read", "/mnt/ro/hello", "write", "/mnt/ro/new", "mkfile", "/mnt/rw/new",
		"write", "/mnt/tmp/x", "stat", "/mnt/tmp",
		"read", "/proc/keys", "ls", "/sys/firmware", "write", "/proc/sys/kernel/hostname", "json")
	b.Spec.Root.Readonly = true
	b.AddMount(specs.Mount{Destination: "/mnt/rw", Type: "bind", Source: rw, Options: []string{"rbind", "rw"}})
	b.AddMount(specs.Mount{Destination: "/mnt/ro", Type: "bind", Source: ro, Options: []string{"bind", "ro"}})
	b.AddMount(specs.Mount{Destination: "/mnt/tmp", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "mode=1777", "size=1m"}})
	lines, r := probeLines(t, e, b)
	wantLines(t, lines, "EROFS", "ok", `ok "hello"`, "EROFS", "ok 0 0", "ok", "ok 0 0 1777",
		`ok ""`, `ok []`, "EROFS")
	if u, g := ownerOf(t, filepath.Join(rw, "new")); u != 65534 || g != 65534 {
		t.Errorf("file made through the bind is %d:%d on the host, want the caller's 65534:65534", u, g)
	}
	if _, err := os.Stat(filepath.Join(b.Rootfs, "x")); err == nil {
		t.Error("/x appeared in the read-only rootfs")
	}
	rep, err := harness.ParseReport(r.Stdout)
	if err != nil {
		t.Fatal(err)
	}
	if m, _ := harness.Mount(rep, "/"); !harness.HasOption(m.Options, "ro") {
		t.Errorf("root mount %+v is not ro", m)
	}
	if m, _ := harness.Mount(rep, "/mnt/tmp"); m.FSType != "tmpfs" {
		t.Errorf("/mnt/tmp is %+v", m)
	}
}

func TestRootlessProcess(t *testing.T) {
	e := newRootlessEnv(t)
	b := e.NewBundle()
	p := b.Spec.Process
	p.Env = append(p.Env, "ROOTLESS=yes")
	p.Cwd = "/tmp"
	extra := append(append([]string(nil), p.Capabilities.Bounding...), "CAP_SYS_ADMIN", "CAP_CHOWN")
	p.Capabilities.Bounding, p.Capabilities.Effective, p.Capabilities.Permitted = extra, extra, extra
	rep := e.Probe(b)
	if rep.Uid != 0 || rep.Gid != 0 || rep.Euid != 0 {
		t.Errorf("uid %d gid %d euid %d, want 0", rep.Uid, rep.Gid, rep.Euid)
	}
	if rep.Cwd != "/tmp" {
		t.Errorf("cwd %q", rep.Cwd)
	}
	if !contains(rep.Env, "ROOTLESS=yes") || !contains(rep.Env, "HOME=/root") {
		t.Errorf("env %q", rep.Env)
	}
	want := capMask(t, extra)
	checkCaps(t, "effective", rep.Caps.Eff, want)
	checkCaps(t, "bounding", rep.Caps.Bnd, want)
	if rep.NoNewPrivs != 1 {
		t.Errorf("no_new_privs %d", rep.NoNewPrivs)
	}
}

func TestRootlessHooks(t *testing.T) {
	e := newRootlessEnv(t)
	b := e.NewBundle("/probe", "print", "process-ran")
	k := newHookKit(t, e, b)
	if err := e.As.Chown(k.dir); err != nil {
		t.Fatal(err)
	}
	h := b.Spec.Hooks
	//lint:ignore SA1019 prestart is deprecated but clients still send it
	h.Prestart = []specs.Hook{k.hook("prestart", false)}
	h.CreateRuntime = []specs.Hook{k.hook("createRuntime", false)}
	h.CreateContainer = []specs.Hook{k.hook("createContainer", false)}
	h.StartContainer = []specs.Hook{k.hook("startContainer", false)}
	h.Poststart = []specs.Hook{k.hook("poststart", false)}
	h.Poststop = []specs.Hook{k.hook("poststop", false)}
	c := e.Create(b)
	c.Start()
	c.WaitStatus("stopped")
	c.Delete(false)
	wantOrder(t, k, "prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop")
	for _, name := range []string{"prestart", "createContainer", "poststop"} {
		if _, st := k.record(name); st.ID != c.ID {
			t.Errorf("%s got the state of %q, want %q", name, st.ID, c.ID)
		}
	}
	// The runtime's hooks run as the caller; createContainer as the container's root, which
	// is the caller too.
	for _, name := range []string{"prestart", "createContainer", "poststop"} {
		if u, _ := ownerOf(t, filepath.Join(k.dir, name+".json")); u != 65534 {
			t.Errorf("%s ran as uid %d, want the caller's 65534", name, u)
		}
	}
}

func TestRootlessExec(t *testing.T) {
	e := newRootlessEnv(t)
	c, pid := runningContainer(t, e, e.NewBundle())
	rep := execReport(t, c, "--cwd", "/tmp")
	want := procNS(t, pid)
	for _, name := range []string{"user", "mnt", "pid", "uts", "ipc"} {
		if rep.Namespaces[name] != want[name] {
			t.Errorf("exec %s namespace %s, init's %s", name, rep.Namespaces[name], want[name])
		}
	}
	if rep.Uid != 0 || rep.Cwd != "/tmp" {
		t.Errorf("exec: uid %d cwd %q", rep.Uid, rep.Cwd)
	}
	c.Kill("KILL")
	c.WaitStatus("stopped")
}

// TestRootlessLimits: a limit that cannot be applied is an error naming it, never a container
// that runs silently unlimited; with the hierarchy delegated, the limit is applied.
func TestRootlessLimits(t *testing.T) {
	t.Run("refused", func(t *testing.T) {
		e := newRootlessEnv(t)
		b := e.NewBundle()
		limit := int64(64 << 20)
		b.Spec.Linux.Resources = &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: &limit}}
		c, r := e.TryCreate(b, harness.CreateOpts{})
		if r.OK() {
			t.Fatalf("create with a memory limit and no delegated memory cgroup succeeded")
		}
		if msg := c.Stderr() + r.Stderr; !strings.Contains(msg, "memory") || !strings.Contains(msg, "not delegated") {
			t.Errorf("error does not name the memory limit: %q", msg)
		}
		e.AssertClean()
	})
	t.Run("delegated", func(t *testing.T) {
		e := newRootlessEnv(t)
		mnt, ok := cgroupMounts(t)["pids"]
		if !ok {
			t.Skip("no v1 pids hierarchy")
		}
		own := procCgroups(t, "self")["pids"]
		name := uniqueName(t, "unha-deleg-")
		deleg := filepath.Join(mnt, own, name)
		if err := os.Mkdir(deleg, 0o755); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := unix.Rmdir(deleg); err != nil {
				t.Errorf("remove delegated cgroup: %v", err)
			}
		})
		// Delegation, v1 style: the directory and its interface files belong to the user.
		if err := e.As.Chown(deleg); err != nil {
			t.Fatal(err)
		}
		b := e.NewBundle("/probe", "wait-signal")
		limit := int64(77)
		b.Spec.Linux.CgroupsPath = filepath.Join(own, name, "ctr")
		b.Spec.Linux.Resources = &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: &limit}}
		c := e.Create(b)
		pid := c.State().Pid
		if got := procCgroups(t, strconv.Itoa(pid))["pids"]; got != filepath.Join(own, name, "ctr") {
			t.Errorf("init's pids cgroup %q", got)
		}
		if v := strings.TrimSpace(readString(filepath.Join(deleg, "ctr", "pids.max"))); v != "77" {
			t.Errorf("pids.max %q, want 77", v)
		}
		c.Delete(true)
		if _, err := os.Stat(filepath.Join(deleg, "ctr")); err == nil {
			t.Error("delete left the container's cgroup")
		}
		// The same delegation does not cover memory.
		b.Spec.Linux.Resources.Memory = &specs.LinuxMemory{Limit: &limit}
		if _, r := e.TryCreate(b, harness.CreateOpts{}); r.OK() || !strings.Contains(r.Stderr, "memory") {
			t.Errorf("memory limit without a delegated memory cgroup: %s", r)
		}
		e.AssertClean()
	})
}

func TestRootlessNeedsUserNS(t *testing.T) {
	e := newRootlessEnv(t)
	b := e.NewBundle()
	b.RemoveNamespace(specs.UserNamespace)
	c, r := e.TryCreate(b, harness.CreateOpts{})
	if r.OK() {
		t.Fatal("rootless create without a user namespace succeeded")
	}
	if msg := c.Stderr() + r.Stderr; !strings.Contains(msg, "user namespace") {
		t.Errorf("error %q does not say a user namespace is needed", msg)
	}
	e.AssertClean()
}

// subIDRange returns the first range /etc/subuid (or /etc/subgid) grants name.
func subIDRange(t *testing.T, file, name string) (uint32, uint32, bool) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Split(strings.TrimSpace(l), ":")
		if len(f) == 3 && f[0] == name {
			start, err1 := strconv.ParseUint(f[1], 10, 32)
			count, err2 := strconv.ParseUint(f[2], 10, 32)
			if err1 == nil && err2 == nil && count > 0 {
				return uint32(start), uint32(count), true
			}
		}
	}
	return 0, 0, false
}

// tempUser adds a system user with subordinate id ranges for one test and removes it again
// (userdel drops its /etc/subuid and /etc/subgid lines too), checking that it did.
func tempUser(t *testing.T) (harness.User, string, [2]uint32) {
	t.Helper()
	for _, tool := range []string{"useradd", "usermod", "userdel", "newuidmap", "newgidmap"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (packages passwd, uidmap)", tool)
		}
	}
	name := uniqueName(t, "unha-")
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
	run("useradd", "-M", "-N", "-g", "nogroup", "-s", "/usr/sbin/nologin", name)
	t.Cleanup(func() {
		if out, err := exec.Command("userdel", name).CombinedOutput(); err != nil {
			t.Errorf("userdel %s: %v\n%s", name, err, out)
		}
		for _, f := range []string{"/etc/passwd", "/etc/subuid", "/etc/subgid"} {
			if b, _ := os.ReadFile(f); strings.Contains(string(b), name+":") {
				t.Errorf("leftover: %s still names %s", f, name)
			}
		}
	})
	u, err := user.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.ParseUint(u.Uid, 10, 32)
	gid, _ := strconv.ParseUint(u.Gid, 10, 32)
	// useradd grants ranges when login.defs says so; otherwise grant one.
	if _, _, ok := subIDRange(t, "/etc/subuid", name); !ok {
		run("usermod", "--add-subuids", "900000-965535", name)
	}
	if _, _, ok := subIDRange(t, "/etc/subgid", name); !ok {
		run("usermod", "--add-subgids", "900000-965535", name)
	}
	su, _, _ := subIDRange(t, "/etc/subuid", name)
	sg, _, _ := subIDRange(t, "/etc/subgid", name)
	return harness.User{Uid: uint32(uid), Gid: uint32(gid)}, name, [2]uint32{su, sg}
}

// TestRootlessSubordinateIDs: maps beyond the caller's own id go through newuidmap and
// newgidmap with the caller's /etc/subuid and /etc/subgid ranges, so the container has a
// whole range of users: uid 1000 inside is a subordinate id on the host.
func TestRootlessSubordinateIDs(t *testing.T) {
	skipIfRunc(t, "runc's rootless mode is not what these tests validate")
	u, _, sub := tempUser(t)
	e := harness.NewAs(t, suite, u)
	data := filepath.Join(e.Dir, "data")
	mkdirOwned(t, data, int(u.Uid), int(u.Gid))
	if err := os.Chmod(data, 0o777); err != nil {
		t.Fatal(err)
	}
	b := e.NewBundle("/probe", "mkfile", "/data/by-1000", "json", "wait-signal")
	b.Spec.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: u.Uid, Size: 1}, {ContainerID: 1, HostID: sub[0], Size: 65536}}
	b.Spec.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: u.Gid, Size: 1}, {ContainerID: 1, HostID: sub[1], Size: 65536}}
	b.Spec.Process.User = specs.User{UID: 1000, GID: 1000}
	b.AddMount(specs.Mount{Destination: "/data", Type: "bind", Source: data, Options: []string{"bind"}})
	c := e.Create(b)
	c.Start()
	c.WaitOutput("ready")
	if uid, gid := hostIDs(t, c.State().Pid); uid != strings.Repeat(strconv.Itoa(int(sub[0]+999))+" ", 3)+strconv.Itoa(int(sub[0]+999)) ||
		gid != strings.Repeat(strconv.Itoa(int(sub[1]+999))+" ", 3)+strconv.Itoa(int(sub[1]+999)) {
		t.Errorf("host view of uid 1000: Uid %q Gid %q, want subordinate ids %d/%d", uid, gid, sub[0]+999, sub[1]+999)
	}
	c.Kill("TERM")
	c.WaitStatus("stopped")
	lines := harness.Lines(c.Stdout())
	if len(lines) < 1 || lines[0] != "ok 1000 1000" {
		t.Errorf("mkfile as uid 1000: %q", lines)
	}
	rep, err := harness.ParseReport(c.Stdout())
	if err != nil {
		t.Fatal(err)
	}
	if want := "0 " + strconv.Itoa(int(u.Uid)) + " 1 1 " + strconv.Itoa(int(sub[0])) + " 65536"; rep.UIDMap != want {
		t.Errorf("uid_map %q, want %q", rep.UIDMap, want)
	}
	if rep.Uid != 1000 || rep.Gid != 1000 {
		t.Errorf("uid %d gid %d, want 1000", rep.Uid, rep.Gid)
	}
	if uid, gid := ownerOf(t, filepath.Join(data, "by-1000")); uid != sub[0]+999 || gid != sub[1]+999 {
		t.Errorf("file of uid 1000 is %d:%d on the host, want %d:%d", uid, gid, sub[0]+999, sub[1]+999)
	}
}

// TestRootlessMapsNeedGrant: a caller without subordinate ids cannot map more than itself; the
// error says what is missing.
func TestRootlessMapsNeedGrant(t *testing.T) {
	e := newRootlessEnv(t)
	b := e.NewBundle()
	b.Spec.Linux.UIDMappings = append(b.Spec.Linux.UIDMappings, specs.LinuxIDMapping{ContainerID: 1, HostID: 700000, Size: 10})
	c, r := e.TryCreate(b, harness.CreateOpts{})
	if r.OK() {
		t.Fatal("create mapping ids nobody granted succeeded")
	}
	if msg := c.Stderr() + r.Stderr; !strings.Contains(msg, "newuidmap") {
		t.Errorf("error %q does not name newuidmap", msg)
	}
	e.AssertClean()
}
