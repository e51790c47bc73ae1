package cgroups

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func p64(v int64) *int64    { return &v }
func pu64(v uint64) *uint64 { return &v }
func pu16(v uint16) *uint16 { return &v }
func pu32(v uint32) *uint32 { return &v }
func pb(v bool) *bool       { return &v }

// planOf returns the ops Set would apply, as "dir-relative-to-root/file=value".
func planOf(t *testing.T, m Manager, root string, r *specs.LinuxResources) ([]string, error) {
	t.Helper()
	mm := m.(*manager)
	ts, err := mm.resolve(r, osFS{})
	if err != nil {
		return nil, err
	}
	ops, err := mm.plan(r, ts, osFS{})
	if err != nil {
		return nil, err
	}
	var out []string
	for _, o := range ops {
		rel, _ := filepath.Rel(root, o.dir)
		if o.kind == opBPF {
			out = append(out, rel+":bpf")
			continue
		}
		out = append(out, rel+"/"+o.file+"="+o.value)
	}
	return out, nil
}

func fullResources() *specs.LinuxResources {
	return &specs.LinuxResources{
		Memory: &specs.LinuxMemory{Limit: p64(100 << 20), Reservation: p64(50 << 20), Swap: p64(200 << 20),
			Swappiness: pu64(10), DisableOOMKiller: pb(true), KernelTCP: p64(1 << 20), UseHierarchy: pb(true)},
		CPU: &specs.LinuxCPU{Shares: pu64(512), Quota: p64(50000), Period: pu64(100000), Burst: pu64(1000),
			RealtimePeriod: pu64(1000000), RealtimeRuntime: p64(950000), Cpus: "0", Mems: "0", Idle: p64(0)},
		Pids: &specs.LinuxPids{Limit: p64(64)},
		BlockIO: &specs.LinuxBlockIO{Weight: pu16(300),
			WeightDevice:            []specs.LinuxWeightDevice{{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 8, Minor: 0}, Weight: pu16(200)}},
			ThrottleReadBpsDevice:   []specs.LinuxThrottleDevice{{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 8, Minor: 0}, Rate: 1048576}},
			ThrottleWriteIOPSDevice: []specs.LinuxThrottleDevice{{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 8, Minor: 16}, Rate: 100}},
		},
		HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "2MB", Limit: 4 << 20}},
		Rdma:           map[string]specs.LinuxRdma{"mlx5_0": {HcaHandles: pu32(2), HcaObjects: pu32(100)}},
	}
}

