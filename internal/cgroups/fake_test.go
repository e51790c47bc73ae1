package cgroups

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// fakeV1Files are the files a v1 kernel shows in a non-root cgroup, per
// hierarchy (mount directory name -> file -> initial content).
var fakeV1Files = map[string]map[string]string{
	"cpu": {"cpu.shares": "1024", "cpu.cfs_period_us": "100000", "cpu.cfs_quota_us": "-1",
		"cpu.cfs_burst_us": "0", "cpu.rt_period_us": "1000000", "cpu.rt_runtime_us": "0", "cpu.idle": "0",
		"cpu.stat": "nr_periods 10\nnr_throttled 3\nthrottled_time 5000\n", "cgroup.procs": ""},
	"cpuacct": {"cpuacct.usage": "123456", "cpuacct.usage_percpu": "100000 23456 \n",
		"cpuacct.usage_percpu_user": "60000 3456 \n", "cpuacct.usage_percpu_sys": "40000 20000 \n",
		"cpuacct.stat": "user 5\nsystem 7\n", "cgroup.procs": ""},
	"cpuset": {"cpuset.cpus": "0-1", "cpuset.mems": "0", "cpuset.effective_cpus": "0-1", "cpuset.effective_mems": "0", "cgroup.procs": ""},
	"memory": {"memory.limit_in_bytes": "9223372036854771712", "memory.memsw.limit_in_bytes": "9223372036854771712",
		"memory.soft_limit_in_bytes": "9223372036854771712", "memory.kmem.tcp.limit_in_bytes": "9223372036854771712",
		"memory.oom_control": "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n", "memory.swappiness": "60",
		"memory.use_hierarchy": "1", "memory.usage_in_bytes": "4096000", "memory.max_usage_in_bytes": "8192000",
		"memory.failcnt": "2", "memory.memsw.usage_in_bytes": "4096000", "memory.memsw.max_usage_in_bytes": "8192000",
		"memory.memsw.failcnt": "0", "memory.kmem.usage_in_bytes": "100", "memory.kmem.limit_in_bytes": "9223372036854771712",
		"memory.kmem.max_usage_in_bytes": "200", "memory.kmem.failcnt": "0", "memory.kmem.tcp.usage_in_bytes": "0",
		"memory.kmem.tcp.max_usage_in_bytes": "0", "memory.kmem.tcp.failcnt": "0",
		"memory.stat": "cache 1000\nrss 2000\ntotal_cache 1000\n", "cgroup.event_control": "", "cgroup.procs": ""},
	"devices": {"devices.allow": "", "devices.deny": "", "devices.list": "a *:* rwm", "cgroup.procs": ""},
	"freezer": {"freezer.state": "THAWED", "cgroup.procs": ""},
	"blkio": {"blkio.bfq.weight": "100", "blkio.bfq.weight_device": "",
		"blkio.throttle.read_bps_device": "", "blkio.throttle.write_bps_device": "",
		"blkio.throttle.read_iops_device": "", "blkio.throttle.write_iops_device": "",
		"blkio.throttle.io_service_bytes_recursive": "8:0 Read 100\n8:0 Write 200\n8:0 Sync 300\nTotal 300\n",
		"blkio.throttle.io_serviced_recursive":      "8:0 Read 1\n8:0 Write 2\nTotal 3\n", "cgroup.procs": ""},
	"pids":     {"pids.max": "max", "pids.current": "3", "cgroup.procs": ""},
	"hugetlb":  {"hugetlb.2MB.limit_in_bytes": "0", "hugetlb.2MB.rsvd.limit_in_bytes": "0", "hugetlb.2MB.usage_in_bytes": "0", "hugetlb.2MB.max_usage_in_bytes": "0", "hugetlb.2MB.failcnt": "0", "cgroup.procs": ""},
	"net_cls":  {"net_cls.classid": "0", "cgroup.procs": ""},
	"net_prio": {"net_prio.ifpriomap": "lo 0", "cgroup.procs": ""},
	"rdma":     {"rdma.max": "", "cgroup.procs": ""},
	"systemd":  {"cgroup.procs": ""},
}

