package cgroups

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// hybridMountinfo is this machine's layout (cpu and cpuacct apart), with
// the mount points moved under root.
func hybridMountinfo(root string) string {
	lines := []string{
		"31 23 0:28 / " + root + " rw,relatime - tmpfs tmpfs rw,mode=755",
		"32 31 0:29 / " + root + "/cpu rw,relatime - cgroup cgroup rw,cpu",
		"33 31 0:30 / " + root + "/cpuacct rw,relatime - cgroup cgroup rw,cpuacct",
		"35 31 0:32 / " + root + "/memory rw,relatime - cgroup cgroup rw,memory",
		"40 31 0:37 / " + root + "/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd",
		"41 31 0:38 / " + root + "/unified rw,relatime - cgroup2 cgroup2 rw",
		"50 1 0:40 / /mnt/other rw - cgroup cgroup rw,pids",
	}
	return strings.Join(lines, "\n") + "\n"
}

func writeTemp(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestNewPathsHybrid(t *testing.T) {
	root := "/fake/cg"
	mi := writeTemp(t, "mountinfo", hybridMountinfo(root))
	self := writeTemp(t, "cgroup", "9:name=systemd:/\n4:memory:/process_api/abc\n2:cpuacct:/\n1:cpu:/\n0::/u\n")
	opts := Options{Root: root, MountInfo: mi, SelfCgroup: self}
	tests := []struct {
		path string
		want map[string]string
	}{
		{"a/b", map[string]string{
			"cpu": root + "/cpu/a/b", "cpuacct": root + "/cpuacct/a/b",
			"memory": root + "/memory/process_api/abc/a/b", "name=systemd": root + "/systemd/a/b",
			"": root + "/unified/u/a/b"}},
		{"/x/y", map[string]string{
			"cpu": root + "/cpu/x/y", "cpuacct": root + "/cpuacct/x/y",
			"memory": root + "/memory/x/y", "name=systemd": root + "/systemd/x/y",
			"": root + "/unified/x/y"}},
		{"", map[string]string{
			"cpu": root + "/cpu/ctr", "cpuacct": root + "/cpuacct/ctr",
			"memory": root + "/memory/process_api/abc/ctr", "name=systemd": root + "/systemd/ctr",
			"": root + "/unified/u/ctr"}},
		// ".." cannot climb above the caller's cgroup.
		{"../../up", map[string]string{
			"cpu": root + "/cpu/up", "cpuacct": root + "/cpuacct/up",
			"memory": root + "/memory/process_api/abc/up", "name=systemd": root + "/systemd/up",
			"": root + "/unified/u/up"}},
	}
	for _, tc := range tests {
		m, err := New(tc.path, "ctr", opts)
		if err != nil {
			t.Fatalf("New(%q): %v", tc.path, err)
		}
		if got := m.Paths(); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("New(%q).Paths() = %v, want %v", tc.path, got, tc.want)
		}
		if m.Version() != 1 {
			t.Errorf("Version = %d, want 1", m.Version())
		}
	}
}

func TestNewPathsComountAndV2(t *testing.T) {
	root := "/fake/cg"
	mi := writeTemp(t, "mountinfo", "32 31 0:29 / "+root+"/cpu,cpuacct rw - cgroup cgroup rw,cpuacct,cpu\n")
	self := writeTemp(t, "cgroup", "1:cpu,cpuacct:/p\n")
	m, err := New("c", "id", Options{Root: root, MountInfo: mi, SelfCgroup: self})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"cpu": root + "/cpu,cpuacct/p/c", "cpuacct": root + "/cpu,cpuacct/p/c"}
	if got := m.Paths(); !reflect.DeepEqual(got, want) {
		t.Errorf("comount Paths = %v, want %v", got, want)
	}

	mi2 := writeTemp(t, "mountinfo", "30 20 0:26 / "+root+" rw - cgroup2 cgroup2 rw,nsdelegate\n")
	self2 := writeTemp(t, "cgroup", "0::/user.slice/session-1.scope\n")
	for path, want := range map[string]string{
		// v2 nests under the parent of the caller's cgroup (runc's fs2).
		"a":    root + "/user.slice/a",
		"/a/b": root + "/a/b",
		"":     root + "/user.slice/id",
	} {
		m, err := New(path, "id", Options{Root: root, MountInfo: mi2, SelfCgroup: self2})
		if err != nil {
			t.Fatal(err)
		}
		if got := m.Paths(); !reflect.DeepEqual(got, map[string]string{"": want}) {
			t.Errorf("v2 New(%q).Paths() = %v, want %v", path, got, want)
		}
		if m.Version() != 2 {
			t.Errorf("Version = %d, want 2", m.Version())
		}
	}
}

func TestNewErrors(t *testing.T) {
	root := "/fake/cg"
	mi := writeTemp(t, "mountinfo", hybridMountinfo(root))
	self := writeTemp(t, "cgroup", "9:name=systemd:/\n4:memory:/m\n2:cpuacct:/\n1:cpu:/\n0::/\n")
	opts := Options{Root: root, MountInfo: mi, SelfCgroup: self}
	if _, err := New("system.slice:unha:ctr", "id", opts); err == nil || !strings.Contains(err.Error(), "systemd") {
		t.Errorf("slice form without Systemd: err = %v", err)
	}
	sd := opts
	sd.Systemd = true
	sd.systemdRunDir = filepath.Join(t.TempDir(), "absent")
	if _, err := New("system.slice:unha:ctr", "id", sd); err != ErrSystemdNotRunning {
		t.Errorf("Systemd without systemd: err = %v", err)
	}
	for _, p := range []string{"/", ".", "a/.."} {
		if _, err := New(p, "id", opts); err == nil {
			t.Errorf("New(%q) succeeded, want error", p)
		}
	}
	if _, err := New("", "../x", opts); err == nil {
		t.Errorf("New with id ../x succeeded")
	}
	none := writeTemp(t, "mountinfo", "1 0 8:1 / / rw - ext4 /dev/sda rw\n")
	if _, err := New("a", "id", Options{Root: root, MountInfo: none, SelfCgroup: self}); err == nil {
		t.Errorf("New without cgroup mounts succeeded")
	}
}

func TestMountRootStripped(t *testing.T) {
	h := hierarchy{mountpoint: "/sys/fs/cgroup/memory", mountRoot: "/docker/abc"}
	if got := dirOf(h, "/docker/abc/x"); got != "/sys/fs/cgroup/memory/x" {
		t.Errorf("dirOf = %s", got)
	}
	if got := unescapeMount(`/a\040b`); got != "/a b" {
		t.Errorf("unescape = %q", got)
	}
}

func TestLoadRoundTrip(t *testing.T) {
	root := "/fake/cg"
	mi := writeTemp(t, "mountinfo", hybridMountinfo(root))
	self := writeTemp(t, "cgroup", "9:name=systemd:/\n4:memory:/m\n2:cpuacct:/\n1:cpu:/\n0::/\n")
	opts := Options{Root: root, MountInfo: mi, SelfCgroup: self}
	m, err := New("a/b", "id", opts)
	if err != nil {
		t.Fatal(err)
	}
	l, err := Load(m.Paths(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(l.Paths(), m.Paths()) {
		t.Errorf("Load Paths = %v, want %v", l.Paths(), m.Paths())
	}
	if _, err := Load(map[string]string{"cpu": "/etc"}, opts); err == nil {
		t.Errorf("Load of a path outside the hierarchy succeeded")
	}
}