func TestSetPlanV1(t *testing.T) {
	opts, root := fakeV1(t)
	m, err := New("ctr", "id", opts)
	if err != nil {
		t.Fatal(err)
	}
	r := fullResources()
	r.Network = &specs.LinuxNetwork{ClassID: pu32(0x100001), Priorities: []specs.LinuxInterfacePriority{{Name: "eth0", Priority: 5}}}
	r.Devices = []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}, {Allow: true, Type: "c", Major: p64(1), Minor: p64(3), Access: "rw"}}
	got, err := planOf(t, m, root, r)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"cpuset/ctr/cpuset.cpus=0",
		"cpuset/ctr/cpuset.mems=0",
		"devices/ctr/devices.deny=a",
		"devices/ctr/devices.allow=c 1:3 rw",
		"devices/ctr/devices.allow=c *:* m",
		"devices/ctr/devices.allow=b *:* m",
		"devices/ctr/devices.allow=c 1:3 rwm",
		"devices/ctr/devices.allow=c 1:8 rwm",
		"devices/ctr/devices.allow=c 1:7 rwm",
		"devices/ctr/devices.allow=c 5:0 rwm",
		"devices/ctr/devices.allow=c 1:5 rwm",
		"devices/ctr/devices.allow=c 1:9 rwm",
		"devices/ctr/devices.allow=c 136:* rwm",
		"devices/ctr/devices.allow=c 5:2 rwm",
		"devices/ctr/devices.allow=c 10:200 rwm",
		// The new total is below the current (unlimited) memory limit:
		// memory first, so memsw >= memory holds after each write.
		"memory/self/ctr/memory.limit_in_bytes=104857600",
		"memory/self/ctr/memory.memsw.limit_in_bytes=209715200",
		"memory/self/ctr/memory.soft_limit_in_bytes=52428800",
		"memory/self/ctr/memory.kmem.tcp.limit_in_bytes=1048576",
		"memory/self/ctr/memory.oom_control=1",
		"memory/self/ctr/memory.swappiness=10",
		"memory/self/ctr/memory.use_hierarchy=1",
		"cpu/ctr/cpu.rt_period_us=1000000",
		"cpu/ctr/cpu.rt_runtime_us=950000",
		"cpu/ctr/cpu.rt_period_us=1000000",
		"cpu/ctr/cpu.shares=512",
		"cpu/ctr/cpu.cfs_period_us=100000",
		"cpu/ctr/cpu.cfs_burst_us=1000",
		"cpu/ctr/cpu.cfs_quota_us=50000",
		"cpu/ctr/cpu.cfs_period_us=100000",
		"cpu/ctr/cpu.cfs_burst_us=1000",
		"cpu/ctr/cpu.idle=0",
		"pids/ctr/pids.max=64",
		// No blkio.weight: this kernel only has BFQ's files.
		"blkio/ctr/blkio.bfq.weight=300",
		"blkio/ctr/blkio.bfq.weight_device=8:0 200",
		"blkio/ctr/blkio.throttle.read_bps_device=8:0 1048576",
		"blkio/ctr/blkio.throttle.write_iops_device=8:16 100",
		"hugetlb/ctr/hugetlb.2MB.limit_in_bytes=4194304",
		"hugetlb/ctr/hugetlb.2MB.rsvd.limit_in_bytes=4194304",
		"net_cls/ctr/net_cls.classid=1048577",
		"net_prio/ctr/net_prio.ifpriomap=eth0 5",
		"rdma/ctr/rdma.max=mlx5_0 hca_handle=2 hca_object=100",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("plan:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// Apply it and read the single-valued files back.
	if err := m.Set(r); err != nil {
		t.Fatal(err)
	}
	for f, v := range map[string]string{
		"memory/self/ctr/memory.limit_in_bytes":       "104857600",
		"memory/self/ctr/memory.memsw.limit_in_bytes": "209715200",
		"cpu/ctr/cpu.cfs_quota_us":                    "50000",
		"cpu/ctr/cpu.shares":                          "512",
		"pids/ctr/pids.max":                           "64",
		"cpuset/ctr/cpuset.cpus":                      "0",
	} {
		if got := readBack(t, root, f); got != v {
			t.Errorf("%s = %q, want %q", f, got, v)
		}
	}
}

func TestSetV1MemoryOrder(t *testing.T) {
	opts, root := fakeV1(t)
	m, _ := New("ctr", "id", opts)
	// Lowering both below the current limit: memory first, then memsw.
	writeFiles(t, filepath.Join(root, "memory/self/ctr"), map[string]string{"memory.limit_in_bytes": "1073741824"})
	got, err := planOf(t, m, root, &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: p64(100), Swap: p64(200)}})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"memory/self/ctr/memory.limit_in_bytes=100", "memory/self/ctr/memory.memsw.limit_in_bytes=200"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("plan %v, want %v", got, want)
	}
	// -1 with swap unset: both unlimited, swap first.
	got, _ = planOf(t, m, root, &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: p64(-1)}})
	want = []string{"memory/self/ctr/memory.memsw.limit_in_bytes=-1", "memory/self/ctr/memory.limit_in_bytes=-1"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("plan %v, want %v", got, want)
	}
	// checkBeforeUpdate refuses a limit below usage (4096000 in the fake).
	_, err = planOf(t, m, root, &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: p64(1000), CheckBeforeUpdate: pb(true)}})
	if err == nil || !strings.Contains(err.Error(), "memory.checkBeforeUpdate") {
		t.Errorf("checkBeforeUpdate: err = %v", err)
	}
}

