package tests

// User namespaces seen from both sides: who owns what inside and on the host, /dev and /sys in a
// user namespace, idmapped mounts (runtime-spec 1.2: mount uidMappings/gidMappings, "idmap",
// "ridmap"), and the time namespace's clocks.

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-spec/specs-go/features"
	"golang.org/x/sys/unix"

	"github.com/unha/unha/tests/harness"
)

// mapped is the user namespace most tests use: container 0..65535 -> host 100000..165535.
var mapped = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}

func withUserNS(b *harness.Bundle) {
	b.SetNamespace(specs.UserNamespace, "")
	b.Spec.Linux.UIDMappings = mapped
	b.Spec.Linux.GIDMappings = mapped
}

func mkdirOwned(t *testing.T, path string, uid, gid int) {
	t.Helper()
	if err := os.Mkdir(path, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(path, uid, gid); err != nil {
		t.Fatal(err)
	}
}

func writeOwned(t *testing.T, path string, uid, gid int) {
	t.Helper()
	if err := os.WriteFile(path, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(path, uid, gid); err != nil {
		t.Fatal(err)
	}
}

// TestUserNSOwnership: a rootfs chowned to the mapped range shows root-owned inside, host
// root's files show as the overflow id, and what the container's root creates belongs to the
// mapped uid on the host.
func TestUserNSOwnership(t *testing.T) {
	e := newEnv(t)
	data := filepath.Join(e.Dir, "data")
	mkdirOwned(t, data, 100000, 100000)
	writeOwned(t, filepath.Join(data, "hostroot"), 0, 0)
	b := e.NewBundle("/probe", "stat", "/", "stat", "/etc/passwd", "mkfile", "/mnt/data/new",
		"stat", "/mnt/data/hostroot", "mkfile", "/new")
	withUserNS(b)
	if err := (&harness.User{Uid: 100000, Gid: 100000}).Chown(b.Rootfs); err != nil {
		t.Fatal(err)
	}
	b.AddMount(specs.Mount{Destination: "/mnt/data", Type: "bind", Source: data, Options: []string{"bind"}})
	lines, _ := probeLines(t, e, b)
	wantLines(t, lines, "ok 0 0 755", "ok 0 0 644", "ok 0 0", "ok 65534 65534 644", "ok 0 0")
	for _, p := range []string{filepath.Join(data, "new"), filepath.Join(b.Rootfs, "new")} {
		if u, g := ownerOf(t, p); u != 100000 || g != 100000 {
			t.Errorf("%s is %d:%d on the host, want the mapped 100000:100000", p, u, g)
		}
	}
}

// TestUserNSDevSys: in a user namespace mknod is refused, so the device nodes are the host's,
// bound; sysfs is a new one when the container owns its network namespace, and the host's,
// bound read-only, when it does not.
func TestUserNSDevSys(t *testing.T) {
	hostIfs, err := os.ReadDir("/sys/class/net")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		netns bool
	}{{"own-netns", true}, {"host-netns", false}} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			b := e.NewBundle()
			withUserNS(b)
			if !tc.netns {
				b.RemoveNamespace(specs.NetworkNamespace)
			}
			rep := e.Probe(b)
			if d, ok := harness.Dev(rep, "/dev/null"); !ok || d.Type != "c" || d.Major != 1 || d.Minor != 3 {
				t.Errorf("/dev/null is %+v", d)
			}
			if m, ok := harness.Mount(rep, "/dev/null"); !ok || m.FSType == "tmpfs" {
				t.Errorf("/dev/null is not a bind of the host's node: %+v", m)
			}
			m, _ := harness.Mount(rep, "/sys")
			if m.FSType != "sysfs" || !harness.HasOption(m.Options, "ro") {
				t.Errorf("/sys is %+v, want a read-only sysfs", m)
			}
			if tc.netns {
				if len(rep.Net) != 1 || rep.Net[0].Name != "lo" {
					t.Errorf("/sys/class/net shows %+v, want the new namespace's lo only", rep.Net)
				}
				return
			}
			if len(rep.Net) != len(hostIfs) {
				t.Errorf("/sys/class/net shows %+v, want the host's %d interfaces", rep.Net, len(hostIfs))
			}
			// The bind is read-only all the way down, the host's cgroup mounts under it too.
			for _, sub := range rep.Mounts {
				if strings.HasPrefix(sub.Point, "/sys/") && sub.Parent == m.ID && !harness.HasOption(sub.Options, "ro") {
					t.Errorf("%s under the /sys bind is writable: %+v", sub.Point, sub)
				}
			}
		})
	}
}

