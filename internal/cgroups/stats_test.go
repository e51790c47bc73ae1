package cgroups

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestStatsV1(t *testing.T) {
	opts, _ := fakeV1(t)
	m, _ := New("ctr", "id", opts)
	st, err := m.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := st.CPU.Usage, (CPUUsage{Total: 123456, Percpu: []uint64{100000, 23456}, PercpuUser: []uint64{60000, 3456},
		PercpuKernel: []uint64{40000, 20000}, User: 50000000, Kernel: 70000000}); !reflect.DeepEqual(got, want) {
		t.Errorf("cpu usage %+v, want %+v", got, want)
	}
	if got := st.CPU.Throttling; got != (Throttling{10, 3, 5000}) {
		t.Errorf("throttling %+v", got)
	}
	if st.Memory.Usage != (MemoryEntry{Limit: 9223372036854771712, Usage: 4096000, Max: 8192000, Failcnt: 2}) || st.Memory.Cache != 1000 || st.Memory.Raw["rss"] != 2000 {
		t.Errorf("memory %+v", st.Memory)
	}
	if st.Pids != (Pids{Current: 3}) {
		t.Errorf("pids %+v", st.Pids)
	}
	if want := []BlkioEntry{{8, 0, "Read", 100}, {8, 0, "Write", 200}, {8, 0, "Sync", 300}}; !reflect.DeepEqual(st.Blkio.IoServiceBytesRecursive, want) {
		t.Errorf("blkio %+v", st.Blkio.IoServiceBytesRecursive)
	}
	if _, ok := st.Hugetlb["2MB"]; !ok || len(st.Hugetlb) != 1 {
		t.Errorf("hugetlb %+v", st.Hugetlb)
	}
	if !reflect.DeepEqual(st.CPUSet.CPUs, []uint16{0, 1}) {
		t.Errorf("cpuset %+v", st.CPUSet)
	}
	// The JSON names are runc's types.Stats ones.
	b, _ := json.Marshal(st)
	for _, k := range []string{`"cpu":{"usage":{"total":123456,"percpu":[100000,23456]`, `"throttling":{"periods":10,"throttledPeriods":3,"throttledTime":5000}`,
		`"kernelTCP":{`, `"ioServiceBytesRecursive":[{"major":8,"op":"Read","value":100}`, `"hugetlb":{"2MB":{"failcnt":0}}`, `"pids":{"current":3}`} {
		if !strings.Contains(string(b), k) {
			t.Errorf("JSON lacks %s:\n%s", k, b)
		}
	}
}

func TestStatsV2(t *testing.T) {
	opts, _ := fakeV2(t)
	m, _ := New("ctr", "id", opts)
	st, err := m.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if got := st.CPU.Usage; got.Total != 1000000 || got.User != 600000 || got.Kernel != 400000 {
		t.Errorf("cpu %+v", got)
	}
	if got := st.CPU.Throttling; got != (Throttling{5, 1, 20000}) {
		t.Errorf("throttling %+v", got)
	}
	if st.Memory.Usage != (MemoryEntry{Limit: ^uint64(0), Usage: 4096000, Max: 8192000}) || st.Memory.Cache != 3000 {
		t.Errorf("memory %+v", st.Memory)
	}
	if st.Memory.Swap.Usage != 4096000 || st.Memory.Swap.Limit != ^uint64(0) {
		t.Errorf("swap %+v", st.Memory.Swap)
	}
	if want := []BlkioEntry{{8, 0, "Read", 1}, {8, 0, "Write", 2}}; !reflect.DeepEqual(st.Blkio.IoServicedRecursive, want) {
		t.Errorf("io %+v", st.Blkio)
	}
	if st.Pids != (Pids{Current: 2}) || len(st.Hugetlb) != 1 {
		t.Errorf("pids %+v hugetlb %+v", st.Pids, st.Hugetlb)
	}
}

func TestCPUList(t *testing.T) {
	if got := cpuList("0-2,5\n"); !reflect.DeepEqual(got, []uint16{0, 1, 2, 5}) {
		t.Errorf("cpuList = %v", got)
	}
	if got := cpuList("3-1"); got != nil {
		t.Errorf("bad range parsed: %v", got)
	}
}
