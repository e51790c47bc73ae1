package cgroups

import (
	"fmt"
	"slices"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// target is where one controller's settings go.
type target struct {
	dir  string
	v2   bool   // write v2 files (pure v2, or hybrid's unified dir)
	ctrl string // v2 controller to enable in the ancestors; "" for none
}

// Controllers lists the controllers (by v1 name, "devices" included) that
// r asks for: the rootless runtime checks each against the hierarchies
// delegated to the caller before it decides to run without one.
func Controllers(r *specs.LinuxResources) []string {
	if r == nil {
		return nil
	}
	return needs(r, false)
}

// needs lists the controllers (by v1 name) r asks for, in apply order.
func needs(r *specs.LinuxResources, v2 bool) []string {
	var out []string
	add := func(c string, ok bool) {
		if ok {
			out = append(out, c)
		}
	}
	c, m, b := r.CPU, r.Memory, r.BlockIO
	cpuset := c != nil && (c.Cpus != "" || c.Mems != "")
	cpu := c != nil && (c.Shares != nil || c.Quota != nil || c.Period != nil || c.Burst != nil ||
		c.RealtimeRuntime != nil || c.RealtimePeriod != nil || c.Idle != nil)
	mem := m != nil && (m.Limit != nil || m.Reservation != nil || m.Swap != nil || m.KernelTCP != nil ||
		m.Swappiness != nil || m.DisableOOMKiller != nil || m.UseHierarchy != nil)
	blk := b != nil && (b.Weight != nil || b.LeafWeight != nil || len(b.WeightDevice) > 0 ||
		len(b.ThrottleReadBpsDevice) > 0 || len(b.ThrottleWriteBpsDevice) > 0 ||
		len(b.ThrottleReadIOPSDevice) > 0 || len(b.ThrottleWriteIOPSDevice) > 0)
	pids := r.Pids != nil && r.Pids.Limit != nil
	if v2 {
		// fs2's order.
		add("pids", pids)
		add("memory", mem)
		add("blkio", blk)
		add("cpu", cpu)
		add("cpuset", cpuset)
	} else {
		// fs's order.
		add("cpuset", cpuset)
		add("devices", len(r.Devices) > 0)
		add("memory", mem)
		add("cpu", cpu)
		add("pids", pids)
		add("blkio", blk)
	}
	add("hugetlb", len(r.HugepageLimits) > 0)
	add("net_cls", r.Network != nil && r.Network.ClassID != nil)
	add("net_prio", r.Network != nil && len(r.Network.Priorities) > 0)
	add("rdma", len(r.Rdma) > 0)
	if v2 {
		add("devices", len(r.Devices) > 0)
	}
	return out
}

// v2Name is the cgroup v2 name of a v1 controller; "" when v2 has none.
func v2Name(c string) string {
	switch c {
	case "blkio":
		return "io"
	case "net_cls", "net_prio":
		return ""
	case "devices":
		return "" // a BPF program, not a controller
	}
	return c
}

// fieldOf names the spec field group a controller serves, for errors.
func fieldOf(c string) string {
	switch c {
	case "cpuset", "cpu":
		return "cpu"
	case "blkio":
		return "blockIO"
	case "hugetlb":
		return "hugepageLimits"
	case "net_cls", "net_prio":
		return "network"
	}
	return c
}

// resolve picks, for each controller r needs, the directory and file
// flavour. A hybrid host whose v1 side lacks a controller (hugetlb on some
// machines) gets it from the unified hierarchy when that offers it.
func (m *manager) resolve(r *specs.LinuxResources, fs fsys) (map[string]target, error) {
	out := map[string]target{}
	uni, hasUni := m.dir("")
	for _, c := range needs(r, m.v2) {
		if m.v2 {
			if c == "net_cls" || c == "net_prio" {
				return nil, fieldErrorf("network", "net_cls/net_prio are cgroup v1 controllers; cgroup v2 has no equivalent")
			}
			out[c] = target{dir: uni, v2: true, ctrl: v2Name(c)}
			continue
		}
		if d, ok := m.dir(c); ok {
			out[c] = target{dir: d}
			continue
		}
		if v := v2Name(c); hasUni && v != "" && m.unifiedHas(fs, v) {
			out[c] = target{dir: uni, v2: true, ctrl: v}
			continue
		}
		return nil, fieldErrorf(fieldOf(c), "the %s cgroup controller is not available on this host", c)
	}
	if len(r.Unified) > 0 {
		if !m.v2 {
			return nil, fieldErrorf("unified", "unified resources need cgroup v2 (this host uses cgroup v1)")
		}
		for k := range r.Unified {
			if c := unifiedController(k); c != "" {
				out["unified:"+c] = target{dir: uni, v2: true, ctrl: c}
			}
		}
		out["unified"] = target{dir: uni, v2: true}
	}
	return out, nil
}

// unifiedHas reports whether the root of the cgroup2 hierarchy offers
// controller c.
func (m *manager) unifiedHas(fs fsys, c string) bool {
	for _, d := range m.dirs {
		if d.h.v2 {
			s, err := fs.read(d.h.mountpoint, "cgroup.controllers")
			return err == nil && slices.Contains(strings.Fields(s), c)
		}
	}
	return false
}

// plan turns r into ops for the targets from resolve.
func (m *manager) plan(r *specs.LinuxResources, ts map[string]target, fs fsys) ([]op, error) {
	p := &planner{fs: fs}
	//lint:ignore SA1019 the field is read only to warn that it is ignored
	if k := r.Memory; k != nil && k.Kernel != nil {
		// runc ignores it too; the spec says runtimes may.
		m.log().Warn("memory.kernel is deprecated and ignored", "value", *k.Kernel) //lint:ignore SA1019 see above
	}
	for _, c := range needs(r, m.v2) {
		t := ts[c]
		var err error
		switch c {
		case "cpuset":
			planCpuset(p, t.dir, r.CPU)
		case "devices":
			err = planDevices(p, t, r.Devices)
		case "memory":
			if t.v2 {
				err = planMemoryV2(p, t.dir, r.Memory)
			} else {
				err = planMemoryV1(p, t.dir, r.Memory)
			}
		case "cpu":
			if t.v2 {
				err = planCPUV2(p, t.dir, r.CPU)
			} else {
				err = planCPUV1(p, t.dir, r.CPU)
			}
		case "pids":
			p.write("pids.limit", t.dir, "pids.max", pidsValue(*r.Pids.Limit))
		case "blkio":
			if t.v2 {
				err = planIOV2(p, t.dir, r.BlockIO)
			} else {
				err = planBlkioV1(p, t.dir, r.BlockIO)
			}
		case "hugetlb":
			err = planHugetlb(p, t.dir, t.v2, r.HugepageLimits)
		case "net_cls":
			planNetClsV1(p, t.dir, *r.Network.ClassID)
		case "net_prio":
			err = planNetPrioV1(p, t.dir, r.Network.Priorities)
		case "rdma":
			err = planRdma(p, t.dir, r.Rdma)
		default:
			err = fmt.Errorf("internal error: no planner for %s", c)
		}
		if err != nil {
			return nil, err
		}
	}
	if t, ok := ts["unified"]; ok {
		if err := planUnified(p, t.dir, r.Unified); err != nil {
			return nil, err
		}
	}
	return p.ops, nil
}

// planDevices appends runc's default rules to the spec's and emits the v1
// writes or the v2 program.
func planDevices(p *planner, t target, spec []specs.LinuxDeviceCgroup) error {
	rules, err := normaliseDevices(append(slices.Clone(spec), DefaultDeviceRules()...))
	if err != nil {
		return err
	}
	if t.v2 {
		p.add(op{kind: opBPF, field: "devices", dir: t.dir, prog: deviceProgram(effective(rules))})
		return nil
	}
	planDevicesV1(p, t.dir, rules)
	return nil
}
