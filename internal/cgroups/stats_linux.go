package cgroups

// clockTicks is USER_HZ, the unit of cpuacct.stat; 100 on every Linux
// architecture Go supports (runc assumes the same).
const clockTicks = 100

func (m *manager) Stats() (*Stats, error) {
	s := &statReader{fs: osFS{}}
	st := &Stats{Hugetlb: map[string]Hugetlb{}}
	if m.v2 {
		d, _ := m.dir("")
		m.statsV2(s, d, st)
	} else {
		m.statsV1(s, st)
	}
	if s.err != nil {
		return nil, s.err
	}
	return st, nil
}

func (m *manager) statsV1(s *statReader, st *Stats) {
	if d, ok := m.dir("cpuacct"); ok {
		u := &st.CPU.Usage
		u.Total = s.num(d, "cpuacct.usage")
		u.Percpu = s.list(d, "cpuacct.usage_percpu")
		u.PercpuUser = s.list(d, "cpuacct.usage_percpu_user")
		u.PercpuKernel = s.list(d, "cpuacct.usage_percpu_sys")
		kv := s.keyed(d, "cpuacct.stat")
		u.User = kv["user"] * 1e9 / clockTicks
		u.Kernel = kv["system"] * 1e9 / clockTicks
	}
	if d, ok := m.dir("cpu"); ok {
		kv := s.keyed(d, "cpu.stat")
		st.CPU.Throttling = Throttling{Periods: kv["nr_periods"], ThrottledPeriods: kv["nr_throttled"], ThrottledTime: kv["throttled_time"]}
	}
	if d, ok := m.dir("cpuset"); ok {
		st.CPUSet = CPUSet{CPUs: cpuList(s.str(d, "cpuset.cpus")), Mems: cpuList(s.str(d, "cpuset.mems"))}
	}
	if d, ok := m.dir("memory"); ok {
		mem := &st.Memory
		mem.Raw = s.keyed(d, "memory.stat")
		mem.Cache = mem.Raw["cache"]
		entry := func(prefix string) MemoryEntry {
			return MemoryEntry{
				Usage:   s.num(d, prefix+"usage_in_bytes"),
				Limit:   s.num(d, prefix+"limit_in_bytes"),
				Max:     s.num(d, prefix+"max_usage_in_bytes"),
				Failcnt: s.num(d, prefix+"failcnt"),
			}
		}
		mem.Usage = entry("memory.")
		mem.Swap = entry("memory.memsw.")
		mem.Kernel = entry("memory.kmem.")
		mem.KernelTCP = entry("memory.kmem.tcp.")
	}
	if d, ok := m.dir("pids"); ok {
		st.Pids = pidsStats(s, d)
	}
	if d, ok := m.dir("blkio"); ok {
		// CFQ's files (pre-5.0 kernels), else BFQ's, else the
		// throttling layer's, which always counts: runc's order.
		prefix := "blkio.throttle."
		switch {
		case s.str(d, "blkio.io_serviced_recursive") != "":
			prefix = "blkio."
		case s.fs.exists(d, "blkio.bfq.io_serviced_recursive"):
			prefix = "blkio.bfq."
		}
		b := &st.Blkio
		b.IoServiceBytesRecursive = blkioEntries(s.str(d, prefix+"io_service_bytes_recursive"))
		b.IoServicedRecursive = blkioEntries(s.str(d, prefix+"io_serviced_recursive"))
		if prefix == "blkio." {
			b.IoQueuedRecursive = blkioEntries(s.str(d, "blkio.io_queued_recursive"))
			b.IoServiceTimeRecursive = blkioEntries(s.str(d, "blkio.io_service_time_recursive"))
			b.IoWaitTimeRecursive = blkioEntries(s.str(d, "blkio.io_wait_time_recursive"))
			b.IoMergedRecursive = blkioEntries(s.str(d, "blkio.io_merged_recursive"))
			b.IoTimeRecursive = blkioEntries(s.str(d, "blkio.time_recursive"))
			b.SectorsRecursive = blkioEntries(s.str(d, "blkio.sectors_recursive"))
		}
	}
	if d, ok := m.dir("hugetlb"); ok {
		for _, size := range hugePageSizes(d, ".limit_in_bytes") {
			p := "hugetlb." + size + "."
			st.Hugetlb[size] = Hugetlb{Usage: s.num(d, p+"usage_in_bytes"), Max: s.num(d, p+"max_usage_in_bytes"), Failcnt: s.num(d, p+"failcnt")}
		}
	} else if d, ok := m.dir(""); ok {
		// Hybrid host with hugetlb only on the unified side.
		hugetlbV2(s, d, st)
	}
}

func pidsStats(s *statReader, d string) Pids {
	p := Pids{Current: s.num(d, "pids.current")}
	if v := s.str(d, "pids.max"); v != "max" && v != "" {
		p.Limit, _ = parseUint(v)
	}
	return p
}

func hugetlbV2(s *statReader, d string, st *Stats) {
	for _, size := range hugePageSizes(d, ".current") {
		p := "hugetlb." + size + "."
		st.Hugetlb[size] = Hugetlb{Usage: s.num(d, p+"current"), Failcnt: s.keyed(d, p+"events")["max"]}
	}
}

func (m *manager) statsV2(s *statReader, d string, st *Stats) {
	kv := s.keyed(d, "cpu.stat")
	st.CPU.Usage = CPUUsage{Total: kv["usage_usec"] * 1000, User: kv["user_usec"] * 1000, Kernel: kv["system_usec"] * 1000}
	st.CPU.Throttling = Throttling{Periods: kv["nr_periods"], ThrottledPeriods: kv["nr_throttled"], ThrottledTime: kv["throttled_usec"] * 1000}
	st.CPUSet = CPUSet{CPUs: cpuList(s.str(d, "cpuset.cpus.effective")), Mems: cpuList(s.str(d, "cpuset.mems.effective"))}
	mem := &st.Memory
	mem.Raw = s.keyed(d, "memory.stat")
	mem.Cache = mem.Raw["file"]
	mem.Usage = MemoryEntry{Usage: s.num(d, "memory.current"), Limit: s.num(d, "memory.max"), Max: s.num(d, "memory.peak")}
	// v1 reported memory+swap; keep that meaning, as runc does.
	sw := MemoryEntry{Usage: s.num(d, "memory.swap.current"), Limit: s.num(d, "memory.swap.max")}
	sw.Usage += mem.Usage.Usage
	if sw.Limit != ^uint64(0) && mem.Usage.Limit != ^uint64(0) {
		sw.Limit += mem.Usage.Limit
	} else {
		sw.Limit = ^uint64(0)
	}
	mem.Swap = sw
	st.Pids = pidsStats(s, d)
	st.Blkio = ioStatV2(s.str(d, "io.stat"))
	hugetlbV2(s, d, st)
}