var fakeV1Opts = map[string]string{"systemd": "name=systemd"}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for f, v := range files {
		if err := os.WriteFile(filepath.Join(dir, f), []byte(v), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// fakeV1 builds a v1 tree under a temp root with the caller at /self in
// memory (as on this machine) and at / elsewhere, and the leaf "ctr"
// already present with its kernel files. omit drops hierarchies.
func fakeV1(t *testing.T, omit ...string) (Options, string) {
	t.Helper()
	root := t.TempDir()
	var mi, self strings.Builder
	id := 1
	for name, files := range fakeV1Files {
		skip := false
		for _, o := range omit {
			skip = skip || o == name
		}
		if skip {
			continue
		}
		opt := name
		if o, ok := fakeV1Opts[name]; ok {
			opt = o
		}
		mp := filepath.Join(root, name)
		mi.WriteString("40 31 0:37 / " + mp + " rw,relatime - cgroup cgroup rw," + opt + "\n")
		p := "/"
		if name == "memory" {
			p = "/self"
		}
		self.WriteString(strings.Join([]string{itoa(id), opt, p}, ":") + "\n")
		id++
		writeFiles(t, filepath.Join(mp, p, "ctr"), files)
		writeFiles(t, mp, map[string]string{"cpuset.cpus": "0-1", "cpuset.mems": "0"})
	}
	dir := t.TempDir()
	opts := Options{Root: root, MountInfo: filepath.Join(dir, "mountinfo"), SelfCgroup: filepath.Join(dir, "cgroup")}
	writeFiles(t, dir, map[string]string{"mountinfo": mi.String(), "cgroup": self.String()})
	return opts, root
}

var fakeV2Leaf = map[string]string{
	"cgroup.controllers": "cpu cpuset io memory pids hugetlb rdma", "cgroup.subtree_control": "",
	"cgroup.procs": "", "cgroup.freeze": "0", "cgroup.events": "populated 0\nfrozen 0\n", "cgroup.kill": "",
	"cpu.weight": "100", "cpu.max": "max 100000", "cpu.max.burst": "0", "cpu.idle": "0",
	"cpu.stat":    "usage_usec 1000\nuser_usec 600\nsystem_usec 400\nnr_periods 5\nnr_throttled 1\nthrottled_usec 20\n",
	"cpuset.cpus": "", "cpuset.mems": "", "cpuset.cpus.effective": "0-1", "cpuset.mems.effective": "0",
	"memory.max": "max", "memory.swap.max": "max", "memory.low": "0", "memory.high": "max",
	"memory.current": "4096000", "memory.peak": "8192000", "memory.swap.current": "0", "memory.swap.peak": "0",
	"memory.events": "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n",
	"memory.stat":   "anon 1000\nfile 3000\n",
	"io.weight":     "default 100", "io.max": "", "io.stat": "8:0 rbytes=100 wbytes=200 rios=1 wios=2 dbytes=0 dios=0\n",
	"pids.max": "max", "pids.current": "2",
	"hugetlb.2MB.max": "max", "hugetlb.2MB.rsvd.max": "max", "hugetlb.2MB.current": "0", "hugetlb.2MB.events": "max 0\n",
	"rdma.max": "",
}

// fakeV2 builds a cgroup2 root with the caller in /user.slice/sess.scope,
// so containers land in /user.slice (runc's fs2 rule), and the leaf "ctr"
// present.
func fakeV2(t *testing.T) (Options, string) {
	t.Helper()
	root := t.TempDir()
	ctl := map[string]string{"cgroup.controllers": "cpu cpuset io memory pids hugetlb rdma", "cgroup.subtree_control": ""}
	writeFiles(t, root, ctl)
	writeFiles(t, filepath.Join(root, "user.slice"), ctl)
	writeFiles(t, filepath.Join(root, "user.slice", "ctr"), fakeV2Leaf)
	dir := t.TempDir()
	opts := Options{Root: root, MountInfo: filepath.Join(dir, "mountinfo"), SelfCgroup: filepath.Join(dir, "cgroup")}
	writeFiles(t, dir, map[string]string{
		"mountinfo": "30 20 0:26 / " + root + " rw - cgroup2 cgroup2 rw\n",
		"cgroup":    "0::/user.slice/sess.scope\n",
	})
	return opts, root
}

func itoa(i int) string { return strconv.Itoa(i) }

func readBack(t *testing.T, dir, file string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, file))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}