// TestIDMappedRootfs: a rootfs owned by host root, used by a container whose root is host uid
// 100000, through an idmapped bind of the rootfs onto "/": root-owned inside, no chown on the
// host, and what the container writes lands as host root.
func TestIDMappedRootfs(t *testing.T) {
	idmapped := func(t *testing.T, opts []string) (*harness.Bundle, []string, *harness.Result) {
		e := newEnv(t)
		b := e.NewBundle("/probe", "stat", "/", "stat", "/etc/passwd", "mkfile", "/tmp/new", "json")
		withUserNS(b)
		if opts != nil {
			b.Spec.Mounts = append([]specs.Mount{{Destination: "/", Type: "bind", Source: b.Rootfs, Options: opts}}, b.Spec.Mounts...)
		}
		lines, r := probeLines(t, e, b)
		return b, lines, r
	}
	t.Run("idmap", func(t *testing.T) {
		b, lines, r := idmapped(t, []string{"rbind", "idmap"})
		wantLines(t, lines, "ok 0 0 755", "ok 0 0 644", "ok 0 0")
		if u, g := ownerOf(t, filepath.Join(b.Rootfs, "tmp", "new")); u != 0 || g != 0 {
			t.Errorf("file written through the idmapped rootfs is %d:%d on the host, want 0:0", u, g)
		}
		for _, p := range []string{b.Rootfs, filepath.Join(b.Rootfs, "etc", "passwd")} {
			if u, g := ownerOf(t, p); u != 0 || g != 0 {
				t.Errorf("%s is %d:%d on the host now, want it left 0:0", p, u, g)
			}
		}
		rep, err := harness.ParseReport(r.Stdout)
		if err != nil {
			t.Fatal(err)
		}
		if m, _ := harness.Mount(rep, "/"); !harness.HasOption(m.Options, "idmapped") {
			t.Errorf("root mount %+v is not idmapped", m)
		}
	})
	t.Run("without", func(t *testing.T) {
		// The same container without the idmapping sees host root's files as nobody's.
		b, lines, _ := idmapped(t, nil)
		wantLines(t, lines, "ok 65534 65534 755", "ok 65534 65534 644", "ok 0 0")
		if u, _ := ownerOf(t, filepath.Join(b.Rootfs, "tmp", "new")); u != 100000 {
			t.Errorf("file written without idmapping is uid %d on the host, want 100000", u)
		}
	})
}

// TestIDMappedBind: a bind mount's own mappings, in a container without a user namespace: host
// root's files show as 100000 and the container's root, unmapped there, cannot create files.
// "idmap" idmaps the top mount of an rbind, "ridmap" every mount of it.
func TestIDMappedBind(t *testing.T) {
	e := newEnv(t)
	src := filepath.Join(e.Dir, "src")
	mkdirOwned(t, src, 0, 0)
	writeOwned(t, filepath.Join(src, "file"), 0, 0)
	sub := filepath.Join(src, "sub")
	mkdirOwned(t, sub, 0, 0)
	if err := unix.Mount("tmpfs", sub, "tmpfs", 0, "mode=755"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = unix.Unmount(sub, unix.MNT_DETACH) })
	maps := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
	b := e.NewBundle("/probe", "stat", "/mnt/top/file", "stat", "/mnt/top/sub", "mkfile", "/mnt/top/new",
		"stat", "/mnt/rec/file", "stat", "/mnt/rec/sub")
	b.AddMount(specs.Mount{Destination: "/mnt/top", Type: "bind", Source: src, Options: []string{"rbind", "idmap"},
		UIDMappings: maps, GIDMappings: maps})
	b.AddMount(specs.Mount{Destination: "/mnt/rec", Type: "bind", Source: src, Options: []string{"rbind", "ridmap"},
		UIDMappings: maps, GIDMappings: maps})
	lines, _ := probeLines(t, e, b)
	wantLines(t, lines, "ok 100000 100000 644", "ok 0 0 755", "EOVERFLOW", "ok 100000 100000 644", "ok 100000 100000 755")
	if _, err := os.Stat(filepath.Join(src, "new")); err == nil {
		t.Error("the unmapped root created a file through the idmapped mount")
	}
}

