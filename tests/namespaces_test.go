package tests

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/unha/unha/tests/harness"
)

// nsFile maps a spec namespace type to its name under /proc/PID/ns.
var nsFile = map[specs.LinuxNamespaceType]string{
	specs.PIDNamespace: "pid", specs.NetworkNamespace: "net", specs.MountNamespace: "mnt",
	specs.IPCNamespace: "ipc", specs.UTSNamespace: "uts", specs.UserNamespace: "user",
	specs.CgroupNamespace: "cgroup", specs.TimeNamespace: "time",
}

func hostNS(t *testing.T, pid string, name string) string {
	t.Helper()
	l, err := os.Readlink("/proc/" + pid + "/ns/" + name)
	if err != nil {
		t.Fatalf("host namespace %s: %v", name, err)
	}
	return l
}

// TestNamespacesDefault checks each namespace against the host: new where the spec asks for
// one, shared where it does not.
func TestNamespacesDefault(t *testing.T) {
	e := newEnv(t)
	b := e.NewBundle()
	rep := e.Probe(b)
	for typ, name := range nsFile {
		if _, err := os.Stat("/proc/self/ns/" + name); err != nil {
			continue // kernel without this namespace type
		}
		host := hostNS(t, "self", name)
		if b.HasNamespace(typ) && rep.Namespaces[name] == host {
			t.Errorf("%s namespace is the host's (%s) although the spec asks for a new one", name, host)
		}
		if !b.HasNamespace(typ) && rep.Namespaces[name] != host {
			t.Errorf("%s namespace %s differs from the host's %s although the spec has none", name, rep.Namespaces[name], host)
		}
	}
	if rep.Pid != 1 || rep.Ppid != 0 {
		t.Errorf("pid %d ppid %d inside a new PID namespace, want 1 and 0", rep.Pid, rep.Ppid)
	}
}

func TestNamespaceUTS(t *testing.T) {
	e := newEnv(t)
	var before unix.Utsname
	if err := unix.Uname(&before); err != nil {
		t.Fatal(err)
	}
	b := e.NewBundle()
	b.Spec.Hostname = "unha-host"
	b.Spec.Domainname = "unha.example"
	rep := e.Probe(b)
	if rep.Hostname != "unha-host" {
		t.Errorf("hostname %q, want unha-host", rep.Hostname)
	}
	var after unix.Utsname
	if err := unix.Uname(&after); err != nil {
		t.Fatal(err)
	}
	if before != after {
		t.Errorf("host uname changed: %q/%q -> %q/%q",
			unix.ByteSliceToString(before.Nodename[:]), unix.ByteSliceToString(before.Domainname[:]),
			unix.ByteSliceToString(after.Nodename[:]), unix.ByteSliceToString(after.Domainname[:]))
	}
	t.Run("domainname", func(t *testing.T) {
		skipIfRunc(t, "runc 1.1 ignores the domainname field")
		if rep.Domainname != "unha.example" {
			t.Errorf("domainname %q, want unha.example", rep.Domainname)
		}
	})
}

func TestNamespaceNet(t *testing.T) {
	e := newEnv(t)
	rep := e.Probe(e.NewBundle())
	if len(rep.Net) != 1 || rep.Net[0].Name != "lo" {
		t.Fatalf("interfaces %+v, want only lo", rep.Net)
	}
	if rep.Net[0].Flags&unix.IFF_UP == 0 {
		t.Errorf("lo is down (flags %#x)", rep.Net[0].Flags)
	}
}

func TestNamespaceMount(t *testing.T) {
	e := newEnv(t)
	b := e.NewBundle()
	rep := e.Probe(b)
	if _, ok := harness.Mount(rep, "/"); !ok {
		t.Errorf("no root mount in the container: %+v", rep.Mounts)
	}
	for _, m := range rep.Mounts {
		// After pivot_root nothing of the host's tree may remain mounted.
		if strings.HasPrefix(m.Point, b.Dir) || strings.HasPrefix(m.Point, suite.Base) {
			t.Errorf("host path visible as a mount point inside: %+v", m)
		}
	}
	if mnt, _ := harness.Mount(rep, "/proc"); mnt.FSType != "proc" {
		t.Errorf("/proc is %+v, want a proc mount", mnt)
	}
}

