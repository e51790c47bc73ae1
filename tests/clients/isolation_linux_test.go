package clients

import (
	"os"
	"strings"
	"testing"
)

// TestIsolation checks the ground the client tests stand on: the suite's cgroup is "/" in
// every hierarchy, the hierarchies mounted under /sys/fs/cgroup are rooted there (so a client
// computing paths from mountinfo stays beneath it), and the fixed paths the clients write to
// are private mounts.
func TestIsolation(t *testing.T) {
	e := newEnv(t, "iso")
	own, err := ownCgroups()
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range own {
		if v != "/" {
			t.Errorf("cgroup %q: at %s, want /", k, v)
		}
	}
	ms, err := readMountinfo()
	if err != nil {
		t.Fatal(err)
	}
	top := map[string]mountEntry{}
	for _, m := range ms {
		top[m.Point] = m // the last mount on a point is the one in effect
	}
	for _, h := range suite.Hierarchies {
		m, ok := top[h.mountPoint()]
		if !ok || m.FSType != h.FSType || m.Root != "/" {
			t.Errorf("%s: mounted as %+v, want %s rooted at /", h.mountPoint(), m, h.FSType)
		}
	}
	for point, fstype := range map[string]string{"/run": "tmpfs", "/dev/shm": "tmpfs", "/var/lib": "overlay"} {
		if m := top[point]; m.FSType != fstype {
			t.Errorf("%s: %q, want a private %s", point, m.FSType, fstype)
		}
	}
	// A cgroup made here lands in the suite's cgroup on the host, and the check after the test
	// must find and remove it.
	probe := suite.Hierarchies[0].mountPoint() + "/unha-iso-probe"
	if err := os.Mkdir(probe, 0o755); err != nil {
		t.Fatal(err)
	}
	e.keep["unha-iso-probe"] = true
	if names := e.newCgroupNames(); len(names) != 1 || !strings.HasSuffix(names[0], ":/unha-iso-probe") {
		t.Errorf("new cgroups %v, want just /unha-iso-probe", names)
	}
}
