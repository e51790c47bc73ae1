package rootfs

import (
	"reflect"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// hybridMountinfo is a cgroup v1 host in the style of this project's CI
// machine, with a co-mounted pair and a duplicate mount added.
const hybridMountinfo = `27 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw
23 27 0:22 / /sys rw,relatime - sysfs sysfs rw
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:7 - cgroup cgroup rw,cpu,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,release_agent=/x,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
50 27 0:32 /nested /mnt/mem\040copy rw,relatime - cgroup cgroup rw,memory
`

func TestParseMountinfo(t *testing.T) {
	ms, err := parseMountinfo(strings.NewReader(hybridMountinfo))
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 8 {
		t.Fatalf("%d mounts", len(ms))
	}
	if m := ms[0]; m.ID != 27 || m.Parent != 1 || m.Mountpoint != "/" || !m.shared() || m.FSType != "ext4" || m.Source != "/dev/vda" {
		t.Errorf("root: %+v", m)
	}
	if m := ms[3]; m.Options != "rw,nosuid,nodev,noexec,relatime" || m.SuperOpts != "rw,cpu,cpuacct" || !m.shared() {
		t.Errorf("cpu: %+v", m)
	}
	if m := ms[7]; m.Mountpoint != "/mnt/mem copy" || m.Root != "/nested" || m.shared() {
		t.Errorf("escaped: %+v", m)
	}
	if _, err := parseMountinfo(strings.NewReader("1 2 3\n")); err == nil {
		t.Error("a short line was accepted")
	}
}

func TestCgroupHierarchies(t *testing.T) {
	ms, _ := parseMountinfo(strings.NewReader(hybridMountinfo))
	got := cgroupHierarchies(ms)
	want := []cgroupHierarchy{
		{Mountpoint: "/sys/fs/cgroup/cpu,cpuacct", Root: "/", Subsystems: []string{"cpu", "cpuacct"}},
		{Mountpoint: "/sys/fs/cgroup/memory", Root: "/", Subsystems: []string{"memory"}},
		{Mountpoint: "/sys/fs/cgroup/systemd", Root: "/", Subsystems: []string{"name=systemd"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
	own, err := parseProcCgroup(strings.NewReader("9:name=systemd:/sd\n4:memory:/m/x\n2:cpu,cpuacct:/c\n0::/u\n"))
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"name=systemd": "/sd", "memory": "/m/x", "cpu": "/c", "cpuacct": "/c", "": "/u"}; !reflect.DeepEqual(own, want) {
		t.Errorf("own %v", own)
	}
}

func TestPlanCgroupV1(t *testing.T) {
	host := hostCgroups{
		V1: []cgroupHierarchy{
			{Mountpoint: "/sys/fs/cgroup/cpu,cpuacct", Root: "/", Subsystems: []string{"cpu", "cpuacct"}},
			{Mountpoint: "/sys/fs/cgroup/memory", Root: "/m", Subsystems: []string{"memory"}},
			{Mountpoint: "/sys/fs/cgroup/systemd", Root: "/", Subsystems: []string{"name=systemd"}},
		},
		Own: map[string]string{"cpu": "/c", "cpuacct": "/c", "memory": "/m/x", "name=systemd": "/elsewhere"},
	}
	op := MountOp{Index: 6, Kind: KindCgroup, Destination: "/sys/fs/cgroup", Attr: Attr{Set: aRO | aNOSUID},
		Propagation: []uint64{unix.MS_SLAVE}}
	pl, err := planCgroupV1(op, host, map[string]string{"systemd": "/sys/fs/cgroup/systemd/ctr"}, false)
	if err != nil {
		t.Fatal(err)
	}
	if pl.Tmpfs.Type != "tmpfs" || pl.Tmpfs.Attr.Set != defaultMountAttr || !pl.ReadOnly || !reflect.DeepEqual(pl.Tmpfs.Propagation, op.Propagation) {
		t.Errorf("tmpfs %+v", pl.Tmpfs)
	}
	var got []string
	for _, s := range pl.Subs {
		got = append(got, s.Destination+"<-"+s.Source)
		if s.Kind != KindBind || !s.Recursive || s.Attr != op.Attr {
			t.Errorf("sub %+v", s)
		}
	}
	want := []string{
		"/sys/fs/cgroup/cpu,cpuacct<-/sys/fs/cgroup/cpu,cpuacct/c",
		"/sys/fs/cgroup/memory<-/sys/fs/cgroup/memory/x",     // relative to the mounted root
		"/sys/fs/cgroup/systemd<-/sys/fs/cgroup/systemd/ctr", // CgroupPaths wins
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("subs %q, want %q", got, want)
	}
	if want := []devSymlink{{"cpu", "cpu,cpuacct"}, {"cpuacct", "cpu,cpuacct"}}; !reflect.DeepEqual(pl.Links, want) {
		t.Errorf("links %v", pl.Links)
	}

	// In a cgroup namespace each hierarchy is mounted afresh.
	pl, err = planCgroupV1(op, host, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	if s := pl.Subs[2]; s.Kind != KindFS || s.Type != "cgroup" || !reflect.DeepEqual(s.Data, []string{"name=systemd"}) ||
		s.Attr.Set != defaultMountAttr|aRO || s.SbFlags != nil {
		t.Errorf("cgroupns sub %+v", s)
	}

	// A configured path outside its hierarchy is refused.
	if _, err := planCgroupV1(op, host, map[string]string{"memory": "/etc"}, false); err == nil {
		t.Error("cgroup path outside the hierarchy accepted")
	}
	// A hierarchy init is not in is an error, not the whole hierarchy.
	host.Own = map[string]string{}
	if _, err := planCgroupV1(op, host, nil, false); err == nil {
		t.Error("missing /proc/self/cgroup entry accepted")
	}
	// A cgroup outside the mounted root falls back to the mount itself.
	if got := joinCgroup("/sys/fs/cgroup/memory", "/m", "/other"); got != "/sys/fs/cgroup/memory" {
		t.Errorf("joinCgroup = %s", got)
	}
}

func TestPlanCgroupV2(t *testing.T) {
	host := hostCgroups{Unified: true, UnifiedMountpoint: "/sys/fs/cgroup", UnifiedRoot: "/", Own: map[string]string{"": "/user/ctr"}}
	op := MountOp{Kind: KindCgroup, Type: "cgroup", Source: "cgroup", Destination: "/sys/fs/cgroup", Attr: Attr{Set: aRO}, SbFlags: []string{"ro"}}
	m, fb := planCgroupV2(op, host, nil, false)
	if m.Kind != KindFS || m.Type != "cgroup2" || m.SbFlags != nil || m.Attr.Set != aRO {
		t.Errorf("mount %+v", m)
	}
	if fb.Kind != KindBind || fb.Source != "/sys/fs/cgroup" || fb.Attr.Set != aRO {
		t.Errorf("fallback without cgroupns %+v", fb)
	}
	if _, fb := planCgroupV2(op, host, nil, true); fb.Source != "/sys/fs/cgroup/user/ctr" {
		t.Errorf("fallback with cgroupns binds %s", fb.Source)
	}
	if _, fb := planCgroupV2(op, host, map[string]string{"": "/sys/fs/cgroup/given"}, true); fb.Source != "/sys/fs/cgroup/given" {
		t.Errorf("fallback with CgroupPaths binds %s", fb.Source)
	}
}