func TestSetV1Errors(t *testing.T) {
	opts, root := fakeV1(t, "hugetlb", "net_cls")
	m, _ := New("ctr", "id", opts)
	for _, tc := range []struct {
		r     *specs.LinuxResources
		field string
	}{
		{&specs.LinuxResources{HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "2MB", Limit: 1}}}, "hugepageLimits"},
		{&specs.LinuxResources{Network: &specs.LinuxNetwork{ClassID: pu32(1)}}, "network"},
		{&specs.LinuxResources{Unified: map[string]string{"memory.high": "1"}}, "unified"},
		{&specs.LinuxResources{Memory: &specs.LinuxMemory{Swappiness: pu64(101)}}, "memory.swappiness"},
		{&specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Type: "x", Access: "r"}}}, "devices"},
		{&specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Type: "c"}}}, "devices"},
		{&specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{LeafWeight: pu16(10)}}, "blockIO.leafWeight"},
	} {
		err := m.Set(tc.r)
		if err == nil || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("Set(%+v) = %v, want an error naming %s", tc.r, err, tc.field)
		}
	}
	_ = root
	// memory.kernel is ignored, as runc does.
	//lint:ignore SA1019 testing that the deprecated field is ignored
	if err := m.Set(&specs.LinuxResources{Memory: &specs.LinuxMemory{Kernel: p64(1 << 20)}}); err != nil {
		t.Errorf("memory.kernel: %v", err)
	}
}

func TestSetPlanV2(t *testing.T) {
	opts, root := fakeV2(t)
	m, err := New("ctr", "id", opts)
	if err != nil {
		t.Fatal(err)
	}
	r := fullResources()
	r.Memory.Swappiness, r.Memory.DisableOOMKiller, r.Memory.KernelTCP = nil, nil, nil
	r.CPU.RealtimePeriod, r.CPU.RealtimeRuntime = nil, nil
	r.Devices = []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}}
	r.Unified = map[string]string{"memory.high": "94371840", "io.max": "8:0 rbps=1\n8:16 wbps=2"}
	got, err := planOf(t, m, root, r)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"user.slice/ctr/pids.max=64",
		"user.slice/ctr/memory.swap.max=104857600", // 200M total - 100M memory
		"user.slice/ctr/memory.max=104857600",
		"user.slice/ctr/memory.low=52428800",
		"user.slice/ctr/io.weight=2930", // 1 + (300-10)*9999/990
		"user.slice/ctr/io.weight=8:0 1920",
		"user.slice/ctr/io.max=8:0 rbps=1048576",
		"user.slice/ctr/io.max=8:16 wiops=100",
		"user.slice/ctr/cpu.idle=0",
		"user.slice/ctr/cpu.weight=59", // crun's curve for 512
		"user.slice/ctr/cpu.max.burst=1000",
		"user.slice/ctr/cpu.max=50000 100000",
		"user.slice/ctr/cpu.max.burst=1000",
		"user.slice/ctr/cpuset.cpus=0",
		"user.slice/ctr/cpuset.mems=0",
		"user.slice/ctr/hugetlb.2MB.max=4194304",
		"user.slice/ctr/hugetlb.2MB.rsvd.max=4194304",
		"user.slice/ctr/rdma.max=mlx5_0 hca_handle=2 hca_object=100",
		"user.slice/ctr:bpf",
		"user.slice/ctr/io.max=8:0 rbps=1",
		"user.slice/ctr/io.max=8:16 wbps=2",
		"user.slice/ctr/memory.high=94371840",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("plan:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestSetV2Apply(t *testing.T) {
	opts, root := fakeV2(t)
	m, _ := New("ctr", "id", opts)
	r := &specs.LinuxResources{
		Memory: &specs.LinuxMemory{Limit: p64(1 << 30), Swap: p64(1 << 30), Reservation: p64(1 << 20)},
		CPU:    &specs.LinuxCPU{Quota: p64(20000), Shares: pu64(1024), Cpus: "1"},
		Pids:   &specs.LinuxPids{Limit: p64(0)},
		BlockIO: &specs.LinuxBlockIO{ThrottleWriteBpsDevice: []specs.LinuxThrottleDevice{
			{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 253, Minor: 1}, Rate: 500}}},
		Unified: map[string]string{"memory.high": "1000000"},
	}
	if err := m.Set(r); err != nil {
		t.Fatal(err)
	}
	leaf := filepath.Join(root, "user.slice/ctr")
	for f, v := range map[string]string{
		"memory.max": "1073741824", "memory.swap.max": "0", "memory.low": "1048576", "memory.high": "1000000",
		"cpu.max": "20000 100000", "cpu.weight": "100", "cpuset.cpus": "1", "pids.max": "max",
		"io.max": "253:1 wbps=500",
	} {
		if got := readBack(t, leaf, f); got != v {
			t.Errorf("%s = %q, want %q", f, got, v)
		}
	}
	// Controllers were enabled in the parents (the fake keeps only the
	// last write of each file).
	for _, d := range []string{root, filepath.Join(root, "user.slice")} {
		if got := readBack(t, d, "cgroup.subtree_control"); !strings.HasPrefix(got, "+") {
			t.Errorf("%s/cgroup.subtree_control = %q, want an enable", d, got)
		}
	}
}

