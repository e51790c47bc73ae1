package cgroups

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// The v2 planners follow runc's fs2 driver (opencontainers/cgroups/fs2)
// for the v1-shaped spec fields, converting values where v2 differs.

func planMemoryV2(p *planner, dir string, m *specs.LinuxMemory) error {
	limit, swap, res := deref(m.Limit), deref(m.Swap), deref(m.Reservation)
	// v2 has no knob for these; the spec does not let runtimes ignore
	// them, so say so instead of pretending.
	if m.Swappiness != nil && int64(*m.Swappiness) != -1 {
		return fieldErrorf("memory.swappiness", "not supported on cgroup v2")
	}
	if m.DisableOOMKiller != nil && *m.DisableOOMKiller {
		return fieldErrorf("memory.disableOOMKiller", "not supported on cgroup v2")
	}
	if m.KernelTCP != nil && *m.KernelTCP != 0 {
		return fieldErrorf("memory.kernelTCP", "not supported on cgroup v2 (tcp memory is always charged to memory.max)")
	}
	if m.UseHierarchy != nil && !*m.UseHierarchy {
		return fieldErrorf("memory.useHierarchy", "cgroup v2 is always hierarchical")
	}
	if limit == 0 && swap == 0 && res == 0 {
		return nil
	}
	if m.CheckBeforeUpdate != nil && *m.CheckBeforeUpdate && limit > 0 {
		if err := checkUsage(p.fs, dir, "memory.current", limit); err != nil {
			return fieldError("memory.checkBeforeUpdate", err)
		}
	}
	sv, err := swapV2(swap, limit)
	if err != nil {
		return fieldError("memory.swap", err)
	}
	s := v2Num(sv)
	if s == "" && sv == 0 && swap > 0 {
		// swap == limit: no swap at all.
		s = "0"
	}
	if s != "" {
		if p.fs.exists(dir, "memory.swap.max") {
			p.write("memory.swap", dir, "memory.swap.max", s)
		} else if s != "max" && s != "0" {
			// Without swap accounting, "no swap" and "unlimited swap"
			// both hold already; a real swap limit cannot be had.
			return fieldErrorf("memory.swap", "swap accounting is not enabled (no memory.swap.max in %s)", dir)
		}
	}
	if v := v2Num(limit); v != "" {
		p.write("memory.limit", dir, "memory.max", v)
	}
	if v := v2Num(res); v != "" {
		p.write("memory.reservation", dir, "memory.low", v)
	}
	return nil
}

func planCPUV2(p *planner, dir string, c *specs.LinuxCPU) error {
	if deref(c.RealtimePeriod) != 0 || deref(c.RealtimeRuntime) != 0 {
		return fieldErrorf("cpu.realtimeRuntime", "realtime scheduling limits are not supported on cgroup v2")
	}
	if c.Idle != nil {
		p.write("cpu.idle", dir, "cpu.idle", strconv.FormatInt(*c.Idle, 10))
	}
	if w := SharesToWeight(deref(c.Shares)); w != 0 {
		p.write("cpu.shares", dir, "cpu.weight", strconv.FormatUint(w, 10))
	}
	quota, period := deref(c.Quota), deref(c.Period)
	if c.Burst != nil {
		p.add(op{field: "cpu.burst", dir: dir, file: "cpu.max.burst", value: strconv.FormatUint(*c.Burst, 10), tolerateEINVAL: quota != 0})
	}
	if quota != 0 || period != 0 {
		v := "max"
		if quota > 0 {
			v = strconv.FormatInt(quota, 10)
		}
		if period == 0 {
			period = 100000 // the kernel's default, Documentation/admin-guide/cgroup-v2.rst
		}
		p.write("cpu.quota", dir, "cpu.max", v+" "+strconv.FormatUint(period, 10))
		if c.Burst != nil {
			p.write("cpu.burst", dir, "cpu.max.burst", strconv.FormatUint(*c.Burst, 10))
		}
	}
	return nil
}

func planIOV2(p *planner, dir string, b *specs.LinuxBlockIO) error {
	if b.LeafWeight != nil && *b.LeafWeight != 0 {
		return fieldErrorf("blockIO.leafWeight", "not supported on cgroup v2")
	}
	// BFQ takes the v1 weight scale as is; io.weight (iocost) needs the
	// conversion.
	bfq := p.fs.exists(dir, "io.bfq.weight")
	if w := deref(b.Weight); w != 0 {
		if bfq {
			p.write("blockIO.weight", dir, "io.bfq.weight", strconv.FormatUint(uint64(w), 10))
		} else {
			p.write("blockIO.weight", dir, "io.weight", strconv.FormatUint(BlkioWeightToIOWeight(w), 10))
		}
	}
	for _, wd := range b.WeightDevice {
		if wd.LeafWeight != nil && *wd.LeafWeight != 0 {
			return fieldErrorf("blockIO.weightDevice.leafWeight", "not supported on cgroup v2")
		}
		w := deref(wd.Weight)
		if w == 0 {
			continue
		}
		if bfq {
			p.write("blockIO.weightDevice", dir, "io.bfq.weight", fmt.Sprintf("%d:%d %d", wd.Major, wd.Minor, w))
		} else {
			p.write("blockIO.weightDevice", dir, "io.weight", fmt.Sprintf("%d:%d %d", wd.Major, wd.Minor, BlkioWeightToIOWeight(w)))
		}
	}
	for _, t := range []struct {
		field, key string
		devs       []specs.LinuxThrottleDevice
	}{
		{"blockIO.throttleReadBpsDevice", "rbps", b.ThrottleReadBpsDevice},
		{"blockIO.throttleWriteBpsDevice", "wbps", b.ThrottleWriteBpsDevice},
		{"blockIO.throttleReadIOPSDevice", "riops", b.ThrottleReadIOPSDevice},
		{"blockIO.throttleWriteIOPSDevice", "wiops", b.ThrottleWriteIOPSDevice},
	} {
		for _, d := range t.devs {
			p.write(t.field, dir, "io.max", fmt.Sprintf("%d:%d %s=%d", d.Major, d.Minor, t.key, d.Rate))
		}
	}
	return nil
}

// v2Controllers are the controllers a unified key can belong to; other
// prefixes ("cgroup.") are core files with no controller to enable.
var v2Controllers = map[string]bool{
	"cpu": true, "cpuset": true, "io": true, "memory": true, "pids": true,
	"hugetlb": true, "rdma": true, "misc": true,
}

// unifiedController returns the controller owning a unified key, "" for a
// core file.
func unifiedController(key string) string {
	c, _, _ := strings.Cut(key, ".")
	if v2Controllers[c] {
		return c
	}
	return ""
}

// planUnified writes raw v2 keys, last, so they override what the
// v1-shaped fields set. Multi-line values go one line per write, as
// cgroupfs parses one command per write.
func planUnified(p *planner, dir string, u map[string]string) error {
	keys := make([]string, 0, len(u))
	for k := range u {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if k == "" || strings.ContainsAny(k, "/\x00") || k == "." || k == ".." {
			return fieldErrorf("unified", "key %q must be a file name", k)
		}
		if !p.fs.exists(dir, k) {
			if c := unifiedController(k); c != "" {
				return fieldErrorf("unified", "%q can't be set: no such file in %s (controller %s missing or file unknown)", k, dir, c)
			}
			return fieldErrorf("unified", "%q can't be set: no such file in %s", k, dir)
		}
		for _, line := range strings.Split(u[k], "\n") {
			if line == "" && strings.Contains(u[k], "\n") {
				continue
			}
			p.write("unified."+k, dir, k, line)
		}
	}
	return nil
}
