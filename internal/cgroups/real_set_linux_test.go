package cgroups

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// newReal creates a cgroup named for the test and registers its cleanup.
func newReal(t *testing.T, opts Options) (Manager, string) {
	t.Helper()
	needRoot(t)
	name := uniqueName(t)
	m, err := New(name, "id", opts)
	if err != nil {
		t.Fatal(err)
	}
	cleanupManager(t, m, topDirs(t, m, name))
	if err := m.Create(); err != nil {
		t.Fatal(err)
	}
	return m, name
}

func TestRealSetAndOOMV1(t *testing.T) {
	m, _ := newReal(t, Options{})
	if m.Version() != 1 {
		t.Skip("host is not v1/hybrid")
	}
	h := startHelper(t, "hog", nil, -1)
	if err := m.AddProc(h.cmd.Process.Pid); err != nil {
		t.Fatal(err)
	}
	r := &specs.LinuxResources{
		Memory: &specs.LinuxMemory{Limit: p64(32 << 20), Swap: p64(32 << 20), Reservation: p64(16 << 20), Swappiness: pu64(0)},
		CPU:    &specs.LinuxCPU{Shares: pu64(256), Quota: p64(10000), Period: pu64(50000), Cpus: "0", Mems: "0"},
		Pids:   &specs.LinuxPids{Limit: p64(20)},
	}
	if err := m.Set(r); err != nil {
		t.Fatal(err)
	}
	p := m.Paths()
	for _, c := range []struct{ ctrl, file, want string }{
		{"memory", "memory.limit_in_bytes", "33554432"},
		{"memory", "memory.memsw.limit_in_bytes", "33554432"},
		{"memory", "memory.soft_limit_in_bytes", "16777216"},
		{"memory", "memory.swappiness", "0"},
		{"cpu", "cpu.shares", "256"},
		{"cpu", "cpu.cfs_quota_us", "10000"},
		{"cpu", "cpu.cfs_period_us", "50000"},
		{"cpuset", "cpuset.cpus", "0"},
		{"pids", "pids.max", "20"},
	} {
		if got := readBack(t, p[c.ctrl], c.file); got != c.want {
			t.Errorf("%s/%s = %q, want %q", c.ctrl, c.file, got, c.want)
		}
	}
	// The kernel clamps shares silently; Set must notice.
	if err := m.Set(&specs.LinuxResources{CPU: &specs.LinuxCPU{Shares: pu64(1 << 30)}}); err == nil || !strings.Contains(err.Error(), "maximum allowed cpu-shares") {
		t.Errorf("huge shares: err = %v", err)
	}
	// Fields this host cannot apply are errors naming them.
	for _, c := range []struct {
		field, ctrl string // ctrl: skip when the host has this v1 hierarchy
		r           *specs.LinuxResources
	}{
		{"network", "net_cls", &specs.LinuxResources{Network: &specs.LinuxNetwork{ClassID: pu32(1)}}},
		{"unified", "", &specs.LinuxResources{Unified: map[string]string{"memory.high": "1"}}},
		{"rdma", "rdma", &specs.LinuxResources{Rdma: map[string]specs.LinuxRdma{"mlx": {HcaHandles: pu32(1)}}}},
	} {
		if _, ok := p[c.ctrl]; ok && c.ctrl != "" {
			continue
		}
		if err := m.Set(c.r); err == nil || !strings.Contains(err.Error(), c.field) {
			t.Errorf("%s on this host: err = %v", c.field, err)
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch, err := m.OOMEvents(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.run(); err == nil {
		t.Fatal("memory hog exited normally under a 32MiB limit")
	}
	select {
	case _, ok := <-ch:
		if !ok {
			t.Fatal("oom channel closed without an event")
		}
	case <-time.After(30 * time.Second): // guard against a hang, not a speed check
		t.Fatal("no oom event after the hog was killed")
	}
	st, err := m.Stats()
	if err != nil {
		t.Fatal(err)
	}
	// The hog pushed usage up to the limit (the peak may pass it by a
	// page; failcnt stays 0 on recent kernels, which count the charge
	// failures on memsw instead).
	if st.Memory.Usage.Limit != 32<<20 || st.Memory.Usage.Max < 30<<20 || st.Pids.Limit != 20 {
		t.Errorf("stats after oom: memory %+v pids %+v", st.Memory.Usage, st.Pids)
	}
	if st.CPU.Usage.Total == 0 {
		t.Errorf("no cpu usage accounted: %+v", st.CPU.Usage)
	}
	if oc := readBack(t, p["memory"], "memory.oom_control"); !strings.Contains(oc, "oom_kill 1") {
		t.Errorf("memory.oom_control = %q", oc)
	}
	// Destroying the cgroup closes the channel.
	if err := m.Destroy(); err != nil {
		t.Fatal(err)
	}
	for range ch {
	}
}

// devicesSpec denies everything but /dev/kmsg for reading (plus runc's
// defaults, which include /dev/null).
func devicesSpec() []specs.LinuxDeviceCgroup {
	return []specs.LinuxDeviceCgroup{
		{Allow: false, Access: "rwm"},
		{Allow: true, Type: "c", Major: p64(1), Minor: p64(11), Access: "r"},
	}
}

const openProbe = "UNHA_OPEN=/dev/null:w /dev/kmsg:r /dev/kmsg:w /dev/loop-control:r"

func checkOpens(t *testing.T, out string, want map[string]string) {
	t.Helper()
	got := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if k, v, ok := strings.Cut(l, " "); ok {
			got[k] = v
		}
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("open %s: %q, want %q (all: %q)", k, got[k], v, out)
		}
	}
}

func TestRealDevicesV1(t *testing.T) {
	m, _ := newReal(t, Options{})
	if m.Version() != 1 {
		t.Skip("host is not v1/hybrid")
	}
	if err := m.Set(&specs.LinuxResources{Devices: devicesSpec()}); err != nil {
		t.Fatal(err)
	}
	list := readBack(t, m.Paths()["devices"], "devices.list")
	if !strings.Contains(list, "c 1:11 r") || strings.Contains(list, "a *:* rwm") {
		t.Errorf("devices.list = %q", list)
	}
	h := startHelper(t, "open", []string{openProbe}, -1)
	if err := m.AddProc(h.cmd.Process.Pid); err != nil {
		t.Fatal(err)
	}
	out, err := h.run()
	if err != nil {
		t.Fatalf("helper: %v (%s)", err, out)
	}
	checkOpens(t, out, map[string]string{"/dev/null:w": "ok", "/dev/kmsg:r": "ok", "/dev/kmsg:w": "denied", "/dev/loop-control:r": "denied"})
}

// restoreSubtree undoes, after the test's cgroups are gone, an enable
// Set made in a cgroup2 directory we did not create.
func restoreSubtree(t *testing.T, dir, ctrl string) {
	before, err := readFile(dir, "cgroup.subtree_control")
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(strings.Fields(before), ctrl) {
		return
	}
	// Registered before the manager's cleanup, so it runs after it.
	t.Cleanup(func() {
		if err := writeFile(dir, "cgroup.subtree_control", "-"+ctrl); err != nil && !errors.Is(err, unix.EBUSY) {
			t.Errorf("restore %s: %v", dir, err)
		}
	})
}

func TestRealDevicesV2(t *testing.T) {
	opts := unifiedOptions(t)
	m, _ := newReal(t, opts)
	dir := m.Paths()[""]
	if err := m.Set(&specs.LinuxResources{Devices: devicesSpec()}); err != nil {
		t.Fatal(err)
	}
	// Set again with a different list: the program is replaced, not
	// stacked.
	rules := append(devicesSpec(), specs.LinuxDeviceCgroup{Allow: true, Type: "c", Major: p64(10), Minor: p64(237), Access: "r"})
	if err := m.Set(&specs.LinuxResources{Devices: rules}); err != nil {
		t.Fatal(err)
	}
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	ids, _, err := attachedPrograms(fd)
	unix.Close(fd)
	if err != nil || len(ids) != 1 {
		t.Errorf("attached programs %v, %v; want exactly one", ids, err)
	}
	cg, err := m.OpenFD()
	if err != nil {
		t.Fatal(err)
	}
	defer cg.Close()
	h := startHelper(t, "open", []string{openProbe}, int(cg.Fd()))
	out, err := h.run()
	if err != nil {
		t.Fatalf("helper: %v (%s)", err, out)
	}
	checkOpens(t, out, map[string]string{"/dev/null:w": "ok", "/dev/kmsg:r": "ok", "/dev/kmsg:w": "denied", "/dev/loop-control:r": "ok"})
}

func TestRealHugetlb(t *testing.T) {
	needRoot(t)
	uni := "/sys/fs/cgroup/unified"
	if s, err := readFile(uni, "cgroup.controllers"); err != nil || !slices.Contains(strings.Fields(s), "hugetlb") {
		t.Skip("no hugetlb controller on the unified hierarchy")
	}
	if !exists("/sys/kernel/mm/hugepages/hugepages-2048kB") {
		t.Skip("no 2MB huge pages")
	}
	for _, tc := range []struct {
		name string
		opts Options
	}{
		{"v2", Options{Root: uni}},
		// The hybrid manager takes hugetlb from the unified side when
		// the v1 side has none (this machine).
		{"hybrid", Options{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			restoreSubtree(t, uni, "hugetlb")
			m, _ := newReal(t, tc.opts)
			if _, v1 := m.Paths()["hugetlb"]; v1 {
				t.Skip("host has a v1 hugetlb hierarchy")
			}
			if err := m.Set(&specs.LinuxResources{HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "2MB", Limit: 4 << 20}}}); err != nil {
				t.Fatal(err)
			}
			dir := m.Paths()[""]
			for _, f := range []string{"hugetlb.2MB.max", "hugetlb.2MB.rsvd.max"} {
				if got := readBack(t, dir, f); got != "4194304" {
					t.Errorf("%s = %q", f, got)
				}
			}
			st, err := m.Stats()
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := st.Hugetlb["2MB"]; !ok {
				t.Errorf("stats lack hugetlb 2MB: %+v", st.Hugetlb)
			}
			if err := m.Set(&specs.LinuxResources{HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "3MB", Limit: 1}}}); err == nil {
				t.Errorf("3MB page size accepted")
			}
		})
	}
}

// TestRealFreezeV2 checks the kernel's own word on cgroup.freeze.
func TestRealFreezeV2(t *testing.T) {
	m, _ := newReal(t, unifiedOptions(t))
	c := startSleep(t)
	if err := m.AddProc(c.Process.Pid); err != nil {
		t.Fatal(err)
	}
	if err := m.Freeze(); err != nil {
		t.Fatal(err)
	}
	if ev := readBack(t, m.Paths()[""], "cgroup.events"); !strings.Contains(ev, "frozen 1") {
		t.Errorf("cgroup.events after Freeze = %q", ev)
	}
	// Signal on a paused container leaves it paused for non-fatal
	// signals.
	if err := m.Signal(unix.SIGCONT); err != nil {
		t.Fatal(err)
	}
	if p, _ := m.Paused(); !p {
		t.Errorf("Signal(SIGCONT) thawed a paused container")
	}
	if err := m.Thaw(); err != nil {
		t.Fatal(err)
	}
	if ev := readBack(t, m.Paths()[""], "cgroup.events"); !strings.Contains(ev, "frozen 0") {
		t.Errorf("cgroup.events after Thaw = %q", ev)
	}
}