func TestNamespaceCgroup(t *testing.T) {
	t.Run("private", func(t *testing.T) {
		e := newEnv(t)
		b := e.NewBundle()
		b.SetNamespace(specs.CgroupNamespace, "")
		rep := e.Probe(b)
		for _, line := range rep.Cgroup {
			if !strings.HasSuffix(line, ":/") {
				t.Errorf("inside a cgroup namespace %q should show the root", line)
			}
		}
	})
	t.Run("host", func(t *testing.T) {
		e := newEnv(t)
		b := e.NewBundle()
		b.RemoveNamespace(specs.CgroupNamespace)
		b.Save()
		id, r := e.RunContainer(b)
		if !r.OK() {
			t.Fatal(r)
		}
		rep, err := harness.ParseReport(r.Stdout)
		if err != nil {
			t.Fatal(err)
		}
		// Without a cgroup namespace the full path shows, and it names the container.
		for _, line := range rep.Cgroup {
			if !strings.HasSuffix(line, "/"+id) {
				t.Errorf("cgroup line %q is not the container's own cgroup %s", line, id)
			}
		}
	})
}

func TestNamespaceUser(t *testing.T) {
	e := newEnv(t)
	b := e.NewBundle("/probe", "json", "wait-signal")
	b.SetNamespace(specs.UserNamespace, "")
	b.Spec.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
	b.Spec.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 200000, Size: 65536}}
	c := e.Create(b)
	c.Start()
	c.WaitOutput("ready")
	pid := c.State().Pid
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Uid:\t100000\t100000\t100000\t100000", "Gid:\t200000\t200000\t200000\t200000"} {
		if !strings.Contains(string(status), want+"\n") {
			t.Errorf("host view of the container process lacks %q", want)
		}
	}
	c.Kill("TERM")
	c.WaitStatus("stopped")
	rep, err := harness.ParseReport(c.Stdout())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Uid != 0 || rep.Gid != 0 || rep.Euid != 0 {
		t.Errorf("inside: uid %d gid %d euid %d, want 0", rep.Uid, rep.Gid, rep.Euid)
	}
	if rep.UIDMap != "0 100000 65536" || rep.GIDMap != "0 200000 65536" {
		t.Errorf("maps %q / %q", rep.UIDMap, rep.GIDMap)
	}
	if rep.Namespaces["user"] == hostNS(t, "self", "user") {
		t.Error("user namespace is the host's")
	}
}

func TestNamespaceTime(t *testing.T) {
	if _, err := os.Stat("/proc/self/ns/time"); err != nil {
		t.Skip("kernel without time namespaces")
	}
	skipIfRunc(t, "runc 1.1 does not know the time namespace")
	e := newEnv(t)
	b := e.NewBundle("/probe", "json", "wait-signal")
	b.SetNamespace(specs.TimeNamespace, "")
	b.Spec.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{
		"monotonic": {Secs: 86400, Nanosecs: 0}, "boottime": {Secs: 172800, Nanosecs: 0}}
	c := e.Create(b)
	c.Start()
	c.WaitOutput("ready")
	pid := c.State().Pid
	offs, err := os.ReadFile(fmt.Sprintf("/proc/%d/timens_offsets", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"monotonic           86400         0", "boottime           172800         0"} {
		if !strings.Contains(strings.Join(strings.Fields(string(offs)), " "), strings.Join(strings.Fields(want), " ")) {
			t.Errorf("timens_offsets %q lack %q", offs, want)
		}
	}
	if got := hostNS(t, fmt.Sprint(pid), "time"); got == hostNS(t, "self", "time") {
		t.Error("container is in the host's time namespace")
	}
	c.Kill("TERM")
	c.WaitStatus("stopped")
}

// nsHolder starts the probe on the host in fresh namespaces, to be joined by path.
func nsHolder(t *testing.T, flags uintptr) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(suite.Probe, "wait-signal")
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: flags}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "ready\n" {
		t.Fatalf("namespace holder: %q %v", line, err)
	}
	return cmd
}

func TestNamespaceJoinByPath(t *testing.T) {
	e := newEnv(t)
	holder := nsHolder(t, unix.CLONE_NEWNET|unix.CLONE_NEWUTS|unix.CLONE_NEWIPC)
	hp := fmt.Sprint(holder.Process.Pid)
	b := e.NewBundle()
	for typ, name := range map[specs.LinuxNamespaceType]string{specs.NetworkNamespace: "net",
		specs.UTSNamespace: "uts", specs.IPCNamespace: "ipc"} {
		b.SetNamespace(typ, "/proc/"+hp+"/ns/"+name)
	}
	rep := e.Probe(b)
	for _, name := range []string{"net", "uts", "ipc"} {
		if want := hostNS(t, hp, name); rep.Namespaces[name] != want {
			t.Errorf("%s namespace %s, want the joined %s", name, rep.Namespaces[name], want)
		}
	}
	if rep.Namespaces["pid"] == hostNS(t, "self", "pid") {
		t.Error("pid namespace is the host's")
	}
}
