package tests

// The verbs that work through the container's cgroup: update, pause and resume, ps, events,
// kill --all and delete --force.

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/unha/unha/tests/harness"
)

// limitsOf reads the limits update changes from the host side.
func limitsOf(t *testing.T, pid int) map[string]string {
	t.Helper()
	return map[string]string{
		"memory": cgRead(t, pid, "memory", "memory.limit_in_bytes"),
		"quota":  cgRead(t, pid, "cpu", "cpu.cfs_quota_us"),
		"period": cgRead(t, pid, "cpu", "cpu.cfs_period_us"),
		"shares": cgRead(t, pid, "cpu", "cpu.shares"),
		"pids":   cgRead(t, pid, "pids", "pids.max"),
	}
}

func wantLimits(t *testing.T, step string, got map[string]string, want map[string]string) {
	t.Helper()
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: %s is %s, want %s", step, k, got[k], w)
		}
	}
}

func TestCgroupUpdate(t *testing.T) {
	e := newEnv(t)
	b := e.NewBundle("/bin/sh", "-c", `echo ready; read x; cat /sys/fs/cgroup/pids/pids.max; read x`)
	res := resources(b)
	res.Memory = &specs.LinuxMemory{Limit: ptr[int64](64 << 20)}
	res.CPU = &specs.LinuxCPU{Quota: ptr[int64](20000), Period: ptr[uint64](100000), Shares: ptr[uint64](512)}
	res.Pids = &specs.LinuxPids{Limit: ptr[int64](32)}
	in := newPipeIn(t)
	c, pid := startedContainer(t, e, b, in)
	wantLimits(t, "create", limitsOf(t, pid), map[string]string{
		"memory": "67108864", "quota": "20000", "period": "100000", "shares": "512", "pids": "32"})

	// --resources FILE: a LinuxResources document; fields it leaves out stay.
	file := filepath.Join(e.Dir, "resources.json")
	body := `{"memory":{"limit":134217728},"cpu":{"quota":30000},"pids":{"limit":64}}`
	if err := os.WriteFile(file, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := e.Run("update", "--resources", file, c.ID); !r.OK() {
		t.Fatalf("update --resources FILE: %s", r)
	}
	wantLimits(t, "update -r FILE", limitsOf(t, pid), map[string]string{
		"memory": "134217728", "quota": "30000", "period": "100000", "shares": "512", "pids": "64"})

	// Per-field flags, with units.
	if r := e.Run("update", "--memory", "96m", "--cpu-quota", "40000", "--cpu-period", "200000", "--cpu-share", "256",
		"--pids-limit", "48", c.ID); !r.OK() {
		t.Fatalf("update with flags: %s", r)
	}
	wantLimits(t, "update flags", limitsOf(t, pid), map[string]string{
		"memory": "100663296", "quota": "40000", "period": "200000", "shares": "256", "pids": "48"})

	// --resources - reads stdin.
	stdin, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	if r := e.RunWith(harness.RunOpts{Stdin: stdin}, "update", "--resources", "-", c.ID); !r.OK() {
		t.Fatalf("update --resources -: %s", r)
	}
	wantLimits(t, "update -r -", limitsOf(t, pid), map[string]string{"memory": "134217728", "quota": "30000", "pids": "64"})
	// The container sees its new limit too.
	in.send(t, "show")
	c.WaitOutput("64")
	in.send(t, "done")
	c.WaitStatus("stopped")
	if r := e.Run("update", "--pids-limit", "10", c.ID); r.OK() {
		t.Errorf("update of a stopped container succeeded: %s", r)
	}
	c.Delete(false)
	e.AssertClean()
}

// TestCgroupUpdateMemorySwap: memory.memsw.limit_in_bytes may never drop below
// memory.limit_in_bytes, so raising both must write memsw first and lowering both must
// write memory first; update gets the order right both ways.
func TestCgroupUpdateMemorySwap(t *testing.T) {
	e := newEnv(t)
	b := e.NewBundle("/bin/sh", "-c", "echo ready; exec sleep 1000")
	resources(b).Memory = &specs.LinuxMemory{Limit: ptr[int64](64 << 20), Swap: ptr[int64](64 << 20)}
	c, pid := startedContainer(t, e, b, nil)
	for _, step := range []struct{ mem, want string }{{"128m", "134217728"}, {"32m", "33554432"}, {"-1", "9223372036854771712"}} {
		if r := e.Run("update", "--memory", step.mem, "--memory-swap", step.mem, c.ID); !r.OK() {
			t.Fatalf("update to %s: %s", step.mem, r)
		}
		if m, s := cgRead(t, pid, "memory", "memory.limit_in_bytes"), cgRead(t, pid, "memory", "memory.memsw.limit_in_bytes"); m != step.want || s != step.want {
			t.Errorf("update to %s: memory %s memsw %s, want both %s", step.mem, m, s, step.want)
		}
	}
	c.Delete(true)
	e.AssertClean()
}

// procStat returns field 3 (state) and utime+stime (fields 14 and 15) of /proc/PID/stat.
func procStat(t *testing.T, pid int) (string, uint64) {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	return f[0], atou(t, f[11]) + atou(t, f[12])
}

// cgroupPids lists the pids of a container's cgroup from the host (the pids hierarchy).
func cgroupPids(t *testing.T, pid int) []int {
	t.Helper()
	var out []int
	for _, f := range strings.Fields(cgRead(t, pid, "pids", "cgroup.procs")) {
		n, err := strconv.Atoi(f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, n)
	}
	sort.Ints(out)
	return out
}

// busiest returns the pid that used most CPU time.
func busiest(t *testing.T, pids []int) int {
	t.Helper()
	best, most := 0, uint64(0)
	for _, p := range pids {
		if _, c := procStat(t, p); c >= most {
			best, most = p, c
		}
	}
	return best
}

func TestCgroupPauseResume(t *testing.T) {
	e := newEnv(t)
	b := e.NewBundle("/bin/sh", "-c", `sleep 1000 & sleep 1000 & while :; do :; done & echo ready; wait`)
	c, pid := startedContainer(t, e, b, nil)
	pids := cgroupPids(t, pid)
	if len(pids) != 4 {
		t.Fatalf("want 4 processes in the cgroup, got %v", pids)
	}
	// The loop is the one that has used CPU time once it has had some.
	waitFor(t, "the busy loop to run", func() bool { _, cpu := procStat(t, busiest(t, pids)); return cpu > 5 })
	loop := busiest(t, pids)

	if r := e.Run("pause", c.ID); !r.OK() {
		t.Fatalf("pause: %s", r)
	}
	if st := c.State(); st.Status != "paused" {
		t.Errorf("state after pause: %q, want paused", st.Status)
	}
	if s := cgRead(t, pid, "freezer", "freezer.state"); s != "FROZEN" {
		t.Errorf("freezer.state %s after pause", s)
	}
	// The kernel reports frozen tasks as uninterruptible sleepers (D).
	for _, p := range pids {
		if st, _ := procStat(t, p); st != "D" {
			t.Errorf("process %d in state %s after pause, want D", p, st)
		}
	}
	_, before := procStat(t, loop)
	time.Sleep(300 * time.Millisecond)
	if _, after := procStat(t, loop); after != before {
		t.Errorf("busy loop %d used CPU while paused: %d -> %d ticks", loop, before, after)
	}
	if r := e.Run("ps", "--format", "json", c.ID); !r.OK() {
		t.Errorf("ps of a paused container: %s", r)
	}

	if r := e.Run("resume", c.ID); !r.OK() {
		t.Fatalf("resume: %s", r)
	}
	if st := c.State(); st.Status != "running" {
		t.Errorf("state after resume: %q, want running", st.Status)
	}
	if s := cgRead(t, pid, "freezer", "freezer.state"); s != "THAWED" {
		t.Errorf("freezer.state %s after resume", s)
	}
	for _, p := range pids {
		if st, _ := procStat(t, p); st == "D" {
			t.Errorf("process %d still in state D after resume", p)
		}
	}
	waitFor(t, "the busy loop to run again", func() bool { _, cpu := procStat(t, loop); return cpu > before })
	if r := e.Run("resume", c.ID); r.OK() {
		t.Errorf("resume of a running container succeeded: %s", r)
	}

	// A paused container's processes die on delete --force.
	if r := e.Run("pause", c.ID); !r.OK() {
		t.Fatalf("pause: %s", r)
	}
	c.Delete(true)
	for _, p := range pids {
		if harness.ProcessAlive(p) {
			t.Errorf("process %d of the paused container alive after delete --force", p)
		}
	}
	e.AssertClean()
}

// statsOf runs `events --stats` and decodes the interesting numbers.
type statsNumbers struct {
	Data struct {
		CPU struct {
			Usage struct {
				Total uint64 `json:"total"`
			} `json:"usage"`
		} `json:"cpu"`
		Memory struct {
			Usage struct {
				Usage uint64 `json:"usage"`
				Limit uint64 `json:"limit"`
			} `json:"usage"`
		} `json:"memory"`
		Pids struct {
			Current uint64 `json:"current"`
			Limit   uint64 `json:"limit"`
		} `json:"pids"`
	} `json:"data"`
	Type string `json:"type"`
	ID   string `json:"id"`
}

func statsOf(t *testing.T, e *harness.Env, id string) statsNumbers {
	t.Helper()
	r := e.Run("events", "--stats", id)
	if !r.OK() {
		t.Fatalf("events --stats: %s", r)
	}
	var s statsNumbers
	if err := json.Unmarshal([]byte(r.Stdout), &s); err != nil {
		t.Fatalf("events --stats printed %q: %v", r.Stdout, err)
	}
	if s.Type != "stats" || s.ID != id {
		t.Errorf("events --stats: type %q id %q", s.Type, s.ID)
	}
	return s
}

// TestCgroupEventsStats: the numbers of `events --stats` follow the container's load:
// 32 MiB more memory (a tmpfs file), three more processes, CPU time from a busy loop.
func TestCgroupEventsStats(t *testing.T) {
	e := newEnv(t)
	b := e.NewBundle("/bin/sh", "-c", `echo ready; read x; dd if=/dev/zero of=/dev/shm/fill bs=1M count=32 2>/dev/null; `+
		`sleep 1000 & sleep 1000 & sleep 1000 & echo loaded; while :; do :; done`)
	addApplets(t, b, "dd")
	resources(b).Pids = &specs.LinuxPids{Limit: ptr[int64](100)}
	resources(b).Memory = &specs.LinuxMemory{Limit: ptr[int64](256 << 20)}
	in := newPipeIn(t)
	c, _ := startedContainer(t, e, b, in)
	s0 := statsOf(t, e, c.ID)
	if s0.Data.Pids.Current != 1 || s0.Data.Pids.Limit != 100 || s0.Data.Memory.Usage.Limit != 256<<20 {
		t.Errorf("idle: pids %d (limit %d), memory limit %d; want 1 (100), %d",
			s0.Data.Pids.Current, s0.Data.Pids.Limit, s0.Data.Memory.Usage.Limit, 256<<20)
	}
	in.send(t, "go")
	c.WaitOutput("loaded")
	var s1 statsNumbers
	waitFor(t, "200ms of CPU time", func() bool {
		s1 = statsOf(t, e, c.ID)
		return s1.Data.CPU.Usage.Total >= s0.Data.CPU.Usage.Total+uint64(200*time.Millisecond)
	})
	if s1.Data.Pids.Current != s0.Data.Pids.Current+3 {
		t.Errorf("pids.current %d -> %d, want 3 more", s0.Data.Pids.Current, s1.Data.Pids.Current)
	}
	if s1.Data.Memory.Usage.Usage < s0.Data.Memory.Usage.Usage+30<<20 {
		t.Errorf("memory usage %d -> %d, want 32 MiB more", s0.Data.Memory.Usage.Usage, s1.Data.Memory.Usage.Usage)
	}
	t.Logf("idle: cpu %dns mem %d pids %d; loaded: cpu %dns mem %d pids %d", s0.Data.CPU.Usage.Total,
		s0.Data.Memory.Usage.Usage, s0.Data.Pids.Current, s1.Data.CPU.Usage.Total, s1.Data.Memory.Usage.Usage, s1.Data.Pids.Current)
	c.Delete(true)
	e.AssertClean()
}

// descendants lists pid and every process below it, from the host's /proc.
func descendants(t *testing.T, pid int) []int {
	t.Helper()
	children := map[int][]int{}
	ents, _ := os.ReadDir("/proc")
	for _, ent := range ents {
		p, err := strconv.Atoi(ent.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + ent.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
		if pp, err := strconv.Atoi(f[1]); err == nil {
			children[pp] = append(children[pp], p)
		}
	}
	out := []int{pid}
	for i := 0; i < len(out); i++ {
		out = append(out, children[out[i]]...)
	}
	sort.Ints(out)
	return out
}

func TestCgroupPsJSON(t *testing.T) {
	e := newEnv(t)
	// A child, a grandchild, and an orphan adopted by init.
	b := e.NewBundle("/bin/sh", "-c", `sleep 1000 & sh -c 'sleep 1000 & wait' & (sleep 1000 &); echo ready; wait`)
	c, pid := startedContainer(t, e, b, nil)
	// Settled: init, the inner shell and three sleeps (the subshell gone, every fork exec'd).
	var want []int
	waitFor(t, "init, a shell and three sleeps", func() bool {
		want = descendants(t, pid)
		sleeps := 0
		for _, p := range want {
			if comm, _ := os.ReadFile("/proc/" + strconv.Itoa(p) + "/comm"); string(comm) == "sleep\n" {
				sleeps++
			}
		}
		return len(want) == 5 && sleeps == 3
	})
	r := e.Run("ps", "--format", "json", c.ID)
	if !r.OK() {
		t.Fatalf("ps: %s", r)
	}
	var got []int
	if err := json.Unmarshal([]byte(r.Stdout), &got); err != nil {
		t.Fatalf("ps --format json printed %q: %v", r.Stdout, err)
	}
	sort.Ints(got)
	if !equalInts(got, want) || !equalInts(got, cgroupPids(t, pid)) {
		t.Errorf("ps --format json %v; host: descendants of init %v, cgroup.procs %v", got, want, cgroupPids(t, pid))
	}
	c.Delete(true)
	e.AssertClean()
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// hostPidBundle is a container in the host's PID namespace whose init starts two sleeps,
// one of them in a new session: killing init alone would leave both running.
func hostPidBundle(t *testing.T, e *harness.Env, after string) *harness.Bundle {
	b := e.NewBundle("/bin/sh", "-c", `sleep 1000 & setsid sleep 1000 & echo ready; `+after)
	addApplets(t, b, "setsid")
	b.RemoveNamespace(specs.PIDNamespace)
	return b
}

// waitAllGone waits for every pid to exit; the deadline only guards against a hang.
func waitAllGone(t *testing.T, what string, pids []int) {
	t.Helper()
	for deadline := time.Now().Add(harness.DefaultTimeout); time.Now().Before(deadline); {
		left := 0
		for _, p := range pids {
			if harness.ProcessAlive(p) {
				left++
			}
		}
		if left == 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, p := range pids {
		if harness.ProcessAlive(p) {
			t.Errorf("%s: process %d still alive", what, p)
		}
	}
}

func trackAll(e *harness.Env, pids []int) {
	for _, p := range pids {
		e.TrackPid(p)
	}
}

func TestCgroupKillAll(t *testing.T) {
	e := newEnv(t)
	c, pid := startedContainer(t, e, hostPidBundle(t, e, "wait"), nil)
	var pids []int
	waitFor(t, "three processes", func() bool { pids = cgroupPids(t, pid); return len(pids) == 3 })
	trackAll(e, pids)
	if r := e.Run("kill", "--all", c.ID, "KILL"); !r.OK() {
		t.Fatalf("kill --all: %s", r)
	}
	waitAllGone(t, "kill --all", pids)
	c.WaitStatus("stopped")
	c.Delete(false)
	e.AssertClean()
}

func TestCgroupDeleteForce(t *testing.T) {
	e := newEnv(t)
	c, pid := startedContainer(t, e, hostPidBundle(t, e, "wait"), nil)
	var pids []int
	waitFor(t, "three processes", func() bool { pids = cgroupPids(t, pid); return len(pids) == 3 })
	trackAll(e, pids)
	dirs := defaultCgroupDirs(t, c.ID)
	c.Delete(true)
	waitAllGone(t, "delete --force", pids)
	wantGone(t, "delete --force", dirs)
	e.AssertClean()
}

// TestCgroupInitDied: init exits while its children live on in the cgroup (no PID namespace
// of its own); `delete` of the stopped container still reaches them and removes the cgroup.
func TestCgroupInitDied(t *testing.T) {
	e := newEnv(t)
	in := newPipeIn(t)
	c, pid := startedContainer(t, e, hostPidBundle(t, e, "read x"), in)
	var pids []int
	waitFor(t, "three processes", func() bool { pids = cgroupPids(t, pid); return len(pids) == 3 })
	trackAll(e, pids)
	dirs := defaultCgroupDirs(t, c.ID)
	in.send(t, "exit")
	c.WaitStatus("stopped")
	var left []int
	for _, p := range pids {
		if p != pid && harness.ProcessAlive(p) {
			left = append(left, p)
		}
	}
	if len(left) != 2 {
		t.Fatalf("want the two sleeps alive after init exited, got %v of %v", left, pids)
	}
	c.Delete(false)
	waitAllGone(t, "delete after init died", left)
	wantGone(t, "delete after init died", dirs)
	e.AssertClean()
}

// TestCgroupCreateFailure: a limit the kernel refuses fails create, and create removes the
// cgroups it had made.
func TestCgroupCreateFailure(t *testing.T) {
	e := newEnv(t)
	b := e.NewBundle()
	resources(b).CPU = &specs.LinuxCPU{Cpus: "4095"}
	c, r := e.TryCreate(b, harness.CreateOpts{})
	if r.OK() {
		t.Fatalf("create with cpuset.cpus 4095 succeeded: %s", r)
	}
	if !strings.Contains(r.Stderr, "cpuset") {
		t.Errorf("the error does not name cpuset: %s", r)
	}
	wantGone(t, "failed create", defaultCgroupDirs(t, c.ID))
	e.AssertClean()
}