func TestIDMappedInvalid(t *testing.T) {
	maps := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
	for _, tc := range []struct {
		name, want string
		m          specs.Mount
		userns     bool
	}{
		{"no-mappings", "uidMappings", specs.Mount{Type: "bind", Options: []string{"bind", "idmap"}}, false},
		{"not-bind", "only supported for bind mounts", specs.Mount{Type: "tmpfs", Source: "tmpfs", Options: []string{"idmap"}}, true},
		{"uid-only", "both uidMappings and gidMappings", specs.Mount{Type: "bind", Options: []string{"bind", "idmap"}, UIDMappings: maps}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			b := e.NewBundle()
			if tc.userns {
				withUserNS(b)
			}
			tc.m.Destination = "/mnt"
			if tc.m.Type == "bind" {
				tc.m.Source = e.Dir
			}
			b.AddMount(tc.m)
			c, r := e.TryCreate(b, harness.CreateOpts{})
			if r.OK() {
				t.Fatal("create succeeded")
			}
			if msg := c.Stderr() + r.Stderr; !strings.Contains(msg, tc.want) {
				t.Errorf("error %q does not mention %q", msg, tc.want)
			}
			e.AssertClean()
		})
	}
}

func TestFeaturesIDMap(t *testing.T) {
	e := newEnv(t)
	r := e.RunWith(harness.RunOpts{NoRoot: true}, "features")
	if !r.OK() {
		t.Fatal(r)
	}
	var f features.Features
	if err := json.Unmarshal([]byte(r.Stdout), &f); err != nil {
		t.Fatal(err)
	}
	if f.Linux == nil || f.Linux.MountExtensions == nil || f.Linux.MountExtensions.IDMap == nil ||
		f.Linux.MountExtensions.IDMap.Enabled == nil || !*f.Linux.MountExtensions.IDMap.Enabled {
		t.Errorf("features do not report idmapped mounts: %s", r.Stdout)
	}
	for _, o := range []string{"idmap", "ridmap"} {
		if !contains(f.MountOptions, o) {
			t.Errorf("mountOptions %v lack %q", f.MountOptions, o)
		}
	}
}

// TestNamespaceTimeClocks: the offsets are what the container's clocks show. Host readings
// before and after bracket the inside reading, so the check is exact in whole seconds.
func TestNamespaceTimeClocks(t *testing.T) {
	if _, err := os.Stat("/proc/self/ns/time"); err != nil {
		t.Skip("kernel without time namespaces")
	}
	skipIfRunc(t, "runc 1.1 does not know the time namespace")
	e := newEnv(t)
	const mono, boot = 10 * 86400, 20 * 86400
	b := e.NewBundle("/probe", "clocks")
	b.SetNamespace(specs.TimeNamespace, "")
	b.Spec.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"monotonic": {Secs: mono}, "boottime": {Secs: boot}}
	var before, after [2]unix.Timespec
	read := func(ts *[2]unix.Timespec) {
		if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts[0]); err != nil {
			t.Fatal(err)
		}
		if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts[1]); err != nil {
			t.Fatal(err)
		}
	}
	read(&before)
	lines, _ := probeLines(t, e, b)
	read(&after)
	var in [2]int64
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "clocks ") {
		t.Fatalf("probe: %q", lines)
	}
	f := strings.Fields(lines[0])
	if len(f) != 3 {
		t.Fatalf("probe: %q", lines)
	}
	for i := range in {
		if err := json.Unmarshal([]byte(f[i+1]), &in[i]); err != nil {
			t.Fatal(err)
		}
	}
	for i, c := range []struct {
		name string
		off  int64
	}{{"monotonic", mono}, {"boottime", boot}} {
		if lo, hi := before[i].Sec+c.off, after[i].Sec+c.off; in[i] < lo || in[i] > hi {
			t.Errorf("%s inside %d s, want between %d and %d (host + %d s)", c.name, in[i], lo, hi, c.off)
		}
	}
}