func TestSetV2Errors(t *testing.T) {
	opts, _ := fakeV2(t)
	m, _ := New("ctr", "id", opts)
	for _, tc := range []struct {
		r     *specs.LinuxResources
		field string
	}{
		{&specs.LinuxResources{Network: &specs.LinuxNetwork{ClassID: pu32(1)}}, "network"},
		{&specs.LinuxResources{Memory: &specs.LinuxMemory{Swappiness: pu64(10)}}, "memory.swappiness"},
		{&specs.LinuxResources{Memory: &specs.LinuxMemory{Swap: p64(10)}}, "memory.swap"},
		{&specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: p64(100), Swap: p64(10)}}, "memory.swap"},
		{&specs.LinuxResources{CPU: &specs.LinuxCPU{RealtimeRuntime: p64(10)}}, "cpu.realtime"},
		{&specs.LinuxResources{Unified: map[string]string{"../x": "1"}}, "unified"},
		{&specs.LinuxResources{Unified: map[string]string{"memory.nonexistent": "1"}}, "unified"},
		{&specs.LinuxResources{Unified: map[string]string{"misc.max": "x 1"}}, "unified"},
		{&specs.LinuxResources{HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "1GB", Limit: 1}}}, "hugepageLimits"},
		{&specs.LinuxResources{HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "../2MB", Limit: 1}}}, "hugepageLimits"},
	} {
		err := m.Set(tc.r)
		if err == nil || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("Set(%+v) = %v, want an error naming %s", tc.r, err, tc.field)
		}
	}
}

func TestConversions(t *testing.T) {
	for shares, want := range map[uint64]uint64{0: 0, 1: 1, 2: 1, 1024: 100, 512: 59, 2048: 174, 262144: 10000, 1 << 20: 10000} {
		if got := SharesToWeight(shares); got != want {
			t.Errorf("SharesToWeight(%d) = %d, want %d", shares, got, want)
		}
	}
	for w, want := range map[uint16]uint64{0: 0, 10: 1, 500: 4950, 1000: 10000} {
		if got := BlkioWeightToIOWeight(w); got != want {
			t.Errorf("BlkioWeightToIOWeight(%d) = %d, want %d", w, got, want)
		}
	}
	for _, tc := range []struct{ swap, mem, want int64 }{{0, -1, -1}, {-1, 100, -1}, {0, 100, 0}, {300, 100, 200}, {100, 100, 0}, {500, -1, 500}} {
		if got, err := swapV2(tc.swap, tc.mem); err != nil || got != tc.want {
			t.Errorf("swapV2(%d, %d) = %d, %v; want %d", tc.swap, tc.mem, got, err, tc.want)
		}
	}
}
