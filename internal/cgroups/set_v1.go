package cgroups

import (
	"fmt"
	"sort"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// The v1 planners follow runc's libcontainer/cgroups/fs (now
// opencontainers/cgroups/fs): same files, same order, same values.

func planMemoryV1(p *planner, dir string, m *specs.LinuxMemory) error {
	limit, swap := deref(m.Limit), deref(m.Swap)
	if m.CheckBeforeUpdate != nil && *m.CheckBeforeUpdate && limit > 0 {
		if err := checkUsage(p.fs, dir, "memory.usage_in_bytes", limit); err != nil {
			return fieldError("memory.checkBeforeUpdate", err)
		}
	}
	// Unlimited memory with swap unset means unlimited swap too, when the
	// kernel accounts swap at all.
	if limit == -1 && swap == 0 && p.fs.exists(dir, "memory.memsw.limit_in_bytes") {
		swap = -1
	}
	memOp := op{field: "memory.limit", dir: dir, file: "memory.limit_in_bytes", value: strconv.FormatInt(limit, 10), check: checkMemBusy}
	swapOp := op{field: "memory.swap", dir: dir, file: "memory.memsw.limit_in_bytes", value: strconv.FormatInt(swap, 10)}
	if swap != 0 && !p.fs.exists(dir, swapOp.file) {
		return fieldErrorf("memory.swap", "swap accounting is not enabled (no %s in %s)", swapOp.file, dir)
	}
	switch {
	case limit != 0 && swap != 0:
		// memsw must stay >= memory at every step, so the order depends
		// on whether the new total is above the current memory limit.
		cur, err := readUint(p.fs, dir, "memory.limit_in_bytes")
		if err != nil {
			return fieldError("memory.limit", err)
		}
		if swap == -1 || cur < uint64(swap) {
			p.add(swapOp)
			p.add(memOp)
		} else {
			p.add(memOp)
			p.add(swapOp)
		}
	case limit != 0:
		p.add(memOp)
	case swap != 0:
		p.add(swapOp)
	}
	if v := deref(m.Reservation); v != 0 {
		p.write("memory.reservation", dir, "memory.soft_limit_in_bytes", strconv.FormatInt(v, 10))
	}
	if v := deref(m.KernelTCP); v != 0 {
		p.write("memory.kernelTCP", dir, "memory.kmem.tcp.limit_in_bytes", strconv.FormatInt(v, 10))
	}
	if m.DisableOOMKiller != nil && *m.DisableOOMKiller {
		p.write("memory.disableOOMKiller", dir, "memory.oom_control", "1")
	}
	if m.Swappiness != nil && int64(*m.Swappiness) != -1 {
		if *m.Swappiness > 100 {
			return fieldErrorf("memory.swappiness", "invalid value %d (valid range is 0-100)", *m.Swappiness)
		}
		p.write("memory.swappiness", dir, "memory.swappiness", strconv.FormatUint(*m.Swappiness, 10))
	}
	if m.UseHierarchy != nil {
		// Since Linux 6.3 (commit d7e9c7d) use_hierarchy is fixed at 1
		// and writing 0 fails with EINVAL, which is the honest answer.
		v := "0"
		if *m.UseHierarchy {
			v = "1"
		}
		p.write("memory.useHierarchy", dir, "memory.use_hierarchy", v)
	}
	return nil
}

func planCPUV1(p *planner, dir string, c *specs.LinuxCPU) error {
	// Realtime first: runc sets it before the task joins, since a task
	// with an RT policy cannot enter a group with no RT runtime.
	rtPeriod, rtRuntime := deref(c.RealtimePeriod), deref(c.RealtimeRuntime)
	if rtPeriod != 0 {
		p.add(op{field: "cpu.realtimePeriod", dir: dir, file: "cpu.rt_period_us", value: strconv.FormatUint(rtPeriod, 10), tolerateEINVAL: rtRuntime != 0})
	}
	if rtRuntime != 0 {
		p.write("cpu.realtimeRuntime", dir, "cpu.rt_runtime_us", strconv.FormatInt(rtRuntime, 10))
		if rtPeriod != 0 {
			p.write("cpu.realtimePeriod", dir, "cpu.rt_period_us", strconv.FormatUint(rtPeriod, 10))
		}
	}
	if v := deref(c.Shares); v != 0 {
		p.add(op{field: "cpu.shares", dir: dir, file: "cpu.shares", value: strconv.FormatUint(v, 10), check: checkShares})
	}
	quota, period := deref(c.Quota), deref(c.Period)
	// A shorter period can be refused (EINVAL) until the quota fits the
	// parent's bandwidth; runc then writes quota and the period again.
	if period != 0 {
		p.add(op{field: "cpu.period", dir: dir, file: "cpu.cfs_period_us", value: strconv.FormatUint(period, 10), tolerateEINVAL: quota != 0})
	}
	if c.Burst != nil {
		p.add(op{field: "cpu.burst", dir: dir, file: "cpu.cfs_burst_us", value: strconv.FormatUint(*c.Burst, 10), tolerateEINVAL: quota != 0})
	}
	if quota != 0 {
		p.write("cpu.quota", dir, "cpu.cfs_quota_us", strconv.FormatInt(quota, 10))
		if period != 0 {
			p.write("cpu.period", dir, "cpu.cfs_period_us", strconv.FormatUint(period, 10))
		}
		if c.Burst != nil {
			p.write("cpu.burst", dir, "cpu.cfs_burst_us", strconv.FormatUint(*c.Burst, 10))
		}
	}
	if c.Idle != nil {
		p.write("cpu.idle", dir, "cpu.idle", strconv.FormatInt(*c.Idle, 10))
	}
	return nil
}

// planCpuset is the same on v1 and v2 apart from the prefix-free names.
func planCpuset(p *planner, dir string, c *specs.LinuxCPU) {
	if c.Cpus != "" {
		p.write("cpu.cpus", dir, "cpuset.cpus", c.Cpus)
	}
	if c.Mems != "" {
		p.write("cpu.mems", dir, "cpuset.mems", c.Mems)
	}
}

func pidsValue(l int64) string {
	if l > 0 {
		return strconv.FormatInt(l, 10)
	}
	return "max"
}

func planBlkioV1(p *planner, dir string, b *specs.LinuxBlockIO) error {
	// With the CFQ scheduler gone (Linux 5.0) only BFQ's files remain;
	// runc picks whichever the kernel has.
	weightFile, weightDevFile := "blkio.weight", "blkio.weight_device"
	if !p.fs.exists(dir, weightFile) && p.fs.exists(dir, "blkio.bfq.weight") {
		weightFile, weightDevFile = "blkio.bfq.weight", "blkio.bfq.weight_device"
	}
	if v := deref(b.Weight); v != 0 {
		p.write("blockIO.weight", dir, weightFile, strconv.FormatUint(uint64(v), 10))
	}
	if v := deref(b.LeafWeight); v != 0 {
		p.write("blockIO.leafWeight", dir, "blkio.leaf_weight", strconv.FormatUint(uint64(v), 10))
	}
	for _, wd := range b.WeightDevice {
		if v := deref(wd.Weight); v != 0 {
			p.write("blockIO.weightDevice", dir, weightDevFile, fmt.Sprintf("%d:%d %d", wd.Major, wd.Minor, v))
		}
		if v := deref(wd.LeafWeight); v != 0 {
			p.write("blockIO.weightDevice.leafWeight", dir, "blkio.leaf_weight_device", fmt.Sprintf("%d:%d %d", wd.Major, wd.Minor, v))
		}
	}
	for _, t := range []struct {
		field, file string
		devs        []specs.LinuxThrottleDevice
	}{
		{"blockIO.throttleReadBpsDevice", "blkio.throttle.read_bps_device", b.ThrottleReadBpsDevice},
		{"blockIO.throttleWriteBpsDevice", "blkio.throttle.write_bps_device", b.ThrottleWriteBpsDevice},
		{"blockIO.throttleReadIOPSDevice", "blkio.throttle.read_iops_device", b.ThrottleReadIOPSDevice},
		{"blockIO.throttleWriteIOPSDevice", "blkio.throttle.write_iops_device", b.ThrottleWriteIOPSDevice},
	} {
		for _, d := range t.devs {
			p.write(t.field, dir, t.file, fmt.Sprintf("%d:%d %d", d.Major, d.Minor, d.Rate))
		}
	}
	return nil
}

// planHugetlb writes the usage limit and, where the kernel has it (5.7+),
// the same value as the reservation limit ("Default to reservation limits
// if supported", runtime-spec).
func planHugetlb(p *planner, dir string, v2 bool, ls []specs.LinuxHugepageLimit) error {
	for _, l := range ls {
		if !validPageSize(l.Pagesize) {
			return fieldErrorf("hugepageLimits", "invalid page size %q", l.Pagesize)
		}
		limFile, rsvdFile := "hugetlb."+l.Pagesize+".limit_in_bytes", "hugetlb."+l.Pagesize+".rsvd.limit_in_bytes"
		if v2 {
			limFile, rsvdFile = "hugetlb."+l.Pagesize+".max", "hugetlb."+l.Pagesize+".rsvd.max"
		}
		if !p.fs.exists(dir, limFile) {
			return fieldErrorf("hugepageLimits", "page size %s is not supported here (no %s in %s)", l.Pagesize, limFile, dir)
		}
		val := strconv.FormatUint(l.Limit, 10)
		p.write("hugepageLimits", dir, limFile, val)
		if p.fs.exists(dir, rsvdFile) {
			p.write("hugepageLimits", dir, rsvdFile, val)
		}
	}
	return nil
}

// planRdma writes one rdma.max line per device (same on v1 and v2).
func planRdma(p *planner, dir string, r map[string]specs.LinuxRdma) error {
	names := make([]string, 0, len(r))
	for k := range r {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, dev := range names {
		if dev == "" || containsAny(dev, " \n/=") {
			return fieldErrorf("rdma", "invalid device name %q", dev)
		}
		l := r[dev]
		line := dev
		if l.HcaHandles != nil {
			line += " hca_handle=" + strconv.FormatUint(uint64(*l.HcaHandles), 10)
		}
		if l.HcaObjects != nil {
			line += " hca_object=" + strconv.FormatUint(uint64(*l.HcaObjects), 10)
		}
		if line == dev {
			continue
		}
		p.write("rdma", dir, "rdma.max", line)
	}
	return nil
}

func planNetClsV1(p *planner, dir string, id uint32) {
	p.write("network.classID", dir, "net_cls.classid", strconv.FormatUint(uint64(id), 10))
}

func planNetPrioV1(p *planner, dir string, prios []specs.LinuxInterfacePriority) error {
	for _, pr := range prios {
		if pr.Name == "" || containsAny(pr.Name, " \n/") {
			return fieldErrorf("network.priorities", "invalid interface name %q", pr.Name)
		}
		p.write("network.priorities", dir, "net_prio.ifpriomap", fmt.Sprintf("%s %d", pr.Name, pr.Priority))
	}
	return nil
}

func planDevicesV1(p *planner, dir string, rules []devRule) {
	for _, w := range v1DeviceWrites(rules) {
		file, val := "devices.deny", w[len("deny:"):]
		if w[:5] == "allow" {
			file, val = "devices.allow", w[len("allow:"):]
		}
		p.write("devices", dir, file, val)
	}
}
